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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import jsonutil
from api.aclient import AsyncClient
from api.config import from_kubeconfig
from bench._cluster import KUBELITE, server, stop
from bench._stats import summary_ms, table


def node(i: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"bench-node-{i:03d}"},
            "status": {"capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                       "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"}}}


def rc(n: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "bench"},
            "spec": {"replicas": n, "selector": {"app": "bench"},
                     "template": {"metadata": {"labels": {"app": "bench"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox:1",
                                                           "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}


async def post_nodes(c: AsyncClient, count: int) -> None:
    now = jsonutil.now_str()
    ready = [{"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": now,
              "lastTransitionTime": now}]

    async def one(i: int) -> None:
        body = node(i)
        await c.create("nodes", body)
        await c.patch("nodes", body["metadata"]["name"], {"status": {**body["status"], "conditions": ready}},
                      subresource="status")

    await asyncio.gather(*(one(i) for i in range(count)))


async def measure(kubeconfig: Path, nodes: int, pods: int, timeout: float) -> dict[str, Any]:
    c = AsyncClient(from_kubeconfig([kubeconfig]), max_connections=50)
    await post_nodes(c, nodes)
    created: dict[str, float] = {}
    bound: dict[str, float] = {}
    done = asyncio.Event()
    listed = await c.list("pods", "default")

    async def watch() -> None:
        async for ev in c.watch("pods", "default", resource_version=listed["metadata"]["resourceVersion"]):
            t = time.monotonic()
            obj = ev.get("object") or {}
            name = (obj.get("metadata") or {}).get("name")
            if ev.get("type") not in ("ADDED", "MODIFIED") or not name:
                continue
            created.setdefault(name, t)
            if (obj.get("spec") or {}).get("nodeName") and name not in bound:
                bound[name] = t
                if len(bound) >= pods:
                    done.set()
                    return

    w = asyncio.create_task(watch())
    await asyncio.sleep(1.0)  # let the components' informers sync on the nodes
    t0 = time.monotonic()
    await c.create("replicationcontrollers", rc(pods), "default")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout)
    w.cancel()
    await c.aclose()
    lat = [bound[n] - created[n] for n in bound if n in created]
    first, last = min(created.values(), default=t0), max(bound.values(), default=t0)
    last_created = max(created.values(), default=t0)
    return {"bound": len(bound), "created": len(created), "lat": lat,
            "create_rate": len(created) / (last_created - first) if last_created > first else 0.0,
            "rate": len(bound) / (last - first) if last > first else 0.0,
            "end_to_end": len(bound) / (last - t0) if last > t0 else 0.0, "wall": last - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--in-server", action="store_true", help="run the loops inside the API server's process")
    args = ap.parse_args()
    extra = () if args.in_server else ("--no-controllers", "--no-scheduler")
    with server(*extra) as (data, _srv):
        kubeconfig = data / "kubeconfig.yaml"
        procs: list[subprocess.Popen[bytes]] = []
        if not args.in_server:
            for cmd in ("controller-manager", "scheduler"):
                log = open(data / f"{cmd}.log", "wb")  # noqa: SIM115 - lives as long as the process
                procs.append(subprocess.Popen([*KUBELITE, cmd, "--kubeconfig", str(kubeconfig),
                                               "--leader-elect=false"], stdout=log, stderr=log))
        try:
            r = asyncio.run(measure(kubeconfig, args.nodes, args.pods, args.timeout))
        finally:
            for p in procs:
                stop(p)
    mode = "in the server's process" if args.in_server else "controller-manager + scheduler processes"
    print(f"scheduler bench: {args.nodes} nodes, RC of {args.pods} pods, {mode}")
    print(table([
        ["pods bound", f"{r['bound']}/{args.pods}"],
        ["scheduled pods/s (first creation -> last binding)", f"{r['rate']:.0f}"],
        ["created pods/s (replication controller)", f"{r['create_rate']:.0f}"],
        ["end to end pods/s (RC created -> last binding)", f"{r['end_to_end']:.0f}"],
        ["wall time", f"{r['wall']:.2f} s"],
        ["creation -> binding", summary_ms(r["lat"]) if r["lat"] else "n/a"],
    ], ["figure", "value"]))
    print("target: >= 500 pods/s", "MET" if r["rate"] >= 500 else "NOT MET")


if __name__ == "__main__":
    main()
