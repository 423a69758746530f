"""`csi` volumes on a node where no CSI driver is registered (kubelet/csi.py): the kubelet fetches the
driver's CSIDriver with the pod's objects and fails the mount with kube's kubelet's words, which
depend on that object, and the pod's worker reports them as FailedMount events while the pod waits
in ContainerCreating, never pretending the volume works."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest

from api.errors import ApiError
from api.protocol import ApiClient
from kubelet.podobjects import ObjectSource
from kubelet.projection import VolumeError
from kubelet.volumes import setup_volumes
from runtime.fake import FakeRuntime
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import pod as bound_pod
from tests.kubelet.loop import running_kubelet
from tests.polling import until

Obj = dict[str, Any]
DRIVER = "secrets-store.csi.k8s.io"
NOT_REGISTERED = f"driver name {DRIVER} not found in the list of registered CSI drivers"


def inline_pod() -> Obj:
    return {
        "metadata": {"name": "p", "namespace": "apps", "uid": "u1"},
        "spec": {
            "containers": [{"name": "c", "image": "i"}],
            "volumes": [{"name": "secrets", "csi": {"driver": DRIVER, "readOnly": True}}],
        },
    }


def claim_pod() -> Obj:
    body = inline_pod()
    body["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "db"}}]
    return body


def csidriver(**spec: Any) -> Obj:
    return {
        "metadata": {"name": DRIVER},
        "spec": {"attachRequired": True, "volumeLifecycleModes": ["Persistent"], **spec},
    }


BOUND: Obj = {
    "metadata": {"name": "db", "namespace": "apps"},
    "spec": {"volumeName": "pv-1"},
    "status": {"phase": "Bound"},
}
CSI_PV: Obj = {"metadata": {"name": "pv-1"}, "spec": {"csi": {"driver": DRIVER, "volumeHandle": "vol-1"}}}


class FakeClient:
    def __init__(self, objects: dict[tuple[str, str], Obj]) -> None:
        self.objects, self.gets = objects, []  # type: ignore[var-annotated]

    async def get(self, resource: str, name: str, namespace: str | None = None) -> Obj:
        self.gets.append((resource, name))
        if (resource, name) not in self.objects:
            raise ApiError(404, "NotFound", f'{resource} "{name}" not found')
        return self.objects[(resource, name)]


def mount_error(tmp_path: Path, pod: Obj, objects: dict[tuple[str, str], Obj]) -> tuple[str, list[Any]]:
    client = FakeClient(objects)
    fetched = asyncio.run(ObjectSource(cast(ApiClient, client)).fetch(pod))
    with pytest.raises(VolumeError) as err:
        setup_volumes(pod, tmp_path, fetched)
    return str(err.value), client.gets


@pytest.mark.parametrize(
    ("driver", "message"),
    [
        (
            None,
            'MountVolume.NewMounter initialization failed for volume "secrets" : volume mode "Ephemeral" not '
            f"supported by driver {DRIVER} (no CSIDriver object)",
        ),
        (
            csidriver(),
            'MountVolume.NewMounter initialization failed for volume "secrets" : volume mode "Ephemeral" not '
            f'supported by driver {DRIVER} (only supports ["Persistent"])',
        ),
        (
            csidriver(volumeLifecycleModes=["Ephemeral"]),
            'MountVolume.SetUp failed for volume "secrets" : kubernetes.io/csi: mounter.SetUpAt failed to get '
            f"CSI client: {NOT_REGISTERED}",
        ),
    ],
)
def test_inline_csi_volume_never_mounts(tmp_path: Path, driver: Obj | None, message: str) -> None:
    objects = {} if driver is None else {("csidrivers", DRIVER): driver}
    got, gets = mount_error(tmp_path, inline_pod(), objects)
    assert got == message and gets == [("csidrivers", DRIVER)]


@pytest.mark.parametrize(
    ("driver", "message"),
    [
        # attach required (no CSIDriver, or one that says so): nothing attaches here, the volume waits
        (
            None,
            "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data]: timed out waiting for the condition",
        ),
        (
            csidriver(),
            "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data]: timed out waiting for the condition",
        ),
        (
            csidriver(attachRequired=False),
            'MountVolume.MountDevice failed for volume "pv-1" : kubernetes.io/csi: attacher.MountDevice failed to '
            f"create newCsiDriverClient: {NOT_REGISTERED}",
        ),
    ],
)
def test_csi_persistent_volume_never_mounts(tmp_path: Path, driver: Obj | None, message: str) -> None:
    objects: dict[tuple[str, str], Obj] = {
        ("persistentvolumeclaims", "db"): BOUND,
        ("persistentvolumes", "pv-1"): CSI_PV,
    }
    if driver is not None:
        objects[("csidrivers", DRIVER)] = driver
    got, gets = mount_error(tmp_path, claim_pod(), objects)
    assert got == message
    assert gets == [("persistentvolumeclaims", "db"), ("persistentvolumes", "pv-1"), ("csidrivers", DRIVER)]


@pytest.mark.anyio
async def test_pod_with_a_csi_volume_waits_with_failed_mount_events(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    await api.create(
        "csidrivers", {"metadata": {"name": DRIVER}, "spec": {"volumeLifecycleModes": ["Ephemeral"]}}
    )
    body = bound_pod("web", [{"name": "app", "image": "busybox:1.35"}])
    body["spec"]["volumes"] = [{"name": "secrets", "csi": {"driver": DRIVER}}]
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", body)

        def failed_mounts() -> list[str]:
            return [e["message"] for e in api.objs("events") if e["reason"] == "FailedMount"]

        await until(lambda: bool(failed_mounts()), 10)
        assert failed_mounts()[0] == (
            'MountVolume.SetUp failed for volume "secrets" : kubernetes.io/csi: mounter.SetUpAt failed to get '
            f"CSI client: {NOT_REGISTERED}"
        )
        (stored,) = api.objs("pods", "default")
        statuses = (stored.get("status") or {}).get("containerStatuses") or []
        assert all(s["state"] == {"waiting": {"reason": "ContainerCreating"}} for s in statuses)
        assert not rt.containers  # nothing started


@pytest.mark.parametrize("source", [{"gitRepo": {"repository": "r"}}, {"rbd": {"image": "i"}}, {"nfs": {}}])
def test_in_tree_sources_fail_the_mount(tmp_path: Path, source: Obj) -> None:
    """The API keeps every volume source kube has; those this kubelet has no plugin for fail the
    mount (FailedMount, the pod waits) rather than becoming an empty directory."""
    pod = inline_pod()
    pod["spec"]["volumes"] = [{"name": "v", **source}]
    with pytest.raises(VolumeError, match=rf"volume v: unsupported volume type \['{next(iter(source))}'\]"):
        setup_volumes(pod, tmp_path)
