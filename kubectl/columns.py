"""Our own table columns, for servers that answer a plain list instead of a `Table`.

The columns and the cell logic follow the real server's printers (pkg/printers/internalversion);
a pod's READY, STATUS and RESTARTS are `api.podstatus`, the very cells our server's Tables carry.
`-w` also uses these for events that arrive as plain objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.humanize import age
from api.podstatus import pod_status_cells
from kubectl.tables import Rows, cell_text

Obj = dict[str, Any]
# column title, priority (1 = only with -o wide), cell function
Column = tuple[str, int, Callable[[Obj], str]]


def _meta(o: Obj) -> Obj:
    return o.get("metadata") or {}


def _name(o: Obj) -> str:
    return _meta(o).get("name") or ""


def _age(o: Obj) -> str:
    return age(_meta(o).get("creationTimestamp"))


def _gates(p: Obj) -> str:
    gates = (p.get("spec") or {}).get("readinessGates") or []
    if not gates:
        return "<none>"
    conds = {c.get("type"): c.get("status") for c in (p.get("status") or {}).get("conditions") or []}
    return f"{sum(conds.get(g.get('conditionType')) == 'True' for g in gates)}/{len(gates)}"


def _or_none(v: Any) -> str:
    return cell_text(v) if v not in (None, "", []) else "<none>"


def _selector(sel: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((sel or {}).items())) or "<none>"


def _ports(svc: Obj) -> str:
    out = []
    for p in (svc.get("spec") or {}).get("ports") or []:
        node = f":{p['nodePort']}" if p.get("nodePort") else ""
        out.append(f"{p.get('port')}{node}/{p.get('protocol') or 'TCP'}")
    return ",".join(out) or "<none>"


def _external_ip(svc: Obj) -> str:
    spec = svc.get("spec") or {}
    ips = list(spec.get("externalIPs") or [])
    if spec.get("type") == "LoadBalancer":
        ing = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        ips += [i.get("ip") or i.get("hostname") for i in ing]
        return ",".join(ips) if ips else "<pending>"
    if spec.get("type") == "ExternalName":
        return spec.get("externalName") or "<none>"
    return ",".join(ips) or "<none>"


def _node_status(n: Obj) -> str:
    conds = {c.get("type"): c.get("status") for c in (n.get("status") or {}).get("conditions") or []}
    out = "Ready" if conds.get("Ready") == "True" else "NotReady" if conds.get("Ready") == "False" else "Unknown"
    if (n.get("spec") or {}).get("unschedulable"):
        out += ",SchedulingDisabled"
    return out


def _node_roles(n: Obj) -> str:
    roles = sorted(k.split("/", 1)[1] for k in (_meta(n).get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/") and "/" in k)
    return ",".join(r for r in roles if r) or "<none>"


def _node_addr(kind: str) -> Callable[[Obj], str]:
    def get(n: Obj) -> str:
        for a in (n.get("status") or {}).get("addresses") or []:
            if a.get("type") == kind:
                return a.get("address") or "<none>"
        return "<none>"
    return get


def _node_info(key: str) -> Callable[[Obj], str]:
    return lambda n: _or_none(((n.get("status") or {}).get("nodeInfo") or {}).get(key))


def _containers(o: Obj, key: str) -> str:
    cs = (((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get(key) or "" for c in cs) or "<none>"


def _endpoints(ep: Obj) -> str:
    addrs = []
    for s in ep.get("subsets") or []:
        for a in s.get("addresses") or []:
            for p in s.get("ports") or [{}]:
                addrs.append(f"{a.get('ip')}:{p.get('port')}" if p.get("port") else a.get("ip"))
    if not addrs:
        return "<none>"
    shown = ",".join(addrs[:3])
    return shown + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "")


def _event_object(e: Obj) -> str:
    io = e.get("involvedObject") or {}
    return f"{(io.get('kind') or '').lower()}/{io.get('name')}"


def _event_last_seen(e: Obj) -> str:
    t = e.get("lastTimestamp") or e.get("eventTime") or e.get("firstTimestamp") or _meta(e).get("creationTimestamp")
    return age(t)


COLUMNS: dict[str, list[Column]] = {
    "pods": [
        ("NAME", 0, _name), ("READY", 0, lambda p: pod_status_cells(p)[0]),
        ("STATUS", 0, lambda p: pod_status_cells(p)[1]), ("RESTARTS", 0, lambda p: pod_status_cells(p)[2]), ("AGE", 0, _age),
        ("IP", 1, lambda p: _or_none((p.get("status") or {}).get("podIP"))),
        ("NODE", 1, lambda p: _or_none((p.get("spec") or {}).get("nodeName"))),
        ("NOMINATED NODE", 1, lambda p: _or_none((p.get("status") or {}).get("nominatedNodeName"))),
        ("READINESS GATES", 1, _gates),
    ],
    "replicationcontrollers": [
        ("NAME", 0, _name), ("DESIRED", 0, lambda o: str((o.get("spec") or {}).get("replicas", 1))),
        ("CURRENT", 0, lambda o: str((o.get("status") or {}).get("replicas") or 0)),
        ("READY", 0, lambda o: str((o.get("status") or {}).get("readyReplicas") or 0)), ("AGE", 0, _age),
        ("CONTAINERS", 1, lambda o: _containers(o, "name")), ("IMAGES", 1, lambda o: _containers(o, "image")),
        ("SELECTOR", 1, lambda o: _selector((o.get("spec") or {}).get("selector"))),
    ],
    "services": [
        ("NAME", 0, _name), ("TYPE", 0, lambda s: (s.get("spec") or {}).get("type") or "ClusterIP"),
        ("CLUSTER-IP", 0, lambda s: _or_none((s.get("spec") or {}).get("clusterIP"))),
        ("EXTERNAL-IP", 0, _external_ip), ("PORT(S)", 0, _ports), ("AGE", 0, _age),
        ("SELECTOR", 1, lambda s: _selector((s.get("spec") or {}).get("selector"))),
    ],
    "nodes": [
        ("NAME", 0, _name), ("STATUS", 0, _node_status), ("ROLES", 0, _node_roles), ("AGE", 0, _age),
        ("VERSION", 0, _node_info("kubeletVersion")),
        ("INTERNAL-IP", 1, _node_addr("InternalIP")), ("EXTERNAL-IP", 1, _node_addr("ExternalIP")),
        ("OS-IMAGE", 1, _node_info("osImage")), ("KERNEL-VERSION", 1, _node_info("kernelVersion")),
        ("CONTAINER-RUNTIME", 1, _node_info("containerRuntimeVersion")),
    ],
    "namespaces": [
        ("NAME", 0, _name), ("STATUS", 0, lambda n: (n.get("status") or {}).get("phase") or "Active"),
        ("AGE", 0, _age),
    ],
    "endpoints": [("NAME", 0, _name), ("ENDPOINTS", 0, _endpoints), ("AGE", 0, _age)],
    "events": [
        ("LAST SEEN", 0, _event_last_seen), ("TYPE", 0, lambda e: e.get("type") or ""),
        ("REASON", 0, lambda e: e.get("reason") or ""), ("OBJECT", 0, _event_object),
        ("MESSAGE", 0, lambda e: e.get("message") or ""),
    ],
    "leases": [
        ("NAME", 0, _name), ("HOLDER", 0, lambda o: _or_none((o.get("spec") or {}).get("holderIdentity"))),
        ("AGE", 0, _age),
    ],
}
DEFAULT: list[Column] = [("NAME", 0, _name), ("AGE", 0, _age)]


def object_rows(plural: str, objects: list[Obj], wide: bool) -> Rows:
    cols = [c for c in COLUMNS.get(plural, DEFAULT) if wide or not c[1]]
    return Rows([c[0] for c in cols], [[fn(o) for _, _, fn in cols] for o in objects], objects)
