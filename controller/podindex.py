"""Pods by their controller's UID, and the orphans of each namespace (kube's PodControllerUIDIndex).

A replication controller's sync must look at the pods it controls and at the orphans it might
adopt; every other pod of the namespace is skipped anyway. Walking the whole namespace on each
sync made one RC of 15,000 pods cost 15,000 checks per sync, however many pods it owned. This
index, kept by the pod informer's handlers, hands a sync just its candidates: the pods whose
controller ownerReference names the owner's UID in its namespace, plus the namespace's pods
with no controller at all, each as its `replicas.PodFacts`, made here once per version of the
pod. What the sync decides from them is unchanged (`replicas.claim`).
"""

from __future__ import annotations

from api.informer import DeletedFinalStateUnknown, Informer, key_of
from controller.base import Obj, unwrap
from controller.replicas import PodFacts, facts_of

# (namespace, controller uid or "" for none) -> pod keys
Slot = tuple[str, str]


def slot_of(facts: PodFacts) -> Slot:
    """Where a pod is filed: its namespace and its controller's UID ("" when it has none)."""
    return str((facts.pod.get("metadata") or {}).get("namespace") or ""), facts.controller_uid or ""


class PodsByController:
    """Register before the controller's own pod handlers, so a sync they trigger finds the pod filed."""

    def __init__(self, pods: Informer) -> None:
        self.pods = pods
        self._keys: dict[Slot, set[str]] = {}
        self._facts: dict[str, PodFacts] = {}  # pod key -> its current version's facts (and so its slot)
        pods.add_handlers(self._put, lambda old, new: self._put(new), self._gone)

    def _put(self, pod: Obj) -> None:
        key, facts = key_of(pod), facts_of(pod)
        before = self._facts.get(key)
        self._facts[key] = facts
        slot = slot_of(facts)
        old = slot_of(before) if before is not None else None
        if old == slot:
            return
        if old is not None:
            self._drop(key, old)
        self._keys.setdefault(slot, set()).add(key)

    def _gone(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        key = obj.key if isinstance(obj, DeletedFinalStateUnknown) else key_of(unwrap(obj))
        before = self._facts.pop(key, None)
        if before is not None:
            self._drop(key, slot_of(before))

    def _drop(self, key: str, slot: Slot) -> None:
        keys = self._keys.get(slot)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys[slot]

    def _objs(self, slot: Slot) -> list[PodFacts]:
        get = self._facts.get
        return [f for f in map(get, self._keys.get(slot, ())) if f is not None]

    def candidates(self, namespace: str, uid: str) -> list[PodFacts]:
        """The pods of `namespace` controlled by `uid`, then its pods with no controller."""
        orphans = self._objs((namespace, ""))
        return self._objs((namespace, uid)) + orphans if uid else orphans
