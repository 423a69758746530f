"""metrics.k8s.io answers summed into what the dashboard's charts draw: CPU in millicores and
memory in MiB per node and per pod (a pod's containers added up), as `kubectl top` shows them.

The metrics API has no watch (metrics-server serves only get and list), so this is the one part
of the page that is read again on a period: the browser asks for it as often as kubelets sample
(15 s), and keeps the history it draws.
"""

from __future__ import annotations

from typing import Any

from api.quantity import parse_quantity

Obj = dict[str, Any]
MIB = 1024 * 1024


def _millicores(value: Any) -> float:
    try:
        return float(parse_quantity(value or 0) * 1000)
    except ValueError:
        return 0.0


def _mib(value: Any) -> float:
    try:
        return float(parse_quantity(value or 0)) / MIB
    except ValueError:
        return 0.0


def node_usage(node_metrics: Obj) -> list[Obj]:
    rows = []
    for item in node_metrics.get("items") or []:
        usage = item.get("usage") or {}
        rows.append(
            {
                "name": (item.get("metadata") or {}).get("name", ""),
                "cpu": round(_millicores(usage.get("cpu")), 1),
                "memory": round(_mib(usage.get("memory")), 1),
                "timestamp": item.get("timestamp", ""),
            }
        )
    return sorted(rows, key=lambda r: r["name"])


def pod_usage(pod_metrics: Obj, top: int = 10) -> list[Obj]:
    """The `top` pods by CPU (then memory), each its containers' sum."""
    rows = []
    for item in pod_metrics.get("items") or []:
        meta = item.get("metadata") or {}
        containers = item.get("containers") or []
        rows.append(
            {
                "namespace": meta.get("namespace", ""),
                "name": meta.get("name", ""),
                "cpu": round(sum(_millicores((c.get("usage") or {}).get("cpu")) for c in containers), 1),
                "memory": round(sum(_mib((c.get("usage") or {}).get("memory")) for c in containers), 1),
            }
        )
    rows.sort(key=lambda r: (-r["cpu"], -r["memory"], r["namespace"], r["name"]))
    return rows[:top]
