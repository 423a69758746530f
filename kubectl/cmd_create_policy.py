"""`kubectl create namespace|quota|priorityclass|poddisruptionbudget NAME`: the generators whose
object is a few flags copied into a spec.

Each builds what kubectl's create_namespace.go, create_quota.go, create_priorityclass.go and
create_pdb.go build, in Go's field order (`--save-config` records that order), and validates as
they do: quota values are parsed as Quantities and sent in their canonical text (`1000m` goes as
`1`), a PDB needs a selector and exactly one of `--min-available`/`--max-unavailable` (a number or
a percentage), its selector parsed as metav1.ParseToLabelSelector parses one. Creating goes
through `creating.create_generated`.
"""

from __future__ import annotations

import re
from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import WRITE_FLAGS, FlagSpec, Help, Parsed

_OWN: dict[str, FlagSpec] = {
    "namespace": {},
    "quota": {
        "hard": (
            "str",
            "",
            "",
            "The limits, as resource=quantity pairs separated by commas (e.g. pods=10,cpu=4).",
        ),
        "scopes": (
            "str",
            "",
            "",
            "Scopes the quota applies to, comma separated (e.g. BestEffort,NotTerminating).",
        ),
    },
    "priorityclass": {
        "value": ("int", 0, "", "The priority; a higher value schedules first."),
        "global-default": ("bool", False, "", "Make this the priority class of pods that name none."),
        "description": ("str", "", "", "What the class is for, in a few words."),
        "preemption-policy": (
            "str",
            "PreemptLowerPriority",
            "",
            "Whether its pods may evict lower-priority ones: PreemptLowerPriority or Never.",
        ),
    },
    "poddisruptionbudget": {
        "selector": ("str", "", "", "Label selector of the pods the budget protects."),
        "min-available": ("str", "", "", "Pods that must stay available: a number or a percentage."),
        "max-unavailable": ("str", "", "", "Pods that may be unavailable at once: a number or a percentage."),
    },
}
ALIASES = {
    "ns": "namespace",
    "resourcequota": "quota",
    "pc": "priorityclass",
    "pdb": "poddisruptionbudget",
}
FLAGS: dict[str, FlagSpec] = {
    "create": {**WRITE_FLAGS, **{k: v for own in _OWN.values() for k, v in own.items()}}
}
HELP = {
    "create namespace": Help(
        summary="Create a namespace",
        aliases=("ns",),
        usage="NAME [--dry-run=server|client|none]",
        examples="""
        # A namespace for a team
        kubectl create namespace team-a
        """,
        flags=(*WRITE_FLAGS, *_OWN["namespace"]),
    ),
    "create quota": Help(
        summary="Create a resource quota with hard limits",
        aliases=("resourcequota",),
        usage="NAME [--hard=key1=value1,key2=value2] [--scopes=Scope1,Scope2] [--dry-run=server|client|none]",
        examples="""
        # At most 10 pods and 4 CPUs requested in the namespace
        kubectl create quota small --hard=pods=10,requests.cpu=4

        # A limit that only counts best-effort pods
        kubectl create quota besteffort --hard=pods=5 --scopes=BestEffort
        """,
        flags=(*WRITE_FLAGS, *_OWN["quota"]),
    ),
    "create priorityclass": Help(
        summary="Create a priority class for pods",
        aliases=("pc",),
        usage="NAME --value=VALUE --global-default=BOOL [--dry-run=server|client|none]",
        examples="""
        # A high priority for critical services
        kubectl create priorityclass critical --value=100000 --description="front-end services"

        # The default for pods that name none
        kubectl create priorityclass normal --value=1000 --global-default

        # A priority that never evicts other pods
        kubectl create priorityclass polite --value=5000 --preemption-policy=Never
        """,
        flags=(*WRITE_FLAGS, *_OWN["priorityclass"]),
    ),
    "create poddisruptionbudget": Help(
        summary="Create a pod disruption budget for the pods a selector picks",
        aliases=("pdb",),
        usage="NAME --selector=SELECTOR --min-available=N [--dry-run=server|client|none]",
        examples="""
        # Keep at least two web pods during voluntary disruptions
        kubectl create poddisruptionbudget web --selector=app=web --min-available=2

        # Let at most a quarter of the workers go at once
        kubectl create pdb workers --selector=app=worker --max-unavailable=25%
        """,
        flags=(*WRITE_FLAGS, *_OWN["poddisruptionbudget"]),
    ),
}
_COUNT = re.compile(r"^[0-9]+%?$")
_OPERATORS = {"in": "In", "notin": "NotIn", "exists": "Exists", "!": "DoesNotExist"}


def _meta(name: str) -> dict[str, Any]:
    return {"name": name, "creationTimestamp": None}


