"""The object lifecycle every kind shares, as kube's generic registry has it: pure functions.

Identity checks of a body against its URL, what a create sets in metadata, what a main write
keeps from the stored object (server-owned metadata, status where the kind writes it through
/status) and what a status write keeps (everything but status), when the generation moves, and
how a delete proceeds (preconditions, propagation finalizers, grace, finalizers holding the
object). Where kinds differ, the functions ask the kind's strategy row (`apiserver.kinds`);
nothing here branches on a plural. The registry applies them; they never touch I/O.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
from typing import Any

from api import jsonutil
from api.errors import ApiError, bad_request, conflict
from api.resources import Resource
from apiserver import kinds

# metadata the server owns: a write never changes it
SERVER_META = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "name",
    "namespace",
)
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # kube's: no vowels, no look-alikes


# uids and name suffixes must be unique, not secret: a PRNG seeded once from the OS is enough,
# and it costs ~1 us where os.urandom (uuid4) costs ~100 us on some VMs
_rng = random.Random(os.urandom(32))


def random_suffix(n: int = 5) -> str:
    return "".join(_rng.choice(_SUFFIX_ALPHABET) for _ in range(n))


def new_uid() -> str:
    return str(uuid.UUID(int=_rng.getrandbits(128), version=4))


def check_identity(res: Resource, obj: Any, namespace: str | None, name: str | None = None) -> dict[str, Any]:
    """kind/apiVersion from the URL when missing, 400 when wrong; namespace and name as the URL says."""
    if not isinstance(obj, dict):
        raise bad_request(f"the body of the request was not a JSON object: got {type(obj).__name__}")
    kind, version = obj.get("kind"), obj.get("apiVersion")
    if version and version != res.api_version:
        raise bad_request(
            f"the API version in the data ({version}) does not match the expected API version "
            f"({res.api_version})"
        )
    if kind and kind != res.kind:
        raise bad_request(
            f'{kind} in version "{version or res.api_version}" cannot be handled as a {res.kind}: '
            f"the object provided is unrecognized (must be of type {res.kind})"
        )
    if not kind or not version:  # kind and apiVersion lead, as kube writes them
        obj = {
            "kind": res.kind,
            "apiVersion": res.api_version,
            **{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")},
        }
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    elif not isinstance(meta, dict):
        raise bad_request(
            f'{res.kind} in version "{res.api_version}" cannot be handled as a {res.kind}: '
            "json: cannot unmarshal metadata into Go struct field of type v1.ObjectMeta"
        )
    if res.namespaced:
        got = meta.get("namespace")
        if got and namespace and got != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        if namespace:
            meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    if name is not None:
        got_name = meta.get("name")
        if got_name and got_name != name:
            raise bad_request(
                f"the name of the object ({got_name}) does not match the name on the URL ({name})"
            )
        meta["name"] = name
    return obj


# ObjectMeta's maps and lists are `omitempty` in kube: an empty one (`kubectl annotate x a-` on the
# last annotation) is not stored, so no reader sees `annotations: {}`
_OMITTED_WHEN_EMPTY = ("labels", "annotations", "finalizers", "ownerReferences")


def drop_empty_meta(meta: dict[str, Any]) -> None:
    for key in _OMITTED_WHEN_EMPTY:
        if key in meta and meta[key] in (None, {}, []):
            del meta[key]


def prepare_for_create(res: Resource, obj: dict[str, Any], now: str, uid: str) -> None:
    meta = obj["metadata"]
    drop_empty_meta(meta)
    for k in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
        meta.pop(k, None)
    meta["uid"] = uid
    meta["creationTimestamp"] = now
    row = kinds.for_resource(res)
    if row.generation:
        meta["generation"] = 1
    else:
        meta.pop("generation", None)
    if row.prepare_create is not None:
        row.prepare_create(obj)


def keep_ephemeral_containers(res: Resource, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """A write to pods/ephemeralcontainers (kube's dropNonEphemeralContainerUpdates): the stored
    pod with only its ephemeral containers as written; what else the body changed is dropped, not
    refused. A changed spec counts a generation, as any spec write of a pod."""
    out = dict(old)
    out["metadata"] = dict(old.get("metadata") or {})
    spec = dict(old.get("spec") or {})
    sent = jsonutil.as_object(new.get("spec")).get("ephemeralContainers")
    if sent:
        spec["ephemeralContainers"] = sent
    else:
        spec.pop("ephemeralContainers", None)
    out["spec"] = spec
    if kinds.for_resource(res).generation and spec != old.get("spec"):
        out["metadata"]["generation"] = int(out["metadata"].get("generation") or 1) + 1
    return out


def keep_status(res: Resource, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """A write that keeps only the body's status (a /status write, and a CSR's /approval)."""
    return prepare_for_update(res, new, old, "status")


def prepare_for_update(
    res: Resource, new: dict[str, Any], old: dict[str, Any], subresource: str | None
) -> dict[str, Any]:
    """The object to store for a write of `new` over `old` (status or main write)."""
    if subresource == "status":
        # a status write changes status only: spec and metadata stay as stored
        out = dict(old)
        if "status" in new:
            out["status"] = new["status"]
        else:
            out.pop("status", None)
        out["metadata"] = dict(old.get("metadata") or {})
        raw_meta = new.get("metadata")
        new_meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        for key in kinds.for_resource(res).status_metadata:  # e.g. a Deployment's revision annotation
            if key in new_meta:
                out["metadata"][key] = new_meta[key]
            else:
                out["metadata"].pop(key, None)
        return out
    meta, old_meta = new["metadata"], old.get("metadata") or {}
    drop_empty_meta(meta)
    for k in SERVER_META:
        if k in old_meta:
            meta[k] = old_meta[k]
        else:
            meta.pop(k, None)
    row = kinds.for_resource(res)
    row.hooks.carry_over(new, old)
    if row.status_separate:
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)
    if row.prepare_update is not None:
        row.prepare_update(new, old)
    if row.generation and new.get(row.spec_field) != old.get(row.spec_field):
        meta["generation"] = int(old_meta.get("generation") or 1) + 1
    return new


def finalize_namespace(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """PUT namespaces/x/finalize: only spec.finalizers change."""
    out = dict(old)
    out["spec"] = {
        **(old.get("spec") or {}),
        "finalizers": list((new.get("spec") or {}).get("finalizers") or []),
    }
    return out


def same_object(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal but for resourceVersion: a write that changes nothing is not stored (kube's no-op update)."""
    ma, mb = a.get("metadata") or {}, b.get("metadata") or {}
    if {k: v for k, v in ma.items() if k != "resourceVersion"} != {
        k: v for k, v in mb.items() if k != "resourceVersion"
    }:
        return False
    return all(a.get(k) == b.get(k) for k in set(a) | set(b) if k != "metadata")


