"""Service validation (ValidateService / ValidateServiceUpdate) as kube-apiserver words it.

Names are DNS-1035 labels (checked in meta). Ports are required except for ExternalName and
headless services; each port needs a valid number, a DNS-1123 label name (required once there
are several, unique), a protocol, a valid targetPort, a nodePort only for NodePort and
LoadBalancer services and within 30000-32767 (the allocator's range, checked here so a bad
request never reaches allocation). clusterIP is immutable once set. healthCheckNodePort belongs
only to a LoadBalancer with externalTrafficPolicy Local (allocated after validation, so its
absence is no error here) and, once held, does not change while the service keeps needing it.
"""

from __future__ import annotations

from typing import Any

from api import names
from api.errors import (
    Cause,
    field_duplicate,
    field_forbidden,
    field_invalid,
    field_not_supported,
    field_required,
)
from apiserver.validation.meta import one_of, validate_labels
from apiserver.validation.pod import PROTOCOLS, validate_port_num_or_name

SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
SESSION_AFFINITIES = ["ClientIP", "None"]
IP_FAMILY_POLICIES = ["PreferDualStack", "RequireDualStack", "SingleStack"]
IP_FAMILIES = ["IPv4", "IPv6"]
NODE_PORT_RANGE = (30000, 32767)


def _go_service_port(port: int, protocol: str) -> str:
    return (
        f'core.ServicePort{{Name:"", Protocol:"{protocol}", AppProtocol:(*string)(nil), Port:{port}, '
        'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'
    )


def _ports(spec: dict[str, Any], headless: bool) -> list[Cause]:
    causes: list[Cause] = []
    raw_ports = spec.get("ports")
    ports: list[Any] = raw_ports if isinstance(raw_ports, list) else []
    require_name = len(ports) > 1
    seen_names: set[str] = set()
    seen_ports: set[tuple[Any, Any]] = set()
    seen_node_ports: set[tuple[Any, Any]] = set()
    svc_type = spec.get("type")
    lo, hi = NODE_PORT_RANGE
    for i, port in enumerate(ports):
        p = f"spec.ports[{i}]"
        port = port if isinstance(port, dict) else {}
        name = port.get("name")
        if require_name and not name:
            causes.append(field_required(f"{p}.name"))
        elif name:
            causes += names.check(f"{p}.name", str(name), names.is_dns1123_label)
            if name in seen_names:
                causes.append(field_duplicate(f"{p}.name", name))
            seen_names.add(str(name))
        causes += [
            field_invalid(f"{p}.port", port.get("port", 0), m) for m in names.is_port_num(port.get("port"))
        ]
        protocol = port.get("protocol")
        causes += one_of(f"{p}.protocol", protocol, PROTOCOLS)
        if port.get("targetPort") not in (None, 0, ""):
            causes += validate_port_num_or_name(port["targetPort"], f"{p}.targetPort")
        key = (port.get("port"), protocol)
        if key in seen_ports and isinstance(port.get("port"), int):
            causes.append(
                {
                    "reason": "FieldValueDuplicate",
                    "field": p,
                    "message": "Duplicate value: " + _go_service_port(port["port"], str(protocol)),
                }
            )
        seen_ports.add(key)
        node_port = port.get("nodePort")
        if node_port:
            if svc_type == "ClusterIP":
                causes.append(field_forbidden(f"{p}.nodePort", "may not be used when `type` is 'ClusterIP'"))
            elif svc_type == "ExternalName":
                causes.append(
                    field_forbidden(f"{p}.nodePort", "may not be used when `type` is 'ExternalName'")
                )
            elif not isinstance(node_port, int) or not lo <= node_port <= hi:
                causes.append(
                    field_invalid(
                        f"{p}.nodePort",
                        node_port,
                        f"provided port is not in the valid range. The range of valid ports is {lo}-{hi}",
                    )
                )
            nkey = (node_port, protocol)
            if nkey in seen_node_ports:
                causes.append(field_duplicate(f"{p}.nodePort", node_port))
            seen_node_ports.add(nkey)
    if not ports and not headless and svc_type != "ExternalName":
        causes.append(field_required("spec.ports"))
    return causes


TRAFFIC_POLICIES = ["Cluster", "Local"]


def externally_accessible(spec: dict[str, Any]) -> bool:
    """kube's ExternallyAccessible: node ports or a load balancer, or a cluster IP with external IPs."""
    return spec.get("type") in ("NodePort", "LoadBalancer") or (
        spec.get("type") == "ClusterIP" and bool(spec.get("externalIPs"))
    )


def _traffic_policies(spec: dict[str, Any]) -> list[Cause]:
    """kube's rules: externalTrafficPolicy only where traffic comes from outside (the proxy would
    have nothing to apply it to), each policy Cluster or Local."""
    causes: list[Cause] = []
    external = spec.get("externalTrafficPolicy")
    if external is not None and external != "":
        if not externally_accessible(spec):
            causes.append(
                field_invalid(
                    "spec.externalTrafficPolicy",
                    external,
                    "may only be set for externally-accessible services",
                )
            )
        elif external not in TRAFFIC_POLICIES:
            causes.append(field_not_supported("spec.externalTrafficPolicy", external, TRAFFIC_POLICIES))
    internal = spec.get("internalTrafficPolicy")
    if spec.get("type") != "ExternalName" and internal is not None and internal not in TRAFFIC_POLICIES:
        causes.append(field_not_supported("spec.internalTrafficPolicy", internal, TRAFFIC_POLICIES))
    return causes


