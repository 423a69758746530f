"""The FlowSchemas and PriorityLevelConfigurations every server makes at start, as kube-apiserver's
(flowcontrol bootstrap defaults of Kubernetes 1.33, and its ensurer's rules for keeping them).

- Mandatory (`exempt`, `catch-all`, both kinds): created when missing and kept in line: a spec
  that differs is put back, with `apf.kubernetes.io/autoupdate-spec: "true"`. Of the exempt level
  only `spec.exempt` (nominalConcurrencyShares, lendablePercent) is the users' to change.
- Suggested (system, node-high, leader-election, workload-high, workload-low, global-default, and
  the schemas that route to them, probes to exempt): created when missing; updated only while
  their annotation says "true" (a user who sets it to "false" keeps their changes).

Every server of a datastore runs this with the same objects: an update is a compare-and-swap of
the same desired spec, and a spec already in line is not written, so servers do not fight.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from api.errors import ApiError
from api.resources import by_plural

log = logging.getLogger(__name__)
Obj = dict[str, Any]

GROUP = "flowcontrol.apiserver.k8s.io"
API_VERSION = GROUP + "/v1"
AUTO_UPDATE = "apf.kubernetes.io/autoupdate-spec"
FLOW_SCHEMAS = by_plural(GROUP, "flowschemas")
PRIORITY_LEVELS = by_plural(GROUP, "prioritylevelconfigurations")

ALL_RESOURCES = [
    {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "clusterScope": True, "namespaces": ["*"]}
]
ALL_PATHS = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
EVERYONE = [
    {"kind": "Group", "group": {"name": "system:unauthenticated"}},
    {"kind": "Group", "group": {"name": "system:authenticated"}},
]


def _group(name: str) -> Obj:
    return {"kind": "Group", "group": {"name": name}}


def _user(name: str) -> Obj:
    return {"kind": "User", "user": {"name": name}}


def _kube_system_sa(name: str = "*") -> Obj:
    return {"kind": "ServiceAccount", "serviceAccount": {"namespace": "kube-system", "name": name}}


def _level(name: str, shares: int, lendable: int, queues: int = 0, hand: int = 0) -> Obj:
    limit_response: Obj = {"type": "Reject"}
    if queues:
        limit_response = {
            "type": "Queue",
            "queuing": {"queues": queues, "handSize": hand, "queueLengthLimit": 50},
        }
    spec = {
        "type": "Limited",
        "limited": {
            "nominalConcurrencyShares": shares,
            "lendablePercent": lendable,
            "limitResponse": limit_response,
        },
    }
    return _object("PriorityLevelConfiguration", name, spec)


def _schema(name: str, level: str, precedence: int, method: str, *rules: Obj) -> Obj:
    spec: Obj = {"priorityLevelConfiguration": {"name": level}, "matchingPrecedence": precedence}
    if method:
        spec["distinguisherMethod"] = {"type": method}
    spec["rules"] = list(rules)
    return _object("FlowSchema", name, spec)


def _object(kind: str, name: str, spec: Obj) -> Obj:
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "annotations": {AUTO_UPDATE: "true"}},
        "spec": spec,
    }


def _all(*subjects: Obj) -> Obj:
    return {"subjects": list(subjects), "resourceRules": ALL_RESOURCES, "nonResourceRules": ALL_PATHS}


def _rule(verbs: list[str], group: str, resources: list[str], namespaces: list[str], cluster: bool) -> Obj:
    out: Obj = {"verbs": verbs, "apiGroups": [group], "resources": resources}
    if cluster:
        out["clusterScope"] = True
    out["namespaces"] = namespaces
    return out


MANDATORY_LEVELS = [
    _object(
        "PriorityLevelConfiguration",
        "exempt",
        {"type": "Exempt", "exempt": {"nominalConcurrencyShares": 0, "lendablePercent": 0}},
    ),
    _level("catch-all", 5, 0),
]
MANDATORY_SCHEMAS = [
    _schema("exempt", "exempt", 1, "", _all(_group("system:masters"))),
    _schema("catch-all", "catch-all", 10000, "ByUser", _all(*EVERYONE)),
]
SUGGESTED_LEVELS = [
    _level("system", 30, 33, 64, 6),
    _level("node-high", 40, 25, 64, 6),
    _level("leader-election", 10, 0, 16, 4),
    _level("workload-high", 40, 50, 128, 6),
    _level("workload-low", 100, 90, 128, 6),
    _level("global-default", 20, 50, 128, 6),
]
_LEASES = _rule(["get", "create", "update"], "coordination.k8s.io", ["leases"], ["*"], False)
SUGGESTED_SCHEMAS = [
    _schema("system-nodes", "system", 500, "ByUser", _all(_group("system:nodes"))),
    _schema(
        "system-node-high",
        "node-high",
        400,
        "ByUser",
        {
            "subjects": [_group("system:nodes")],
            "resourceRules": [
                _rule(["*"], "", ["nodes", "nodes/status"], ["*"], True),
                _rule(["*"], "coordination.k8s.io", ["leases"], ["*"], False),
            ],
        },
    ),
    _schema(
        "probes",
        "exempt",
        2,
        "",
        {
            "subjects": EVERYONE,
            "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/readyz", "/livez"]}],
        },
    ),
    _schema(
        "system-leader-election",
        "leader-election",
        100,
        "ByUser",
        {
            "subjects": [
                _user("system:kube-controller-manager"),
                _user("system:kube-scheduler"),
                _kube_system_sa(),
            ],
            "resourceRules": [_LEASES],
        },
    ),
    _schema(
        "endpoint-controller",
        "workload-high",
        150,
        "ByUser",
        {
            "subjects": [_user("system:kube-controller-manager"), _kube_system_sa("endpoint-controller")],
            "resourceRules": [_rule(["get", "create", "update"], "", ["endpoints"], ["*"], False)],
        },
    ),
    _schema(
        "workload-leader-election",
        "leader-election",
        200,
        "ByUser",
        {"subjects": [_kube_system_sa()], "resourceRules": [_LEASES]},
    ),
    _schema(
        "kube-controller-manager",
        "workload-high",
        800,
        "ByNamespace",
        _all(_user("system:kube-controller-manager")),
    ),
    _schema("kube-scheduler", "workload-high", 800, "ByNamespace", _all(_user("system:kube-scheduler"))),
    _schema("kube-system-service-accounts", "workload-high", 900, "ByNamespace", _all(_kube_system_sa())),
    _schema("service-accounts", "workload-low", 9000, "ByUser", _all(_group("system:serviceaccounts"))),
    _schema("global-default", "global-default", 9900, "ByUser", _all(*EVERYONE)),
]
MANDATORY_NAMES = frozenset({"exempt", "catch-all"})


def _desired_spec(current: Obj, desired: Obj, mandatory: bool) -> Obj:
    spec = copy.deepcopy(desired["spec"])
    if mandatory and desired["kind"] == "PriorityLevelConfiguration" and spec.get("type") == "Exempt":
        spec["exempt"] = (current.get("spec") or {}).get("exempt") or spec["exempt"]  # the users' part
    return spec


async def _ensure(registry: Any, res: Any, desired: Obj, mandatory: bool) -> None:
    from apiserver import logic

    name = desired["metadata"]["name"]
    fresh = logic.apply_defaults(res, copy.deepcopy(desired))  # the spec as stored once defaulted
    kv = await registry.store.get(res.storage_key(name))
    if kv is None:
        try:
            await registry.create(res, None, copy.deepcopy(desired))
        except ApiError as e:
            if e.reason != "AlreadyExists":
                raise
        return

    def mutate(obj: Obj, _kv: Any) -> tuple[Obj, str | None]:
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if not mandatory and annotations.get(AUTO_UPDATE) != "true":
            return obj, None  # the user took it over: left alone
        spec = _desired_spec(obj, fresh, mandatory)
        if obj.get("spec") != spec or annotations.get(AUTO_UPDATE) != "true":
            obj["spec"] = spec
            obj["metadata"].setdefault("annotations", {})[AUTO_UPDATE] = "true"
        return obj, None

    await registry.update(res, None, name, mutate)


async def ensure_all(registry: Any) -> None:
    """Make and keep the mandatory objects, make the suggested ones (levels before schemas)."""
    assert FLOW_SCHEMAS is not None and PRIORITY_LEVELS is not None
    for objs, res, mandatory in (
        (MANDATORY_LEVELS, PRIORITY_LEVELS, True),
        (SUGGESTED_LEVELS, PRIORITY_LEVELS, False),
        (MANDATORY_SCHEMAS, FLOW_SCHEMAS, True),
        (SUGGESTED_SCHEMAS, FLOW_SCHEMAS, False),
    ):
        for obj in objs:
            await _ensure(registry, res, obj, mandatory)
