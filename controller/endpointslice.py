"""The EndpointSlice controllers: slices beside Endpoints for every service.

One loop, two owners of slices, as kube-controller-manager's `endpointslice` and
`endpointslicemirroring` controllers: a service with a selector gets slices computed from its
pods (`endpointslice-controller.k8s.io`); a service without one gets its hand-made Endpoints
mirrored (`endpointslicemirroring-controller.k8s.io`) unless they are labelled
`endpointslice.kubernetes.io/skip-mirror` (the `kubernetes` service's, whose slice the API
server writes). The decisions are pure (`endpointslice_decisions`); this shell enqueues service
keys from service, pod, Endpoints and slice events and writes the plan.

Slices are created with generateName, so a cache that has not yet seen this controller's last
writes could make it create twice: after writing, the names and resourceVersions written are
remembered, and a sync whose cache is older than them is retried later instead (kube's
endpointSliceTracker does the same with generations).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from api.errors import ApiError
from api.informer import DeletedFinalStateUnknown, Informer
from api.selectors import selector_from_map
from controller.base import ApiClient, Obj, QueueController, meta, unwrap
from controller.endpointslice_decisions import (
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    MAX_ENDPOINTS,
    MIRRORING_NAME,
    SERVICE_NAME_LABEL,
    SKIP_MIRROR_LABEL,
    mirrored_endpoints,
    plan,
    pod_endpoints,
)

log = logging.getLogger(__name__)
RESOURCE = "endpointslices"
STALE_AFTER = 10.0  # seconds an unseen write of ours holds the service's syncs back


class StaleCache(Exception):
    """The slice cache has not caught up with this controller's own writes yet."""


class EndpointSliceController(QueueController):
    name = "endpointslice"

    def __init__(
        self,
        client: ApiClient,
        services: Informer,
        pods: Informer,
        endpoints: Informer,
        slices: Informer,
        workers: int = 4,
        max_endpoints: int = MAX_ENDPOINTS,
    ) -> None:
        super().__init__(workers)
        self.client = client
        self.services, self.pods, self.endpoints, self.slices = services, pods, endpoints, slices
        self.max_endpoints = max_endpoints
        # service key -> (slice name -> the resourceVersion written (None: deleted), when)
        self._written: dict[str, tuple[dict[str, int | None], float]] = {}
        services.add_handlers(self.enqueue, lambda o, n: self.enqueue(n), self.enqueue)
        pods.add_handlers(self._pod, lambda o, n: self._pod_updated(o, n), self._pod)
        endpoints.add_handlers(self.enqueue, lambda o, n: self.enqueue(n), self.enqueue)
        slices.add_handlers(self._slice, lambda o, n: self._slice(n), self._slice)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.services, self.pods, self.endpoints, self.slices, *informers)

    def _pod(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = unwrap(obj)
        labels = meta(pod).get("labels") or {}
        for svc in self.services.list(meta(pod).get("namespace")):
            sel = (svc.get("spec") or {}).get("selector")
            if sel and selector_from_map(sel).matches(labels):
                self.enqueue(svc)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        self._pod(new)
        if meta(old).get("labels") != meta(new).get("labels"):
            self._pod(old)

    def _slice(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        s = unwrap(obj)
        svc = (meta(s).get("labels") or {}).get(SERVICE_NAME_LABEL)
        if svc:
            self.enqueue(f"{meta(s).get('namespace')}/{svc}")

    def _owned(self, ns: str, name: str, manager: str) -> list[Obj]:
        return [
            s
            for s in self.slices.list(ns)
            if (meta(s).get("labels") or {}).get(SERVICE_NAME_LABEL) == name
            and (meta(s).get("labels") or {}).get(MANAGED_BY_LABEL) == manager
        ]

    def _check_fresh(self, key: str, ns: str) -> None:
        written, at = self._written.get(key) or ({}, 0.0)
        if time.monotonic() - at > STALE_AFTER:  # someone else changed them since: trust the cache
            self._written.pop(key, None)
            return
        for name, rv in written.items():
            cur = self.slices.get(f"{ns}/{name}")
            seen = int(meta(cur).get("resourceVersion") or 0) if cur is not None else None
            if (rv is None and seen is not None) or (rv is not None and (seen is None or seen < rv)):
                raise StaleCache(f"slice {ns}/{name} not yet seen at {rv}")
        self._written.pop(key, None)

    async def sync(self, key: str) -> None:
        ns, _, name = key.partition("/")
        self._check_fresh(key, ns)
        svc = self.services.get(key)
        if svc is not None and (svc.get("spec") or {}).get("type") == "ExternalName":
            svc = None  # a DNS alias has no endpoints (kube skips it too)
        desired: dict[Any, Any] = {}
        manager = CONTROLLER_NAME
        if svc is not None:
            sel = (svc.get("spec") or {}).get("selector")
            if sel:
                desired = pod_endpoints(svc, self.pods.list(ns, selector_from_map(sel)))
            else:
                manager = MIRRORING_NAME
                ep = self.endpoints.get(key)
                if ep is not None and SKIP_MIRROR_LABEL not in (meta(ep).get("labels") or {}):
                    desired = mirrored_endpoints(ep)
                else:
                    svc = None  # nothing to mirror: its mirrored slices go
        other = MIRRORING_NAME if manager == CONTROLLER_NAME else CONTROLLER_NAME
        stale = [s["metadata"]["name"] for s in self._owned(ns, name, other)]
        if svc is None:
            stale += [s["metadata"]["name"] for s in self._owned(ns, name, manager)]
            await self._write(key, ns, [], [], stale)
            return
        p = plan(svc, desired, self._owned(ns, name, manager), manager, self.max_endpoints)
        await self._write(key, ns, p.create, p.update, p.delete + stale)

    async def _write(
        self, key: str, ns: str, create: list[Obj], update: list[Obj], delete: list[str]
    ) -> None:
        written: dict[str, int | None] = {}
        try:
            for s in update:
                got = await self.client.update(RESOURCE, s, ns)
                written[got["metadata"]["name"]] = int(got["metadata"]["resourceVersion"])
            for s in create:
                got = await self.client.create(RESOURCE, s, ns)
                written[got["metadata"]["name"]] = int(got["metadata"]["resourceVersion"])
            for n in delete:
                try:
                    await self.client.delete(RESOURCE, n, ns)
                except ApiError as e:
                    if e.code != 404:
                        raise
                written[n] = None
        finally:
            if written:
                self._written[key] = (written, time.monotonic())
