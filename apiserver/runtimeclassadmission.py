"""kube-apiserver's RuntimeClass admission plugin: what a pod's runtimeClassName brings, on create.

A pod naming a class that does not exist is refused (403, `pod rejected: RuntimeClass "x" not
found`). A class with an overhead gives the pod its `overhead.podFixed` as `spec.overhead`; a
pod that already says a different overhead is refused, and so is a pod with an overhead its
class (or its lack of a class) does not define, so that `spec.overhead` only ever comes from a
class. A class's scheduling is merged into the pod: its nodeSelector added to the pod's (a key
the pod sets to another value is refused, in kube's `conflict: ...` words) and its tolerations
added, the redundant ones dropped (kube's MergeTolerations).

The class is read from the store, once per create of a pod that names one (kube reads its
informer, then the API on a miss; pods naming a class are few, and a store read is never stale).
Only creates: kube's plugin handles nothing else, so a pod keeps what it was admitted with.
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api.quantity import quantity_or_none
from apiserver.priorityadmission import pod_forbidden
from apiserver.storage.interface import Store

Obj = dict[str, Any]
PREFIX = "/registry/node.k8s.io/runtimeclasses/"
OVERHEAD_MISMATCH = "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"
OVERHEAD_WITHOUT_CLASS = "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"


def _same_resources(a: Any, b: Any) -> bool:
    """apiequality.Semantic on two ResourceLists: the same names, quantities equal in value
    (`1Gi` is `1073741824`); nil and empty are equal."""
    a = a if isinstance(a, dict) else {}
    b = b if isinstance(b, dict) else {}
    return a.keys() == b.keys() and all(quantity_or_none(a[k]) == quantity_or_none(b[k]) for k in a)


def _is_superset(ss: Obj, t: Obj) -> bool:
    """Whether toleration `ss` tolerates everything `t` does (kube's isSuperset)."""
    if ss == t:
        return True
    if t.get("key", "") != ss.get("key", "") and (ss.get("key") or ss.get("operator") != "Exists"):
        return False
    if t.get("effect", "") != ss.get("effect", "") and ss.get("effect"):
        return False
    if ss.get("effect") == "NoExecute" and ss.get("tolerationSeconds") is not None:
        seconds = t.get("tolerationSeconds")
        if seconds is None or seconds > ss["tolerationSeconds"]:
            return False
    if ss.get("operator") in (None, "", "Equal"):
        return bool(t.get("operator") == "Equal" and t.get("value", "") == ss.get("value", ""))
    return ss.get("operator") == "Exists"


def merge_tolerations(first: list[Any], second: list[Any]) -> list[Any]:
    """kube's MergeTolerations: both lists in order, less what another kept one (or a later
    wider one) already tolerates; of equal ones the first stays."""
    every = [t for t in [*first, *second] if isinstance(t, dict)]
    merged: list[Obj] = []
    for i, t in enumerate(every):
        if any(_is_superset(kept, t) for kept in merged):
            continue
        if any(later != t and _is_superset(later, t) for later in every[i + 1 :]):
            continue
        merged.append(t)
    return merged


def _set_scheduling(pod: Obj, spec: Obj, scheduling: Obj) -> None:
    selector = scheduling.get("nodeSelector")
    if isinstance(selector, dict) and selector:
        mine = spec.get("nodeSelector")
        mine = dict(mine) if isinstance(mine, dict) else {}
        for key, value in sorted(selector.items()):
            if key in mine and mine[key] != value:
                raise pod_forbidden(
                    pod,
                    f"conflict: runtimeClass.scheduling.nodeSelector[{key}] = {value}; "
                    f"pod.spec.nodeSelector[{key}] = {mine[key]}",
                )
            mine[key] = value
        spec["nodeSelector"] = mine
    mine_tol = spec.get("tolerations")
    class_tol = scheduling.get("tolerations")
    merged = merge_tolerations(
        mine_tol if isinstance(mine_tol, list) else [], class_tol if isinstance(class_tol, list) else []
    )
    if merged:
        spec["tolerations"] = merged
    else:
        spec.pop("tolerations", None)


async def admit_pod(store: Store, pod: Obj) -> None:
    """kube's RuntimeClass Admit and Validate of a pod create, in place (or raise 403)."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return  # the type check names it
    name = spec.get("runtimeClassName")
    rc: Obj | None = None
    if isinstance(name, str) and name:  # kube's nil check; "" fails validation after admission
        kv = await store.get(PREFIX + name)
        if kv is None:
            raise pod_forbidden(pod, f'pod rejected: RuntimeClass "{name}" not found')
        rc = jsonutil.loads(kv.value)
    overhead = (rc or {}).get("overhead")
    if isinstance(overhead, dict):
        fixed = overhead.get("podFixed")
        if spec.get("overhead") is not None and not _same_resources(fixed, spec["overhead"]):
            raise pod_forbidden(pod, OVERHEAD_MISMATCH)
        if isinstance(fixed, dict):
            spec["overhead"] = dict(fixed)
        else:
            spec.pop("overhead", None)
    elif spec.get("overhead") is not None:
        raise pod_forbidden(pod, OVERHEAD_WITHOUT_CLASS)
    scheduling = (rc or {}).get("scheduling")
    if isinstance(scheduling, dict):
        _set_scheduling(pod, spec, scheduling)
