"""imagePullPolicy as the kubelet applies it: what is pulled, what the events say, and that a
re-pull under Always really asks the registry (a real docker-registry on loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelet.images import go_duration, should_pull
from runtime.fake import FakeRuntime
from runtime.images import ImageStore
from runtime.images.base import build_base
from runtime.images.registry import push
from runtime.real import RealRuntime
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import events, pod, running_kubelet, statuses
from tests.polling import until
from tests.runtime.images.registry_fixture import Registry, run_registry

pytestmark = pytest.mark.anyio


def test_policies_decide_the_pull() -> None:
    assert [
        should_pull(p, present) for p in ("Always", "IfNotPresent", "Never") for present in (True, False)
    ] == [True, True, False, True, False, False]
    assert [go_duration(s) for s in (0, 0.0123, 1.5, 2, 61.25, 3723)] == [
        "0s",
        "12ms",
        "1.5s",
        "2s",
        "1m1.25s",
        "1h2m3s",
    ]


async def test_events_say_what_happened(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    rt.missing_images.add("absent:1")
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods", pod("present", [{"name": "c", "image": "here:1", "imagePullPolicy": "IfNotPresent"}])
        )
        await api.create(
            "pods", pod("always", [{"name": "c", "image": "here:2", "imagePullPolicy": "Always"}])
        )
        await api.create(
            "pods", pod("never", [{"name": "c", "image": "absent:1", "imagePullPolicy": "Never"}])
        )
        await until(lambda: ("Started", "Started container c") in events(api, "present"))
        assert ("Pulled", 'Container image "here:1" already present on machine') in events(api, "present")
        assert ("pull_image", "here:1") not in rt.calls

        await until(lambda: ("Started", "Started container c") in events(api, "always"))
        assert ("pull_image", "here:2") in rt.calls
        pulled = [m for r, m in events(api, "always") if r == "Pulled"]
        assert ("Pulling", 'Pulling image "here:2"') in events(api, "always")
        assert len(pulled) == 1 and pulled[0].startswith('Successfully pulled image "here:2" in ')
        assert "including waiting). Image size: 1024 bytes." in pulled[0]

        waiting = await until(lambda: statuses(api, "never").get("c", {}).get("state", {}).get("waiting"))
        assert waiting["reason"] == "ErrImageNeverPull"
        assert (
            "ErrImageNeverPull",
            'Container image "absent:1" is not present with pull policy of Never',
        ) in events(api, "never")
        assert ("pull_image", "absent:1") not in rt.calls


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with run_registry(tmp_path_factory.mktemp("registry")) as reg:
        yield reg


def test_always_pulls_a_changed_tag_and_keeps_an_unchanged_one(registry: Registry, tmp_path: Path) -> None:
    src = ImageStore(tmp_path / "src")
    build_base(src)
    ref = f"{registry.host}/team/app:1"
    rt = RealRuntime(tmp_path / "node", image_root=tmp_path / "images")

    async def go() -> dict[str, Any]:
        first = await push(src, "busybox:1.35", ref)
        got = await rt.pull_image(ref)
        assert (got.id, got.digest) == (src.get("busybox:1.35").id, first)
        assert (await rt.pull_image(ref)).id == got.id  # unchanged: the same image
        second = await push(src, "kubelite/web:1.0", ref)  # the tag moves to another image
        moved = await rt.pull_image(ref)
        return {"moved": moved, "second": second}

    out = asyncio.run(go())
    assert out["moved"].id == src.get("kubelite/web:1.0").id and out["moved"].digest == out["second"]
    assert ImageStore(tmp_path / "images").get(ref).id == out["moved"].id
