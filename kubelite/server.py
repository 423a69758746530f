"""`kubelite server`: flags -> ServerConfig -> the API server (and control loops) until a signal.

Imports of the server stack happen after the flags parse, so `kubelite server --help` is quick.
This is where the parts meet: the controller manager, the scheduler and the pod proxy are
imported here and handed to `apiserver.serve.serve` (the API server never imports `controller`),
so a broken import fails `kubelite server` at once instead of serving a cluster with no controllers.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kubelite server", description="Run the kubelite API server.")
    p.add_argument(
        "--data-dir", required=True, type=Path, help="certificates, tokens, kubeconfig, SQLite state"
    )
    p.add_argument(
        "--listen", default="127.0.0.1:6443", help="HOST:PORT to serve HTTPS on (default %(default)s)"
    )
    p.add_argument(
        "--datastore",
        default="",
        help="sqlite:///PATH, postgresql://... or etcd://H1:2379,H2:2379[/prefix] (default sqlite in data dir)",
    )
    p.add_argument("--etcd-cafile", default="", help="CA bundle of the etcd members (HTTPS to etcd)")
    p.add_argument("--etcd-certfile", default="", help="client certificate for etcd")
    p.add_argument("--etcd-keyfile", default="", help="client key for etcd")
    p.add_argument("--service-cidr", default="10.96.0.0/16")
    p.add_argument("--cluster-cidr", default="10.244.0.0/16")
    p.add_argument(
        "--no-controllers", action="store_true", help="do not run the controller manager in-process"
    )
    p.add_argument("--no-scheduler", action="store_true", help="do not run the scheduler in-process")
    p.add_argument(
        "--in-process-loops",
        action="store_true",
        help="run the controller manager and scheduler in the server's own process, not as child "
        "processes (the default on a machine with one CPU)",
    )
    p.add_argument("--node-monitor-grace-period", default="40s")
    p.add_argument("--pod-eviction-timeout", default="5m")
    p.add_argument(
        "--compact-keep", default="5m", help="keep at least this much watch history (e.g. 5m, 300)"
    )
    p.add_argument("--compact-interval", default="60s", help="how often to compact history")
    p.add_argument(
        "--cluster-signing-duration",
        default="8760h",
        help="the longest certificate the signer issues from the cluster CA (kubelet serving "
        "certificates are renewed at 70-90%% of it)",
    )
    p.add_argument("--bookmark-interval", default="15s", help="BOOKMARK period on quiet watches")
    p.add_argument(
        "--max-requests-inflight",
        type=int,
        default=400,
        help="with --max-mutating-requests-inflight, the server's concurrency limit that API Priority "
        "and Fairness divides among the priority levels (kube's flags and defaults)",
    )
    p.add_argument("--max-mutating-requests-inflight", type=int, default=200)
    p.add_argument(
        "--enable-priority-and-fairness",
        default="true",
        choices=["true", "false"],
        help="classify and limit requests by FlowSchemas and priority levels (kube's flag; false: "
        "the objects are still served, nothing is limited)",
    )
    p.add_argument(
        "--tls-san", action="append", default=[], help="extra name or IP for the serving certificate"
    )
    p.add_argument(
        "--token",
        default="",
        help="shared secret of the servers on one datastore: the first "
        "stores the CA, keys and tokens there, sealed with it; later ones fetch them",
    )
    p.add_argument("--token-file", default="", help="read --token from this file")
    p.add_argument(
        "--trust-node-name-header",
        action="store_true",
        help="bench only, insecure: the node token with an X-Kubelite-Node-Name header acts as that "
        "node without a certificate of its own (`kubelite agent --hollow`); anyone holding the token "
        "can then act as any node",
    )
    p.add_argument(
        "--no-dashboard", action="store_true", help="do not serve the web dashboard under /dashboard/"
    )
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from apiserver.config import ServerConfig, parse_duration, parse_listen

    try:
        host, port = parse_listen(args.listen)
        config = ServerConfig(
            data_dir=args.data_dir.resolve(),
            host=host,
            port=port,
            datastore=args.datastore,
            service_cidr=args.service_cidr,
            cluster_cidr=args.cluster_cidr,
            controllers=not args.no_controllers,
            scheduler=not args.no_scheduler,
            loop_processes=not args.in_process_loops and (os.cpu_count() or 1) > 1,
            node_monitor_grace_period=parse_duration(args.node_monitor_grace_period),
            pod_eviction_timeout=parse_duration(args.pod_eviction_timeout),
            compact_keep=parse_duration(args.compact_keep),
            compact_interval=parse_duration(args.compact_interval),
            bookmark_interval=parse_duration(args.bookmark_interval),
            max_requests_inflight=args.max_requests_inflight + args.max_mutating_requests_inflight,
            priority_and_fairness=args.enable_priority_and_fairness == "true",
            cluster_signing_duration=parse_duration(args.cluster_signing_duration),
            extra_sans=tuple(args.tls_san),
            etcd_cafile=args.etcd_cafile,
            etcd_certfile=args.etcd_certfile,
            etcd_keyfile=args.etcd_keyfile,
            trust_node_name_header=args.trust_node_name_header,
            token=args.token or (Path(args.token_file).read_text().strip() if args.token_file else ""),
        )
        config.service_network  # noqa: B018 - validate the CIDR before anything starts
        config.datastore_url  # noqa: B018 - and the etcd TLS flags
    except (ValueError, OSError) as e:
        print(f"kubelite server: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    import uvloop

    from apiserver.podproxy import PodProxy
    from apiserver.serve import LoopEntry, MountFactory, serve

    loops: dict[str, LoopEntry] = {}
    if config.controllers:
        from controller.manager import run_controllers

        loops["run_controllers"] = run_controllers
    if config.scheduler:
        from controller.scheduler import run_scheduler

        loops["run_scheduler"] = run_scheduler
    mounts: dict[str, MountFactory] = {}
    if not args.no_dashboard:
        from dashboard.mount import PREFIX, mount

        mounts[PREFIX] = mount
    try:
        uvloop.run(serve(config, loops=loops, pod_proxy=PodProxy, mounts=mounts))
    except KeyboardInterrupt:
        pass
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
