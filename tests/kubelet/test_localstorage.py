"""Local ephemeral storage limits evict the pod, as kube's eviction manager does: a disk emptyDir
past its sizeLimit, the pod past the sum of its containers' limits, a container past its own;
du's count, kube's messages, the pod Failed (Evicted) and its containers stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.quantity import format_whole
from kubelet import localstorage
from kubelet.podfiles import pod_dir
from runtime.diskusage import usage_bytes
from runtime.fake import FakeRuntime
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import pod, running_kubelet, status
from tests.polling import until

pytestmark = pytest.mark.anyio


def test_usage_is_counted_as_du_counts_it(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "big").write_bytes(b"x" * 100_000)
    (tmp_path / "hard").hardlink_to(tmp_path / "d" / "big")  # one inode, counted once
    (tmp_path / "link").symlink_to("/usr")  # not followed
    assert 100_000 <= usage_bytes(tmp_path) < 100_000 + 64 * 1024
    assert usage_bytes(tmp_path / "missing") == 0


def test_sums_are_written_as_kube_writes_quantities() -> None:
    assert (format_whole(2 * 2**30, "1Gi"), format_whole(1536 * 2**20, "512Mi")) == ("2Gi", "1536Mi")
    assert (format_whole(3 * 10**9, "1G"), format_whole(1500, "1500")) == ("3G", "1500")


def storage_pod(**limits: str) -> dict[str, Any]:
    containers = [
        {"name": name, "image": "busybox:1.35", "resources": {"limits": {"ephemeral-storage": limit}}}
        for name, limit in limits.items()
    ]
    return pod(
        "p",
        containers,
        volumes=[
            {"name": "cache", "emptyDir": {"sizeLimit": "64Ki"}},
            {"name": "ram", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},  # a tmpfs of that size
            {"name": "scratch", "emptyDir": {}},
        ],
    )


async def test_the_first_limit_over_names_the_eviction(tmp_path: Path) -> None:
    p = storage_pod(app="1Mi", side="1Mi")
    p["spec"]["initContainers"] = [
        {"name": "init", "image": "busybox:1.35", "resources": {"limits": {"ephemeral-storage": "5Mi"}}},
        {
            "name": "proxy",
            "image": "busybox:1.35",
            "restartPolicy": "Always",
            "resources": {"limits": {"ephemeral-storage": "1Mi"}},
        },
    ]
    assert localstorage.container_limits(p) == {
        "proxy": "1Mi",
        "app": "1Mi",
        "side": "1Mi",
    }  # a sidecar counts
    p["spec"]["initContainers"] = []
    assert localstorage.limited_disk_empty_dirs(p) == [("cache", "64Ki")]
    written = {"a": 0, "s": 0}
    volumes = {"cache": 0, "scratch": 0}

    async def container(cid: str) -> int:
        return written[cid]

    async def volume(path: Path) -> int:
        return volumes.get(path.name, 0)

    async def verdict() -> str | None:
        return await localstorage.storage_eviction(p, tmp_path, {"app": "a", "side": "s"}, container, volume)

    assert await verdict() is None
    written["a"] = 2 * 2**20  # over its own 1Mi, and over the pod's 2Mi with the rest
    volumes["scratch"] = 1
    assert await verdict() == "Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. "
    volumes["scratch"] = 0
    written["a"] = 2**20 + 1  # over its own, the pod still within 2Mi
    assert await verdict() == 'Container app exceeded its local ephemeral storage limit "1Mi". '
    volumes["cache"] = 65 * 1024  # the emptyDir is judged first
    assert await verdict() == 'Usage of EmptyDir volume "cache" exceeds the limit "64Ki". '
    assert not localstorage.watched(pod("plain", [{"name": "c", "image": "busybox:1.35"}]))


async def test_a_pod_whose_empty_dir_or_container_outgrows_its_limit_is_evicted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(localstorage, "CHECK_EVERY", 0.1)
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        spec = pod(
            "filler",
            [
                {
                    "name": "c",
                    "image": "busybox:1.35",
                    "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
                }
            ],
            volumes=[{"name": "cache", "emptyDir": {"sizeLimit": "64Ki"}}],
        )
        created = await api.create("pods", spec)
        await until(lambda: status(api, "filler").get("phase") == "Running", 10)
        volume = pod_dir(tmp_path, created["metadata"]["uid"]) / "volumes" / "cache"
        (volume / "data").write_bytes(b"x" * 200_000)  # what the container would have written
        st = await until(lambda: (s := status(api, "filler")).get("phase") == "Failed" and s, 10)
        assert (st["reason"], st["message"]) == (
            "Evicted",
            'Usage of EmptyDir volume "cache" exceeds the limit "64Ki". ',
        )
        assert not any(c.info.state == "running" for c in rt.containers.values())
        assert any(e["reason"] == "Evicted" for e in api.objs("events"))
        (target,) = [c for c in st["conditions"] if c["type"] == "DisruptionTarget"]  # kube's, for Jobs
        assert (target["status"], target["reason"]) == ("True", "TerminationByKubelet")
        # a container writing past its own limit (the runtime's count of its layer and log)
        limited = pod(
            "writer",
            [{"name": "w", "image": "busybox:1.35", "resources": {"limits": {"ephemeral-storage": "1Mi"}}}],
        )
        await api.create("pods", limited)
        await until(lambda: status(api, "writer").get("phase") == "Running", 10)
        cid = next(c.info.id for c in rt.containers.values() if c.config.name == "w")
        rt.written[cid] = 2 * 2**20
        st = await until(lambda: (s := status(api, "writer")).get("phase") == "Failed" and s, 10)
        # one container: the pod's total limit is its own, and kube judges the pod first
        assert (
            st["message"] == "Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. "
        )
