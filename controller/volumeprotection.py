"""Storage object in-use protection: a claim a pod still uses, or a volume still bound, is not
removed from under it (kube-controller-manager's pvc-protection and pv-protection controllers).

The API server puts `kubernetes.io/pvc-protection` on every new claim and
`kubernetes.io/pv-protection` on every new volume (kube's StorageObjectInUseProtection
admission). A deleted claim then stays Terminating until no pod of its namespace that is not
finished refers to it, and a deleted volume until it is no longer Bound; these loops take the
finalizer off at that moment. Without them `kubectl delete pvc` under a running pod would release
the volume and the local-path provisioner would empty its directory while the pod writes to it.
"""

from __future__ import annotations

from api.errors import ApiError
from api.informer import Informer
from controller.base import ApiClient, Obj, QueueController, meta, unwrap

PVC_FINALIZER = "kubernetes.io/pvc-protection"
PV_FINALIZER = "kubernetes.io/pv-protection"
CLAIM, VOLUME = "claim:", "volume:"


def claims_of(pod: Obj) -> list[str]:
    ns = meta(pod).get("namespace") or "default"
    return [
        f"{ns}/{v['persistentVolumeClaim']['claimName']}"
        for v in (pod.get("spec") or {}).get("volumes") or []
        if isinstance(v, dict) and (v.get("persistentVolumeClaim") or {}).get("claimName")
    ]


def claim_in_use(key: str, pods: list[Obj]) -> bool:
    """Some pod of the claim's namespace that has not finished refers to it (pure)."""
    return any(
        key in claims_of(p) and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        for p in pods
    )


def releasable(obj: Obj, finalizer: str) -> bool:
    m = meta(obj)
    return bool(m.get("deletionTimestamp")) and finalizer in (m.get("finalizers") or [])


class VolumeProtection(QueueController):
    name = "volume-protection"

    def __init__(
        self,
        client: ApiClient,
        claims: Informer | None,
        volumes: Informer | None,
        pods: Informer,
        workers: int = 2,
    ) -> None:
        super().__init__(workers)
        self.client, self.claims, self.volumes, self.pods = client, claims, volumes, pods
        if claims is not None:
            claims.add_handlers(self._claim, lambda old, new: self._claim(new))
            pods.add_handlers(
                on_update=lambda old, new: self._pod(new), on_delete=lambda o: self._pod(unwrap(o))
            )
        if volumes is not None:
            volumes.add_handlers(self._volume, lambda old, new: self._volume(new))

    def _claim(self, claim: Obj) -> None:
        if releasable(claim, PVC_FINALIZER):
            self.queue.add(f"{CLAIM}{meta(claim).get('namespace')}/{meta(claim).get('name')}")

    def _pod(self, pod: Obj) -> None:
        for key in claims_of(pod):
            self.queue.add(CLAIM + key)

    def _volume(self, pv: Obj) -> None:
        if releasable(pv, PV_FINALIZER):
            self.queue.add(VOLUME + str(meta(pv).get("name")))

    async def run(self, *informers: Informer) -> None:
        watched = [i for i in (self.claims, self.volumes, self.pods) if i is not None]
        await super().run(*watched, *informers)

    async def sync(self, key: str) -> None:
        if key.startswith(CLAIM) and self.claims is not None:
            claim = self.claims.get(key[len(CLAIM) :])
            if (
                claim is not None
                and releasable(claim, PVC_FINALIZER)
                and not claim_in_use(key[len(CLAIM) :], self.pods.list(meta(claim).get("namespace")))
            ):
                await self._release("persistentvolumeclaims", claim, PVC_FINALIZER)
        elif key.startswith(VOLUME) and self.volumes is not None:
            pv = self.volumes.get(key[len(VOLUME) :])
            if (
                pv is not None
                and releasable(pv, PV_FINALIZER)
                and (pv.get("status") or {}).get("phase") != "Bound"
            ):
                await self._release("persistentvolumes", pv, PV_FINALIZER)

    async def _release(self, resource: str, obj: Obj, finalizer: str) -> None:
        m = dict(meta(obj))
        m["finalizers"] = [f for f in m.get("finalizers") or [] if f != finalizer]
        try:
            await self.client.update(resource, {**obj, "metadata": m}, m.get("namespace"))
        except ApiError as e:
            if e.code != 404:  # a conflict is retried from the newer object
                raise
