"""A list whose field selector names one object reads that one key (kube-apiserver's
MatchesSingle), on every backend: the named object only (not one whose name it prefixes), at a
revision the object is current at, and none at all for a name nobody has. The collection itself
is never read: at a burst of new pods every kubelet lists its pods' ConfigMaps this way."""

from __future__ import annotations

from typing import Any

import pytest

from api.resources import by_plural
from apiserver.allocator import Allocator
from apiserver.registry import Registry
from tests.storage.conftest import AnyStore, key, pod, present

pytestmark = pytest.mark.anyio

PODS = by_plural("", "pods")


class NoCollectionReads:
    """The store, with whole-collection lists refused (what a one-name list must not do)."""

    def __init__(self, inner: AnyStore) -> None:
        self.inner = inner
        self.pages: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def list(self, prefix: str) -> Any:
        raise AssertionError(f"the collection {prefix} was listed")

    async def list_page(self, prefix: str, limit: int, *args: Any) -> Any:
        self.pages.append((prefix, limit))
        return await self.inner.list_page(prefix, limit, *args)


async def test_a_named_list_reads_only_that_key(store: AnyStore) -> None:
    assert PODS is not None
    for name in ("a", "ab", "b"):
        await store.create(key(name), pod(name))
    await store.create(key("a", "other"), pod("a", metadata={"name": "a", "namespace": "other"}))
    spy = NoCollectionReads(store)
    registry = Registry(spy, Allocator(spy, "10.96.0.0/16"))

    revision, kvs = await registry.list(PODS, "default", "a")
    assert [kv.key for kv in kvs] == [key("a")]  # not "ab", not the other namespace's "a"
    assert kvs[0].obj["metadata"]["name"] == "a"
    assert kvs[0].revision <= revision == await store.current_revision()
    assert spy.pages == [(key("a"), 1)]

    current = present(await store.get(key("ab")))
    updated = await store.update(key("ab"), pod("ab", data={"v": 2}), current.revision)
    revision, kvs = await registry.list(PODS, "default", "ab")
    assert [(kv.key, kv.revision) for kv in kvs] == [(key("ab"), updated.revision)]
    assert revision >= updated.revision

    revision, kvs = await registry.list(PODS, "default", "nobody")
    assert kvs == [] and revision == await store.current_revision()
