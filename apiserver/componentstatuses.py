"""`componentstatuses` (`kubectl get cs`): the control plane's health, computed on each request.

kube-apiserver still serves v1 ComponentStatus (deprecated since 1.19, with a Warning header that
says so) by probing, at each request, the scheduler's and the controller manager's health
endpoints and its etcd servers. kubelite's scheduler and controller manager run inside the API
servers (on the leader of each Lease), so their health here is what a cluster can observe of
them: the Lease `kube-system/kube-scheduler` (or `kube-controller-manager`) renewed by a holder
within its lease duration. A server run with `--no-scheduler` and no other server holding the
lease reports the scheduler Unhealthy, which is the truth of that cluster. The datastore is
probed with a read: one entry named after it (`etcd-0`, `postgres-0`, `sqlite-0`), checked as
one store (the etcd client fails over between members, so a per-member answer would not be
this server's view). Read-only: get and list, nothing stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from api import tables
from api.errors import method_not_allowed, not_found
from api.resources import by_plural
from apiserver.handlers.http import Request, State, respond_json, warning_header
from apiserver.handlers.routing import Route

LEASES = by_plural("coordination.k8s.io", "leases")
NAMESPACES = by_plural("", "namespaces")
DEPRECATED = "v1 ComponentStatus is deprecated in v1.19+"
LEASE_COMPONENTS = (("scheduler", "kube-scheduler"), ("controller-manager", "kube-controller-manager"))
PROBE_TIMEOUT = 2.0
Obj = dict[str, Any]


def _parse_time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def lease_health(lease: Obj | None, now: dt.datetime) -> tuple[bool, str]:
    """Pure: (healthy, what to say) for a component from its leader-election Lease."""
    spec = (lease or {}).get("spec") or {}
    holder = spec.get("holderIdentity")
    renewed = _parse_time(spec.get("renewTime")) if spec.get("renewTime") else None
    if lease is None or not holder or renewed is None:
        return False, "no leader has been elected"
    age = (now - renewed).total_seconds()
    duration = float(spec.get("leaseDurationSeconds") or 15)
    if age > duration:
        return (
            False,
            f"the leader {holder} last renewed its lease {age:.0f}s ago (lease duration {duration:.0f}s)",
        )
    return True, "ok"


def component_status(name: str, healthy: bool, message: str) -> Obj:
    condition: Obj = {"type": "Healthy", "status": "True" if healthy else "False"}
    if healthy:
        condition["message"] = message
    else:
        condition["error"] = message
    return {
        "kind": "ComponentStatus",
        "apiVersion": "v1",
        "metadata": {"name": name},
        "conditions": [condition],
    }


def datastore_name(url: str) -> str:
    scheme = url.split(":", 1)[0]
    for kind in ("etcd", "postgres", "sqlite"):
        if scheme.startswith(kind):
            return f"{kind}-0"
    return "datastore-0"


async def _datastore(state: State) -> Obj:
    name = datastore_name(state.config.datastore_url)
    assert NAMESPACES is not None
    try:
        await asyncio.wait_for(state.store.get(NAMESPACES.storage_key("default")), PROBE_TIMEOUT)
    except Exception as e:  # any failure to read is the answer
        return component_status(name, False, f"reading the datastore failed: {e or type(e).__name__}")
    return component_status(name, True, "ok")


async def statuses(state: State) -> list[Obj]:
    assert LEASES is not None
    now = dt.datetime.now(dt.UTC)
    out = []
    for component, lease_name in LEASE_COMPONENTS:
        kv = await state.store.get(LEASES.storage_key(lease_name, "kube-system"))
        out.append(component_status(component, *lease_health(None if kv is None else kv.obj, now)))
    out.append(await _datastore(state))
    return out


async def handle(state: State, req: Request, send: Any, route: Route) -> None:
    """GET componentstatuses[/<name>] as JSON or as a Table, with kube's deprecation warning."""
    if req.method != "GET":
        raise method_not_allowed()
    items = await statuses(state)
    if route.name is not None:
        items = [i for i in items if i["metadata"]["name"] == route.name]
        if not items:
            raise not_found("componentstatuses", route.name)
    warning = [warning_header(DEPRECATED)]
    if req.wants_table():
        body: Obj = tables.to_table(route.resource, items, "")
    elif route.name is not None:
        body = items[0]
    else:
        body = {"kind": "ComponentStatusList", "apiVersion": "v1", "metadata": {}, "items": items}
    await respond_json(send, 200, body, warning)
