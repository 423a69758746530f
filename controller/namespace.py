"""The namespace controller: a Terminating namespace is emptied, then finalized.

When a namespace has a deletionTimestamp and still lists the `kubernetes` finalizer in
`spec.finalizers`, every namespaced resource in it is deleted; once all listings come back
empty the finalizer is removed through `PUT namespaces/<name>/finalize` and the API server
removes the namespace. Objects that take time to go (pods on a node, objects with
finalizers) keep it Terminating; the controller looks again every `recheck` seconds.
"""

from __future__ import annotations

import logging

from api.errors import ApiError
from api.informer import Informer
from api.resources import RESOURCES, by_plural
from controller.base import ApiClient, Obj, QueueController, meta
from controller.customkinds import custom_resources

log = logging.getLogger(__name__)

FINALIZER = "kubernetes"


def needs_cleanup(ns: Obj) -> bool:
    return bool(meta(ns).get("deletionTimestamp")) and FINALIZER in (
        (ns.get("spec") or {}).get("finalizers") or []
    )


class NamespaceController(QueueController):
    name = "namespace"

    def __init__(
        self, client: ApiClient, namespaces: Informer, recheck: float = 1.0, workers: int = 2
    ) -> None:
        super().__init__(workers)
        self.client = client
        self.namespaces = namespaces
        self.recheck = recheck
        namespaces.add_handlers(self._changed, lambda o, n: self._changed(n))

    def _changed(self, ns: Obj) -> None:
        if needs_cleanup(ns):
            self.enqueue(ns)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.namespaces, *informers)

    async def sync(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or not needs_cleanup(ns):
            return
        remaining = 0
        crds = by_plural("apiextensions.k8s.io", "customresourcedefinitions")
        listed = (await self.client.list(crds, None)).get("items") or [] if crds else []
        custom = custom_resources(listed, namespaced_only=True)
        for res in (*RESOURCES, *custom):
            if not res.namespaced or "list" not in res.verbs or "delete" not in res.verbs:
                continue
            listed = await self.client.list(res, key)
            for item in listed.get("items") or []:
                remaining += 1
                m = meta(item)
                if m.get("deletionTimestamp"):
                    continue
                try:
                    await self.client.delete(res, m["name"], key)
                except ApiError as e:
                    if e.code not in (404, 409):
                        raise
        if remaining:
            self.queue.add_after(key, self.recheck)
            return
        spec = dict(ns.get("spec") or {})
        spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != FINALIZER]
        body = dict(ns, spec=spec)
        try:
            await self.client.update("namespaces", body, subresource="finalize")
        except ApiError as e:
            if e.code != 404:
                raise
