"""Storage latency under kube-apiserver's name: `etcd_request_duration_seconds{operation,type}`.

kube-apiserver times every request its storage layer makes (get, list, create, update, delete ...)
by resource; kubelite's store is SQLite, PostgreSQL or etcd behind one `Store` Protocol, and this
wrapper times the registry's calls through it the same way. `type` is the resource as kube
labels it (`pods`, `deployments.apps`), read from the key's `/registry/<group/>plural/` prefix.
Watches and the rest pass through untimed (a watch's duration is its life).

Beside them, the store's own write counters (`kubelite_store_write_requests_total`,
`kubelite_store_write_transactions_total`): the writes asked for and the transactions that carried
them, so that a burst's group commit (writes per transaction) can be read from outside.
"""

from __future__ import annotations

import time
from typing import Any

from apiserver.metrics import DURATION_BUCKETS


def resource_type(key: str) -> str:
    """`/registry/pods/ns/x` -> `pods`; `/registry/apps/deployments/ns/x` -> `deployments.apps` (pure)."""
    parts = key.split("/")
    if len(parts) < 3 or parts[1] != "registry":
        return ""
    if "." in parts[2] or parts[2] in ("apps", "batch", "autoscaling", "policy"):
        return f"{parts[3]}.{parts[2]}" if len(parts) > 3 else parts[2]
    return parts[2]


class InstrumentedStore:
    """A `Store` whose reads and writes are timed into `registry`'s storage histogram."""

    def __init__(self, inner: Any, registry: Any) -> None:
        from prometheus_client import Histogram

        self._inner = inner
        self._hist = Histogram(
            "etcd_request_duration_seconds",
            "Etcd request latency in seconds for each operation and object type.",
            ("operation", "type"),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self._children: dict[tuple[str, str], Any] = {}
        registry.register(_WriteCounters(inner))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _observe(self, operation: str, key: str, start: float) -> None:
        label = (operation, resource_type(key))
        child = self._children.get(label)
        if child is None:
            child = self._children[label] = self._hist.labels(*label)
        child.observe(time.perf_counter() - start)

    async def get(self, key: str) -> Any:
        start = time.perf_counter()
        try:
            return await self._inner.get(key)
        finally:
            self._observe("get", key, start)

    async def list(self, prefix: str) -> Any:
        start = time.perf_counter()
        try:
            return await self._inner.list(prefix)
        finally:
            self._observe("list", prefix, start)

    async def list_page(self, prefix: str, *args: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return await self._inner.list_page(prefix, *args, **kw)
        finally:
            self._observe("list", prefix, start)

    async def count(self, prefix: str) -> Any:
        start = time.perf_counter()
        try:
            return await self._inner.count(prefix)
        finally:
            self._observe("listWithCount", prefix, start)

    async def create(self, key: str, *args: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return await self._inner.create(key, *args, **kw)
        finally:
            self._observe("create", key, start)

    async def update(self, key: str, *args: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return await self._inner.update(key, *args, **kw)
        finally:
            self._observe("update", key, start)

    async def delete(self, key: str, *args: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return await self._inner.delete(key, *args, **kw)
        finally:
            self._observe("delete", key, start)


class _WriteCounters:
    """A collector read at scrape time from the store's counters (SQL stores: their commit
    thread's; etcd: the transactions it sent)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily

        stats = getattr(self._store, "stats", None)
        if stats is None:  # a store without counters
            return
        yield CounterMetricFamily(
            "kubelite_store_write_requests", "Writes the store was asked for.", value=stats.writes
        )
        yield CounterMetricFamily(
            "kubelite_store_write_transactions",
            "Store transactions that carried them (a group commit takes many writes in one).",
            value=stats.transactions,
        )
