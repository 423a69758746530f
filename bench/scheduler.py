"""Scheduler throughput: 100 fake Ready nodes posted through the API, an RC of 3000 pods.

A real API server (SQLite), the real controller manager and scheduler (as their own
processes by default, or in the server's process with `--in-server`); the nodes are plain
Node objects this script posts (no kubelets), so what is measured is the replication
controller creating pods and the scheduler binding them. A watch on pods timestamps each
pod's creation (ADDED) and binding (spec.nodeName set) on this machine's clock.
Prints pods scheduled per second and p50/p99 of creation -> binding. Target: >= 500 pods/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import jsonutil
from api.aclient import AsyncClient
from api.config import from_kubeconfig
from bench._cluster import KUBELITE, server, stop
from bench._stats import summary_ms, table


def node(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": f"bench-node-{i:03d}"},
        "status": {
            "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
        },
    }


def rc(n: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "bench"},
        "spec": {
            "replicas": n,
            "selector": {"app": "bench"},
            "template": {
                "metadata": {"labels": {"app": "bench"}},
                "spec": {
                    "containers": [
                        {
                            "name": "c",
                            "image": "busybox:1",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }
                    ]
                },
            },
        },
    }


async def post_nodes(c: AsyncClient, count: int) -> None:
    now = jsonutil.now_str()
    ready = [
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
    ]

    async def one(i: int) -> None:
        body = node(i)
        await c.create("nodes", body)
        await c.patch(
            "nodes",
            body["metadata"]["name"],
            {"status": {**body["status"], "conditions": ready}},
            subresource="status",
        )

    await asyncio.gather(*(one(i) for i in range(count)))


async def measure(
    kubeconfig: Path, nodes: int, pods: int, timeout: float, start_scheduler: Callable[[], None] | None = None
) -> dict[str, Any]:
    """With `start_scheduler`, all pods are created first and the scheduler started after."""
    c = AsyncClient(from_kubeconfig([kubeconfig]), max_connections=50)
    await post_nodes(c, nodes)
    created: dict[str, float] = {}
    bound: dict[str, float] = {}
    done = asyncio.Event()
    all_created = asyncio.Event()
    listed = await c.list("pods", "default")

    async def watch() -> None:
        async for ev in c.watch("pods", "default", resource_version=listed["metadata"]["resourceVersion"]):
            t = time.monotonic()
            obj = ev.get("object") or {}
            name = (obj.get("metadata") or {}).get("name")
            if ev.get("type") not in ("ADDED", "MODIFIED") or not name:
                continue
            created.setdefault(name, t)
            if len(created) >= pods:
                all_created.set()
            if (obj.get("spec") or {}).get("nodeName") and name not in bound:
                bound[name] = t
                if len(bound) >= pods:
                    done.set()
                    return

    w = asyncio.create_task(watch())
    await asyncio.sleep(1.0)  # let the components' informers sync on the nodes
    t0 = time.monotonic()
    await c.create("replicationcontrollers", rc(pods), "default")
    sched_start = t0
    if start_scheduler is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_created.wait(), timeout)
        sched_start = time.monotonic()
        start_scheduler()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout)
    w.cancel()
    await c.aclose()
    lat = [bound[n] - created[n] for n in bound if n in created]
    first, last = min(created.values(), default=t0), max(bound.values(), default=t0)
    first_bound = min(bound.values(), default=t0)
    last_created = max(created.values(), default=t0)
    return {
        "bound": len(bound),
        "created": len(created),
        "lat": lat,
        "create_rate": len(created) / (last_created - first) if last_created > first else 0.0,
        "rate": len(bound) / (last - first) if last > first else 0.0,
        "end_to_end": len(bound) / (last - t0) if last > t0 else 0.0,
        "wall": last - t0,
        "bind_rate": len(bound) / (last - first_bound) if last > first_bound else 0.0,
        "from_start": len(bound) / (last - sched_start) if last > sched_start else 0.0,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (children excluded)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--in-server", action="store_true", help="run the loops inside the API server's process")
    ap.add_argument(
        "--pending-first",
        action="store_true",
        help="create all pods first, then start the scheduler: its own binding rate",
    )
    args = ap.parse_args()
    extra = () if args.in_server else ("--no-controllers", "--no-scheduler")
    cpu: list[list[str]] = []
    with server(*extra) as (data, srv):
        kubeconfig = data / "kubeconfig.yaml"
        procs: list[subprocess.Popen[bytes]] = []

        def start(cmd: str) -> None:
            log = open(data / f"{cmd}.log", "wb")  # noqa: SIM115 - lives as long as the process
            procs.append(
                subprocess.Popen(
                    [*KUBELITE, cmd, "--kubeconfig", str(kubeconfig), "--leader-elect=false"],
                    stdout=log,
                    stderr=log,
                )
            )

        if not args.in_server:
            start("controller-manager")
            if not args.pending_first:
                start("scheduler")
        later = (lambda: start("scheduler")) if args.pending_first and not args.in_server else None
        try:
            r = asyncio.run(measure(kubeconfig, args.nodes, args.pods, args.timeout, later))
            cpu.append(["CPU s: API server", f"{cpu_seconds(srv.pid):.1f}"])
            for name, p in zip(("controller-manager", "scheduler"), procs, strict=False):
                cpu.append([f"CPU s: {name}", f"{cpu_seconds(p.pid):.1f}"])
        finally:
            for p in procs:
                stop(p)
    mode = "in the server's process" if args.in_server else "controller-manager + scheduler processes"
    print(f"scheduler bench: {args.nodes} nodes, RC of {args.pods} pods, {mode}")
    print(
        table(
            [
                ["pods bound", f"{r['bound']}/{args.pods}"],
                ["scheduled pods/s (first creation -> last binding)", f"{r['rate']:.0f}"],
                ["binding pods/s (first binding -> last binding)", f"{r['bind_rate']:.0f}"],
                ["pods/s from scheduler start (process start incl.)", f"{r['from_start']:.0f}"],
                ["created pods/s (replication controller)", f"{r['create_rate']:.0f}"],
                ["end to end pods/s (RC created -> last binding)", f"{r['end_to_end']:.0f}"],
                ["wall time", f"{r['wall']:.2f} s"],
                ["creation -> binding", summary_ms(r["lat"]) if r["lat"] else "n/a"],
                *cpu,
            ],
            ["figure", "value"],
        )
    )
    rate = r["bind_rate"] if args.pending_first else r["rate"]
    print("target: >= 500 pods/s", "MET" if rate >= 500 else "NOT MET")


if __name__ == "__main__":
    main()
