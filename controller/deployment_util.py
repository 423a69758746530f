"""Pure facts about Deployments and their ReplicaSets (kube's deployment/util/deployment_util.go).

Everything the Deployment controller and `kubectl rollout` agree on lives here, on plain dicts:
the pod-template-hash, which ReplicaSet is the new one, revisions and their annotations,
maxSurge/maxUnavailable resolved against the replica count (surge rounds up, unavailable
rounds down, both zero means one unavailable), the conditions and the status recomputed from
the ReplicaSets observed.

The hash: kube feeds the template through a spew printer into FNV-32a, appends the
collisionCount as 8 little-endian bytes, and encodes the decimal sum with SafeEncodeString.
Reproducing spew's Go-struct dump from JSON is not possible, so the printer here is canonical
JSON (sorted keys, no spaces); the rest (FNV-32a, the collision bytes, the encoding alphabet)
is kube's. The hash is stable across runs and processes, which is all the controller needs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from api import jsonutil

Obj = dict[str, Any]

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
# annotations a ReplicaSet never copies from its Deployment (and a rollback never copies back)
SKIPPED_ANNOTATIONS = frozenset(
    {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO}
)
MAX_INT32 = 2**31 - 1

# condition reasons (deployment_util.go)
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
RS_UPDATED = "ReplicaSetUpdated"
TIMED_OUT = "ProgressDeadlineExceeded"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
FAILED_RS_CREATE = "ReplicaSetCreateError"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"

_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def meta(o: Obj) -> Obj:
    return o.get("metadata") or {}


def spec(o: Obj) -> Obj:
    return o.get("spec") or {}


def replicas(o: Obj) -> int:
    """spec.replicas of a Deployment or ReplicaSet (defaulted to 1 when absent, as the server does)."""
    v = spec(o).get("replicas")
    return 1 if v is None else int(v)


def status_int(o: Obj, name: str) -> int:
    return int((o.get("status") or {}).get(name) or 0)


# hashing
def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    """k8s.io/apimachinery rand.SafeEncodeString: no vowels, no look-alikes, so no bad words."""
    return "".join(_ALPHANUMS[ord(ch) % len(_ALPHANUMS)] for ch in s)


def drop_nulls(v: Any) -> Any:
    """A null field is an absent one (Go's zero values): `creationTimestamp: null` in a template
    sent by kubectl must compare and hash equal to the same template stored without it."""
    if isinstance(v, dict):
        return {k: drop_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [drop_nulls(x) for x in v]
    return v


def compute_hash(template: Obj, collision_count: int | None = None) -> str:
    data = json.dumps(drop_nulls(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += int(collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\0\0\0\0"
    return safe_encode(str(fnv32a(data)))


def _without_hash(template: Obj) -> Obj:
    t = drop_nulls(json.loads(json.dumps(template or {})))
    labels = (t.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(HASH_LABEL, None)
        if not labels:
            t["metadata"].pop("labels")
    if "metadata" in t and not t["metadata"]:
        t.pop("metadata")
    return t


def equal_ignore_hash(a: Obj, b: Obj) -> bool:
    """Two pod templates equal but for the pod-template-hash label (EqualIgnoreHash)."""
    return _without_hash(a) == _without_hash(b)


# int-or-percent
def scaled_value(value: int | str | None, total: int, round_up: bool, default: str = "25%") -> int:
    """GetScaledValueFromIntOrPercent: an int as is, "N%" of total rounded up or down."""
    if value is None:
        value = default
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%") or not text[:-1].isdigit():
        raise ValueError(f"invalid value for IntOrString: invalid value {text!r}")
    pct = int(text[:-1])
    return -(-pct * total // 100) if round_up else pct * total // 100


def is_rolling(d: Obj) -> bool:
    return ((spec(d).get("strategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"


def resolve_fenceposts(d: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) for the Deployment's replica count; never both zero."""
    ru = (spec(d).get("strategy") or {}).get("rollingUpdate") or {}
    desired = replicas(d)
    surge = scaled_value(ru.get("maxSurge"), desired, True)
    unavailable = scaled_value(ru.get("maxUnavailable"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Obj) -> int:
    return resolve_fenceposts(d)[0] if is_rolling(d) else 0


def max_unavailable(d: Obj) -> int:
    if not is_rolling(d) or replicas(d) == 0:
        return 0
    return min(resolve_fenceposts(d)[1], replicas(d))


# revisions
def revision(o: Obj) -> int:
    try:
        return int((meta(o).get("annotations") or {}).get(REVISION) or 0)
    except ValueError:
        return 0


def max_revision(rss: Iterable[Obj]) -> int:
    return max((revision(r) for r in rss), default=0)


def last_revision(rss: Iterable[Obj]) -> int:
    """The second-highest revision: what `rollout undo` goes back to."""
    revs = sorted({revision(r) for r in rss}, reverse=True)
    return revs[1] if len(revs) > 1 else 0


def by_creation(rss: Iterable[Obj]) -> list[Obj]:
    """Oldest first; ties by name (ReplicaSetsByCreationTimestamp)."""
    return sorted(rss, key=lambda r: (meta(r).get("creationTimestamp") or "", meta(r).get("name") or ""))


def by_revision(rss: Iterable[Obj]) -> list[Obj]:
    return sorted(by_creation(rss), key=revision)


def find_new_rs(d: Obj, rss: Sequence[Obj]) -> Obj | None:
    """The oldest ReplicaSet whose template is the Deployment's (hash label aside)."""
    tmpl = spec(d).get("template") or {}
    return next((r for r in by_creation(rss) if equal_ignore_hash(spec(r).get("template") or {}, tmpl)), None)


def is_active(rs: Obj) -> bool:
    return replicas(rs) > 0


def spec_sum(rss: Iterable[Obj | None]) -> int:
    return sum(replicas(r) for r in rss if r is not None)


def status_sum(rss: Iterable[Obj | None], name: str) -> int:
    return sum(status_int(r, name) for r in rss if r is not None)


def new_rs_annotations(d: Obj, rs: Obj, new_revision: int, exists: bool) -> tuple[Obj, bool]:
    """SetNewReplicaSetAnnotations: the RS's annotations after copying the Deployment's and
    stamping the revision (the old one goes to revision-history); and whether they changed."""
    old = dict(meta(rs).get("annotations") or {})
    ann = dict(old)
    for k, v in (meta(d).get("annotations") or {}).items():
        if k not in SKIPPED_ANNOTATIONS:
            ann[k] = v
    old_rev = old.get(REVISION, "")
    old_rev_int = int(old_rev) if old_rev.isdigit() else 0
    if old_rev_int < new_revision:
        ann[REVISION] = str(new_revision)
        if old_rev:
            history = [h for h in (old.get(REVISION_HISTORY) or "").split(",") if h]
            ann[REVISION_HISTORY] = ",".join([*history, old_rev])
    if not exists:
        ann[DESIRED_REPLICAS] = str(replicas(d))
        ann[MAX_REPLICAS] = str(replicas(d) + max_surge(d))
    return ann, ann != old


def replicas_annotations_need_update(rs: Obj, desired: int, max_replicas: int) -> bool:
    ann = meta(rs).get("annotations") or {}
    return ann.get(DESIRED_REPLICAS) != str(desired) or ann.get(MAX_REPLICAS) != str(max_replicas)


# apps/v1 defaults; the API server fills them in, these only cover an object stored without them
DEFAULT_PROGRESS_DEADLINE = 600
DEFAULT_HISTORY_LIMIT = 10


def progress_deadline(d: Obj) -> int:
    pds = spec(d).get("progressDeadlineSeconds")
    return DEFAULT_PROGRESS_DEADLINE if pds is None else int(pds)


def history_limit(d: Obj) -> int:
    lim = spec(d).get("revisionHistoryLimit")
    return DEFAULT_HISTORY_LIMIT if lim is None else int(lim)


def has_progress_deadline(d: Obj) -> bool:
    return progress_deadline(d) != MAX_INT32


def has_revision_history_limit(d: Obj) -> bool:
    return history_limit(d) != MAX_INT32


# conditions
def get_condition(status: Obj, typ: str) -> Obj | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == typ), None)


