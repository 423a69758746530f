"""The API server's Prometheus metrics, under kube-apiserver's own names, and its `/metrics` answer.

kube-apiserver counts every request by verb, resource, subresource, scope and code
(`apiserver_request_total`), times it (`apiserver_request_duration_seconds`, which leaves out
WATCH and CONNECT as kube does: their duration is the stream's life), and gauges the watches
it serves (`apiserver_registered_watchers`, by group, version and kind). Dashboards and alerts
written for kube read these unchanged.

The metrics live in a registry of their own (not prometheus_client's global one), so a test
process running several servers or controllers never mixes their figures, and `prometheus_client`
is imported only when a server is built with metrics on. `KUBELITE_METRICS=0` builds the server
without them (bench/metrics.py measures what they cost).
"""

from __future__ import annotations

import os
import time
from typing import Any

from api.resources import Resource

# kube-apiserver's request-duration buckets (its etcd request buckets are the same) (staging/src/k8s.io/apiserver/pkg/endpoints/metrics)
DURATION_BUCKETS = (
    0.005,
    0.025,
    0.05,
    0.1,
    0.2,
    0.4,
    0.6,
    0.8,
    1.0,
    1.25,
    1.5,
    2,
    3,
    4,
    5,
    6,
    8,
    10,
    15,
    20,
    30,
    45,
    60,
)
_VERB = {
    ("GET", False): "LIST",
    ("GET", True): "GET",
    ("POST", False): "POST",
    ("POST", True): "POST",
    ("PUT", True): "PUT",
    ("PATCH", True): "PATCH",
    ("DELETE", True): "DELETE",
    ("DELETE", False): "DELETE",
}
_STREAMING = frozenset({"exec", "attach", "portforward", "proxy"})
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


def enabled() -> bool:
    return os.environ.get("KUBELITE_METRICS", "1") not in ("0", "false", "no")


def request_verb(method: str, named: bool, watch: bool, subresource: str | None) -> str:
    """kube's metric verb: upper-case, LIST and WATCH apart from GET, CONNECT for streams (pure)."""
    if subresource in _STREAMING:
        return "CONNECT"
    verb = _VERB.get((method, named), method)
    if watch and verb in ("LIST", "GET"):
        return "WATCH"
    return verb


def scope_of(resource: Resource | None, namespace: str | None, named: bool) -> str:
    """kube's `scope` label: resource (one object), namespace or cluster (a collection)."""
    if resource is None:
        return ""
    if named:
        return "resource"
    return "namespace" if namespace else "cluster"


class ApiServerMetrics:
    """The server's metric families in their own registry; `observe` is the one hot-path call."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=False)
        labels = ("verb", "group", "version", "resource", "subresource", "scope", "component", "code")
        self.requests = Counter(
            "apiserver_request",
            "Counter of apiserver requests broken out for each verb, dry run value, "
            "group, version, resource, scope, component, and HTTP response code.",
            labels,
            registry=self.registry,
        )
        self.duration = Histogram(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, "
            "group, version, resource, subresource, scope and component.",
            ("verb", "group", "version", "resource", "subresource", "scope", "component"),
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.watchers = Gauge(
            "apiserver_registered_watchers",
            "Number of currently registered watchers for a given resources",
            ("group", "version", "kind"),
            registry=self.registry,
        )
        self.inflight = Gauge(
            "apiserver_current_inflight_requests",
            "Maximal number of currently used inflight request limit "
            "of this apiserver per request kind in last second.",
            ("request_kind",),
            registry=self.registry,
        )
        # label tuples -> bound children: `labels()` costs a dict lookup and a lock, this one lookup
        self._counters: dict[tuple[str, ...], Any] = {}
        self._histograms: dict[tuple[str, ...], Any] = {}

    def watch_started(self, resource: Resource) -> Any:
        child = self.watchers.labels(resource.group, resource.version, resource.kind)
        child.inc()
        return child

    def observe(self, method: str, route: Any, watch: bool, code: int, seconds: float) -> None:
        if route is None:
            key: tuple[str, ...] = (method, "", "", "", "", "", "apiserver", str(code))
        else:
            res = route.resource
            named = route.name is not None
            verb = request_verb(method, named, watch, route.subresource)
            key = (
                verb,
                res.group,
                res.version,
                res.plural,
                route.subresource or "",
                scope_of(res, route.namespace, named),
                "apiserver",
                str(code),
            )
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.requests.labels(*key)
        counter.inc()
        if key[0] in ("WATCH", "CONNECT"):
            return
        hkey = key[:7]
        hist = self._histograms.get(hkey)
        if hist is None:
            hist = self._histograms[hkey] = self.duration.labels(*hkey)
        hist.observe(seconds)

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def clock() -> float:
    return time.perf_counter()
