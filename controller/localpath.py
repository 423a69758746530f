"""The local-path provisioner: volumes made of a directory on one node, as rancher's
local-path-provisioner (k3s's default storage) makes them, run inside the controller manager.

Provisioning: a claim the binder annotated for `rancher.io/local-path`
(`volume.kubernetes.io/storage-provisioner`) whose node the scheduler chose
(`volume.kubernetes.io/selected-node`) gets a PersistentVolume `pvc-<claim uid>`: a hostPath
`<node dir>/pvc-<uid>_<ns>_<name>` of type DirectoryOrCreate, a required node affinity to that
node, the class's reclaim policy, and a claimRef to the claim (pre-bound: the binder finishes the
binding). The provisioner does not run on the node, so it does not make the directory: the
node's kubelet does when it mounts the volume (DirectoryOrCreate), as rancher's setup helper
would. `<node dir>` is what the node's kubelet published in the `kubelite.io/local-path-dir`
annotation (`<kubelet data dir>/storage`), else `DEFAULT_DIR`.

Reclaiming: a Released volume of ours with policy Delete is emptied by a helper pod on its node
(`helper-pod-delete-<pv>` in kube-system: `rm -rf` of the directory through a hostPath of its
parent, rancher's teardown), then the helper pod and the volume are deleted. Retain keeps the
volume Released and its data on the node.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.informer import Informer
from api.podrefs import LOCAL_PATH_PROVISIONER, PROVISIONED_BY
from controller import volume_decisions as vd
from controller.base import ApiClient, Obj, QueueController, meta, unwrap

log = logging.getLogger(__name__)

PROVISIONER = LOCAL_PATH_PROVISIONER
DIR_ANNOTATION = "kubelite.io/local-path-dir"
SELECTED_NODE_ANNOTATION = "local.path.provisioner/selected-node"
DEFAULT_DIR = "/var/lib/kubelite/storage"
HELPER_NAMESPACE = "kube-system"
HELPER_IMAGE = "busybox:1.35"  # the image `kubelite up` imports on every node
CLAIM, VOLUME = "claim:", "volume:"


def volume_for(claim: Obj, sc: Obj, node: str, base_dir: str) -> Obj:
    """The PersistentVolume provisioned for this claim on this node (pure)."""
    m, spec = meta(claim), claim.get("spec") or {}
    name = f"pvc-{m.get('uid')}"
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "annotations": {PROVISIONED_BY: PROVISIONER, SELECTED_NODE_ANNOTATION: node},
        },
        "spec": {
            "capacity": {
                "storage": str(((spec.get("resources") or {}).get("requests") or {}).get("storage"))
            },
            "accessModes": list(spec.get("accessModes") or []),
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
            "storageClassName": meta(sc).get("name"),
            "volumeMode": spec.get("volumeMode") or "Filesystem",
            "hostPath": {
                "path": str(PurePosixPath(base_dir) / f"{name}_{m.get('namespace')}_{m.get('name')}"),
                "type": "DirectoryOrCreate",
            },
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
                            ]
                        }
                    ]
                }
            },
            "claimRef": vd.claim_ref(claim),
        },
    }


def helper_pod(pv: Obj, image: str = HELPER_IMAGE) -> Obj | None:
    """The pod that removes a provisioned volume's directory on its node (None: nothing to remove)."""
    path = ((pv.get("spec") or {}).get("hostPath") or {}).get("path")
    node = (meta(pv).get("annotations") or {}).get(SELECTED_NODE_ANNOTATION)
    if not path or not node:
        return None
    parent, leaf = str(PurePosixPath(path).parent), PurePosixPath(path).name
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"helper-pod-delete-{meta(pv).get('name')}", "namespace": HELPER_NAMESPACE},
        "spec": {
            "nodeName": node,
            "restartPolicy": "Never",
            "tolerations": [{"operator": "Exists"}],
            "containers": [
                {
                    "name": "helper-pod",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["rm", "-rf", f"/data/{leaf}"],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "hostPath": {"path": parent, "type": "DirectoryOrCreate"}}],
        },
    }


def wants_volume(claim: Obj, sc: Obj | None) -> str | None:
    """The node to provision on, when this claim is ours to provision now (pure)."""
    annotations = meta(claim).get("annotations") or {}
    if sc is None or sc.get("provisioner") != PROVISIONER or (claim.get("spec") or {}).get("volumeName"):
        return None
    if annotations.get(vd.STORAGE_PROVISIONER) != PROVISIONER or meta(claim).get("deletionTimestamp"):
        return None
    return str(annotations.get(vd.SELECTED_NODE) or "") or None


