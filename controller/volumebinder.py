"""The PersistentVolume controller's binder: claims meet volumes, both sides record it, phases
follow what is observed (kube-controller-manager's persistentvolume-binder loop).

One work queue carries two kinds of key, `claim:<ns>/<name>` and `volume:<name>`. A claim's sync
binds it to the volume `volume_decisions.best_volume` picks (the volume first, then the claim,
then both statuses: kube's order, so a crash half way is finished by the next sync); with none,
a claim of a class with a provisioner is annotated for it (`volume.kubernetes.io/storage-
provisioner`) and the provisioner makes one; a WaitForFirstConsumer claim waits until the
scheduler names its node. A volume's sync recomputes its phase: Available, Bound, or Released
once its claim is gone (what Released becomes is the reclaim policy's business: Retain keeps it;
Delete is the provisioner's job for volumes it made, and Failed for a volume nobody can delete).
"""

from __future__ import annotations

import logging

from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.informer import Informer
from api.podrefs import PROVISIONED_BY
from controller import volume_decisions as vd
from controller.base import ApiClient, Obj, QueueController, meta, unwrap

log = logging.getLogger(__name__)

CLAIM, VOLUME = "claim:", "volume:"


class VolumeBinder(QueueController):
    name = "persistentvolume-binder"

    def __init__(
        self,
        client: ApiClient,
        claims: Informer,
        volumes: Informer,
        classes: Informer,
        nodes: Informer,
        events: EventRecorder,
        workers: int = 2,
    ) -> None:
        super().__init__(workers)
        self.client, self.events = client, events
        self.claims, self.volumes, self.classes, self.nodes = claims, volumes, classes, nodes
        claims.add_handlers(self._claim, lambda old, new: self._claim(new), lambda o: self._claim(unwrap(o)))
        volumes.add_handlers(
            self._volume, lambda old, new: self._volume(new), lambda o: self._volume(unwrap(o))
        )
        classes.add_handlers(self._class_changed, lambda old, new: self._class_changed(new))

    def _claim(self, claim: Obj) -> None:
        self.queue.add(CLAIM + vd.claim_key(claim))
        if claim.get("spec", {}).get("volumeName"):
            self.queue.add(VOLUME + str(claim["spec"]["volumeName"]))

    def _volume(self, pv: Obj) -> None:
        self.queue.add(VOLUME + str(meta(pv).get("name")))
        ref = vd.ref_key(pv)
        if ref:
            self.queue.add(CLAIM + ref)
        elif not meta(pv).get("deletionTimestamp"):
            for claim in self.claims.list():  # a new free volume may fit any pending claim
                if not claim.get("spec", {}).get("volumeName"):
                    self.queue.add(CLAIM + vd.claim_key(claim))

    def _class_changed(self, sc: Obj) -> None:
        for claim in self.claims.list():
            if vd.class_of(claim) == meta(sc).get("name"):
                self.queue.add(CLAIM + vd.claim_key(claim))

    async def run(self, *informers: Informer) -> None:
        await super().run(self.claims, self.volumes, self.classes, self.nodes, *informers)

    async def sync(self, key: str) -> None:
        if key.startswith(CLAIM):
            claim = self.claims.get(key[len(CLAIM) :])
            if claim is not None and not meta(claim).get("deletionTimestamp"):
                await self.sync_claim(claim)
        elif key.startswith(VOLUME):
            pv = self.volumes.get(key[len(VOLUME) :])
            if pv is not None:
                await self.sync_volume(pv)

    # --- claims -------------------------------------------------------------------------------

    async def sync_claim(self, claim: Obj) -> None:
        name = claim.get("spec", {}).get("volumeName")
        if name:
            pv = self.volumes.get(str(name))
            if pv is not None and not (pv.get("spec") or {}).get("claimRef"):
                pv = await self._bind_volume(pv, claim)  # the author pre-bound the claim
            await self._write_claim_status(claim, pv)
            return
        sc = self.classes.get(vd.class_of(claim)) if vd.class_of(claim) else None
        if vd.class_of(claim) and sc is None:
            self.events.record(
                claim,
                WARNING,
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{vd.class_of(claim)}" not found',
            )
            return
        if vd.waits_for_consumer(claim, sc):
            self.events.record(
                claim,
                NORMAL,
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
            )
            return
        pv = vd.best_volume(claim, self.volumes.list(), self._selected_node(claim))
        if pv is not None:
            pv = await self._bind_volume(pv, claim)
            bound = await self._update("persistentvolumeclaims", vd.bound_claim(claim, pv))
            await self._write_claim_status(bound, pv)
            return
        if sc is None or not vd.wants_provisioning(claim, sc):
            self.events.record(
                claim,
                NORMAL,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set"
                if sc is None
                else "no persistent volumes available for this claim",
            )
            return
        provisioner = str(sc["provisioner"])
        annotations = meta(claim).get("annotations") or {}
        if annotations.get(vd.STORAGE_PROVISIONER) != provisioner:
            await self._patch_claim(
                claim,
                {
                    "metadata": {
                        "annotations": {
                            vd.STORAGE_PROVISIONER: provisioner,
                            vd.BETA_STORAGE_PROVISIONER: provisioner,
                        }
                    }
                },
            )
        self.events.record(
            claim,
            NORMAL,
            "ExternalProvisioning",
            f"Waiting for a volume to be created either by the external provisioner '{provisioner}' "
            "or manually by the system administrator. If volume creation is delayed, please verify "
            "that the provisioner is running and correctly registered.",
        )

    def _selected_node(self, claim: Obj) -> tuple[str, dict[str, str]] | None:
        node = (meta(claim).get("annotations") or {}).get(vd.SELECTED_NODE)
        if not node:
            return None
        obj = self.nodes.get(str(node))
        return str(node), dict(meta(obj).get("labels") or {}) if obj else {
            "kubernetes.io/hostname": str(node)
        }

    async def _bind_volume(self, pv: Obj, claim: Obj) -> Obj:
        want = vd.bound_volume(pv, claim)
        if want.get("spec") != pv.get("spec") or meta(want) != meta(pv):
            pv = await self._update("persistentvolumes", want)
        if (pv.get("status") or {}).get("phase") != "Bound":
            pv = await self.client.update(
                "persistentvolumes",
                {**pv, "status": {**(pv.get("status") or {}), "phase": "Bound"}},
                subresource="status",
            )
        return pv

    async def _write_claim_status(self, claim: Obj, pv: Obj | None) -> None:
        status = vd.claim_status(claim, pv)
        if status == (claim.get("status") or {}):
            return
        if status.get("phase") == "Lost":
            self.events.record(
                claim,
                WARNING,
                "ClaimLost",
                "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
            )
        await self.client.update(
            "persistentvolumeclaims",
            {**claim, "status": status},
            meta(claim).get("namespace"),
            subresource="status",
        )

    async def _update(self, resource: str, obj: Obj) -> Obj:
        out: Obj = await self.client.update(resource, obj, meta(obj).get("namespace"))
        return out

    async def _patch_claim(self, claim: Obj, body: Obj) -> None:
        try:
            await self.client.patch(
                "persistentvolumeclaims",
                str(meta(claim)["name"]),
                body,
                namespace=meta(claim).get("namespace"),
            )
        except ApiError as e:
            if e.code != 404:
                raise

    # --- volumes ------------------------------------------------------------------------------

    async def sync_volume(self, pv: Obj) -> None:
        ref = vd.ref_key(pv)
        claim = self.claims.get(ref) if ref else None
        phase = vd.volume_phase(pv, claim)
        status = dict(pv.get("status") or {})
        if (
            phase == "Released"
            and (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete"
            and not (meta(pv).get("annotations") or {}).get(PROVISIONED_BY)
        ):
            phase = "Failed"  # nobody can delete a volume no provisioner made
            status.update(
                reason="VolumeFailedDelete",
                message=f'error getting deleter volume plugin for volume "{meta(pv).get("name")}": '
                "no deletable volume plugin matched",
            )
            self.events.record(pv, WARNING, "VolumeFailedDelete", status["message"])
        if status.get("phase") == phase:
            return
        status["phase"] = phase
        try:
            await self.client.update("persistentvolumes", {**pv, "status": status}, subresource="status")
        except ApiError as e:
            if e.code != 404:
                raise
