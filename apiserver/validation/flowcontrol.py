"""Defaults and validation of FlowSchema and PriorityLevelConfiguration (flowcontrol/v1), as
kube-apiserver's (flowcontrol/v1 defaults.go; pkg/apis/flowcontrol/validation) word them.

Defaults: a schema's matchingPrecedence 1000; a Limited level's nominalConcurrencyShares 30 and
lendablePercent 0, a Queue response's queuing 64 queues, hand size 8, queue length limit 50; an
Exempt level's shares and lendablePercent 0.

Rules kept: precedence in 1..10000 (1 only for `exempt`); a known distinguisher; a level named;
each rule with subjects and at least one resource or non-resource rule; subjects of their kind
with their names; `*` alone in its list; namespaces (or clusterScope) on resource rules;
non-resource URLs that start with `/` and end any `*` as `/*`; a level's type Exempt if and only
if its name is `exempt`, with the matching member set; shares >= 0, lendablePercent 0..100;
queuing numbers positive, handSize <= queues and at most 60 bits of shuffle-sharding entropy.
"""

from __future__ import annotations

import math
from typing import Any

from api import names
from api.errors import Cause, field_invalid, field_not_supported, field_required

Obj = dict[str, Any]

DISTINGUISHERS = ["ByNamespace", "ByUser"]
SUBJECT_KINDS = ["Group", "ServiceAccount", "User"]
LEVEL_TYPES = ["Exempt", "Limited"]
RESPONSE_TYPES = ["Queue", "Reject"]
MAX_PRECEDENCE = 10000


def flow_schema_defaults(obj: Obj) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict) and spec.get("matchingPrecedence") is None:
        spec["matchingPrecedence"] = 1000


def priority_level_defaults(obj: Obj) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    exempt = spec.get("exempt")
    if isinstance(exempt, dict):
        exempt.setdefault("nominalConcurrencyShares", 0)
        exempt.setdefault("lendablePercent", 0)
    limited = spec.get("limited")
    if isinstance(limited, dict):
        if limited.get("nominalConcurrencyShares") is None:
            limited["nominalConcurrencyShares"] = 30
        limited.setdefault("lendablePercent", 0)
        response = limited.get("limitResponse")
        if isinstance(response, dict) and isinstance(response.get("queuing"), dict):
            q = response["queuing"]
            for key, value in (("queues", 64), ("handSize", 8), ("queueLengthLimit", 50)):
                if not q.get(key):
                    q[key] = value


def _star_alone(path: str, values: list[Any], what: str) -> list[Cause]:
    if "*" in values and len(values) > 1:
        return [field_invalid(path, values, f"if '*' is present, must not specify other {what}")]
    return []


def _listed(path: str, values: Any, detail: str) -> list[Any] | Cause:
    if not isinstance(values, list) or not values:
        return field_required(path, detail)
    return values