class LocalPathProvisioner(QueueController):
    name = "local-path-provisioner"

    def __init__(
        self,
        client: ApiClient,
        claims: Informer,
        volumes: Informer,
        classes: Informer,
        nodes: Informer,
        helpers: Informer,
        events: EventRecorder,
        image: str = HELPER_IMAGE,
        workers: int = 2,
    ) -> None:
        super().__init__(workers)
        self.client, self.events, self.image = client, events, image
        self.claims, self.volumes, self.classes, self.nodes, self.helpers = (
            claims,
            volumes,
            classes,
            nodes,
            helpers,
        )
        claims.add_handlers(self._claim, lambda old, new: self._claim(new))
        volumes.add_handlers(
            self._volume, lambda old, new: self._volume(new), lambda o: self._volume(unwrap(o))
        )
        helpers.add_handlers(
            self._helper, lambda old, new: self._helper(new), lambda o: self._helper(unwrap(o))
        )

    def _claim(self, claim: Obj) -> None:
        self.queue.add(CLAIM + vd.claim_key(claim))

    def _volume(self, pv: Obj) -> None:
        if (meta(pv).get("annotations") or {}).get(PROVISIONED_BY) == PROVISIONER:
            self.queue.add(VOLUME + str(meta(pv).get("name")))

    def _helper(self, pod: Obj) -> None:
        name = str(meta(pod).get("name") or "")
        if name.startswith("helper-pod-delete-"):
            self.queue.add(VOLUME + name[len("helper-pod-delete-") :])

    async def run(self, *informers: Informer) -> None:
        await super().run(self.claims, self.volumes, self.classes, self.nodes, self.helpers, *informers)

    async def sync(self, key: str) -> None:
        if key.startswith(CLAIM):
            claim = self.claims.get(key[len(CLAIM) :])
            if claim is not None:
                await self.provision(claim)
        else:
            name = key[len(VOLUME) :]
            pv = self.volumes.get(name)
            if pv is not None:
                await self.reclaim(pv)
            elif self.helpers.get(f"{HELPER_NAMESPACE}/helper-pod-delete-{name}") is not None:
                await self._delete(
                    "pods", f"helper-pod-delete-{name}", HELPER_NAMESPACE
                )  # its volume is gone

    async def provision(self, claim: Obj) -> None:
        sc = self.classes.get(vd.class_of(claim)) if vd.class_of(claim) else None
        node = wants_volume(claim, sc)
        if (
            node is None
            and sc is not None
            and sc.get("volumeBindingMode") != "WaitForFirstConsumer"
            and (meta(claim).get("annotations") or {}).get(vd.STORAGE_PROVISIONER) == PROVISIONER
            and not (claim.get("spec") or {}).get("volumeName")
        ):
            # a directory on one node needs a node: an Immediate class never names one (rancher's answer)
            self.events.record(
                claim,
                WARNING,
                "ProvisioningFailed",
                f"failed to provision volume with StorageClass "
                f'"{meta(sc).get("name")}": configuration error, no node was specified',
            )
            return
        if node is None or sc is None or self.volumes.get(f"pvc-{meta(claim).get('uid')}") is not None:
            return
        node_obj = self.nodes.get(node)
        base = (
            (meta(node_obj).get("annotations") or {}).get(DIR_ANNOTATION) if node_obj else None
        ) or DEFAULT_DIR
        pv = volume_for(claim, sc, node, base)
        self.events.record(
            claim,
            NORMAL,
            "Provisioning",
            f'External provisioner is provisioning volume for claim "{vd.claim_key(claim)}"',
        )
        try:
            await self.client.create("persistentvolumes", pv)
        except ApiError as e:
            if e.code != 409:
                self.events.record(
                    claim,
                    WARNING,
                    "ProvisioningFailed",
                    f'failed to provision volume with StorageClass "{meta(sc).get("name")}": {e}',
                )
                raise
            return
        self.events.record(
            claim, NORMAL, "ProvisioningSucceeded", f"Successfully provisioned volume {meta(pv)['name']}"
        )

    async def reclaim(self, pv: Obj) -> None:
        spec, phase = pv.get("spec") or {}, (pv.get("status") or {}).get("phase")
        if (
            phase != "Released"
            or spec.get("persistentVolumeReclaimPolicy") != "Delete"
            or meta(pv).get("deletionTimestamp")
        ):
            return
        want = helper_pod(pv, self.image)
        if want is None:
            await self._delete("persistentvolumes", str(meta(pv)["name"]), None)
            return
        name = str(meta(want)["name"])
        pod = self.helpers.get(f"{HELPER_NAMESPACE}/{name}")
        if pod is None:
            try:
                await self.client.create("pods", want, HELPER_NAMESPACE)
            except ApiError as e:
                if e.code != 409:
                    raise
            return
        pod_phase = (pod.get("status") or {}).get("phase")
        if pod_phase == "Succeeded":  # the volume first: the helper's deletion must not wake a second helper
            await self._delete("persistentvolumes", str(meta(pv)["name"]), None)
            await self._delete("pods", name, HELPER_NAMESPACE)
        elif pod_phase == "Failed":
            self.events.record(
                pv,
                WARNING,
                "VolumeFailedDelete",
                f"failed to delete volume {meta(pv)['name']}: helper pod {name} failed",
            )
            await self._delete("pods", name, HELPER_NAMESPACE)  # its deletion wakes the next try

    async def _delete(self, resource: str, name: str, namespace: str | None) -> None:
        try:
            await self.client.delete(resource, name, namespace)
        except ApiError as e:
            if e.code != 404:
                raise
