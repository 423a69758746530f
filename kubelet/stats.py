"""Container and node resource usage from cgroups v1, sampled as the kubelet's cAdvisor does.

Assumes the host's hybrid cgroups (RUNTIME-FACTS.md): v1 `cpuacct` and `memory` controllers. A
container's cgroup is found from its init process (`/proc/<pid>/cgroup`), so nothing here needs
to know how the runtime names cgroup directories. CPU is the cumulative `cpuacct.usage` (ns);
usage in nanocores is its rate between the last two samples, and the window is their distance,
as metrics-server reports. Memory is the working set: `memory.usage_in_bytes` minus
`total_inactive_file` (kube's definition), never below zero.

`StatsCollector.run` samples every `interval` seconds (kubelet's 15 s housekeeping by default;
tests pass less); `summary()` answers the kubelet Summary API's shape (`/stats/summary`): node
totals from the root cgroups, and for every pod its containers, each with its `startTime` (when
the container started), `cpu.usageNanoCores`, `cpu.usageCoreNanoSeconds` and
`memory.workingSetBytes`; `snapshot()` gives the same samples to the resource metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelet.containerconfig import CONTAINER_NAME, POD_NAME, POD_NAMESPACE, POD_UID
from runtime.interface import Runtime

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Sample:
    at: float  # wall clock, seconds
    cpu_ns: int  # cumulative CPU time
    working_set: int  # bytes


@dataclass(frozen=True)
class ContainerUsage:
    namespace: str
    pod: str
    container: str
    sample: Sample
    started_at: float  # wall clock, seconds; 0 when not known


@dataclass(frozen=True)
class Snapshot:
    node: Sample | None  # the root cgroups'
    containers: list[ContainerUsage]
    failed: bool = False  # the last sampling raised


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """`/proc/<pid>/cgroup` -> controller -> path (`4:cpu,cpuacct:/kubepods/...`: both names)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and parts[1]:
            for controller in parts[1].split(","):
                out[controller] = parts[2]
    return out


def working_set(usage: int, memory_stat: str) -> int:
    """kube's working set: usage minus inactive file pages (the reclaimable cache), floored at 0."""
    inactive = 0
    for line in memory_stat.splitlines():
        key, _, value = line.partition(" ")
        if key == "total_inactive_file":
            inactive = int(value)
            break
    return max(0, usage - inactive)


def nano_cores(prev: Sample | None, cur: Sample) -> int | None:
    """CPU rate between two samples in nanocores (1e9 = one core busy); None without two samples."""
    if prev is None or cur.at <= prev.at or cur.cpu_ns < prev.cpu_ns:
        return None
    return int((cur.cpu_ns - prev.cpu_ns) / (cur.at - prev.at))


def read_cgroup(cpuacct: str, memory: str, root: Path = CGROUP_ROOT) -> Sample:
    """One sample of the cgroups at these v1 paths (raises OSError when they are gone)."""
    cpu = int((root / "cpuacct" / cpuacct.lstrip("/") / "cpuacct.usage").read_text())
    mem_dir = root / "memory" / memory.lstrip("/")
    usage = int((mem_dir / "memory.usage_in_bytes").read_text())
    return Sample(time.time(), cpu, working_set(usage, (mem_dir / "memory.stat").read_text()))


