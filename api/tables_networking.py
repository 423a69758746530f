"""Table columns of EndpointSlice, Ingress, IngressClass and NetworkPolicy, as kube-apiserver
prints them (pkg/printers/internalversion: printEndpointSlice, printIngress, printIngressClass,
printNetworkPolicy).

Lists longer than three (slice ports and addresses) or four (ingress hosts) items end in
`+ N more...`; an empty one is `<unset>`. An Ingress without rule hosts shows `*`, its Ports are
`80, 443` with TLS and `80` without, and its Address is cut to 16 characters unless wide. A
NetworkPolicy's Pod-Selector is its podSelector as a selector string, `<none>` when empty.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from api import tables
from api.selectors import format_label_selector

Obj = dict[str, Any]
LOAD_BALANCER_WIDTH = 16


def list_with_more(items: list[str], count: int, limit: int) -> str:
    text = ",".join(items[:limit])
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


def slice_ports(ports: list[Obj]) -> str:
    shown = [str(p["port"]) if p.get("port") is not None else (p.get("name") or "*") for p in ports]
    return list_with_more(shown, len(shown), 3)


def slice_endpoints(endpoints: list[Obj]) -> str:
    addresses = [str(a) for ep in endpoints for a in (ep.get("addresses") or [])]
    return list_with_more(addresses, len(addresses), 3)


def _slice_row(eps: Obj, now: _dt.datetime) -> list[Any]:
    return [
        tables.name_cell(eps),
        eps.get("addressType") or "",
        slice_ports(eps.get("ports") or []),
        slice_endpoints(eps.get("endpoints") or []),
        tables.age_cell(eps, now),
    ]


def ingress_hosts(spec: Obj) -> str:
    hosts = [str(r["host"]) for r in spec.get("rules") or [] if isinstance(r, dict) and r.get("host")]
    return list_with_more(hosts, len(hosts), 4) if hosts else "*"


def ingress_address(status: Obj, wide: bool = False) -> str:
    found = []
    for ing in (status.get("loadBalancer") or {}).get("ingress") or []:
        if ing.get("ip"):
            found.append(str(ing["ip"]))
        if ing.get("hostname"):
            found.append(str(ing["hostname"]))
    text = ",".join(found)
    if not wide and len(text) > LOAD_BALANCER_WIDTH:
        text = text[: LOAD_BALANCER_WIDTH - 3] + "..."
    return text


def _ingress_row(ing: Obj, now: _dt.datetime) -> list[Any]:
    spec = ing.get("spec") or {}
    return [
        tables.name_cell(ing),
        spec.get("ingressClassName") or "<none>",
        ingress_hosts(spec),
        ingress_address(ing.get("status") or {}),
        "80, 443" if spec.get("tls") else "80",
        tables.age_cell(ing, now),
    ]


def _ingress_class_row(ic: Obj, now: _dt.datetime) -> list[Any]:
    spec = ic.get("spec") or {}
    params = spec.get("parameters")
    shown = "<none>"
    if isinstance(params, dict):
        shown = str(params.get("kind") or "")
        if params.get("apiGroup"):
            shown += "." + str(params["apiGroup"])
        shown += "/" + str(params.get("name") or "")
    return [tables.name_cell(ic), spec.get("controller") or "", shown, tables.age_cell(ic, now)]


def _policy_row(np: Obj, now: _dt.datetime) -> list[Any]:
    spec = np.get("spec") or {}
    return [tables.name_cell(np), format_label_selector(spec.get("podSelector")), tables.age_cell(np, now)]


_col = tables.column
tables.register(
    "endpointslices",
    [
        tables.NAME_COLUMN,
        _col("AddressType", "The IP protocol family or type of address the slice contains."),
        _col("Ports", "Port numbers the slice exposes."),
        _col("Endpoints", "The addresses of the endpoints in this slice."),
        tables.AGE_COLUMN,
    ],
    _slice_row,
)
tables.register(
    "ingresses",
    [
        tables.NAME_COLUMN,
        _col("Class", "The name of the IngressClass resource that should be used for this Ingress."),
        _col("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
        _col("Address", "Address is a list containing ingress points for the load-balancer"),
        _col("Ports", "Ports of TLS configurations that open"),
        tables.AGE_COLUMN,
    ],
    _ingress_row,
)
tables.register(
    "ingressclasses",
    [
        tables.NAME_COLUMN,
        _col("Controller", "Controller that is responsible for handling this class"),
        _col("Parameters", "A reference to a resource with additional parameters"),
        tables.AGE_COLUMN,
    ],
    _ingress_class_row,
)
tables.register(
    "networkpolicies",
    [
        tables.NAME_COLUMN,
        _col("Pod-Selector", "The pods of its namespace the policy applies to; empty selects all."),
        tables.AGE_COLUMN,
    ],
    _policy_row,
)
