"""A real `kubelite server` per test, with the test playing the kubelets.

`Cluster` starts the server (no in-process loops), gives an `AsyncClient`, starts the
controllers and the scheduler in-process on demand, and plays nodes: it posts Node objects,
renews their Leases, marks pods bound to a live node Running and Ready with an IP, and
completes their graceful deletion (as a kubelet would). Everything it starts is stopped by
`close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol, TypeVar

from api import jsonutil
from api.aclient import AsyncClient
from api.config import from_kubeconfig
from api.errors import ApiError
from api.events import EventRecorder
from api.informer import Informer, InformerFactory
from controller.manager import run_loops
from controller.options import ControllerOptions, SchedulerOptions
from controller.scheduler.run import run_scheduler_loop
from tests.apiserver.conftest import Server, free_port

Obj = dict[str, Any]


class Runnable(Protocol):
    def run(self) -> Coroutine[Any, Any, None]: ...


C = TypeVar("C", bound=Runnable)


async def eventually(
    cond: Callable[[], Awaitable[Any]], timeout: float = 10.0, what: str = "condition"
) -> Any:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    last: Any = None
    while True:
        last = await cond()
        if last:
            return last
        if loop.time() > end:
            raise AssertionError(f"{what} not met within {timeout}s (last: {last!r})")
        await asyncio.sleep(0.05)


def node_body(
    name: str, cpu: str = "4", memory: str = "8Gi", pods: str = "110", labels: dict[str, str] | None = None
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "status": {
            "capacity": {"cpu": cpu, "memory": memory, "pods": pods},
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
        },
    }


async def get_or_none(client: AsyncClient, resource: str, name: str, ns: str | None = None) -> Obj | None:
    """The object, or None while it does not exist (a condition for `eventually`)."""
    try:
        return dict(await client.get(resource, name, ns))
    except ApiError as e:
        if e.code == 404:
            return None
        raise


def active(pods: list[Obj]) -> list[Obj]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


class Cluster:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="kl-ctl-"))
        self.server = Server(self.tmp / "data", free_port())
        self.tasks: list[asyncio.Task[None]] = []
        self.alive: set[str] = set()
        self._ips = itertools.count(2)
        self.client: AsyncClient

    async def start(self) -> Cluster:
        await asyncio.to_thread(self.server.start)
        self.client = AsyncClient(from_kubeconfig([self.server.kubeconfig]))
        return self

    def spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        t = asyncio.ensure_future(coro)
        self.tasks.append(t)
        return t

    def start_controllers(self, **kw: Any) -> asyncio.Task[None]:
        return self.spawn(run_loops(self.client, ControllerOptions(leader_elect=False, **kw)))

    def run_controller(self, component: str, make: Callable[[InformerFactory, EventRecorder], C]) -> C:
        """One controller in-process, on informers of its own and an event recorder named `component`,
        until `close()`."""
        factory = InformerFactory(self.client)
        events = EventRecorder(self.client, component)
        controller = make(factory, events)
        self.spawn(factory.run_with(controller.run(), events.run()))
        return controller

    def start_scheduler(self, **kw: Any) -> asyncio.Task[None]:
        kw.setdefault("initial_backoff", 0.2)
        kw.setdefault("max_backoff", 1.0)
        return self.spawn(run_scheduler_loop(self.client, SchedulerOptions(leader_elect=False, **kw)))

    # playing the kubelets
    async def add_node(self, name: str, heartbeat: bool = True, **kw: Any) -> None:
        body = node_body(name, **kw)
        await self.client.create("nodes", body)
        status = dict(body["status"], conditions=[self._ready_condition()])
        await self.client.patch("nodes", name, {"status": status}, subresource="status")
        if heartbeat:
            self.alive.add(name)

    def _ready_condition(self) -> Obj:
        now = jsonutil.now_str()
        return {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }

    def play_kubelets(self, lease_period: float = 0.2) -> None:
        self.spawn(self._leases(lease_period))
        pods = Informer(self.client, "pods", retry_delay=0.1)
        pods.add_handlers(lambda p: self._pod(p), lambda o, n: self._pod(n))
        self.spawn(pods.run())

    async def _leases(self, period: float) -> None:
        while True:
            for name in list(self.alive):
                body = {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": name, "namespace": "kube-node-lease"},
                    "spec": {
                        "holderIdentity": name,
                        "leaseDurationSeconds": 40,
                        "renewTime": jsonutil.format_micro_time(jsonutil.now()),
                    },
                }
                with contextlib.suppress(ApiError):
                    try:
                        cur = await self.client.get("leases", name, "kube-node-lease")
                    except ApiError:
                        await self.client.create("leases", body, "kube-node-lease")
                    else:
                        cur["spec"] = body["spec"]
                        await self.client.update("leases", cur, "kube-node-lease")
            await asyncio.sleep(period)

    def _pod(self, pod: Obj) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or node not in self.alive:
            return
        m = pod["metadata"]
        if m.get("deletionTimestamp"):
            self.spawn(
                self._quiet(self.client.delete("pods", m["name"], m["namespace"], grace_period_seconds=0))
            )
        elif (pod.get("status") or {}).get("phase") != "Running":
            now = jsonutil.now_str()
            status = {
                "phase": "Running",
                "podIP": f"10.244.{next(self._ips) % 250}.{next(self._ips) % 250}",
                "conditions": [
                    {"type": t, "status": "True", "lastTransitionTime": now}
                    for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
                ],
            }
            self.spawn(
                self._quiet(
                    self.client.patch(
                        "pods", m["name"], {"status": status}, namespace=m["namespace"], subresource="status"
                    )
                )
            )

    @staticmethod
    async def _quiet(aw: Awaitable[Any]) -> None:
        with contextlib.suppress(ApiError):
            await aw

    # reading
    async def pods(self, ns: str = "default", owner_uid: str | None = None) -> list[Obj]:
        items = (await self.client.list("pods", ns))["items"]
        if owner_uid is not None:
            items = [
                p
                for p in items
                if any(r.get("uid") == owner_uid for r in p["metadata"].get("ownerReferences") or [])
            ]
        return list(items)

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.client.aclose()
        await asyncio.to_thread(self.server.stop)
        shutil.rmtree(self.tmp, ignore_errors=True)
