"""What the EndpointSlice controllers decide, as pure functions over plain objects.

kube-controller-manager keeps EndpointSlices beside Endpoints: one or more slices per service,
each holding at most `MAX_ENDPOINTS` (100, `--max-endpoints-per-slice`) endpoints that share one
set of ports, labelled `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by`,
owned by the Service. Here:

- `pod_endpoints(service, pods)`: the endpoints a selector service wants, grouped by their
  resolved ports (a named targetPort may resolve differently per pod). A pod counts while it has
  an IP and has not finished; a deleting one stays as `ready: false, terminating: true` with
  `serving` its readiness (kube's terminating-endpoints rule), so proxies can drain to it.
- `mirrored_endpoints(endpoints)`: the same groups read from a hand-made Endpoints object (the
  EndpointSliceMirroring controller, for services without a selector).
- `plan(...)`: existing slices -> creates, updates, deletes. An endpoint stays in the slice that
  holds it (less churn for watchers); new ones fill slices with room, then new slices; a slice
  left empty goes, except that a service without endpoints keeps one empty placeholder slice.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from controller.endpoints import resolve_port
from controller.replicas import is_ready

Obj = dict[str, Any]
MAX_ENDPOINTS = 100
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
MIRRORING_NAME = "endpointslicemirroring-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"

PortsKey = tuple[tuple[str, int, str], ...]


def ports_key(ports: list[Obj]) -> PortsKey:
    return tuple(
        sorted((p.get("name") or "", int(p.get("port") or 0), p.get("protocol") or "TCP") for p in ports)
    )


def address_type(ip: str) -> str:
    return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"


def _identity(ep: Obj) -> tuple[str, str]:
    ref = ep.get("targetRef") or {}
    return (str(ref.get("name") or ""), str((ep.get("addresses") or [""])[0]))


def pod_endpoints(service: Obj, pods: list[Obj]) -> dict[PortsKey, tuple[list[Obj], list[Obj]]]:
    """Ports key -> (slice ports, endpoints) for a service with a selector."""
    spec = service.get("spec") or {}
    publish_all = bool(spec.get("publishNotReadyAddresses"))
    out: dict[PortsKey, tuple[list[Obj], list[Obj]]] = {}
    for pod in pods:
        m, st, pspec = pod.get("metadata") or {}, pod.get("status") or {}, pod.get("spec") or {}
        if not st.get("podIP") or st.get("phase") in ("Succeeded", "Failed"):
            continue
        ports = []
        for sp in spec.get("ports") or []:
            num = resolve_port(sp, pod)
            if num is None:
                continue
            p: Obj = {"name": sp.get("name") or "", "port": num, "protocol": sp.get("protocol") or "TCP"}
            if sp.get("appProtocol"):
                p["appProtocol"] = sp["appProtocol"]
            ports.append(p)
        if spec.get("ports") and not ports:
            continue
        terminating = bool(m.get("deletionTimestamp"))
        ready = is_ready(pod)
        ep: Obj = {
            "addresses": [st["podIP"]],
            "conditions": {
                "ready": publish_all or (ready and not terminating),
                "serving": publish_all or ready,
                "terminating": terminating,
            },
            "targetRef": {
                "kind": "Pod",
                "namespace": m.get("namespace"),
                "name": m.get("name"),
                "uid": m.get("uid"),
            },
        }
        if pspec.get("nodeName"):
            ep["nodeName"] = pspec["nodeName"]
        if pspec.get("hostname") and pspec.get("subdomain") == (service.get("metadata") or {}).get("name"):
            ep["hostname"] = pspec["hostname"]
        group = out.setdefault(ports_key(ports), (sorted(ports, key=lambda p: p["name"]), []))
        group[1].append(ep)
    return out


def mirrored_endpoints(endpoints: Obj) -> dict[PortsKey, tuple[list[Obj], list[Obj]]]:
    """Ports key -> (slice ports, endpoints) mirrored from a hand-made Endpoints object."""
    out: dict[PortsKey, tuple[list[Obj], list[Obj]]] = {}
    for subset in endpoints.get("subsets") or []:
        ports = [
            {"name": p.get("name") or "", "port": p.get("port"), "protocol": p.get("protocol") or "TCP"}
            for p in subset.get("ports") or []
        ]
        group = out.setdefault(ports_key(ports), (sorted(ports, key=lambda p: p["name"]), []))
        for field_name, ready in (("addresses", True), ("notReadyAddresses", False)):
            for addr in subset.get(field_name) or []:
                ep: Obj = {
                    "addresses": [addr["ip"]],
                    "conditions": {"ready": ready, "serving": ready, "terminating": False},
                }
                for key in ("hostname", "nodeName", "targetRef"):
                    if addr.get(key):
                        ep[key] = addr[key]
                group[1].append(ep)
    return out


@dataclass
class Plan:
    create: list[Obj] = field(default_factory=list)  # slice bodies (generateName)
    update: list[Obj] = field(default_factory=list)  # existing slices with new content
    delete: list[str] = field(default_factory=list)  # slice names


def slice_labels(service: Obj, manager: str) -> dict[str, str]:
    """The service's own labels, then the controller's (kube copies them, its own winning)."""
    labels = dict((service.get("metadata") or {}).get("labels") or {})
    labels[SERVICE_NAME_LABEL] = str((service.get("metadata") or {}).get("name") or "")
    labels[MANAGED_BY_LABEL] = manager
    if (service.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    return labels


def _body(service: Obj, manager: str, kind: str, ports: list[Obj], endpoints: list[Obj]) -> Obj:
    m = service.get("metadata") or {}
    meta: Obj = {
        "generateName": f"{m.get('name')}-",
        "namespace": m.get("namespace"),
        "labels": slice_labels(service, manager),
    }
    if manager == CONTROLLER_NAME:
        meta["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "name": m.get("name"),
                "uid": m.get("uid"),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": meta,
        "addressType": kind,
        "endpoints": endpoints,
        "ports": ports,
    }


def plan(
    service: Obj,
    desired: dict[PortsKey, tuple[list[Obj], list[Obj]]],
    existing: list[Obj],
    manager: str = CONTROLLER_NAME,
    max_endpoints: int = MAX_ENDPOINTS,
) -> Plan:
    out = Plan()
    labels = slice_labels(service, manager)
    by_key: dict[tuple[str, PortsKey], list[Obj]] = {}
    for s in sorted(existing, key=lambda s: str((s.get("metadata") or {}).get("name"))):
        by_key.setdefault((s.get("addressType") or "", ports_key(s.get("ports") or [])), []).append(s)
    wanted: dict[tuple[str, PortsKey], tuple[list[Obj], list[Obj]]] = {}
    for key, (ports, eps) in desired.items():
        for ep in eps:
            kind = address_type(ep["addresses"][0])
            wanted.setdefault((kind, key), (ports, []))[1].append(ep)
    for (kind, key), (ports, eps) in sorted(wanted.items()):
        todo = {_identity(ep): ep for ep in eps}
        slices = by_key.pop((kind, key), [])
        contents: list[list[Obj]] = []
        overflow: list[Obj] = []
        for s in slices:  # keep each endpoint where it is
            kept = [todo.pop(_identity(ep)) for ep in s.get("endpoints") or [] if _identity(ep) in todo]
            contents.append(kept[:max_endpoints])
            overflow += kept[max_endpoints:]
        rest = sorted([*todo.values(), *overflow], key=_identity)
        for kept in contents:  # fill slices with room
            room = max_endpoints - len(kept)
            kept += rest[:room]
            rest = rest[room:]
        for s, kept in zip(slices, contents, strict=True):
            if not kept:
                out.delete.append(s["metadata"]["name"])
                continue
            kept.sort(key=_identity)
            if (
                (s.get("endpoints") or []) != kept
                or (s.get("ports") or []) != ports
                or ((s.get("metadata") or {}).get("labels") or {}) != labels
            ):
                out.update.append(
                    {**s, "metadata": {**s["metadata"], "labels": labels}, "endpoints": kept, "ports": ports}
                )
        while rest:
            out.create.append(_body(service, manager, kind, ports, rest[:max_endpoints]))
            rest = rest[max_endpoints:]
    for slices in by_key.values():
        out.delete += [s["metadata"]["name"] for s in slices]
    if not wanted and manager == CONTROLLER_NAME:  # a service without endpoints keeps one empty placeholder
        placeholder = next((s for s in existing if not s.get("endpoints") and not s.get("ports")), None)
        if placeholder is None:
            out.create.append(_body(service, manager, "IPv4", [], []))
        else:
            out.delete.remove(placeholder["metadata"]["name"])
            if ((placeholder.get("metadata") or {}).get("labels") or {}) != labels:
                out.update.append({**placeholder, "metadata": {**placeholder["metadata"], "labels": labels}})
    return out