def needs_health_check(spec: dict[str, Any]) -> bool:
    """kube's apiservice.NeedsHealthCheck: load balancers ask each node whether it has endpoints."""
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def _health_check_node_port(spec: dict[str, Any]) -> list[Cause]:
    port = spec.get("healthCheckNodePort")
    if not port:
        return []
    if not needs_health_check(spec):
        return [
            field_invalid(
                "spec.healthCheckNodePort",
                port,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            )
        ]
    return [field_invalid("spec.healthCheckNodePort", port, m) for m in names.is_port_num(port)]


def _ip_families(spec: dict[str, Any]) -> list[Cause]:
    """kube's validateIPFamilyInfo, then what its allocator refuses on a single-stack IPv4 cluster
    (kubelite's): an IPv6 family, or a policy requiring two families where more than one could be
    held (a headless service without a selector may ask for every family the cluster has)."""
    policy, families = spec.get("ipFamilyPolicy"), spec.get("ipFamilies")
    if spec.get("type") == "ExternalName":
        return [
            field_forbidden(f"spec.{name}", "may not be set for ExternalName services")
            for name, value in (("ipFamilyPolicy", policy), ("ipFamilies", families))
            if value
        ]
    causes: list[Cause] = []
    if policy is not None and policy not in IP_FAMILY_POLICIES:
        causes.append(field_not_supported("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES))
    seen: set[Any] = set()
    for i, family in enumerate(families if isinstance(families, list) else []):
        path = f"spec.ipFamilies[{i}]"
        if family not in IP_FAMILIES:
            causes.append(field_not_supported(path, family, IP_FAMILIES))
        elif family in seen:
            causes.append(field_duplicate(path, family))
        elif family == "IPv6":
            causes.append(field_invalid(path, family, "not configured on this cluster"))
        seen.add(family)
    if policy == "SingleStack" and isinstance(families, list) and len(families) > 1:
        causes.append(
            field_invalid(
                "spec.ipFamilies",
                families,
                "when spec.ipFamilyPolicy is SingleStack, only one ipFamily may be specified",
            )
        )
    headless_unselected = spec.get("clusterIP") == "None" and not spec.get("selector")
    if policy == "RequireDualStack" and not headless_unselected:
        causes.append(
            field_invalid(
                "spec.ipFamilyPolicy", policy, "this cluster is not configured for dual-stack services"
            )
        )
    return causes


def validate_service(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [field_required("spec")]
    causes: list[Cause] = []
    svc_type = spec.get("type")
    if not svc_type:
        causes.append(field_required("spec.type"))
    elif svc_type not in SERVICE_TYPES:
        causes.append(field_not_supported("spec.type", svc_type, SERVICE_TYPES))
    cluster_ip = spec.get("clusterIP") or ""
    headless = cluster_ip == "None"
    if svc_type == "ExternalName":
        if spec.get("clusterIPs") or cluster_ip:
            causes.append(field_forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        external = spec.get("externalName")
        if not external:
            causes.append(field_required("spec.externalName"))
        else:
            clean = str(external).rstrip(".")
            causes += [
                field_invalid("spec.externalName", external, m) for m in names.is_dns1123_subdomain(clean)
            ]
    else:
        raw_ips = spec.get("clusterIPs")
        ips: list[Any] = raw_ips if isinstance(raw_ips, list) else []
        for i, ip in enumerate(ips):
            if ip == "None" and i == 0:
                continue
            causes += [field_invalid(f"spec.clusterIPs[{i}]", ip, m) for m in names.is_ip(str(ip))]
        if cluster_ip and ips and ips[0] != cluster_ip:
            causes.append(field_invalid("spec.clusterIPs", ips, "first value must match `clusterIP`"))
        if cluster_ip and not headless and not ips:
            causes += [field_invalid("spec.clusterIP", cluster_ip, m) for m in names.is_ip(cluster_ip)]
    causes += _ports(spec, headless)
    causes += _health_check_node_port(spec)
    causes += _traffic_policies(spec)
    causes += _ip_families(spec)
    affinity = spec.get("sessionAffinity")
    if not affinity:
        causes.append(field_required("spec.sessionAffinity"))
    elif affinity not in SESSION_AFFINITIES:
        causes.append(field_not_supported("spec.sessionAffinity", affinity, SESSION_AFFINITIES))
    for i, ip in enumerate(spec.get("externalIPs") or []):
        causes += [field_invalid(f"spec.externalIPs[{i}]", ip, m) for m in names.is_ip(str(ip))]
    causes += validate_labels(spec.get("selector"), "spec.selector")
    return causes


def validate_service_update(obj: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    spec, old_spec = obj.get("spec") or {}, old.get("spec") or {}
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return []
    old_ip, new_ip = old_spec.get("clusterIP") or "", spec.get("clusterIP") or ""
    if old_ip and new_ip != old_ip:
        return [field_invalid("spec.clusterIPs[0]", new_ip, "may not change once set")]
    if (
        needs_health_check(spec)
        and needs_health_check(old_spec)
        and spec.get("healthCheckNodePort") != old_spec.get("healthCheckNodePort")
    ):
        return [field_forbidden("spec.healthCheckNodePort", "field is immutable")]
    return []
