"""Conformance, part 3: paged lists at one revision (limit/continue underneath), every backend."""

from __future__ import annotations

import pytest

from apiserver.storage import CompactedError
from tests.storage.conftest import key, pod

pytestmark = pytest.mark.anyio
PODS = "/registry/pods/"


async def _all_pages(store, prefix: str, limit: int, revision: int = 0) -> tuple[list[list[str]], list[int]]:
    pages, remaining, start = [], [], ""
    while True:
        rev, items, more = await store.list_page(prefix, limit, start, revision)
        revision = rev
        pages.append([kv.key for kv in items])
        remaining.append(more)
        if not more:
            return pages, remaining
        start = items[-1].key + "\0"


async def test_pages_cover_every_key_once_in_order_with_remaining_counts(store):
    names = [f"p{i:02d}" for i in range(7)]
    for n in names:
        await store.create(key(n), pod(n))
    await store.create(key("other", "kube-system"), pod("other"))
    await store.create("/registry/podsx/default/z", pod("z"))  # shares a string prefix only
    pages, remaining = await _all_pages(store, "/registry/pods/default/", 3)
    assert pages == [[key(n) for n in names[i : i + 3]] for i in (0, 3, 6)]
    assert remaining == [4, 1, 0]
    rev, items, more = await store.list_page(PODS, 100)
    assert len(items) == 8 and more == 0 and rev == await store.current_revision()
    _, items, more = await store.list_page(PODS, 8)  # exactly the page size: nothing remains
    assert len(items) == 8 and more == 0


async def test_later_pages_show_the_first_pages_revision(store):
    kvs = {n: await store.create(key(n), pod(n, status={"v": 1})) for n in "abcdef"}
    rev, first, more = await store.list_page(PODS, 2)
    assert [kv.key for kv in first] == [key("a"), key("b")] and more == 4
    # between the pages: change, delete and add keys on the remaining pages
    await store.update(key("d"), pod("d", status={"v": 2}), kvs["d"].revision)
    await store.delete(key("e"))
    await store.create(key("cc"), pod("cc"))
    await store.delete(key("f"))
    await store.create(key("f"), pod("f", status={"v": 3}))
    again, rest, more = await store.list_page(PODS, 10, first[-1].key + "\0", rev)
    assert again == rev and more == 0
    assert [kv.key for kv in rest] == [key(n) for n in "cdef"]
    assert [kv.value for kv in rest] == [kvs[n].value for n in "cdef"]  # the bytes as they were
    assert [kv.revision for kv in rest] == [kvs[n].revision for n in "cdef"]
    _, now, _ = await store.list_page(PODS, 10, first[-1].key + "\0")
    assert [kv.key for kv in now] == [key(n) for n in ("c", "cc", "d", "f")]
    assert now[2].obj["status"] == {"v": 2}


async def test_a_compacted_revision_cannot_be_continued(store):
    for n in "abc":
        await store.create(key(n), pod(n))
    rev, _, _ = await store.list_page(PODS, 1)
    for n in "xyz":
        await store.create(key(n), pod(n))
    assert await store.compact(0) > rev
    with pytest.raises(CompactedError):
        await store.list_page(PODS, 1, key("a") + "\0", rev)


async def test_compaction_keeps_what_a_page_after_it_needs(store):
    """A key unchanged since before the compacted revision, changed between two pages: the second
    page still shows its old version (SQL keeps each key's newest row; etcd keeps it anyway)."""
    olds = {n: await store.create(key(n), pod(n, status={"v": 1})) for n in "abcd"}
    await store.create("/registry/nodes/n1", {"metadata": {"name": "n1"}})
    rev, first, _ = await store.list_page(PODS, 2)
    compacted = await store.compact(0)
    assert compacted == rev - 1  # everything but the newest revision
    await store.update(key("d"), pod("d", status={"v": 2}), olds["d"].revision)
    await store.delete(key("c"))
    _, rest, more = await store.list_page(PODS, 5, first[-1].key + "\0", rev)
    assert [(kv.key, kv.value) for kv in rest] == [(key(n), olds[n].value) for n in "cd"] and more == 0
    await store.compact(0)  # compacting past the change: the old rows go, the current state stays
    _, now, _ = await store.list_page(PODS, 5)
    assert [kv.key for kv in now] == [key(n) for n in "abd"] and now[2].obj["status"] == {"v": 2}