def ready_to_remove(res: Resource, obj: dict[str, Any]) -> bool:
    """A deleting object whose finalizers are all gone (and, for a pod, whose grace is over) leaves."""
    meta = obj.get("metadata") or {}
    if not meta.get("deletionTimestamp") or meta.get("finalizers"):
        return False
    if holds_removal(res, obj):
        return False
    return not meta.get("deletionGracePeriodSeconds")


def check_preconditions(res: Resource, name: str, obj: dict[str, Any], pre: Any) -> None:
    if not isinstance(pre, dict):
        return
    meta = obj.get("metadata") or {}
    uid, rv = pre.get("uid"), pre.get("resourceVersion")
    if uid and uid != meta.get("uid"):
        raise conflict(
            res.plural,
            name,
            f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta.get('uid')}",
            res.group,
        )
    if rv and rv != meta.get("resourceVersion"):
        raise conflict(
            res.plural,
            name,
            f"Precondition failed: ResourceVersion in precondition: {rv}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
            res.group,
        )


def check_uid(res: Resource, name: str, new: dict[str, Any], old: dict[str, Any]) -> None:
    """A write naming a uid is for that incarnation only (the kubelet's status patches carry it):
    409 when the object was deleted and made again under the same name."""
    want = (new.get("metadata") or {}).get("uid") if isinstance(new.get("metadata"), dict) else None
    have = (old.get("metadata") or {}).get("uid")
    if want and want != have:
        raise conflict(
            res.plural,
            name,
            f"Precondition failed: UID in precondition: {want}, UID in object meta: {have}",
            res.group,
        )


