"""A pod's persistentVolumeClaim volume on the node: the kubelet fetches the claim and the volume
bound to it with the pod's other objects, mounts the volume's path (making a local-path
DirectoryOrCreate directory), and refuses with kubelet's FailedMount words while the claim is
missing or not Bound."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest

from api.errors import ApiError
from api.protocol import ApiClient
from kubelet.podobjects import ObjectSource, PodObjects
from kubelet.projection import VolumeError
from kubelet.volumes import container_mounts, setup_volumes

Obj = dict[str, Any]


def pod() -> Obj:
    return {
        "metadata": {"name": "p", "namespace": "apps", "uid": "u1"},
        "spec": {
            "containers": [
                {"name": "c", "image": "i", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "db"}}],
        },
    }


def claim(phase: str = "Bound", volume: str = "pvc-1") -> Obj:
    return {
        "metadata": {"name": "db", "namespace": "apps"},
        "spec": {"volumeName": volume},
        "status": {"phase": phase},
    }


def volume(path: Path) -> Obj:
    return {
        "metadata": {"name": "pvc-1"},
        "spec": {"hostPath": {"path": str(path), "type": "DirectoryOrCreate"}, "claimRef": {"name": "db"}},
    }


class FakeClient:
    def __init__(self, objects: dict[tuple[str, str], Obj]) -> None:
        self.objects, self.gets = objects, []  # type: ignore[var-annotated]

    async def get(self, resource: str, name: str, namespace: str | None = None) -> Obj:
        self.gets.append((resource, name))
        if (resource, name) not in self.objects:
            raise ApiError(404, "NotFound", f'{resource} "{name}" not found')
        return self.objects[(resource, name)]


def test_bound_claim_mounts_its_volume_path(tmp_path: Path) -> None:
    where = tmp_path / "storage" / "pvc-1_apps_db"
    client = FakeClient(
        {("persistentvolumeclaims", "db"): claim(), ("persistentvolumes", "pvc-1"): volume(where)}
    )
    objects = asyncio.run(ObjectSource(cast(ApiClient, client)).fetch(pod()))  # a fake with get only
    assert client.gets == [("persistentvolumeclaims", "db"), ("persistentvolumes", "pvc-1")]
    paths = setup_volumes(pod(), tmp_path / "kubelet", objects)
    assert paths == {"data": where} and where.is_dir()  # made on first mount
    (where / "keep").write_text("x")
    paths = setup_volumes(pod(), tmp_path / "kubelet", objects)  # a second mount keeps the data
    assert (paths["data"] / "keep").read_text() == "x"
    mounts = container_mounts(pod()["spec"]["containers"][0], paths)
    assert [(m.container_path, m.host_path) for m in mounts] == [("/data", str(where))]


@pytest.mark.parametrize(
    ("found", "why"),
    [
        ({}, 'failed to fetch PVC from API server: persistentvolumeclaims "db" not found'),
        ({("persistentvolumeclaims", "db"): claim("Pending", "")}, "PVC is not bound"),
        (
            {("persistentvolumeclaims", "db"): claim()},
            'failed to fetch PV pvc-1 from API server: persistentvolumes "pvc-1" not found',
        ),
    ],
)
def test_unusable_claim_is_a_failed_mount(
    tmp_path: Path, found: dict[tuple[str, str], Obj], why: str
) -> None:
    objects = PodObjects("apps", dict(found))
    with pytest.raises(VolumeError) as err:
        setup_volumes(pod(), tmp_path, objects)
    assert str(err.value) == (
        "Unable to attach or mount volumes: unmounted volumes=[data], unattached "
        f"volumes=[data]: error processing PVC apps/db: {why}"
    )


def mounting(sub_path: str) -> Obj:
    return {"name": "c", "volumeMounts": [{"name": "data", "mountPath": "/data", "subPath": sub_path}]}


def test_a_subpath_mounts_a_directory_inside_its_volume(tmp_path: Path) -> None:
    vol = tmp_path / "vol"
    vol.mkdir()
    (mount,) = container_mounts(mounting("logs/web"), {"data": vol})
    assert mount.host_path == str(vol / "logs" / "web") and (vol / "logs" / "web").is_dir()


@pytest.mark.parametrize(
    ("sub_path", "why"),
    [
        ("/etc", "must be a relative path"),
        ("../..", "must not contain '..'"),
        ("root", "leads out of its volume"),  # a link a container made: vol/root -> /
        ("root/etc/kubelite-escape", "leads out of its volume"),  # nor is a directory made there
    ],
)
def test_a_subpath_that_leads_out_of_its_volume_is_refused(tmp_path: Path, sub_path: str, why: str) -> None:
    vol, outside = tmp_path / "vol", tmp_path / "outside"
    vol.mkdir()
    (outside / "etc").mkdir(parents=True)
    (vol / "root").symlink_to(outside)
    with pytest.raises(VolumeError, match=why):
        container_mounts(mounting(sub_path), {"data": vol})
    assert sorted(p.name for p in (outside / "etc").iterdir()) == []


def test_emptydirs_and_local_path_claims_are_writable_by_any_user(tmp_path: Path) -> None:
    """kube makes an emptyDir 0777 and rancher's local-path helper `mkdir -m 0777`s a claim's
    directory: a pod running as a non-root user writes both."""
    from kubelet.podfiles import DISK

    empty = DISK.empty_dir(tmp_path / "kubelet", "u1", "scratch", memory=False)
    assert empty.stat().st_mode & 0o777 == 0o777
    where = tmp_path / "storage" / "pvc-1_apps_db"
    pv = volume(where)
    pv["metadata"]["annotations"] = {"pv.kubernetes.io/provisioned-by": "rancher.io/local-path"}
    objects = asyncio.run(
        ObjectSource(
            cast(
                ApiClient,
                FakeClient({("persistentvolumeclaims", "db"): claim(), ("persistentvolumes", "pvc-1"): pv}),
            )
        ).fetch(pod())
    )
    setup_volumes(pod(), tmp_path / "kubelet", objects)
    assert where.stat().st_mode & 0o777 == 0o777


def test_host_path_types_are_checked_and_file_or_create_makes_a_file(tmp_path: Path) -> None:
    import socket

    from kubelet.volumes import _host_path

    made = _host_path({"path": str(tmp_path / "state.db"), "type": "FileOrCreate"})
    assert made.is_file() and made.stat().st_mode & 0o777 == 0o644
    with pytest.raises(VolumeError, match="No such file or directory"):  # a file, not its directory
        _host_path({"path": str(tmp_path / "missing" / "f"), "type": "FileOrCreate"})
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "s.sock"))
    try:
        assert _host_path({"path": str(tmp_path / "s.sock"), "type": "Socket"}).is_socket()
    finally:
        sock.close()
    for kind, what in (
        ("Socket", "a socket file"),
        ("CharDevice", "a character device"),
        ("BlockDevice", "a block device"),
    ):
        with pytest.raises(VolumeError, match=f"is not {what}"):
            _host_path({"path": str(made), "type": kind})
    assert _host_path({"path": "/dev/null", "type": "CharDevice"}) == Path("/dev/null")


def test_mount_propagation_and_recursive_read_only_reach_the_runtime(tmp_path: Path) -> None:
    c = {
        "name": "c",
        "volumeMounts": [
            {"name": "data", "mountPath": "/a", "mountPropagation": "HostToContainer"},
            {"name": "data", "mountPath": "/b", "mountPropagation": "Bidirectional"},
            {"name": "data", "mountPath": "/c", "readOnly": True, "recursiveReadOnly": "IfPossible"},
            {"name": "data", "mountPath": "/d"},
        ],
    }
    got = container_mounts(c, {"data": tmp_path})
    assert [(m.propagation, m.read_only, m.recursive_read_only) for m in got] == [
        ("rslave", False, False),
        ("rshared", False, False),
        ("rprivate", True, True),
        ("rprivate", False, False),
    ]