def rfc3339(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def usage_block(prev: Sample | None, cur: Sample) -> dict[str, Any]:
    """The Summary API's `cpu` and `memory` of one container, pod or node."""
    cpu: dict[str, Any] = {"time": rfc3339(cur.at), "usageCoreNanoSeconds": cur.cpu_ns}
    rate = nano_cores(prev, cur)
    if rate is not None:
        cpu["usageNanoCores"] = rate
    return {"cpu": cpu, "memory": {"time": rfc3339(cur.at), "workingSetBytes": cur.working_set}}


class StatsCollector:
    """Samples every running container of `runtime` and the node's root cgroups; keeps two samples."""

    def __init__(
        self, runtime: Runtime, node_name: str, interval: float = 15.0, root: Path = CGROUP_ROOT
    ) -> None:
        self.runtime = runtime
        self.node_name = node_name
        self.interval = interval
        self.root = root
        self._paths: dict[str, tuple[str, str]] = {}  # container id -> (cpuacct path, memory path)
        self._prev: dict[str, Sample] = {}
        self._cur: dict[str, Sample] = {}
        self._pods: dict[str, tuple[str, str, str]] = {}  # container id -> (namespace, pod, uid)
        self._names: dict[str, str] = {}  # container id -> container name
        self._started: dict[str, float] = {}  # container id -> when it started (0: not known)
        self.failed = False  # the last sample raised (the resource metrics' resource_scrape_error)
        self.sampled = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                await self.sample()
                self.failed = False
            except Exception:  # a vanished container mid-sample; the next round heals
                self.failed = True
                log.exception("stats sample failed")
            await asyncio.sleep(self.interval)

    async def sample(self) -> None:
        containers = [c for c in await self.runtime.list_containers() if c.state == "running" and c.pid > 0]
        cur: dict[str, Sample] = {}
        for c in containers:
            uid = c.labels.get(POD_UID)
            if not uid:
                continue
            paths = self._paths.get(c.id)
            if paths is None:
                with contextlib.suppress(OSError):
                    found = parse_proc_cgroup(Path(f"/proc/{c.pid}/cgroup").read_text())
                    paths = self._paths[c.id] = (found.get("cpuacct", ""), found.get("memory", ""))
            if paths is None or not paths[0] or not paths[1]:
                continue
            try:
                cur[c.id] = await asyncio.to_thread(read_cgroup, paths[0], paths[1], self.root)
            except (OSError, ValueError):
                continue
            self._pods[c.id] = (c.labels.get(POD_NAMESPACE, ""), c.labels.get(POD_NAME, ""), uid)
            self._names[c.id] = c.labels.get(CONTAINER_NAME) or c.name
            self._started[c.id] = c.started_at or c.created_at
        with contextlib.suppress(OSError, ValueError):
            cur[""] = await asyncio.to_thread(read_cgroup, "/", "/", self.root)  # the node: root cgroups
        for gone in set(self._paths) - set(cur):
            self._paths.pop(gone, None)
            self._pods.pop(gone, None)
            self._names.pop(gone, None)
            self._started.pop(gone, None)
        self._prev = {k: v for k, v in self._cur.items() if k in cur}
        self._cur = cur
        self.sampled.set()

    def summary(self) -> dict[str, Any]:
        node_cur = self._cur.get("")
        node: dict[str, Any] = {"nodeName": self.node_name}
        if node_cur is not None:
            node.update(usage_block(self._prev.get(""), node_cur))
            node["startTime"] = rfc3339(node_cur.at)
        pods: dict[str, dict[str, Any]] = {}
        for cid, cur in self._cur.items():
            if not cid or cid not in self._pods:
                continue
            ns, name, uid = self._pods[cid]
            pod = pods.setdefault(
                uid, {"podRef": {"name": name, "namespace": ns, "uid": uid}, "containers": []}
            )
            block = usage_block(self._prev.get(cid), cur)
            started = rfc3339(self._started.get(cid) or cur.at)
            pod["containers"].append({"name": self._names.get(cid, ""), "startTime": started, **block})
        for pod in pods.values():
            cs = pod["containers"]
            cpu_total = sum(c["cpu"]["usageCoreNanoSeconds"] for c in cs)
            pod["cpu"] = {"time": cs[0]["cpu"]["time"], "usageCoreNanoSeconds": cpu_total}
            if all("usageNanoCores" in c["cpu"] for c in cs):
                pod["cpu"]["usageNanoCores"] = sum(c["cpu"]["usageNanoCores"] for c in cs)
            pod["memory"] = {
                "time": cs[0]["memory"]["time"],
                "workingSetBytes": sum(c["memory"]["workingSetBytes"] for c in cs),
            }
        return {"node": node, "pods": list(pods.values()), "window": self.window_seconds()}

    def snapshot(self) -> Snapshot:
        """The latest samples as the resource metrics render them (`kubelet.resourcemetrics`)."""
        containers = [
            ContainerUsage(*self._pods[cid][:2], self._names.get(cid, ""), cur, self._started.get(cid, 0.0))
            for cid, cur in self._cur.items()
            if cid and cid in self._pods
        ]
        return Snapshot(self._cur.get(""), containers, self.failed)

    def window_seconds(self) -> float:
        """The distance of the last two node samples (metrics-server's `window`), else the interval."""
        a, b = self._prev.get(""), self._cur.get("")
        return round(b.at - a.at, 3) if a is not None and b is not None else self.interval
