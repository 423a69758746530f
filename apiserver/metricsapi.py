"""`metrics.k8s.io/v1beta1`: NodeMetrics and PodMetrics, aggregated from the kubelets on request.

What metrics-server answers, served by the API server itself instead of an aggregated APIService:
`GET /apis/metrics.k8s.io/v1beta1/nodes[/<name>]`, `.../pods` (every namespace),
`.../namespaces/<ns>/pods[/<name>]`, read-only (`get`, `list`; `labelSelector` honoured). Each
node's kubelet is asked for its Summary API (`/stats/summary`, kubelet/stats.py) over the same
client certificate as pods/log; answers are kept for a second so `kubectl top` and the HPA
controller polling together cost one round per node. Usage is as metrics-server formats it: CPU in
nanocores (`"12345n"`), memory working set in `Ki`, `timestamp` of the sample and `window` (the
distance between the two samples the CPU rate came from). A container without two samples yet has
no CPU rate: its pod is left out, as metrics-server does.

Hollow nodes (label `kubelite.io/hollow`) run no containers and no kubelet server: their usage is
synthetic but plausible (a few millicores and some Mi per container, steady per pod UID), so
`kubectl top` and autoscaling can be exercised at scale.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from typing import Any

from api import jsonutil
from api.errors import ApiError, method_not_allowed, not_found
from api.humanize import go_duration  # metav1.Duration is Go time.Duration text: 15s, 1m0s
from api.resources import by_plural
from api.selectors import parse_label_selector
from apiserver.handlers.http import Request, State, respond
from apiserver.handlers.routing import Route
from apiserver.kubeletproxy import kubelet_endpoint

log = logging.getLogger(__name__)

GROUP = "metrics.k8s.io"
API_VERSION = "metrics.k8s.io/v1beta1"
HOLLOW_LABEL = "kubelite.io/hollow"
NODES = by_plural("", "nodes")
PODS = by_plural("", "pods")
_CACHE_SECONDS = 1.0
_KUBELET_TIMEOUT = 5.0
SYNTHETIC_WINDOW = 15.0


def cpu_quantity(nanocores: int) -> str:
    return f"{max(0, int(nanocores))}n"


def memory_quantity(working_set_bytes: int) -> str:
    return f"{max(0, int(working_set_bytes)) // 1024}Ki"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_metrics(node: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any] | None:
    """A NodeMetrics from a kubelet summary; None without a CPU rate yet (pure)."""
    usage = summary.get("node") or {}
    cpu, mem = usage.get("cpu") or {}, usage.get("memory") or {}
    if "usageNanoCores" not in cpu or "workingSetBytes" not in mem:
        return None
    meta = node.get("metadata") or {}
    return {
        "kind": "NodeMetrics",
        "apiVersion": API_VERSION,
        "metadata": {
            "name": meta.get("name", ""),
            "creationTimestamp": _now(),
            "labels": meta.get("labels") or {},
        },
        "timestamp": cpu.get("time") or _now(),
        "window": go_duration(float(summary.get("window") or 15)),
        "usage": {
            "cpu": cpu_quantity(cpu["usageNanoCores"]),
            "memory": memory_quantity(mem["workingSetBytes"]),
        },
    }


def pod_metrics(pod: dict[str, Any], stats: dict[str, Any], window: float) -> dict[str, Any] | None:
    """A PodMetrics from one pod's summary entry; None unless every container has a CPU rate (pure)."""
    containers = []
    timestamp = ""
    for c in stats.get("containers") or []:
        cpu, mem = c.get("cpu") or {}, c.get("memory") or {}
        if "usageNanoCores" not in cpu:
            return None
        timestamp = timestamp or cpu.get("time", "")
        containers.append(
            {
                "name": c.get("name", ""),
                "usage": {
                    "cpu": cpu_quantity(cpu["usageNanoCores"]),
                    "memory": memory_quantity(mem.get("workingSetBytes", 0)),
                },
            }
        )
    if not containers:
        return None
    meta = pod.get("metadata") or {}
    return {
        "kind": "PodMetrics",
        "apiVersion": API_VERSION,
        "metadata": {
            "name": meta.get("name", ""),
            "namespace": meta.get("namespace", ""),
            "creationTimestamp": _now(),
            "labels": meta.get("labels") or {},
        },
        "timestamp": timestamp or _now(),
        "window": go_duration(window),
        "containers": containers,
    }


def synthetic_summary(node_name: str, pods: list[dict[str, Any]], at: float) -> dict[str, Any]:
    """A hollow node's summary: steady per-pod usage derived from the pod UID (pure but for `at`)."""
    stamp = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries, node_cpu, node_mem = [], 50_000_000, 256 * 1024 * 1024
    for pod in pods:
        meta = pod.get("metadata") or {}
        if (pod.get("status") or {}).get("phase") != "Running":
            continue
        containers = []
        for i, c in enumerate((pod.get("spec") or {}).get("containers") or []):
            seed = int.from_bytes(hashlib.sha256(f"{meta.get('uid')}/{i}".encode()).digest()[:4], "big")
            cpu = 1_000_000 + seed % 9_000_000  # 1-10 millicores
            mem = (4 + seed % 28) * 1024 * 1024  # 4-32 Mi
            node_cpu += cpu
            node_mem += mem
            containers.append(
                {
                    "name": c.get("name", ""),
                    "cpu": {"time": stamp, "usageNanoCores": cpu},
                    "memory": {"time": stamp, "workingSetBytes": mem},
                }
            )
        entries.append(
            {
                "podRef": {
                    "name": meta.get("name"),
                    "namespace": meta.get("namespace"),
                    "uid": meta.get("uid"),
                },
                "containers": containers,
            }
        )
    return {
        "node": {
            "nodeName": node_name,
            "cpu": {"time": stamp, "usageNanoCores": node_cpu},
            "memory": {"time": stamp, "workingSetBytes": node_mem},
        },
        "pods": entries,
        "window": SYNTHETIC_WINDOW,
    }


