"""Validation of EndpointSlice (discovery.k8s.io/v1), Ingress and IngressClass
(networking.k8s.io/v1) as kube-apiserver words it (pkg/apis/discovery/validation and
pkg/apis/networking/validation).

EndpointSlice: `addressType` is IPv4, IPv6 or FQDN and never changes; each endpoint carries 1 to
100 addresses of that type; at most 1000 endpoints; port names are unique DNS labels and ports
carry a protocol. Ingress: every path has a `pathType` (Exact, Prefix, ImplementationSpecific),
Exact and Prefix paths are absolute and clean; a backend is a service (name, and a port name xor
number) xor a resource; hosts are DNS names, `*.` wildcards allowed, never IPs; TLS hosts likewise.
IngressClass: `spec.controller` is a domain-prefixed path and immutable; `parameters` name a kind
and a name, and a namespace exactly when their scope is Namespace.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from api import names
from api.errors import (
    Cause,
    field_duplicate,
    field_forbidden,
    field_invalid,
    field_not_supported,
    field_required,
    field_too_many,
)
from api.jsonutil import as_object
from apiserver.validation.meta import immutable

Obj = dict[str, Any]

ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"]
MAX_ENDPOINTS = 1000
MAX_ADDRESSES = 100
MAX_PORTS = 20000
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"

_WILDCARD_FMT = r"\*\." + names.DNS1123_SUBDOMAIN_FMT
_WILDCARD = re.compile(f"^{_WILDCARD_FMT}$")
WILDCARD_MSG = names.regex_error(
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist "
    "of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
    _WILDCARD_FMT,
    "*.example.com",
)
# segments an Exact or Prefix path must not hold (kube's invalidPathSequences / invalidPathSuffixes)
_BAD_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_BAD_SUFFIXES = ("/..", "/.")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- EndpointSlice ------------------------------------------------------------------------------


def _address(path: str, address: Any, address_type: str) -> list[Cause]:
    text = address if isinstance(address, str) else str(address)
    if address_type in ("IPv4", "IPv6"):
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            ip = None
        want = 4 if address_type == "IPv4" else 6
        if ip is None or ip.version != want:
            return [field_invalid(path, text, f"must be an {address_type} address")]
        return []
    if address_type == "FQDN":
        errs = names.is_dns1123_subdomain(text)
        if not errs and text.count(".") < 1:
            errs = ["should be a domain with at least two segments separated by dots"]
        return [field_invalid(path, text, m) for m in errs]
    return []


def _endpoints(endpoints: list[Any], address_type: str) -> list[Cause]:
    causes: list[Cause] = []
    if len(endpoints) > MAX_ENDPOINTS:
        causes.append(field_too_many("endpoints", len(endpoints), MAX_ENDPOINTS))
    for i, ep in enumerate(endpoints):
        ep, p = as_object(ep), f"endpoints[{i}]"
        addresses = _list(ep.get("addresses"))
        if not addresses:
            causes.append(field_required(f"{p}.addresses", "must contain at least 1 address"))
        elif len(addresses) > MAX_ADDRESSES:
            causes.append(field_too_many(f"{p}.addresses", len(addresses), MAX_ADDRESSES))
        for j, address in enumerate(addresses):
            causes += _address(f"{p}.addresses[{j}]", address, address_type)
        if ep.get("hostname"):
            causes += names.check(f"{p}.hostname", str(ep["hostname"]), names.is_dns1123_label)
        if ep.get("nodeName"):
            causes += names.check(f"{p}.nodeName", str(ep["nodeName"]), names.is_dns1123_subdomain)
    return causes


def _slice_ports(ports: list[Any]) -> list[Cause]:
    causes: list[Cause] = []
    if len(ports) > MAX_PORTS:
        causes.append(field_too_many("ports", len(ports), MAX_PORTS))
    seen: set[str] = set()
    for i, port in enumerate(ports):
        port, p = as_object(port), f"ports[{i}]"
        name = str(port.get("name") or "")
        if name:
            causes += names.check(f"{p}.name", name, names.is_dns1123_label)
        if name in seen:
            causes.append(field_duplicate(f"{p}.name", name))
        seen.add(name)
        protocol = port.get("protocol")
        if not protocol:
            causes.append(field_required(f"{p}.protocol"))
        elif protocol not in PROTOCOLS:
            causes.append(field_not_supported(f"{p}.protocol", protocol, PROTOCOLS))
        if port.get("port") is not None:
            causes += [field_invalid(f"{p}.port", port["port"], m) for m in names.is_port_num(port["port"])]
        if port.get("appProtocol"):
            causes += names.check(f"{p}.appProtocol", str(port["appProtocol"]), names.is_qualified_name)
    return causes


def validate_endpoint_slice(obj: Obj) -> list[Cause]:
    address_type = obj.get("addressType")
    causes: list[Cause] = []
    if not address_type:
        causes.append(field_required("addressType"))
    elif address_type not in ADDRESS_TYPES:
        causes.append(field_not_supported("addressType", address_type, ADDRESS_TYPES))
    causes += _endpoints(_list(obj.get("endpoints")), str(address_type or ""))
    causes += _slice_ports(_list(obj.get("ports")))
    return causes


def validate_endpoint_slice_update(new: Obj, old: Obj) -> list[Cause]:
    return immutable("addressType", new.get("addressType"), old.get("addressType"))


# --- Ingress ------------------------------------------------------------------------------------


def _host(path: str, host: str) -> list[Cause]:
    if "*" in host:
        errs = [names.max_len_error(253)] if len(host) > 253 else []
        if not _WILDCARD.match(host):
            errs.append(WILDCARD_MSG)
        return [field_invalid(path, host, m) for m in errs]
    causes = names.check(path, host, names.is_dns1123_subdomain)
    try:
        ipaddress.ip_address(host)
        causes.append(field_invalid(path, host, "must be a DNS name, not an IP address"))
    except ValueError:
        pass
    return causes


def _backend(path: str, backend: Obj) -> list[Cause]:
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        return [field_invalid(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        resource = as_object(resource)
        causes = []
        for key in ("kind", "name"):
            if not resource.get(key):
                causes.append(field_required(f"{path}.resource.{key}"))
        return causes
    if service is None:
        return [field_invalid(path, "", "resource or service backend is required")]
    service, causes = as_object(service), []
    name = str(service.get("name") or "")
    if not name:
        causes.append(field_required(f"{path}.service.name"))
    else:
        causes += names.check(f"{path}.service.name", name, names.is_dns1035_label)
    port = as_object(service.get("port"))
    port_name, number = str(port.get("name") or ""), port.get("number") or 0
    if port_name and number:
        causes.append(field_invalid(path, "", "cannot set both port name & port number"))
    elif port_name:
        causes += names.check(f"{path}.service.port.name", port_name, names.is_port_name)
    elif number:
        causes += [field_invalid(f"{path}.service.port.number", number, m) for m in names.is_port_num(number)]
    else:
        causes.append(field_required(path, "port name or number is required"))
    return causes


def _http_path(path: str, item: Obj) -> list[Cause]:
    causes: list[Cause] = []
    path_type, value = item.get("pathType"), str(item.get("path") or "")
    if not path_type:
        causes.append(field_required(f"{path}.pathType", "pathType must be specified"))
    elif path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            causes.append(field_invalid(f"{path}.path", value, "must be an absolute path"))
        for bad in _BAD_SEQUENCES:
            if bad in value:
                causes.append(field_invalid(f"{path}.path", value, f"must not contain '{bad}'"))
        for bad in _BAD_SUFFIXES:
            if value.endswith(bad):
                causes.append(field_invalid(f"{path}.path", value, f"cannot end with '{bad}'"))
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            causes.append(field_invalid(f"{path}.path", value, "must be an absolute path"))
    else:
        causes.append(field_not_supported(f"{path}.pathType", path_type, PATH_TYPES))
    return causes + _backend(f"{path}.backend", as_object(item.get("backend")))


def _rules(rules: list[Any]) -> list[Cause]:
    causes: list[Cause] = []
    for i, rule in enumerate(rules):
        rule, p = as_object(rule), f"spec.rules[{i}]"
        if rule.get("host"):
            causes += _host(f"{p}.host", str(rule["host"]))
        http = rule.get("http")
        if http is None:
            continue
        paths = _list(as_object(http).get("paths"))
        if not paths:
            causes.append(field_required(f"{p}.http.paths"))
        for j, item in enumerate(paths):
            causes += _http_path(f"{p}.http.paths[{j}]", as_object(item))
    return causes


def validate_ingress(obj: Obj) -> list[Cause]:
    spec = as_object(obj.get("spec"))
    causes: list[Cause] = []
    rules = _list(spec.get("rules"))
    if not rules and spec.get("defaultBackend") is None:
        causes.append(field_invalid("spec", "", "either `defaultBackend` or `rules` must be specified"))
    if spec.get("defaultBackend") is not None:
        causes += _backend("spec.defaultBackend", as_object(spec["defaultBackend"]))
    causes += _rules(rules)
    for i, tls in enumerate(_list(spec.get("tls"))):
        tls = as_object(tls)
        for j, host in enumerate(_list(tls.get("hosts"))):
            causes += _host(f"spec.tls[{i}].hosts[{j}]", str(host))
        if tls.get("secretName"):
            causes += names.check(
                f"spec.tls[{i}].secretName", str(tls["secretName"]), names.is_dns1123_subdomain
            )
    if spec.get("ingressClassName"):
        causes += names.check(
            "spec.ingressClassName", str(spec["ingressClassName"]), names.is_dns1123_subdomain
        )
    return causes


def validate_ingress_create(obj: Obj) -> list[Cause]:
    """Create only: the class annotation and the class field may not both be set."""
    annotations = as_object(as_object(obj.get("metadata")).get("annotations"))
    if as_object(obj.get("spec")).get("ingressClassName") and INGRESS_CLASS_ANNOTATION in annotations:
        return [
            field_invalid(
                f"annotations.{INGRESS_CLASS_ANNOTATION}",
                annotations[INGRESS_CLASS_ANNOTATION],
                "can not be set when the class field is also set",
            )
        ]
    return []


def validate_ingress_status(new: Obj, old: Obj) -> list[Cause]:
    causes: list[Cause] = []
    lb = as_object(as_object(new.get("status")).get("loadBalancer"))
    for i, ing in enumerate(_list(lb.get("ingress"))):
        ing, p = as_object(ing), f"status.loadBalancer.ingress[{i}]"
        if ing.get("ip"):
            causes += [field_invalid(f"{p}.ip", ing["ip"], m) for m in names.is_ip(str(ing["ip"]))]
        if ing.get("hostname"):
            causes += names.check(f"{p}.hostname", str(ing["hostname"]), names.is_dns1123_subdomain)
    return causes


# --- IngressClass -------------------------------------------------------------------------------

_CONTROLLER = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/\S+$")


def validate_ingress_class(obj: Obj) -> list[Cause]:
    spec = as_object(obj.get("spec"))
    causes: list[Cause] = []
    controller = str(spec.get("controller") or "")
    if not controller:
        causes.append(field_required("spec.controller"))
    elif len(controller) > 250:
        causes.append(field_invalid("spec.controller", controller, names.max_len_error(250)))
    elif not _CONTROLLER.match(controller):
        causes.append(
            field_invalid(
                "spec.controller", controller, 'must be a domain-prefixed path (such as "acme.io/foo")'
            )
        )
    params = spec.get("parameters")
    if params is not None:
        params, p = as_object(params), "spec.parameters"
        for key in ("kind", "name"):
            if not params.get(key):
                causes.append(field_required(f"{p}.{key}"))
        scope = params.get("scope")
        if scope is not None and scope not in ("Cluster", "Namespace"):
            causes.append(field_not_supported(f"{p}.scope", scope, ["Cluster", "Namespace"]))
        if scope == "Namespace" and not params.get("namespace"):
            causes.append(field_required(f"{p}.namespace", "`parameters.scope` is set to 'Namespace'"))
        if scope == "Cluster" and params.get("namespace"):
            causes.append(field_forbidden(f"{p}.namespace", "`parameters.scope` is set to 'Cluster'"))
    return causes


def validate_ingress_class_update(new: Obj, old: Obj) -> list[Cause]:
    return immutable(
        "spec.controller",
        as_object(new.get("spec")).get("controller"),
        as_object(old.get("spec")).get("controller"),
    )
