"""kube-apiserver's Priority admission plugin: what a pod's priority is, decided once, on create.

A pod naming `spec.priorityClassName` gets that class's `value` as `spec.priority` and its
`preemptionPolicy`; a pod naming none gets the globalDefault class (its name too), or priority 0
and PreemptLowerPriority when no class is the default. A class that does not exist, or a pod
that already says a different priority or policy, is refused with 403 in kube's words. The
scheduler reads only `spec.priority`, so every pod carries one.

The plugin also keeps at most one class the global default (`check_single_default`, on class
writes; kube's validatePriorityClass). The classes are looked up in a `PriorityClassCache` (a
StoreMirror: no store read per pod create); a miss on a named class is confirmed by one store
read, as another server's create may not have arrived by watch yet.
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api.errors import ApiError, admission_forbidden, forbidden, object_name
from apiserver.mirror import ParsedMirror
from apiserver.storage.interface import Store

Obj = dict[str, Any]
NO_DEFAULT_PRIORITY = 0  # kube's DefaultPriorityWhenNoDefaultClassExists
DEFAULT_PREEMPTION_POLICY = "PreemptLowerPriority"

# what admission reads of a PriorityClass: (value, globalDefault, preemptionPolicy)
PriorityClass = tuple[int, bool, str | None]


def class_of(obj: Obj) -> PriorityClass:
    value = obj.get("value")
    policy = obj.get("preemptionPolicy")
    return (
        value if isinstance(value, int) and not isinstance(value, bool) else 0,
        obj.get("globalDefault") is True,
        policy if isinstance(policy, str) else None,
    )


def default_class(classes: dict[str, PriorityClass]) -> tuple[str, PriorityClass] | None:
    """The global default: the lowest value when a race left several (kube's getDefaultPriorityClass),
    then by name so that every server picks the same."""
    marked = [(c[0], name) for name, c in classes.items() if c[1]]
    if not marked:
        return None
    _, name = min(marked)
    return name, classes[name]


class PriorityClassCache(ParsedMirror[PriorityClass]):
    """What admission reads of every PriorityClass, by name, kept by a watch."""

    PREFIX = "/registry/scheduling.k8s.io/priorityclasses/"

    def __init__(self, store: Store) -> None:
        super().__init__(store, self.PREFIX, lambda value: class_of(jsonutil.loads(value)))

    async def lookup(self, name: str) -> PriorityClass | None:
        """The class, None when it does not exist; a miss is confirmed by a store read."""
        hit = self.items.get(name)
        return hit if hit is not None else await self.read(name)

    async def default(self) -> tuple[str, PriorityClass] | None:
        """The global default class. Before the mirror's first listing (a server still starting, or
        one run without it) the store is read instead."""
        if self.mirror.synced.is_set():
            return default_class(self.items)
        _, kvs = await self.store.list(self.PREFIX)
        return default_class({kv.key[len(self.PREFIX) :]: self.parse(kv.value) for kv in kvs})


def pod_forbidden(pod: Obj, why: str) -> ApiError:
    """403 as kube's admission.NewForbidden words it: the name is not generated yet, so a pod with
    only generateName is named by it."""
    return admission_forbidden("pods", "", object_name(pod), why)


async def admit_pod(classes: PriorityClassCache, pod: Obj) -> None:
    """kube's Priority admission of a pod create: resolve the class, refuse a missing one or a
    contradicting priority or policy, then set spec.priority and spec.preemptionPolicy."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return  # the type check names it
    class_name = spec.get("priorityClassName")
    if class_name is not None and not isinstance(class_name, str):
        return
    policy: str | None
    if not class_name:
        found = await classes.default()
        if found is None:
            value, policy = NO_DEFAULT_PRIORITY, DEFAULT_PREEMPTION_POLICY
        else:
            spec["priorityClassName"] = found[0]
            value, _, policy = found[1]
    else:
        pc = await classes.lookup(class_name)
        if pc is None:
            raise pod_forbidden(pod, f"no PriorityClass with name {class_name} was found")
        value, _, policy = pc
    given = spec.get("priority")
    if isinstance(given, int) and not isinstance(given, bool) and given != value:
        raise pod_forbidden(
            pod,
            f"the integer value of priority ({given}) must not be provided in pod spec; priority admission "
            f"controller computed {value} from the given PriorityClass name",
        )
    spec["priority"] = value
    if policy is not None:
        given_policy = spec.get("preemptionPolicy")
        if given_policy is not None and given_policy != policy:
            raise pod_forbidden(
                pod,
                f"the string value of PreemptionPolicy ({given_policy}) must not be provided in pod spec; "
                f"priority admission controller computed {policy} from the given PriorityClass name",
            )
        spec["preemptionPolicy"] = policy


def keep_priority(new: Obj, old: Obj) -> None:
    """On a pod update the priority set at create stays when the client left it out (kube's
    admitPod on Update); any other change is the pod update validation's to refuse."""
    spec, old_spec = new.get("spec"), old.get("spec")
    if not isinstance(spec, dict) or not isinstance(old_spec, dict):
        return
    for key in ("priority", "preemptionPolicy"):
        if spec.get(key) is None and old_spec.get(key) is not None:
            spec[key] = old_spec[key]


def check_single_default(stored: list[Obj], pc: Obj, creating: bool) -> None:
    """Refuse a class marked globalDefault while another one is (kube's validatePriorityClass)."""
    if pc.get("globalDefault") is not True:
        return
    found = default_class({str((c.get("metadata") or {}).get("name") or ""): class_of(c) for c in stored})
    name = str((pc.get("metadata") or {}).get("name") or "")
    if found is not None and (creating or found[0] != name):
        err = forbidden(
            f'priorityclasses.scheduling.k8s.io "{name}" is forbidden: PriorityClass {found[0]} is already '
            "marked as default. Only one default can exist"
        )
        err.details = {"name": name, "group": "scheduling.k8s.io", "kind": "priorityclasses"}
        raise err
