"""Informers against the in-memory fake API: list+watch, resume, relist on 410, tombstones."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from api.informer import DeletedFinalStateUnknown, Informer, InformerFactory, key_of
from api.selectors import selector_from_map
from tests.controller.fakeapi import FakeApi
from tests.polling import until

pytestmark = pytest.mark.anyio


def pod(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default", "labels": labels}, "spec": {}}


async def test_list_then_watch_with_handlers_and_indexes() -> None:
    api = FakeApi()
    await api.create("pods", pod("a", app="x"))
    inf = Informer(api, "pods")
    events: list[tuple[str, str]] = []
    inf.add_handlers(
        lambda o: events.append(("add", key_of(o))),
        lambda o, n: events.append(("update", key_of(n))),
        lambda o: events.append(("delete", key_of(o) if isinstance(o, dict) else o.key)),
    )
    task = asyncio.create_task(inf.run())
    await asyncio.wait_for(inf.synced.wait(), 2)
    await api.create("pods", pod("b", app="y"))
    await api.patch("pods", "a", {"metadata": {"labels": {"tier": "web"}}}, namespace="default")
    await api.delete("pods", "b", namespace="default")
    await until(lambda: len(events) == 4)
    assert events == [
        ("add", "default/a"),
        ("add", "default/b"),
        ("update", "default/a"),
        ("delete", "default/b"),
    ]
    assert [key_of(o) for o in inf.list("default", selector_from_map({"tier": "web"}))] == ["default/a"]
    assert inf.list("other") == []
    task.cancel()


async def test_resume_after_drop_and_relist_on_410_with_tombstone() -> None:
    api = FakeApi()
    for n in ("a", "b"):
        await api.create("pods", pod(n))
    inf = Informer(api, "pods", retry_delay=0.01)
    deleted: list[Any] = []
    inf.add_handlers(on_delete=deleted.append)
    task = asyncio.create_task(inf.run())
    await asyncio.wait_for(inf.synced.wait(), 2)
    # a dropped stream resumes from the last revision: no relist
    lists_before = sum(1 for c in api.calls if c[0] == "list")
    api.drop_watches()
    await api.create("pods", pod("c"))
    await until(lambda: inf.get("default/c") is not None)
    assert sum(1 for c in api.calls if c[0] == "list") == lists_before
    # a delete missed while disconnected and compacted away: relist reports a tombstone
    del api.objects[("pods", "default", "a")]  # deleted while the stream was down ...
    api.rv += 1
    api.compact()  # ... and that revision compacted away
    api.drop_watches()
    await until(lambda: any(isinstance(d, DeletedFinalStateUnknown) for d in deleted))
    assert deleted[0].key == "default/a"
    assert inf.get("default/a") is None and inf.get("default/b") is not None
    task.cancel()


async def test_factory_shares_one_informer_per_resource() -> None:
    api = FakeApi()
    f = InformerFactory(api)
    assert f.informer("pods") is f.informer("pods")
    assert f.informer("pods") is not f.informer("pods", field_selector="spec.nodeName=")
    f.start()
    await f.wait_for_sync(2)
    await f.stop()


async def test_periodic_resync_replays_updates() -> None:
    api = FakeApi()
    await api.create("pods", pod("a"))
    inf = Informer(api, "pods", resync_period=0.02)
    seen: list[str] = []
    inf.add_handlers(on_update=lambda old, new: seen.append(key_of(new)) if old is new else None)
    task = asyncio.create_task(inf.run())
    await until(lambda: len(seen) >= 2)
    assert set(seen) == {"default/a"}
    task.cancel()