def new_condition(typ: str, status: str, reason: str, message: str, now: dt.datetime) -> Obj:
    t = jsonutil.format_time(now)
    return {
        "type": typ,
        "status": status,
        "lastUpdateTime": t,
        "lastTransitionTime": t,
        "reason": reason,
        "message": message,
    }


def set_condition(status: Obj, cond: Obj) -> None:
    """SetDeploymentCondition: same status and reason is no change; same status keeps the
    transition time; the condition goes last."""
    cur = get_condition(status, cond["type"])
    if cur is not None and cur.get("status") == cond["status"] and cur.get("reason") == cond["reason"]:
        return
    if cur is not None and cur.get("status") == cond["status"]:
        cond = dict(cond, lastTransitionTime=cur.get("lastTransitionTime"))
    status["conditions"] = [
        *(c for c in status.get("conditions") or [] if c.get("type") != cond["type"]),
        cond,
    ]


def remove_condition(status: Obj, typ: str) -> None:
    conds = [c for c in status.get("conditions") or [] if c.get("type") != typ]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


def calculate_status(d: Obj, all_rss: Sequence[Obj | None], new_rs: Obj | None, now: dt.datetime) -> Obj:
    """calculateStatus: counts from the ReplicaSets, then the Available condition."""
    available = status_sum(all_rss, "availableReplicas")
    total = spec_sum(all_rss)
    old = d.get("status") or {}
    status: Obj = {
        "observedGeneration": int(meta(d).get("generation") or 0),
        "replicas": status_sum(all_rss, "replicas"),
        "updatedReplicas": status_sum([new_rs], "replicas"),
        "readyReplicas": status_sum(all_rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(0, total - available),
    }
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = [dict(c) for c in old["conditions"]]
    if available >= replicas(d) - max_unavailable(d):
        set_condition(
            status,
            new_condition("Available", "True", MIN_AVAILABLE, "Deployment has minimum availability.", now),
        )
    else:
        set_condition(
            status,
            new_condition(
                "Available", "False", MIN_UNAVAILABLE, "Deployment does not have minimum availability.", now
            ),
        )
    return status


def deployment_complete(d: Obj, status: Obj) -> bool:
    want = replicas(d)
    return (
        status_int({"status": status}, "updatedReplicas") == want
        and status_int({"status": status}, "replicas") == want
        and status_int({"status": status}, "availableReplicas") == want
        and status_int({"status": status}, "observedGeneration") >= int(meta(d).get("generation") or 0)
    )
