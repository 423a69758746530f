"""Pod garbage collection: pods bound to a node that no longer exists are force-deleted.

No kubelet will ever finish them (a graceful delete would leave them Terminating forever), so
like Kubernetes' PodGC they are deleted with grace 0, once the node has been missing for
`quarantine` seconds and a live GET confirms it (the node cache may lag a new node).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from api.errors import ApiError
from api.informer import Informer
from controller.base import ApiClient, Obj, meta, run_every

log = logging.getLogger(__name__)


def orphaned(
    pods: Iterable[Obj], nodes: set[str], missing_since: dict[str, float], now: float, quarantine: float
) -> list[Obj]:
    """Pure: pods on nodes missing for longer than `quarantine`; updates `missing_since`."""
    out = []
    seen: set[str] = set()
    for p in pods:
        node = (p.get("spec") or {}).get("nodeName")
        if not node or node in nodes:
            continue
        seen.add(node)
        since = missing_since.setdefault(node, now)
        if now - since >= quarantine:
            out.append(p)
    for n in [n for n in missing_since if n not in seen]:
        del missing_since[n]
    return out


@dataclass(eq=False)  # a loop, compared by identity
class PodGarbageCollector:
    name: ClassVar[str] = "podgc"

    client: ApiClient
    pods: Informer
    nodes: Informer
    quarantine: float = 40.0
    period: float = 5.0
    clock: Callable[[], float] = time.monotonic
    missing_since: dict[str, float] = field(default_factory=dict, init=False)

    async def run(self) -> None:
        await run_every(self.period, "pod gc", self.collect, (self.pods, self.nodes))

    async def collect(self) -> None:
        names = {meta(n).get("name", "") for n in self.nodes.list()}
        victims = orphaned(self.pods.list(), names, self.missing_since, self.clock(), self.quarantine)
        confirmed: dict[str, bool] = {}
        for p in victims:
            node = p["spec"]["nodeName"]
            if node not in confirmed:
                try:
                    await self.client.get("nodes", node)
                    confirmed[node] = False
                except ApiError as e:
                    if e.code != 404:
                        raise
                    confirmed[node] = True
            if not confirmed[node]:
                continue
            m = meta(p)
            log.info("deleting pod %s/%s of missing node %s", m.get("namespace"), m.get("name"), node)
            try:
                await self.client.delete(
                    "pods",
                    m["name"],
                    m.get("namespace"),
                    grace_period_seconds=0,
                    preconditions={"uid": m.get("uid")},
                )
            except ApiError as e:
                if e.code not in (404, 409):
                    raise
