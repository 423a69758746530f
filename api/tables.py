"""Table output (`meta.k8s.io/v1` Table) with the real server's columns and cell values: what the
API server answers to `as=Table`, and what kubectl prints itself when a server sends a plain list.

kubectl's human-readable `get` asks for `as=Table` and prints the cells as they come, so the
cells are computed here the way kube-apiserver's printers compute them
(pkg/printers/internalversion): the pod Status column (phase, container waiting/terminated
reasons, `Init:N/M`, `Terminating`, `Completed`), `Ready` as `ready/total`, restarts with
`(5m ago)`, ages as short durations (`45s`, `5m3s`, `3h20m`, `12d`) computed against `now`.
The server always fills the wide (priority 1) columns; kubectl hides them without `-o wide`.

- `table_columns(resource)` -> the columnDefinitions.
- `to_table(resource, objs, resource_version, include_object="Metadata", now=None)` -> the
  Table; `include_object` is the request's `includeObject` (`None`, `Metadata` gives a
  PartialObjectMetadata per row, `Object` the full object). `now` is for tests.
"""

from __future__ import annotations

import datetime as _dt
import importlib
from collections.abc import Callable
from typing import Any

from api import eventsv1
from api.conditions import READY, condition
from api.humanize import age, format_labels
from api.jsonutil import now as _now
from api.podstatus import pod_status_cells
from api.resources import Resource

Obj = dict[str, Any]
Row = list[Any]


def _col(
    name: str, description: str, type_: str = "string", priority: int = 0, fmt: str = ""
) -> dict[str, Any]:
    return {"name": name, "type": type_, "format": fmt, "description": description, "priority": priority}


_NAME = _col(
    "Name",
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated.",
    fmt="name",
)
_AGE = _col(
    "Age", "CreationTimestamp is a timestamp representing the server time when this object was created."
)

