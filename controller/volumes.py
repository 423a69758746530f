"""The storage loops of the controller manager, built on shared informers: the PersistentVolume
binder (`controller.volumebinder`), the local-path provisioner (`controller.localpath`) and the
pvc-protection and pv-protection loops (`controller.volumeprotection`).

Kept out of `manager.py` so storage adds one call there; both loops watch claims, volumes,
classes and nodes, so they share one informer of each; the provisioner also watches its helper
pods in kube-system (the only pods it makes).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine
from typing import Any

from api.events import EventRecorder
from api.informer import Informer, InformerFactory
from controller.base import ApiClient
from controller.localpath import HELPER_NAMESPACE, LocalPathProvisioner
from controller.volumebinder import VolumeBinder
from controller.volumeprotection import VolumeProtection

NAMES = ("persistentvolume-binder", "local-path-provisioner", "pvc-protection", "pv-protection")


def volume_loops(
    client: ApiClient,
    factory: InformerFactory,
    nodes: Informer,
    enabled: Collection[str],
    recorder: Callable[[str], EventRecorder],
) -> list[Coroutine[Any, Any, None]]:
    if not any(name in enabled for name in NAMES):
        return []
    claims = factory.informer("persistentvolumeclaims")
    volumes = factory.informer("persistentvolumes")
    classes = factory.informer("storageclasses")
    loops: list[Coroutine[Any, Any, None]] = []
    if "persistentvolume-binder" in enabled:
        loops.append(
            VolumeBinder(
                client, claims, volumes, classes, nodes, recorder("persistentvolume-controller")
            ).run()
        )
    if "local-path-provisioner" in enabled:
        helpers = factory.informer("pods", HELPER_NAMESPACE)
        loops.append(
            LocalPathProvisioner(
                client, claims, volumes, classes, nodes, helpers, recorder("rancher.io/local-path")
            ).run()
        )
    if "pvc-protection" in enabled or "pv-protection" in enabled:
        loops.append(
            VolumeProtection(
                client,
                claims if "pvc-protection" in enabled else None,
                volumes if "pv-protection" in enabled else None,
                factory.informer("pods"),
            ).run()
        )
    return loops