def namespace_object(name: str) -> dict[str, Any]:
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": _meta(name), "spec": {}, "status": {}}


def resource_list(spec: str) -> dict[str, str]:
    """`cpu=1,memory=1Gi` as a ResourceList (a Go map: keys sorted), values in canonical text."""
    from api.quantity_text import canonical_quantity

    out: dict[str, str] = {}
    for statement in spec.split(",") if spec else []:
        parts = statement.split("=")
        if len(parts) != 2:
            raise CommandError(f"error: Invalid argument syntax {statement}, expected <resource>=<value>")
        try:
            out[parts[0]] = canonical_quantity(parts[1])
        except ValueError as e:
            raise CommandError(f"error: {e}") from None
    return dict(sorted(out.items()))


def quota_object(name: str, hard: str, scopes: str) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if hard:
        spec["hard"] = resource_list(hard)
    if scopes:
        parsed = scopes.split(",")
        if "" in parsed:
            raise CommandError('error: invalid resource quota scope ""')
        spec["scopes"] = parsed
    return {"kind": "ResourceQuota", "apiVersion": "v1", "metadata": _meta(name), "spec": spec, "status": {}}


def priority_class_object(
    name: str, value: int, global_default: bool, description: str, preemption: str
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "kind": "PriorityClass",
        "apiVersion": "scheduling.k8s.io/v1",
        "metadata": _meta(name),
        "value": value,
    }
    if global_default:
        obj["globalDefault"] = True
    if description:
        obj["description"] = description
    obj["preemptionPolicy"] = preemption
    return obj


def label_selector(text: str) -> dict[str, Any]:
    """A selector string as a LabelSelector: equalities in matchLabels, the rest as expressions."""
    from api.errors import ApiError
    from api.selectors import parse_label_selector

    try:
        reqs = sorted(parse_label_selector(text).requirements, key=lambda r: r.key)
    except ApiError as e:
        raise CommandError(f'error: couldn\'t parse the selector string "{text}": {e.message}') from None
    labels: dict[str, str] = {}
    exprs: list[dict[str, Any]] = []
    for r in reqs:
        if r.op == "=":
            labels[r.key] = r.values[0]
        elif r.op in _OPERATORS:
            expr: dict[str, Any] = {"key": r.key, "operator": _OPERATORS[r.op]}
            if r.values:
                expr["values"] = sorted(set(r.values))
            exprs.append(expr)
        else:
            raise CommandError(f'error: "{r.op}" is not a valid label selector operator')
    sel: dict[str, Any] = {}
    if labels:
        sel["matchLabels"] = dict(sorted(labels.items()))
    if exprs:
        sel["matchExpressions"] = exprs
    return sel


def _int_or_string(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def pdb_object(name: str, selector: str, min_available: str, max_unavailable: str) -> dict[str, Any]:
    if not selector:
        raise CommandError("error: a selector must be specified")
    if not min_available and not max_unavailable:
        raise CommandError("error: one of min-available or max-unavailable must be specified")
    if min_available and max_unavailable:
        raise CommandError("error: min-available and max-unavailable cannot be both specified")
    for flag, value in (("min-available", min_available), ("max-unavailable", max_unavailable)):
        if value and not _COUNT.match(value):
            raise CommandError(f"error: invalid format specified for {flag}")
    spec: dict[str, Any] = {}
    if min_available:
        spec["minAvailable"] = _int_or_string(min_available)
    spec["selector"] = label_selector(selector)
    if max_unavailable:
        spec["maxUnavailable"] = _int_or_string(max_unavailable)
    counts = ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods")
    return {
        "kind": "PodDisruptionBudget",
        "apiVersion": "policy/v1",
        "metadata": _meta(name),
        "spec": spec,
        "status": dict.fromkeys(counts, 0),
    }


def create(env: Env, p: Parsed) -> int:
    from kubectl.creating import create_generated, one_name, unknown_flags

    what = ALIASES.get(p.args[0], p.args[0])
    unknown_flags(p, [*WRITE_FLAGS, *_OWN[what]], what)
    name = one_name(p.args[1:], what)
    if what == "namespace":
        return create_generated(env, p, namespace_object(name), "namespaces")
    if what == "quota":
        obj = quota_object(name, p["hard"], p["scopes"])
        return create_generated(env, p, obj, "resourcequotas", "failed to create quota: ")
    if what == "priorityclass":
        obj = priority_class_object(
            name, p["value"], p["global-default"], p["description"], p["preemption-policy"]
        )
        return create_generated(env, p, obj, "priorityclasses", "failed to create priorityclass: ")
    obj = pdb_object(name, p["selector"], p["min-available"], p["max-unavailable"])
    return create_generated(env, p, obj, "poddisruptionbudgets", "failed to create poddisruptionbudgets: ")
