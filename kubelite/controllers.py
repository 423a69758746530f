"""`kubelite controller-manager` and `kubelite scheduler`: the control loops as their own processes.

Each reads a kubeconfig, builds its options from flags (durations in seconds or `4s`/`5m`),
and runs until SIGINT/SIGTERM. With `--leader-elect` (the default) several copies may run;
one acts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any


def _duration(text: str) -> float:
    from controller.options import parse_duration

    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--kubeconfig", help="kubeconfig to reach the API server (default: $KUBECONFIG, ~/.kube/config)"
    )
    p.add_argument(
        "--leader-elect",
        type=_bool,
        nargs="?",
        const=True,
        default=True,
        help="campaign for a Lease so only one copy acts (default true)",
    )
    p.add_argument("--leader-elect-lease-duration", type=_duration, default=15.0)
    p.add_argument("--leader-elect-renew-deadline", type=_duration, default=10.0)
    p.add_argument("--leader-elect-retry-period", type=_duration, default=2.0)
    p.add_argument("--identity", help="holder identity in the Lease (default: host_pid_random)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument(
        "--metrics-bind-address",
        default="",
        help="HOST:PORT serving /metrics in plain HTTP (workqueue_*, scheduler_*); off when empty",
    )


def _leader_options(args: argparse.Namespace) -> dict[str, Any]:
    """The LeaderOptions fields from the flags `_common` adds; the identity only when given, so the
    default stays each process's own."""
    kw: dict[str, Any] = {
        "leader_elect": args.leader_elect,
        "lease_duration": args.leader_elect_lease_duration,
        "renew_deadline": args.leader_elect_renew_deadline,
        "retry_period": args.leader_elect_retry_period,
    }
    if args.identity:
        kw["identity"] = args.identity
    return kw


def _serve_metrics(address: str) -> None:
    """prometheus_client's own HTTP server (a thread) on HOST:PORT, for the process's default registry."""
    if not address:
        return
    from prometheus_client import start_http_server

    host, _, port = address.rpartition(":")
    start_http_server(int(port), addr=host or "127.0.0.1")


def _config(args: argparse.Namespace) -> Any:
    from api.config import ConfigError, from_kubeconfig

    try:
        return from_kubeconfig([Path(args.kubeconfig)] if args.kubeconfig else None)
    except ConfigError as e:
        raise SystemExit(f"error: {e}") from None


def _run(main: Coroutine[Any, Any, None]) -> int:
    async def guarded() -> None:
        task = asyncio.ensure_future(main)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(guarded())
    return 0


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def controller_manager(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kubelite controller-manager", description="run the control loops")
    _common(p)
    p.add_argument("--node-monitor-grace-period", type=_duration, default=40.0)
    p.add_argument("--pod-eviction-timeout", type=_duration, default=300.0)
    p.add_argument("--node-monitor-period", type=_duration, default=None)
    p.add_argument("--cluster-cidr", default="10.244.0.0/16")
    p.add_argument("--node-cidr-mask-size", type=int, default=24)
    p.add_argument("--allocate-node-cidrs", type=_bool, nargs="?", const=True, default=True)
    p.add_argument(
        "--pod-gc-quarantine",
        type=_duration,
        default=40.0,
        help="how long a pod's node must be missing before the pod is force-deleted",
    )
    p.add_argument("--concurrent-syncs", type=int, default=4)
    p.add_argument(
        "--root-ca-file",
        default="",
        help="CA bundle published in every namespace's kube-root-ca.crt ConfigMap "
        "(default: the kubeconfig's certificate authority, as kube-controller-manager does)",
    )
    p.add_argument("--cluster-signing-cert-file", default="", help="CA certificate that signs approved CSRs")
    p.add_argument("--cluster-signing-key-file", default="", help="its private key (no signer without both)")
    p.add_argument("--cluster-signing-duration", type=_duration, default=365 * 24 * 3600.0)
    args = p.parse_args(argv)
    _logging(args.verbose)
    from controller.manager import run_controllers
    from controller.options import ControllerOptions

    config = _config(args)
    try:
        root_ca = (
            Path(args.root_ca_file).read_text() if args.root_ca_file else (config.ca_data or b"").decode()
        )
    except OSError as e:
        raise SystemExit(f"error: --root-ca-file: {e}") from None
    opts = ControllerOptions(
        **_leader_options(args),
        root_ca=root_ca,
        node_monitor_grace_period=args.node_monitor_grace_period,
        pod_eviction_timeout=args.pod_eviction_timeout,
        node_monitor_period=args.node_monitor_period,
        cluster_cidr=args.cluster_cidr,
        node_cidr_mask=args.node_cidr_mask_size,
        allocate_node_cidrs=args.allocate_node_cidrs,
        workers=args.concurrent_syncs,
        pod_gc_quarantine=args.pod_gc_quarantine,
        cluster_signing_cert_file=args.cluster_signing_cert_file,
        cluster_signing_key_file=args.cluster_signing_key_file,
        cluster_signing_duration=args.cluster_signing_duration,
    )
    _serve_metrics(args.metrics_bind_address)
    return _run(run_controllers(config, opts))


def scheduler(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kubelite scheduler", description="place pods on nodes")
    _common(p)
    p.add_argument("--max-in-flight-binds", type=int, default=32)
    args = p.parse_args(argv)
    _logging(args.verbose)
    from controller.options import SchedulerOptions
    from controller.scheduler import run_scheduler

    opts = SchedulerOptions(
        **_leader_options(args),
        max_in_flight_binds=args.max_in_flight_binds,
    )
    _serve_metrics(args.metrics_bind_address)
    return _run(run_scheduler(_config(args), opts))
