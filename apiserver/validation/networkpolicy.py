"""Validation of NetworkPolicy (networking.k8s.io/v1) as kube-apiserver words it
(pkg/apis/networking/validation: ValidateNetworkPolicySpec and the port, peer and ipBlock checks).

Kept apart from `networking.py` (EndpointSlice, Ingress, IngressClass) because a policy is the
contract the agents' packet filters read: what passes here is what they must be able to enforce.

- `spec.podSelector` and each peer's selectors are label selectors (`meta.validate_selector`).
- A port's protocol is TCP, UDP or SCTP; its `port` a number 1-65535 or an IANA port name (the
  container port-name rule); `endPort` only after a numeric `port`, never below it.
- A peer names a podSelector, a namespaceSelector (both together allowed) or an ipBlock alone.
- `ipBlock.cidr` is a CIDR and each `except` a CIDR strictly inside it (same family, longer prefix).
- `policyTypes` holds at most two entries, each Ingress or Egress. Kube checks neither that they
  differ nor that `ingress`/`egress` rules agree with them, so neither is checked here.

Updates are held to the same rules. Kube's update leniencies (an old policy's invalid selector
label values, and CIDRs its opt-in strict IP parsing would now refuse, may stay) have no
counterpart: nothing stored here was held to looser rules. Pure functions over wire dicts;
never raise on odd input.
"""

from __future__ import annotations

import json
from typing import Any

from api import names
from api.errors import Cause, field_forbidden, field_invalid, field_not_supported, field_required
from api.jsonutil import as_object
from apiserver.validation.meta import validate_selector
from apiserver.validation.workloads import invalid_raw

Obj = dict[str, Any]

PROTOCOLS = ["TCP", "UDP", "SCTP"]  # kube lists them in this order in its message
POLICY_TYPES = ["Ingress", "Egress"]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_port(port: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    protocol = port.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        causes.append(field_not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    number, end = port.get("port"), port.get("endPort")
    if number is None:
        if end is not None:
            causes.append(
                field_invalid(f"{path}.endPort", end, "may not be specified when `port` is not specified")
            )
    elif _is_int(number):
        causes += [field_invalid(f"{path}.port", number, m) for m in names.is_port_num(number)]
        if end is not None:
            if _is_int(end) and end < number:
                causes.append(
                    field_invalid(f"{path}.endPort", end, "must be greater than or equal to `port`")
                )
            causes += [field_invalid(f"{path}.endPort", end, m) for m in names.is_port_num(end)]
    else:
        if end is not None:
            causes.append(
                field_invalid(f"{path}.endPort", end, "may not be specified when `port` is non-numeric")
            )
        causes += names.check(f"{path}.port", str(number), names.is_port_name)
    return causes


def validate_ip_block(block: Obj, path: str) -> list[Cause]:
    cidr = block.get("cidr")
    if not cidr:
        return [field_required(f"{path}.cidr")]
    causes = names.check(f"{path}.cidr", str(cidr), names.is_cidr)
    outer = names.parse_cidr(str(cidr))
    if outer is None:
        return causes  # nothing to hold the exceptions against
    for i, text in enumerate(_list(block.get("except"))):
        p = f"{path}.except[{i}]"
        causes += names.check(p, str(text), names.is_cidr)
        inner = names.parse_cidr(str(text))
        if inner is None:
            continue
        inside = inner.version == outer.version and inner.network_address in outer
        if not inside or inner.prefixlen <= outer.prefixlen:
            causes.append(field_invalid(p, text, "must be a strict subset of `cidr`"))
    return causes


def validate_peer(peer: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    given = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            given += 1
            causes += validate_selector(peer[key], f"{path}.{key}")
    block = peer.get("ipBlock")
    if block is not None:
        given += 1
        causes += validate_ip_block(as_object(block), f"{path}.ipBlock")
    if given == 0:
        causes.append(field_required(path, "must specify a peer"))
    elif given > 1 and block is not None:
        causes.append(field_forbidden(path, "may not specify both ipBlock and another peer"))
    return causes


def _rules(spec: Obj, direction: str, peers: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, rule in enumerate(_list(spec.get(direction))):
        rule, p = as_object(rule), f"spec.{direction}[{i}]"
        for j, port in enumerate(_list(rule.get("ports"))):
            causes += validate_port(as_object(port), f"{p}.ports[{j}]")
        for j, peer in enumerate(_list(rule.get(peers))):
            causes += validate_peer(as_object(peer), f"{p}.{peers}[{j}]")
    return causes


def _policy_types(types: list[Any]) -> list[Cause]:
    if len(types) > len(POLICY_TYPES):
        # kube renders the list it names as JSON
        shown = json.dumps(types, separators=(",", ":"))
        return [invalid_raw("spec.policyTypes", shown, "may not specify more than two policyTypes")]
    return [
        field_not_supported(f"spec.policyTypes[{i}]", t, POLICY_TYPES)
        for i, t in enumerate(types)
        if t not in POLICY_TYPES
    ]


def validate_network_policy(obj: Obj) -> list[Cause]:
    spec = as_object(obj.get("spec"))
    causes = validate_selector(spec.get("podSelector"), "spec.podSelector")
    causes += _rules(spec, "ingress", "from")
    causes += _rules(spec, "egress", "to")
    return causes + _policy_types(_list(spec.get("policyTypes")))
