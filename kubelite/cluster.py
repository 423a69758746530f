"""`kubelite up` and `kubelite down`: a whole cluster from one command, gone with another.

`up` starts the supervisor (`kubelite.supervisor`) detached in its own session, waits until
every node has registered and is Ready (watching the Node objects), prints how to use kubectl
and returns; `up --foreground` stays attached. `down` signals the supervisor, which stops the
agents and removes every netns, veth, bridge, nft table, mount and process the cluster made;
if the supervisor was killed, `down` does that teardown itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kubelite.supervisor import ClusterOptions, kubelite_cmd

DEFAULT_DATA_DIR = "/var/lib/kubelite/cluster"


def _options(args: argparse.Namespace) -> ClusterOptions:
    return ClusterOptions(
        Path(args.data_dir).resolve(),
        args.nodes,
        args.port,
        args.node_monitor_grace_period,
        args.pod_eviction_timeout,
        args.image_root,
        args.backoff_initial,
        args.lease_renew,
        args.servers,
        args.datastore,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _state(data_dir: Path) -> dict[str, Any] | None:
    f = data_dir / "cluster.json"
    try:
        state: dict[str, Any] = json.loads(f.read_text())
        return state
    except (OSError, ValueError):
        return None


def usage_text(opts: ClusterOptions) -> str:
    kc = opts.kubeconfig
    names = ", ".join(f"node-{i}" for i in range(opts.nodes))
    apis = (
        "an API server"
        if opts.servers == 1
        else f"{opts.servers} API servers ({', '.join(opts.server_urls())})"
    )
    return (
        f"kubelite is up: {apis} and {opts.nodes} node(s) ({names}), each node in its own network "
        f"namespace.\n\n  export KUBECONFIG={kc}\n  kubectl get nodes -o wide\n"
        f"  kubectl apply -f manifests/web-rc.yaml\n  kubectl get pods -o wide -w\n\n"
        f"Dashboard: {opts.server_urls()[0]}/dashboard/ (log in with the token in "
        f"{opts.server_dir / 'admin-token'}, or one from `kubectl create token NAME`)\n"
        f"Logs: {opts.data_dir / 'logs'}/   Stop: kubelite down --data-dir {opts.data_dir}"
    )


def wait_ready(opts: ClusterOptions, proc: subprocess.Popen[bytes] | None, timeout: float) -> str | None:
    """None once `nodes` nodes are Ready; otherwise why not."""
    from api.client import Client, ConnectionFailed
    from api.config import from_kubeconfig
    from api.errors import ApiError

    deadline = time.monotonic() + timeout
    kc = opts.kubeconfig
    while not kc.exists():
        if proc is not None and proc.poll() is not None:
            return f"the supervisor exited with {proc.returncode}"
        if time.monotonic() > deadline:
            return "the API server did not start in time"
        time.sleep(0.1)
    client = Client(from_kubeconfig([kc]))
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return f"the supervisor exited with {proc.returncode}"
        try:
            nodes = client.list("nodes")
            ready = [
                n
                for n in nodes["items"]
                if any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in n["status"].get("conditions") or []
                )
            ]
            if len(ready) >= opts.nodes:
                return None
            # wait for the next change to any node (or 2 s, to notice a dead supervisor)
            for _ in client.watch(
                "nodes", resource_version=nodes["metadata"]["resourceVersion"], timeout_seconds=2
            ):
                break
        except (ApiError, ConnectionFailed, OSError):
            time.sleep(0.2)
    return f"fewer than {opts.nodes} nodes were Ready after {timeout:.0f}s"


def up(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kubelite up", description="start a server and N agents")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument(
        "--port", type=int, default=6443, help="the first server's port (the others: the next ones)"
    )
    p.add_argument("--servers", type=int, default=1, help="API servers on one datastore (needs --datastore)")
    p.add_argument(
        "--datastore",
        default="",
        help="postgres (the machine's PostgreSQL), etcd (a local member) or a datastore URL; "
        "default: SQLite in the server's directory",
    )
    p.add_argument("--foreground", action="store_true", help="stay attached and log to the terminal")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the nodes to be Ready")
    p.add_argument("--node-monitor-grace-period", default="40s")
    p.add_argument("--pod-eviction-timeout", default="5m")
    p.add_argument("--image-root", default="/var/lib/kubelite/runtime")
    p.add_argument("--backoff-initial", type=float, default=10.0)
    p.add_argument(
        "--lease-renew",
        type=float,
        default=10.0,
        help="seconds between node Lease renewals (keep it well under the grace period)",
    )
    args = p.parse_args(argv)
    if args.servers < 1 or (args.servers > 1 and not args.datastore):
        p.error("--servers N > 1 needs a shared --datastore (postgres, etcd or a URL)")
    opts = _options(args)
    if args.foreground:
        import logging

        from kubelite.supervisor import supervise

        logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return asyncio.run(supervise(opts))
    state = _state(opts.data_dir)
    if state and _alive(int(state["pid"])):
        print(f"kubelite is already running from {opts.data_dir}.\n")
        print(usage_text(opts))
        return 0
    (opts.data_dir / "logs").mkdir(parents=True, exist_ok=True)
    with open(opts.data_dir / "logs" / "supervisor.log", "ab") as out:
        proc = subprocess.Popen(
            [*kubelite_cmd(), "up", "--foreground", *argv],
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    why = wait_ready(opts, proc, args.timeout)
    if why is not None:
        print(f"kubelite up: {why}; see {opts.data_dir / 'logs'}/", file=sys.stderr)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        return 1
    print(usage_text(opts))
    return 0


def _wait_exit(pid: int, timeout: float) -> bool:
    """Wait for a process that is not our child to exit (pidfd: no polling)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def down(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kubelite down", description="stop a cluster and remove all it made")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    args = p.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    state = _state(data_dir)
    if state is None:
        print(f"kubelite down: no cluster found in {data_dir}", file=sys.stderr)
        return 0
    pid = int(state["pid"])
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        if _wait_exit(pid, 120.0):
            print("kubelite: stopped; every node, pod and network it made is gone")
            return 0
        print("kubelite down: the supervisor did not stop in 120 s; killing it", file=sys.stderr)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # the supervisor is gone without cleaning up: do it here
    from kubelite.supervisor import teardown_host_network, teardown_nodes

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # its server and agents (same session)
    opts = ClusterOptions(
        data_dir, int(state.get("nodes", 0)), image_root=state.get("image_root", "/var/lib/kubelite/runtime")
    )
    asyncio.run(teardown_nodes(opts, opts.nodes))
    teardown_host_network(opts)
    (data_dir / "cluster.json").unlink(missing_ok=True)
    print("kubelite: stopped (after cleaning up what the supervisor left)")
    return 0
