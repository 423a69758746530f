"""The StatefulSet controller: pods with stable names and ordinals, created and updated in order.

The I/O shell around `controller.statefulset_decisions`: StatefulSet events and its pods'
events enqueue the set; `sync` records the template as a ControllerRevision
(controller.history), keeps `status.currentRevision` until a rolling update completes, creates
and deletes the pods the decision names (each pod from the template of the revision it
belongs to), writes the status and prunes old revisions.

Each pod's PersistentVolumeClaims (one per volumeClaimTemplate, controller.statefulset_claims)
are created before the pod. On a server that does not serve claims, a set that has templates
still gets its pods, each claim replaced by an emptyDir volume of the same name (data lives as
long as the pod), and a Warning event saying so.
"""

from __future__ import annotations

import logging

from api import resources
from api.errors import ApiError
from api.events import EventRecorder
from api.informer import DeletedFinalStateUnknown, Informer
from controller import history
from controller import statefulset_claims as sc
from controller import statefulset_decisions as sd
from controller.base import ApiClient, Obj, OwnerController, controller_key, controller_ref, meta, unwrap
from controller.claim import claim_pods, owners_matching
from controller.clock import Clock

log = logging.getLogger(__name__)


class StatefulSetController(OwnerController):
    name = "statefulset"

    def __init__(
        self,
        client: ApiClient,
        sets: Informer,
        pods: Informer,
        revisions: Informer,
        events: EventRecorder,
        clock: Clock | None = None,
        workers: int = 2,
    ) -> None:
        super().__init__(client, sets, (pods, revisions), events, clock, workers)
        self.sets = sets
        self.pods = pods
        self.revisions = revisions
        self._warned: set[str] = set()
        pods.add_handlers(self._pod, lambda old, new: self._pod(new), self._pod)

    def _pod(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = unwrap(obj)
        key = controller_key(pod, "StatefulSet")
        if key:
            self.enqueue(key)
        elif controller_ref(pod) is None and not isinstance(obj, DeletedFinalStateUnknown):
            for sts in owners_matching(
                pod, self.sets.list(meta(pod).get("namespace"))
            ):  # it may adopt the orphan
                self.enqueue(sts)

    async def sync(self, key: str) -> None:
        sts = self.sets.get(key)
        if sts is None or meta(sts).get("deletionTimestamp"):
            self._warned.discard(key)
            return
        ns = meta(sts).get("namespace")
        self._warn_claims(key, sts)
        revisions = history.owned(sts, self.revisions.list(ns))
        update, revisions, collision = await history.ensure_revision(self.client, sts, revisions)
        by_name = {meta(r).get("name", ""): r for r in revisions}
        current_name = (sts.get("status") or {}).get("currentRevision") or ""
        current = by_name.get(current_name, update)
        pods = await claim_pods(self.client, "statefulsets", sts, self.pods.list(ns))
        plan = sd.decide(
            sts, pods, meta(current).get("name", ""), meta(update).get("name", ""), self.clock.now()
        )
        for p in plan.delete:
            try:
                await self.client.delete("pods", meta(p)["name"], ns)
                self.events.record(
                    sts,
                    "Normal",
                    "SuccessfulDelete",
                    f"delete Pod {meta(p)['name']} in StatefulSet {meta(sts).get('name')} successful",
                )
            except ApiError as e:
                if e.code != 404:
                    raise
        served = resources.lookup("persistentvolumeclaims") is not None
        for ordinal, rev_name in plan.create:
            body = sd.pod_for(sts, ordinal, by_name.get(rev_name, update), served)
            if served:
                await self._claims(sts, ordinal, body["metadata"]["name"])
            try:
                await self.client.create("pods", body, ns)
                self.events.record(
                    sts,
                    "Normal",
                    "SuccessfulCreate",
                    f"create Pod {body['metadata']['name']} in StatefulSet {meta(sts).get('name')} "
                    "successful",
                )
            except ApiError as e:
                if e.code != 409:  # already there: the cache is behind
                    self.events.record(
                        sts,
                        "Warning",
                        "FailedCreate",
                        f"create Pod {body['metadata']['name']} in StatefulSet "
                        f"{meta(sts).get('name')} failed error: {e}",
                    )
                    raise
        status = dict(plan.status)
        status["collisionCount"] = collision
        await self.update_status(self.client, "statefulsets", key, sts, status)
        in_use = {status.get("currentRevision", ""), status.get("updateRevision", "")} | {
            history.pod_revision(p) for p in pods
        }
        await history.prune(
            self.client, revisions, in_use, (sts.get("spec") or {}).get("revisionHistoryLimit")
        )
        min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready and status.get("availableReplicas", 0) < status.get("readyReplicas", 0):
            self.queue.add_after(key, 1.0)

    async def _claims(self, sts: Obj, ordinal: int, pod: str) -> None:
        set_name = meta(sts).get("name")
        try:
            made = await sc.ensure_claims(self.client, sts, ordinal)
        except (ApiError, RuntimeError) as e:
            self.events.record(
                sts,
                "Warning",
                "FailedCreate",
                f"create Claim for Pod {pod} in StatefulSet {set_name} failed error: {e}",
            )
            raise
        for name in made:
            self.events.record(
                sts,
                "Normal",
                "SuccessfulCreate",
                f"create Claim {name} Pod {pod} in StatefulSet {set_name} success",
            )

    def _warn_claims(self, key: str, sts: Obj) -> None:
        claims = (sts.get("spec") or {}).get("volumeClaimTemplates") or []
        if claims and resources.lookup("persistentvolumeclaims") is None and key not in self._warned:
            self._warned.add(key)
            names = ", ".join(str((c.get("metadata") or {}).get("name")) for c in claims)
            self.events.record(
                sts,
                "Warning",
                "FailedCreatePersistentVolumeClaim",
                f"volumeClaimTemplates ({names}) ignored: this server does not serve "
                "PersistentVolumeClaims; each pod gets an emptyDir volume in their place",
            )
