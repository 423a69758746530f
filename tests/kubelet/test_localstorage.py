"""A disk emptyDir past its sizeLimit evicts its pod, as kube's eviction manager does: du's count
of the volume, kube's message, the pod Failed (Evicted) and its containers stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet import localstorage
from kubelet.podfiles import pod_dir
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
    used = localstorage.usage_bytes(tmp_path)
    assert 100_000 <= used < 100_000 + 64 * 1024
    assert localstorage.usage_bytes(tmp_path / "missing") == 0
    limited = [("d", "50Ki"), ("other", "1Mi")]
    assert (
        localstorage.eviction_message(tmp_path, limited)
        == 'Usage of EmptyDir volume "d" exceeds the limit "50Ki". '
    )
    assert localstorage.eviction_message(tmp_path, [("d", "1Mi")]) is None


def test_only_disk_empty_dirs_with_a_limit_are_watched() -> None:
    p = pod(
        "p",
        [],
        volumes=[
            {"name": "cache", "emptyDir": {"sizeLimit": "1Mi"}},
            {"name": "ram", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},  # a tmpfs of that size
            {"name": "free", "emptyDir": {}},
        ],
    )
    assert localstorage.limited_disk_empty_dirs(p) == [("cache", "1Mi")]


async def test_a_pod_whose_empty_dir_outgrows_its_limit_is_evicted(
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