class MetricsSource:
    """Kubelet summaries per node, fetched concurrently and kept for a second."""

    def __init__(self, state: State) -> None:
        self.state = state
        self._cache: tuple[float, list[tuple[dict[str, Any], dict[str, Any]]]] | None = None
        self._lock = asyncio.Lock()

    async def summaries(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """[(node, summary)] for every node that answered."""
        async with self._lock:
            if self._cache is not None and time.monotonic() - self._cache[0] < _CACHE_SECONDS:
                return self._cache[1]
            assert NODES is not None and PODS is not None
            _, node_kvs = await self.state.registry.list(NODES, None)
            nodes = [kv.obj for kv in node_kvs]
            hollow = [n for n in nodes if ((n.get("metadata") or {}).get("labels") or {}).get(HOLLOW_LABEL)]
            pods_by_node: dict[str, list[dict[str, Any]]] = {}
            if hollow:
                _, pod_kvs = await self.state.registry.list(PODS, None)
                for kv in pod_kvs:
                    pods_by_node.setdefault(((kv.obj.get("spec") or {}).get("nodeName") or ""), []).append(
                        kv.obj
                    )
            answers = await asyncio.gather(*(self._one(n, pods_by_node) for n in nodes))
            found = [(n, s) for n, s in zip(nodes, answers, strict=True) if s is not None]
            self._cache = (time.monotonic(), found)
            return found

    async def _one(
        self, node: dict[str, Any], pods_by_node: dict[str, list[dict[str, Any]]]
    ) -> dict[str, Any] | None:
        name = (node.get("metadata") or {}).get("name", "")
        if ((node.get("metadata") or {}).get("labels") or {}).get(HOLLOW_LABEL):
            return synthetic_summary(name, pods_by_node.get(name, []), time.time())
        proxy = self.state.pod_proxy
        if proxy is None:
            return None
        try:
            host, port = kubelet_endpoint(node)
            authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            resp = await asyncio.wait_for(
                proxy._client().get(f"https://{authority}/stats/summary"), _KUBELET_TIMEOUT
            )
            if resp.status_code != 200:
                return None
            summary: dict[str, Any] = resp.json()
            return summary
        except (ApiError, OSError, TimeoutError, ValueError) as e:
            log.info("metrics: node %s's kubelet did not answer: %r", name, e)
            return None
        except Exception as e:  # httpx's transport errors
            log.info("metrics: node %s's kubelet did not answer: %r", name, e)
            return None


async def handle(state: State, req: Request, send: Any, route: Route) -> None:
    """Answer a metrics.k8s.io request (GET only)."""
    if state.metrics_source is None:
        state.metrics_source = MetricsSource(state)
    source: MetricsSource = state.metrics_source
    res = route.resource
    if req.method != "GET":
        raise method_not_allowed()
    selector = parse_label_selector(req.query.get("labelSelector"))
    found = await source.summaries()
    items: list[dict[str, Any]] = []
    if res.plural == "nodes":
        for node, summary in found:
            nm = node_metrics(node, summary)
            if nm is not None and (route.name is None or nm["metadata"]["name"] == route.name):
                items.append(nm)
    else:
        items = await _pod_items(state, found, route.namespace, route.name)
    if route.name is None:
        items = [i for i in items if selector.matches(i["metadata"].get("labels"))]
    if route.name is not None:
        if not items:
            raise not_found(res.plural, route.name, GROUP)
        await respond(send, 200, jsonutil.dumps(items[0]))
        return
    body = {"kind": f"{res.kind}List", "apiVersion": API_VERSION, "metadata": {}, "items": items}
    await respond(send, 200, jsonutil.dumps(body))


async def _pod_items(
    state: State, found: list[tuple[dict[str, Any], dict[str, Any]]], namespace: str | None, name: str | None
) -> list[dict[str, Any]]:
    """PodMetrics of pods still in the store (labels from the stored pod), newest facts only."""
    assert PODS is not None
    if name is not None and namespace:
        try:
            pods = [(await state.registry.get(PODS, namespace, name)).obj]
        except ApiError:
            return []
    else:
        _, kvs = await state.registry.list(PODS, namespace or None)
        pods = [kv.obj for kv in kvs]
    by_uid = {(p.get("metadata") or {}).get("uid"): p for p in pods}
    items = []
    for _, summary in found:
        window = float(summary.get("window") or 15)
        for stats in summary.get("pods") or []:
            pod = by_uid.get((stats.get("podRef") or {}).get("uid"))
            if pod is None:
                continue
            pm = pod_metrics(pod, stats, window)
            if pm is not None:
                items.append(pm)
    return items
