"""What an object uses of a ResourceQuota's resources: kube's quota evaluators, as pure functions.

The API server's quota admission adds a new object's usage to each quota of its namespace (and
refuses what would pass `hard`); the controller manager's quota controller sums the usage of
everything in the namespace into `status.used`. Both ask this module, so they count alike:
- pods: `pods` / `count/pods`, and for any resource R `requests.R`, `limits.R` (plain `cpu`,
  `memory`, `ephemeral-storage` and `hugepages-*` mean `requests.*`) summed over the containers,
  at least each init container's own (kube's PodRequests/PodLimits). A pod that has finished
  (Succeeded, Failed) uses nothing.
- services: `services`, `services.nodeports` (node ports it holds), `services.loadbalancers`.
- claims: `persistentvolumeclaims`, `requests.storage`, and per class
  `<class>.storageclass.storage.k8s.io/persistentvolumeclaims` and `.../requests.storage`.
- every other kind counted here: `configmaps`, `secrets`, `replicationcontrollers`,
  `resourcequotas`, and `count/<plural>[.<group>]` for the kinds in COUNTED.
A name none of these covers is refused when the quota is written (validation), never accepted
and left at zero. Scopes `Terminating`, `NotTerminating`, `BestEffort` and `NotBestEffort` pick
which pods a quota counts (kube's scope rules); others are refused likewise.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.jsonutil import as_object
from api.podresources import aggregate
from api.quantity import format_whole, quantity_or_none

Obj = dict[str, Any]

# plural.group (the core group bare) -> the kinds whose objects `count/<that>` counts
COUNTED = frozenset(
    {
        "pods",
        "services",
        "configmaps",
        "secrets",
        "persistentvolumeclaims",
        "replicationcontrollers",
        "resourcequotas",
        "deployments.apps",
        "replicasets.apps",
        "statefulsets.apps",
        "daemonsets.apps",
        "jobs.batch",
        "cronjobs.batch",
    }
)
_PLAIN_COUNTS = {
    "pods": "pods",
    "services": "services",
    "configmaps": "configmaps",
    "secrets": "secrets",
    "persistentvolumeclaims": "persistentvolumeclaims",
    "replicationcontrollers": "replicationcontrollers",
    "resourcequotas": "resourcequotas",
}
_STORAGE_CLASS = ".storageclass.storage.k8s.io/"
POD_SCOPES = (
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
)
# the scopes a scopeSelector may only test for (kube: operator Exists)
EXISTS_ONLY_SCOPES = frozenset(POD_SCOPES) - {"PriorityClass"}
SCOPE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_COMPUTE = ("cpu", "memory", "ephemeral-storage")


def counted_kind(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def supported(name: str) -> bool:
    """Whether kubelite computes this quota resource (else the quota is refused)."""
    if name in _PLAIN_COUNTS or name in ("services.nodeports", "services.loadbalancers", "requests.storage"):
        return True
    if name.startswith("count/"):
        return name[len("count/") :] in COUNTED
    if name.startswith(("requests.", "limits.")):
        return len(name.split(".", 1)[1]) > 0
    if name in _COMPUTE or name.startswith("hugepages-"):
        return True
    if _STORAGE_CLASS in name:
        return name.split(_STORAGE_CLASS, 1)[1] in ("persistentvolumeclaims", "requests.storage")
    return False


def _q(value: Any) -> Decimal:
    return quantity_or_none(value) or Decimal(0)


def _set(c: Any, key: str, resource: str) -> Any:
    """What a container sets for `resource` under resources.`key` (None when it does not)."""
    return as_object(as_object(as_object(c).get("resources")).get(key)).get(resource)


def pod_total(spec: Obj, key: str, resource: str) -> Decimal | None:
    """A pod's `key` (requests or limits) of `resource` by kube's PodRequests/PodLimits rule
    (`api.podresources`: app containers and sidecars add up, each init step at least); None when
    no container sets it. The quota and the LimitRanger's Pod items count a pod with it."""

    def amounts(c: Obj) -> dict[str, Decimal]:
        value = _set(c, key, resource)
        return {} if value is None else {resource: _q(value)}

    return aggregate(spec, amounts).get(resource)


