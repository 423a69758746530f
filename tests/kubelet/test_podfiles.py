"""A hollow node keeps its pods' volume and DNS files in memory: same contents, nothing on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.podfiles import DISK, MemoryFiles
from runtime.fake import FakeRuntime
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import NODE, running_kubelet
from tests.polling import until

pytestmark = pytest.mark.anyio


def test_memory_files_answer_as_disk_files_would(tmp_path: Path) -> None:
    mem = MemoryFiles()
    files = {"key": (b"v1", 0o644)}
    path = mem.volume(tmp_path, "uid1", "cfg", files)
    assert path == DISK.volume(tmp_path, "uid1", "cfg", files)  # the path a container would mount
    assert (path / "key").read_bytes() == b"v1"  # (the disk one is real)
    assert (
        mem.etc_file(tmp_path, "uid1", "resolv.conf", "nameserver 10.96.0.10\n")
        == tmp_path / "pods/uid1/resolv.conf"
    )
    assert mem.pods["uid1"] == {"volumes/cfg": files, "resolv.conf": "nameserver 10.96.0.10\n"}
    mem.remove_pod(tmp_path, "uid1")
    assert mem.pods == {}


async def test_hollow_kubelet_writes_nothing_to_disk(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    await api.create("configmaps", {"metadata": {"name": "cfg"}, "data": {"greeting": "hi"}}, "default")
    async with running_kubelet(api, rt, tmp_path, files_in_memory=True) as k:
        assert isinstance(k.syncer.ctx.files, MemoryFiles)
        pod = {
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "nodeName": NODE,
                "containers": [
                    {
                        "name": "c",
                        "image": "busybox:1.35",
                        "volumeMounts": [{"name": "v", "mountPath": "/cfg"}],
                    }
                ],
                "volumes": [{"name": "v", "configMap": {"name": "cfg"}}],
            },
        }
        await api.create("pods", pod)

        def phase() -> str:
            return str(((api.objects.get(("pods", "default", "web")) or {}).get("status") or {}).get("phase"))

        await until(lambda: phase() == "Running")
        uid = api.objects[("pods", "default", "web")]["metadata"]["uid"]
        held = k.syncer.ctx.files.pods[uid]
        assert held["volumes/v"] == {"greeting": (b"hi", 0o644)}
        assert "nameserver" in str(held["resolv.conf"]) and "web" in str(held["etc-hosts"])
        c = next(iter(rt.containers.values()))
        mounts = {m.container_path: m.host_path for m in c.config.mounts}
        assert mounts["/cfg"] == str(tmp_path / "pods" / uid / "volumes" / "v")
        assert not (tmp_path / "pods").exists()
        await api.delete("pods", "web", "default")
        await until(lambda: uid not in k.syncer.ctx.files.pods)  # type: ignore[attr-defined]