COLUMNS: dict[str, list[dict[str, Any]]] = {
    "pods": [
        _NAME,
        _col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        _col("Status", "The aggregate status of the containers in this pod."),
        _col(
            "Restarts",
            "The number of times the containers in this pod have been restarted and when the "
            "last container in this pod has restarted.",
        ),
        _AGE,
        _col("IP", "IP address allocated to the pod. Routable at least within the cluster.", priority=1),
        _col("Node", "Name of the node this pod runs on.", priority=1),
        _col("Nominated Node", "Name of the node this pod is nominated to run on (preemption).", priority=1),
        _col("Readiness Gates", "Pod readiness gates that are true, of all readiness gates.", priority=1),
    ],
    "replicationcontrollers": [
        _NAME,
        _col("Desired", "Replicas is the number of desired replicas.", "integer"),
        _col("Current", "Replicas is the most recently observed number of replicas.", "integer"),
        _col("Ready", "The number of ready replicas for this replication controller.", "integer"),
        _AGE,
        _col("Containers", "Names of each container in the template.", priority=1),
        _col("Images", "Images referenced by each container in the template.", priority=1),
        _col(
            "Selector",
            "Selector is a label query over pods that should match the Replicas count.",
            priority=1,
        ),
    ],
    "services": [
        _NAME,
        _col("Type", "type determines how the Service is exposed."),
        _col("Cluster-IP", "clusterIP is the IP address of the service."),
        _col(
            "External-IP",
            "externalIPs is a list of IP addresses for which nodes in the cluster will also "
            "accept traffic for this service.",
        ),
        _col("Port(s)", "The list of ports that are exposed by this service."),
        _AGE,
        _col(
            "Selector",
            "Route service traffic to pods with label keys and values matching this selector.",
            priority=1,
        ),
    ],
    "componentstatuses": [
        _NAME,
        _col("Status", "Status of the component conditions"),
        _col("Message", "Message of the component conditions"),
        _col("Error", "Error of the component conditions"),
    ],
    "nodes": [
        _NAME,
        _col("Status", "The status of the node"),
        _col("Roles", "The roles of the node"),
        _AGE,
        _col("Version", "Kubelet Version reported by the node."),
        _col(
            "Internal-IP",
            "List of addresses reachable to the node. Queried from cloud provider, if available.",
            priority=1,
        ),
        _col(
            "External-IP",
            "List of addresses reachable to the node. Queried from cloud provider, if available.",
            priority=1,
        ),
        _col(
            "OS-Image",
            "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
            priority=1,
        ),
        _col("Kernel-Version", "Kernel Version reported by the node from 'uname -r'.", priority=1),
        _col(
            "Container-Runtime",
            "ContainerRuntime Version reported by the node through runtime remote API.",
            priority=1,
        ),
    ],
    "namespaces": [_NAME, _col("Status", "The status of the namespace"), _AGE],
    "endpoints": [_NAME, _col("Endpoints", "Endpoints of the service, up to three"), _AGE],
    "events": [
        _col("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
        _col("Type", "Type of this event (Normal, Warning)."),
        _col(
            "Reason",
            "This should be a short, machine understandable string that gives the reason for the "
            "transition into the object's current status.",
        ),
        _col("Object", "The object that this event is about."),
        _col("Subobject", "The field of the object that this event is about.", priority=1),
        _col("Source", "The component reporting this event.", priority=1),
        _col("Message", "A human-readable description of the status of this operation."),
        _col("First Seen", "The time at which the event was first recorded.", priority=1),
        _col("Count", "The number of times this event has occurred.", priority=1),
        {**_NAME, "priority": 1},
    ],
    "leases": [_NAME, _col("Holder", "The holder of the lease."), _AGE],
}


def table_columns(resource: Resource) -> list[dict[str, Any]]:
    _load_groups()
    # a version's own columns (`<plural>.<group>/<version>`: a custom resource's), a group's own
    qualified = COLUMNS.get(f"{resource.plural}.{resource.api_version}") or COLUMNS.get(
        f"{resource.plural}.{resource.group}"
    )
    return [dict(c) for c in qualified or COLUMNS.get(resource.plural, [_NAME, _AGE])]


def _age(obj: Obj, now: _dt.datetime) -> str:
    return age((obj.get("metadata") or {}).get("creationTimestamp"), now)


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


# --- pods ----------------------------------------------------------------------------------------


def _pod_row(pod: Obj, now: _dt.datetime) -> Row:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    ready, reason, restarts = pod_status_cells(pod, now)
    pod_ips = status.get("podIPs") or []
    ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        true = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_cell = f"{true}/{len(gates)}"
    return [
        _name(pod),
        ready,
        reason,
        restarts,
        _age(pod, now),
        ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_cell,
    ]


def _pod_conditions(pod: Obj) -> list[dict[str, str]] | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return None


# --- other kinds ---------------------------------------------------------------------------------


def _rc_row(rc: Obj, now: _dt.datetime) -> Row:
    spec, status = rc.get("spec") or {}, rc.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    desired = spec.get("replicas")
    return [
        _name(rc),
        1 if desired is None else int(desired),
        int(status.get("replicas") or 0),
        int(status.get("readyReplicas") or 0),
        _age(rc, now),
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
        format_labels(spec.get("selector")),
    ]


def _service_external_ip(spec: Obj, status: Obj) -> str:
    svc_type = spec.get("type") or "ClusterIP"
    external = list(spec.get("externalIPs") or [])
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if svc_type == "LoadBalancer":
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        ips = [i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")]
        ips += external
        return ",".join(str(i) for i in ips) if ips else "<pending>"
    if svc_type == "ExternalName":
        return str(spec.get("externalName") or "<none>")
    return "<unknown>"


def _service_ports(ports: list[Obj]) -> str:
    parts = []
    for p in ports:
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            parts.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            parts.append(f"{p.get('port')}/{proto}")
    return ",".join(parts) if parts else "<none>"


def _service_row(svc: Obj, now: _dt.datetime) -> Row:
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    return [
        _name(svc),
        spec.get("type") or "ClusterIP",
        spec.get("clusterIP") or "<none>",
        _service_external_ip(spec, status),
        _service_ports(spec.get("ports") or []),
        _age(svc, now),
        format_labels(spec.get("selector")),
    ]


def _node_row(node: Obj, now: _dt.datetime) -> Row:
    meta, spec, status = node.get("metadata") or {}, node.get("spec") or {}, node.get("status") or {}
    ready = condition(node, READY)
    states = ["Unknown"] if ready is None else ["Ready" if ready.get("status") == "True" else "NotReady"]
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    roles = set()
    for key, value in (meta.get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key[len("node-role.kubernetes.io/") :]:
            roles.add(key[len("node-role.kubernetes.io/") :])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    info = status.get("nodeInfo") or {}
    addrs = status.get("addresses") or []

    def first(kind: str) -> str:
        return next((str(a.get("address")) for a in addrs if a.get("type") == kind), "<none>")

    return [
        _name(node),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        _age(node, now),
        info.get("kubeletVersion", ""),
        first("InternalIP"),
        first("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _namespace_row(ns: Obj, now: _dt.datetime) -> Row:
    return [_name(ns), (ns.get("status") or {}).get("phase", ""), _age(ns, now)]


def format_endpoints(ep: Obj, limit: int = 3) -> str:
    """`10.0.0.1:80,10.0.0.2:80 + 1 more...` as kubectl prints endpoints; `<none>` when empty."""
    out: list[str] = []
    count = 0
    for subset in ep.get("subsets") or []:
        ports = subset.get("ports") or []
        for addr in subset.get("addresses") or []:
            targets = [f"{addr.get('ip')}:{p.get('port')}" for p in ports] if ports else [str(addr.get("ip"))]
            for t in targets:
                count += 1
                if len(out) < limit:
                    out.append(t)
    if not out:
        return "<none>"
    more = f" + {count - limit} more..." if count > limit else ""
    return ",".join(out) + more


def _endpoints_row(ep: Obj, now: _dt.datetime) -> Row:
    return [_name(ep), format_endpoints(ep), _age(ep, now)]


def _event_row(ev: Obj, now: _dt.datetime) -> Row:
    first = age(ev.get("firstTimestamp") or ev.get("eventTime"), now)
    last = age(ev["lastTimestamp"], now) if ev.get("lastTimestamp") else first
    count = int(ev.get("count") or 0)
    series = ev.get("series")
    if series:
        last = age(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1
    inv = ev.get("involvedObject") or {}
    kind = str(inv.get("kind", "")).lower()
    target = f"{kind}/{inv['name']}" if inv.get("name") else kind
    src = ev.get("source") or {}
    component = src.get("component") or ev.get("reportingComponent") or ""
    host = src.get("host") or ev.get("reportingInstance") or ""
    source = f"{component}, {host}" if host else component
    return [
        last,
        ev.get("type", ""),
        ev.get("reason", ""),
        target,
        inv.get("fieldPath", ""),
        source,
        str(ev.get("message", "")).strip(),
        first,
        count,
        _name(ev),
    ]


def _lease_row(lease: Obj, now: _dt.datetime) -> Row:
    return [_name(lease), (lease.get("spec") or {}).get("holderIdentity", ""), _age(lease, now)]


def _component_status_row(obj: Obj, now: _dt.datetime) -> Row:
    """kube's printer: the Healthy condition's status, message and error."""
    for c in obj.get("conditions") or []:
        if c.get("type") == "Healthy":
            status = "Healthy" if c.get("status") == "True" else "Unhealthy"
            return [_name(obj), status, c.get("message", ""), c.get("error", "")]
    return [_name(obj), "Unknown", "", ""]


def _default_row(obj: Obj, now: _dt.datetime) -> Row:
    return [_name(obj), _age(obj, now)]


_ROWS: dict[str, Callable[[Obj, _dt.datetime], Row]] = {
    "pods": _pod_row,
    "replicationcontrollers": _rc_row,
    "services": _service_row,
    "nodes": _node_row,
    "namespaces": _namespace_row,
    "endpoints": _endpoints_row,
    "events": _event_row,
    # kube prints both groups' Events from its internal (core) type: the same columns and cells
    "events.events.k8s.io": lambda ev, now: _event_row(eventsv1.to_core(ev), now),
    "leases": _lease_row,
    "componentstatuses": _component_status_row,
}


# for the modules that bring the columns of a group of kinds (api/tables_*.py), imported on first use
column: Callable[..., dict[str, Any]] = _col
NAME_COLUMN: dict[str, Any] = _NAME
AGE_COLUMN: dict[str, Any] = _AGE
name_cell: Callable[[Obj], str] = _name
age_cell: Callable[[Obj, _dt.datetime], str] = _age
_GROUP_MODULES = (
    "api.tables_config",
    "api.tables_workloads",
    "api.tables_rbac",
    "api.tables_storage",
    "api.tables_csi",
    "api.tables_networking",
    "api.tables_autoscaling",
    "api.tables_scheduling",
    "api.tables_flowcontrol",
    "api.tables_certificates",
    "api.tables_quota",
    "api.tables_policy",
    "api.tables_admission",
    "api.tables_apiregistration",
)
_groups_loaded = False


def _load_groups() -> None:
    global _groups_loaded
    if not _groups_loaded:
        _groups_loaded = True
        for module in _GROUP_MODULES:
            importlib.import_module(module)


def register(plural: str, columns: list[dict[str, Any]], row: Callable[[Obj, _dt.datetime], Row]) -> None:
    """Columns and cells of one more resource (a module per group of kinds calls this at import)."""
    COLUMNS[plural] = columns
    _ROWS[plural] = row


def partial_metadata(obj: Obj) -> Obj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def to_table(
    resource: Resource,
    objs: list[Obj],
    resource_version: str,
    include_object: str | None = "Metadata",
    now: _dt.datetime | None = None,
) -> Obj:
    when = now or _now()
    _load_groups()
    row_of = (
        _ROWS.get(f"{resource.plural}.{resource.api_version}")
        or _ROWS.get(f"{resource.plural}.{resource.group}")
        or _ROWS.get(resource.plural, _default_row)
    )
    rows = []
    for obj in objs:
        row: Obj = {"cells": row_of(obj, when)}
        if resource.plural == "pods" and not resource.group:
            conds = _pod_conditions(obj)
            if conds:
                row["conditions"] = conds
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": table_columns(resource),
        "rows": rows,
    }