def propagation_finalizer(options: dict[str, Any]) -> str | None:
    policy = options.get("propagationPolicy")
    if policy is None and options.get("orphanDependents") is not None:
        policy = "Orphan" if options["orphanDependents"] else "Background"
    if policy not in (None, "Foreground", "Background", "Orphan"):
        raise ApiError(
            422,
            "Invalid",
            f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
            f'"{policy}": supported values: "Foreground", "Background", "Orphan"',
        )
    return {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(policy or "")


def grace_period(res: Resource, obj: dict[str, Any], options: dict[str, Any]) -> int:
    """Seconds a delete waits: 0 unless the kind deletes gracefully (pods on a node)."""
    grace = kinds.for_resource(res).grace_period
    return 0 if grace is None else grace(obj, options)


def holds_removal(res: Resource, obj: dict[str, Any]) -> bool:
    """Whether something besides metadata.finalizers keeps the object (namespace spec.finalizers)."""
    holds = kinds.for_resource(res).holds_removal
    return holds is not None and holds(obj)


def mark_deleting(
    res: Resource, obj: dict[str, Any], grace: int, finalizer: str | None, now: dt.datetime
) -> dict[str, Any]:
    meta = obj["metadata"]
    if not meta.get("deletionTimestamp") or grace < int(meta.get("deletionGracePeriodSeconds") or 0):
        meta["deletionTimestamp"] = jsonutil.format_time(now + dt.timedelta(seconds=grace))
        meta["deletionGracePeriodSeconds"] = grace
    if finalizer and finalizer not in (meta.get("finalizers") or []):
        meta["finalizers"] = [*(meta.get("finalizers") or []), finalizer]
    on_deleting = kinds.for_resource(res).on_deleting
    if on_deleting is not None:
        on_deleting(obj)
    return obj


def binding_target(binding: dict[str, Any], name: str) -> str:
    """The node a Binding of pod `name` names, or kube's 400/422 (ValidatePodBinding)."""
    raw_target = binding.get("target")
    target = raw_target.get("name") if isinstance(raw_target, dict) else None
    if target is not None and not isinstance(target, str):
        raise bad_request(
            'Binding in version "v1" cannot be handled as a Binding: target.name must be a string'
        )
    if not target:
        raise ApiError(
            422,
            "Invalid",
            f'Binding "{name}" is invalid: target.name: Required value',
            {
                "name": name,
                "kind": "Binding",
                "causes": [
                    {"reason": "FieldValueRequired", "message": "Required value", "field": "target.name"}
                ],
            },
        )
    return target


def bind_pod(pod: dict[str, Any], binding: dict[str, Any], now: str) -> dict[str, Any]:
    name = (pod.get("metadata") or {}).get("name", "")
    target = binding_target(binding, name)
    spec = pod.setdefault("spec", {})
    if spec.get("nodeName"):
        raise conflict("pods/binding", name, f'pod {name} is already assigned to node "{spec["nodeName"]}"')
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        raise conflict("pods/binding", name, f"pod {name} is being deleted, cannot be assigned to a host")
    if spec.get("schedulingGates"):
        raise conflict("pods/binding", name, f"pod {name} has non-empty .spec.schedulingGates")
    spec["nodeName"] = target
    ann = (binding.get("metadata") or {}).get("annotations")
    if ann:
        pod["metadata"]["annotations"] = {**(pod["metadata"].get("annotations") or {}), **ann}
    status = pod.setdefault("status", {})
    conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
    conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
    status["conditions"] = conds
    return pod
