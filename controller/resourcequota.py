"""The resource quota controller: each ResourceQuota's `status` is what its namespace uses now.

`status.hard` is the spec's, `status.used` the sum of `api.quota.usage` over the namespace's objects
of the kinds its resources name, read from the controller manager's shared informers (the garbage
collector already watches every namespaced kind). A quota is synced when made, when its `hard`
changes, when an object of its namespace goes or a pod of it finishes (kube's replenishment: an
add was charged by the admission already), and every `resync` seconds. The API server's admission charges each create to `status.used` as it admits
it; this controller recomputes from what exists, so a removed object is given back and a
charge whose create then failed is corrected.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.informer import DeletedFinalStateUnknown, Informer
from api.quota import COUNTED, quota_counts, usage, written
from api.resources import lookup
from controller.base import ApiClient, Obj, QueueController, meta, unwrap


def compute_used(quota: Obj, objects: dict[tuple[str, str], list[Obj]]) -> dict[str, str]:
    """status.used for `quota` from the namespace's objects by (plural, group)."""
    spec = quota.get("spec") or {}
    hard: dict[str, Any] = spec.get("hard") or {}
    names = list(hard)
    total = dict.fromkeys(names, Decimal(0))
    for (plural, group), objs in objects.items():
        for obj in objs:
            if not quota_counts(spec, plural, group, obj):
                continue
            for name, value in usage(plural, group, obj, names).items():
                total[name] += value
    return {name: written(value, str(hard[name])) for name, value in total.items()}


class ResourceQuotaController(QueueController):
    name = "resourcequota"

    def __init__(
        self, client: ApiClient, quotas: Informer, counted: dict[str, Informer], resync: float = 300.0
    ) -> None:
        super().__init__(workers=2)
        self.client = client
        self.quotas = quotas
        self.counted = counted  # plural -> informer, for the kinds in api.quota.COUNTED
        self.resync = resync
        quotas.add_handlers(self.enqueue, self._quota_changed, lambda _o: None)
        for informer in counted.values():
            # an add was charged by the API server's admission: recounting then could run before
            # this cache has the object and undo the charge, so (as kube's replenishment) only
            # what gives usage back recounts: a removal, a pod that finished
            informer.add_handlers(lambda _o: None, self._changed, self._touched)

    def _quota_changed(self, old: Obj, new: Obj) -> None:
        """A changed limit is recounted; status writes (this controller's and the admission's
        charges) are not: a recount triggered by a charge could run before the charged object
        reached the caches."""
        if (old.get("spec") or {}).get("hard") != (new.get("spec") or {}).get("hard"):
            self.enqueue(new)

    def _changed(self, old: Obj, new: Obj) -> None:
        done = ("Succeeded", "Failed")
        if (new.get("status") or {}).get("phase") in done and (old.get("status") or {}).get(
            "phase"
        ) not in done:
            self._touched(new)

    def _touched(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        """An object of a namespace changed: its namespace's quotas are recounted."""
        namespace = meta(unwrap(obj)).get("namespace")
        if namespace:
            for q in self.quotas.list(namespace):
                self.enqueue(q)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.quotas, *self.counted.values(), *informers)

    async def sync(self, key: str) -> None:
        quota = self.quotas.get(key)
        if quota is None:
            return
        namespace = str(meta(quota).get("namespace") or "")
        objects: dict[tuple[str, str], list[Obj]] = {}
        for plural, informer in self.counted.items():
            res = lookup(plural)
            objects[(plural, res.group if res else "")] = informer.list(namespace)
        hard = (quota.get("spec") or {}).get("hard") or {}
        status = {"hard": dict(hard), "used": compute_used(quota, objects)}
        await self.update_status(self.client, "resourcequotas", key, quota, status)
        self.queue.add_after(key, self.resync)


def counted_plurals() -> list[str]:
    """The plurals whose informers the controller reads (COUNTED without groups)."""
    return sorted({kind.split(".", 1)[0] for kind in COUNTED})
