"""Validation of where a pod may go: affinity and topologySpreadConstraints, in kube's words
(pkg/apis/core/validation: validateAffinity, validatePodAffinityTerm, validateTopologySpreadConstraints).

The scheduler parses these once per pod it places; a selector with an unknown operator or a
weight that is not a number must be refused here (422) rather than reach it. Two parts kube has
and kubelite's scheduler does not act on are refused by name instead of being ignored: a pod
affinity term's matchLabelKeys/mismatchLabelKeys, and a spread constraint's nodeAffinityPolicy /
nodeTaintsPolicy other than kube's defaults (Honor / Ignore), which are what it does.
"""

from __future__ import annotations

from collections.abc import Callable
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
from api.jsonutil import as_object
from apiserver.validation.meta import validate_selector

WHEN_UNSATISFIABLE = ["DoNotSchedule", "ScheduleAnyway"]
NODE_SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
NOT_ACTED_ON = "is not supported: kubelite's scheduler does not act on it"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive(value: Any) -> bool:
    return _is_int(value) and value > 0


def _weight(value: Any, path: str) -> list[Cause]:
    if not (_is_int(value) and 1 <= value <= 100):
        return [field_invalid(path, value, "must be in the range 1-100")]
    return []


def node_selector_term_causes(term: Any, path: str) -> list[Cause]:
    """kube's validateNodeSelectorTerm, for a pod's node affinity and a PersistentVolume's: label
    requirements over qualified keys with the six operators; field requirements only on
    `metadata.name`, In or NotIn one name (what the scheduler can match a node by)."""
    causes: list[Cause] = []
    for i, e in enumerate(_list(as_object(term).get("matchExpressions"))):
        e, p = as_object(e), f"{path}.matchExpressions[{i}]"
        causes += [
            field_invalid(f"{p}.key", e.get("key"), m)
            for m in names.is_qualified_name(str(e.get("key") or ""))
        ]
        causes += _requirement_values(e, p)
    for i, e in enumerate(_list(as_object(term).get("matchFields"))):
        e, p = as_object(e), f"{path}.matchFields[{i}]"
        if e.get("key") != "metadata.name":
            causes.append(field_not_supported(f"{p}.key", e.get("key"), ["metadata.name"]))
        elif e.get("operator") in ("In", "NotIn") and len(_list(e.get("values"))) != 1:
            message = "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"
            causes.append(field_required(f"{p}.values", message))
        elif e.get("operator") not in ("In", "NotIn"):
            causes.append(field_invalid(f"{p}.operator", e.get("operator"), "not a valid selector operator"))
    return causes