def pod_is_best_effort(pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        res = c.get("resources") or {} if isinstance(c, dict) else {}
        if res.get("requests") or res.get("limits"):
            return False
    return True


def scope_requirements(quota_spec: Obj) -> list[Obj]:
    """A quota's scopes and scopeSelector as one list of requirements (kube merges them: a listed
    scope is the requirement that it holds, operator Exists)."""
    listed = [{"scopeName": str(s), "operator": "Exists"} for s in quota_spec.get("scopes") or []]
    selector = as_object(quota_spec.get("scopeSelector"))
    return listed + [as_object(r) for r in selector.get("matchExpressions") or []]


def _cross_namespace_affinity(spec: Obj) -> bool:
    """Whether a pod's (anti-)affinity terms reach other namespaces (namespaces or namespaceSelector)."""
    affinity = as_object(spec.get("affinity"))
    for kind in ("podAffinity", "podAntiAffinity"):
        rules = as_object(affinity.get(kind))
        terms = list(rules.get("requiredDuringSchedulingIgnoredDuringExecution") or [])
        terms += [
            as_object(w).get("podAffinityTerm")
            for w in rules.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        ]
        for term in terms:
            term = as_object(term)
            if term.get("namespaces") or term.get("namespaceSelector") is not None:
                return True
    return False


def _pod_matches(pod: Obj, requirement: Obj) -> bool:
    """kube's podMatchesScopeFunc for one requirement."""
    spec = as_object(pod.get("spec"))
    scope, op = requirement.get("scopeName"), requirement.get("operator")
    if scope == "PriorityClass":
        name = str(spec.get("priorityClassName") or "")
        values = [str(v) for v in requirement.get("values") or []]
        # a label selector over {PriorityClass: name} (no label when the pod names no class)
        return {
            "In": bool(name) and name in values,
            "NotIn": not name or name not in values,
            "Exists": bool(name),
            "DoesNotExist": not name,
        }.get(str(op), False)
    terminating = spec.get("activeDeadlineSeconds") is not None
    holds = {
        "Terminating": terminating,
        "NotTerminating": not terminating,
        "BestEffort": pod_is_best_effort(pod),
        "NotBestEffort": not pod_is_best_effort(pod),
        "CrossNamespacePodAffinity": _cross_namespace_affinity(spec),
    }.get(str(scope), False)
    return holds if op == "Exists" else False


def quota_counts(quota_spec: Obj, plural: str, group: str, obj: Obj) -> bool:
    """Whether a quota counts this object: an unscoped quota counts everything it names, a scoped
    one only pods that meet every requirement (kube's scoped evaluators are the pods')."""
    requirements = scope_requirements(quota_spec)
    if not requirements:
        return True
    return plural == "pods" and not group and all(_pod_matches(obj, r) for r in requirements)


def _pod_usage(pod: Obj, name: str) -> Decimal | None:
    if name == "count/pods":  # every stored pod, finished or not (kube's object count)
        return Decimal(1)
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return Decimal(0)
    if name == "pods":
        return Decimal(1)
    spec = pod.get("spec") or {}
    if name in _COMPUTE or name.startswith("hugepages-"):
        name = "requests." + name
    # kube's PodRequests and PodLimits add the pod's overhead (its RuntimeClass's): to requests
    # always, to a limit only where one is set (no limit stays unbounded)
    if name.startswith("requests."):
        resource = name[len("requests.") :]
        return (pod_total(spec, "requests", resource) or Decimal(0)) + _overhead(spec, resource)
    if name.startswith("limits."):
        resource = name[len("limits.") :]
        limit = pod_total(spec, "limits", resource)
        return limit + _overhead(spec, resource) if limit else Decimal(0)
    return None


def _overhead(spec: Obj, resource: str) -> Decimal:
    overhead = spec.get("overhead")
    value = overhead.get(resource) if isinstance(overhead, dict) else None
    return (quantity_or_none(value) or Decimal(0)) if value is not None else Decimal(0)


def usage(plural: str, group: str, obj: Obj, names: list[str]) -> dict[str, Decimal]:
    """What `obj` (of plural.group) uses of the quota resources `names` (only those it touches)."""
    kind = counted_kind(plural, group)
    out: dict[str, Decimal] = {}
    for name in names:
        value: Decimal | None = None
        if kind == "pods":
            value = _pod_usage(obj, name)
        elif name == f"count/{kind}" or _PLAIN_COUNTS.get(name) == kind:
            value = Decimal(1)
        elif kind == "services":
            spec = obj.get("spec") or {}
            if name == "services.nodeports":
                ports = spec.get("ports") or []
                value = Decimal(sum(1 for p in ports if isinstance(p, dict) and p.get("nodePort")))
                if spec.get("type") in ("NodePort", "LoadBalancer") and not value:
                    value = Decimal(len(ports))
            elif name == "services.loadbalancers":
                value = Decimal(1 if spec.get("type") == "LoadBalancer" else 0)
        elif kind == "persistentvolumeclaims":
            spec = obj.get("spec") or {}
            storage = _q(((spec.get("resources") or {}).get("requests") or {}).get("storage"))
            cls = str(spec.get("storageClassName") or "")
            if name == "requests.storage":
                value = storage
            elif name == f"{cls}{_STORAGE_CLASS}persistentvolumeclaims":
                value = Decimal(1)
            elif name == f"{cls}{_STORAGE_CLASS}requests.storage":
                value = storage
        if value is not None:
            out[name] = value
    return out


_MUST_SPECIFY = {
    "cpu": ("requests", "cpu"),
    "memory": ("requests", "memory"),
    "requests.cpu": ("requests", "cpu"),
    "requests.memory": ("requests", "memory"),
    "limits.cpu": ("limits", "cpu"),
    "limits.memory": ("limits", "memory"),
}


def missing_compute(pod: Obj, names: list[str]) -> list[str]:
    """kube's "must specify" (its pod evaluator's Constraints): a quota bounding cpu or memory
    needs every container, init containers too, to set them, else a pod could escape it; as
    `<resource> for: <containers>`, sorted."""
    spec = pod.get("spec") or {}
    containers = [
        c
        for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
        if isinstance(c, dict)
    ]
    out = []
    for name in names:
        if name not in _MUST_SPECIFY:
            continue
        key, resource = _MUST_SPECIFY[name]
        lacking = sorted(
            {
                str(c.get("name"))
                for c in containers
                if ((c.get("resources") or {}).get(key) or {}).get(resource) is None
            }
        )
        if lacking:
            out.append(f"{name} for: {','.join(lacking)}")
    return sorted(out)


def written(value: Decimal, like: str = "") -> str:
    """A quantity as Quantity.String() writes it: whole numbers with the largest exact suffix in
    the format of `like` (a hard limit's spelling), fractions in milli-units."""
    if value == value.to_integral_value():
        return format_whole(int(value), like)
    return f"{int(value * 1000)}m"