def _resource_rule(r: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for key, what in (("verbs", "verbs"), ("apiGroups", "api groups"), ("resources", "resources")):
        values = _listed(f"{path}.{key}", r.get(key), f"{what} must contain at least one value")
        causes += [values] if isinstance(values, dict) else _star_alone(f"{path}.{key}", values, what)
    namespaces = r.get("namespaces") or []
    if not namespaces and r.get("clusterScope") is not True:
        causes.append(
            field_required(
                f"{path}.namespaces",
                "resource rules that are not cluster scoped must supply at least one namespace",
            )
        )
    causes += _star_alone(f"{path}.namespaces", namespaces, "namespaces")
    for i, ns in enumerate(namespaces):
        if ns != "*":
            causes += names.check(f"{path}.namespaces[{i}]", str(ns), names.is_dns1123_label)
    return causes


def _non_resource_rule(r: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for key, what in (("verbs", "verbs"), ("nonResourceURLs", "nonResourceURLs")):
        values = _listed(f"{path}.{key}", r.get(key), f"{what} must contain at least one value")
        causes += [values] if isinstance(values, dict) else _star_alone(f"{path}.{key}", values, what)
    for i, url in enumerate(r.get("nonResourceURLs") or []):
        url = str(url)
        if url == "*":
            continue
        if not url.startswith("/"):
            causes.append(field_invalid(f"{path}.nonResourceURLs[{i}]", url, "must start with slash"))
        elif "*" in url[:-1] or (url.endswith("*") and not url.endswith("/*")):
            causes.append(
                field_invalid(
                    f"{path}.nonResourceURLs[{i}]", url, "wildcard must be at the end after a slash"
                )
            )
    return causes


def _subject(s: Obj, path: str) -> list[Cause]:
    kind = s.get("kind")
    member = {"User": "user", "Group": "group", "ServiceAccount": "serviceAccount"}.get(str(kind))
    if member is None:
        return [field_not_supported(f"{path}.kind", kind, SUBJECT_KINDS)]
    value = s.get(member)
    if not isinstance(value, dict):
        return [field_required(f"{path}.{member}", f"{member} is required when subject kind is '{kind}'")]
    causes: list[Cause] = []
    if not value.get("name"):
        causes.append(field_required(f"{path}.{member}.name", ""))
    if member == "serviceAccount" and not value.get("namespace"):
        causes.append(
            field_required(f"{path}.serviceAccount.namespace", "must specify namespace for service account")
        )
    return causes


def validate_flow_schema(obj: Obj) -> list[Cause]:
    spec: Obj = obj["spec"] if isinstance(obj.get("spec"), dict) else {}
    name = str((obj.get("metadata") or {}).get("name") or "")
    causes: list[Cause] = []
    precedence = spec.get("matchingPrecedence")
    if isinstance(precedence, int):
        if precedence <= 0:
            causes.append(field_invalid("spec.matchingPrecedence", precedence, "must be a positive value"))
        elif precedence > MAX_PRECEDENCE:
            causes.append(
                field_invalid(
                    "spec.matchingPrecedence", precedence, f"must not be greater than {MAX_PRECEDENCE}"
                )
            )
        elif precedence == 1 and name != "exempt":
            causes.append(
                field_invalid(
                    "spec.matchingPrecedence",
                    precedence,
                    "only the schema named 'exempt' may have matchingPrecedence 1",
                )
            )
    method = spec.get("distinguisherMethod")
    if isinstance(method, dict) and method.get("type") not in DISTINGUISHERS:
        causes.append(
            field_not_supported("spec.distinguisherMethod.type", method.get("type"), DISTINGUISHERS)
        )
    if not (spec.get("priorityLevelConfiguration") or {}).get("name"):
        causes.append(
            field_required("spec.priorityLevelConfiguration.name", "must reference a priority level")
        )
    for i, rule in enumerate(spec.get("rules") or []):
        path = f"spec.rules[{i}]"
        subjects = rule.get("subjects") or []
        if not subjects:
            causes.append(field_required(f"{path}.subjects", "subjects must contain at least one value"))
        for j, s in enumerate(subjects):
            causes += _subject(s if isinstance(s, dict) else {}, f"{path}.subjects[{j}]")
        resource_rules, non_resource_rules = (
            rule.get("resourceRules") or [],
            rule.get("nonResourceRules") or [],
        )
        if not resource_rules and not non_resource_rules:
            causes.append(
                field_required(path, "at least one of resourceRules and nonResourceRules has to be non-empty")
            )
        for j, r in enumerate(resource_rules):
            causes += _resource_rule(r, f"{path}.resourceRules[{j}]")
        for j, r in enumerate(non_resource_rules):
            causes += _non_resource_rule(r, f"{path}.nonResourceRules[{j}]")
    return causes


def _queuing(q: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("queueLengthLimit", "queues", "handSize"):
        value = q.get(key)
        if not isinstance(value, int) or value <= 0:
            causes.append(field_invalid(f"{path}.{key}", value, "must be positive"))
    queues, hand = q.get("queues"), q.get("handSize")
    if isinstance(queues, int) and isinstance(hand, int) and queues > 0 and hand > 0:
        if hand > queues:
            causes.append(
                field_invalid(f"{path}.handSize", hand, f"should not be greater than queues ({queues})")
            )
        elif math.ceil(hand * math.log2(queues)) > 60:
            causes.append(
                field_invalid(
                    path,
                    q,
                    f"shuffle sharding requirements violated: required entropy bits of deckSize {queues} "
                    f"and handSize {hand} should not be greater than 60",
                )
            )
    return causes


def validate_priority_level(obj: Obj) -> list[Cause]:
    spec: Obj = obj["spec"] if isinstance(obj.get("spec"), dict) else {}
    name = str((obj.get("metadata") or {}).get("name") or "")
    kind = spec.get("type")
    causes: list[Cause] = []
    if kind not in LEVEL_TYPES:
        return [field_not_supported("spec.type", kind, LEVEL_TYPES)]
    if (kind == "Exempt") != (name == "exempt"):
        causes.append(
            field_invalid("spec.type", kind, "type must be 'Exempt' if and only if name is 'exempt'")
        )
    limited, exempt = spec.get("limited"), spec.get("exempt")
    if kind == "Exempt":
        if limited is not None:
            causes.append(field_invalid("spec.limited", "", "must be nil if the type is not Limited"))
        member, shares_path = exempt, "spec.exempt"
    else:
        if exempt is not None:
            causes.append(field_invalid("spec.exempt", "", "must be nil if the type is Limited"))
        if not isinstance(limited, dict):
            return [*causes, field_required("spec.limited", "must not be empty when type is Limited")]
        member, shares_path = limited, "spec.limited"
    if isinstance(member, dict):
        shares = member.get("nominalConcurrencyShares")
        if isinstance(shares, int) and shares < 0:
            causes.append(
                field_invalid(
                    f"{shares_path}.nominalConcurrencyShares", shares, "must be a non-negative integer"
                )
            )
        lendable = member.get("lendablePercent")
        if isinstance(lendable, int) and not 0 <= lendable <= 100:
            causes.append(
                field_invalid(
                    f"{shares_path}.lendablePercent", lendable, "must be between 0 and 100, inclusive"
                )
            )
    if kind == "Limited" and isinstance(limited, dict):
        borrowing = limited.get("borrowingLimitPercent")
        if isinstance(borrowing, int) and borrowing < 0:
            causes.append(
                field_invalid(
                    "spec.limited.borrowingLimitPercent",
                    borrowing,
                    "if specified, must be a non-negative integer",
                )
            )
        response = limited.get("limitResponse") or {}
        rtype, queuing = response.get("type"), response.get("queuing")
        path = "spec.limited.limitResponse"
        if rtype not in RESPONSE_TYPES:
            causes.append(field_not_supported(f"{path}.type", rtype, RESPONSE_TYPES))
        elif rtype == "Reject" and queuing is not None:
            causes.append(
                field_invalid(
                    f"{path}.queuing", "", "must be nil if limited.limitResponse.type is not Limited"
                )
            )
        elif rtype == "Queue":
            if not isinstance(queuing, dict):
                causes.append(
                    field_required(
                        f"{path}.queuing", "must not be empty if limited.limitResponse.type is Limited"
                    )
                )
            else:
                causes += _queuing(queuing, f"{path}.queuing")
    return causes