def _requirement_values(e: dict[str, Any], p: str) -> list[Cause]:
    op, values = e.get("operator"), _list(e.get("values"))
    if op not in NODE_SELECTOR_OPERATORS:
        return [field_invalid(f"{p}.operator", op, "not a valid selector operator")]
    if op in ("In", "NotIn") and not values:
        return [field_required(f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'")]
    if op in ("Exists", "DoesNotExist") and values:
        message = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
        return [field_forbidden(f"{p}.values", message)]
    if op in ("Gt", "Lt") and len(values) != 1:
        return [
            field_required(f"{p}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'")
        ]
    return []


def _preferred(
    section: dict[str, Any], path: str, term_key: str, term_causes: Callable[[Any, str], list[Cause]]
) -> list[Cause]:
    """A section's weighted preferred terms: each weight, and each term by `term_causes`."""
    causes: list[Cause] = []
    for i, pref in enumerate(_list(section.get("preferredDuringSchedulingIgnoredDuringExecution"))):
        p = f"{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        causes += _weight(as_object(pref).get("weight"), f"{p}.weight")
        causes += term_causes(as_object(pref).get(term_key), f"{p}.{term_key}")
    return causes


def _node_affinity(node: Any, path: str) -> list[Cause]:
    node, causes = as_object(node), []
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None:
        terms = _list(as_object(required).get("nodeSelectorTerms"))
        rp = f"{path}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
        if not terms:
            causes.append(field_required(rp, "must have at least one node selector term"))
        for i, term in enumerate(terms):
            causes += node_selector_term_causes(term, f"{rp}[{i}]")
    return causes + _preferred(node, path, "preference", node_selector_term_causes)


def _pod_affinity_term(term: Any, path: str) -> list[Cause]:
    term, causes = as_object(term), []
    causes += validate_selector(term.get("labelSelector"), f"{path}.labelSelector")
    causes += validate_selector(term.get("namespaceSelector"), f"{path}.namespaceSelector")
    for i, ns in enumerate(_list(term.get("namespaces"))):
        causes += names.check(f"{path}.namespaces[{i}]", str(ns), names.is_dns1123_label)
    key = term.get("topologyKey")
    if not key:
        causes.append(field_required(f"{path}.topologyKey", "can not be empty"))
    else:
        causes += [field_invalid(f"{path}.topologyKey", key, m) for m in names.is_qualified_name(str(key))]
    for field in ("matchLabelKeys", "mismatchLabelKeys"):
        if term.get(field):
            causes.append(field_forbidden(f"{path}.{field}", NOT_ACTED_ON))
    return causes


def _pod_affinity(affinity: Any, path: str) -> list[Cause]:
    affinity, causes = as_object(affinity), []
    for i, term in enumerate(_list(affinity.get("requiredDuringSchedulingIgnoredDuringExecution"))):
        causes += _pod_affinity_term(term, f"{path}.requiredDuringSchedulingIgnoredDuringExecution[{i}]")
    return causes + _preferred(affinity, path, "podAffinityTerm", _pod_affinity_term)


def validate_affinity(affinity: Any, path: str) -> list[Cause]:
    affinity = as_object(affinity)
    return (
        _node_affinity(affinity.get("nodeAffinity"), f"{path}.nodeAffinity")
        + _pod_affinity(affinity.get("podAffinity"), f"{path}.podAffinity")
        + _pod_affinity(affinity.get("podAntiAffinity"), f"{path}.podAntiAffinity")
    )


def validate_topology_spread(constraints: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[tuple[str, str]] = set()
    for i, c in enumerate(_list(constraints)):
        c, p = as_object(c), f"{path}[{i}]"
        skew = c.get("maxSkew")
        if not _positive(skew):
            causes.append(field_invalid(f"{p}.maxSkew", skew, "must be greater than zero"))
        key = str(c.get("topologyKey") or "")
        if not key:
            causes.append(field_required(f"{p}.topologyKey", "can not be empty"))
        when = c.get("whenUnsatisfiable")
        if not when:
            causes.append(field_required(f"{p}.whenUnsatisfiable"))
        elif when not in WHEN_UNSATISFIABLE:
            causes.append(field_not_supported(f"{p}.whenUnsatisfiable", when, WHEN_UNSATISFIABLE))
        domains = c.get("minDomains")
        if domains is not None:
            if not _positive(domains):
                causes.append(field_invalid(f"{p}.minDomains", domains, "must be greater than 0"))
            elif when != "DoNotSchedule":
                causes.append(
                    field_invalid(
                        f"{p}.minDomains",
                        domains,
                        "can only use minDomains if whenUnsatisfiable=DoNotSchedule",
                    )
                )
        if (key, str(when)) in seen:
            causes.append(field_duplicate(f"{p}.{{topologyKey, whenUnsatisfiable}}", f"{{{key}, {when}}}"))
        seen.add((key, str(when)))
        causes += validate_selector(c.get("labelSelector"), f"{p}.labelSelector")
        for field, acted in (("nodeAffinityPolicy", "Honor"), ("nodeTaintsPolicy", "Ignore")):
            if c.get(field) not in (None, acted):
                causes.append(
                    field_forbidden(
                        f"{p}.{field}",
                        f"only {acted} is supported: kubelite's scheduler does not act on another",
                    )
                )
    return causes
