"""Pure rollout decisions of the Deployment controller (kube's rolling.go, recreate.go, sync.go):
given a Deployment and its ReplicaSets, what each ReplicaSet's size becomes.

Every function takes dicts and returns sizes (`{rs name: spec.replicas}`), a status, or names,
never does I/O, so the step math is unit-tested alone. The shell (`controller.deployment`)
applies one step per sync and lets the ReplicaSets' status updates trigger the next, as kube
does: scale the new ReplicaSet up while the total stays within replicas + maxSurge; scale old
ones down while the available count stays at least replicas - maxUnavailable (unhealthy old
replicas first); on a scaling event mid-rollout spread the change over the active ReplicaSets
in proportion to their size. Progress conditions are `controller.deployment_progress`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from api.gomath import go_round
from controller.deployment_util import (
    DESIRED_REPLICAS,
    HASH_LABEL,
    MAX_REPLICAS,
    Obj,
    by_creation,
    by_revision,
    compute_hash,
    has_revision_history_limit,
    history_limit,
    is_active,
    is_rolling,
    max_surge,
    max_unavailable,
    meta,
    new_rs_annotations,
    replicas,
    spec,
    spec_sum,
    status_int,
    status_sum,
)
from controller.replicas import owner_ref

Sizes = dict[str, int]


def _name(rs: Obj) -> str:
    return str(meta(rs).get("name") or "")


def new_rs_new_replicas(d: Obj, all_rss: Sequence[Obj], new_rs: Obj) -> int:
    """NewRSNewReplicas: how big the new ReplicaSet may be now."""
    want = replicas(d)
    if not is_rolling(d):
        return want
    current = spec_sum(all_rss)
    max_total = want + max_surge(d)
    if current >= max_total:
        return replicas(new_rs)
    return replicas(new_rs) + min(max_total - current, want - replicas(new_rs))


def new_replica_set(d: Obj, rss: Sequence[Obj], new_revision: int) -> Obj:
    """The new ReplicaSet for the Deployment's template (getNewReplicaSet's object)."""
    tmpl = copy.deepcopy(spec(d).get("template") or {})
    h = compute_hash(tmpl, (d.get("status") or {}).get("collisionCount"))
    tm = tmpl.setdefault("metadata", {})
    tm["labels"] = {**(tm.get("labels") or {}), HASH_LABEL: h}
    sel = copy.deepcopy(spec(d).get("selector") or {})
    sel["matchLabels"] = {**(sel.get("matchLabels") or {}), HASH_LABEL: h}
    m = meta(d)
    rs: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{m.get('name')}-{h}",
            "namespace": m.get("namespace"),
            "labels": dict(tm["labels"]),
            "ownerReferences": [owner_ref(d)],
        },
        "spec": {
            "replicas": 0,
            "minReadySeconds": int(spec(d).get("minReadySeconds") or 0),
            "selector": sel,
            "template": tmpl,
        },
    }
    rs["spec"]["replicas"] = new_rs_new_replicas(d, [*rss, rs], rs)
    rs["metadata"]["annotations"], _ = new_rs_annotations(d, rs, new_revision, exists=False)
    return rs


def reconcile_new_rs(d: Obj, all_rss: Sequence[Obj], new_rs: Obj) -> int | None:
    """The new ReplicaSet's next size in a rolling update, or None to leave it."""
    want, have = replicas(d), replicas(new_rs)
    if have == want:
        return None
    if have > want:
        return want
    n = new_rs_new_replicas(d, all_rss, new_rs)
    return None if n == have else n


def reconcile_old_rss(d: Obj, all_rss: Sequence[Obj], old_rss: Sequence[Obj], new_rs: Obj) -> Sizes:
    """reconcileOldReplicaSets: old ReplicaSets scaled down as far as availability allows.

    First the old replicas that are not available (they cost no availability), then, oldest
    ReplicaSet first, as many available ones as exceed replicas - maxUnavailable.
    """
    if spec_sum(old_rss) == 0:
        return {}
    min_available = replicas(d) - max_unavailable(d)
    new_unavailable = replicas(new_rs) - status_int(new_rs, "availableReplicas")
    max_scaled_down = spec_sum(all_rss) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return {}
    sizes: Sizes = {}
    size = {_name(r): replicas(r) for r in old_rss}
    cleaned = 0
    for rs in by_creation(r for r in old_rss if is_active(r)):  # cleanupUnhealthyReplicas
        if cleaned >= max_scaled_down:
            break
        n, avail = size[_name(rs)], status_int(rs, "availableReplicas")
        if n == avail:
            continue
        down = min(max_scaled_down - cleaned, n - avail)
        size[_name(rs)] = sizes[_name(rs)] = n - down
        cleaned += down
    # scaleDownOldReplicaSetsForRollingUpdate
    available = status_sum(all_rss, "availableReplicas")
    if available <= min_available:
        return sizes
    budget, done = available - min_available, 0
    for rs in by_creation(r for r in old_rss if is_active(r)):
        if done >= budget:
            break
        n = size[_name(rs)]
        if n == 0:
            continue
        down = min(n, budget - done)
        size[_name(rs)] = sizes[_name(rs)] = n - down
        done += down
    return sizes


def find_active_or_latest(new_rs: Obj | None, old_rss: Sequence[Obj]) -> Obj | None:
    """The only active ReplicaSet; or, when none is active, the newest; None when several are."""
    if new_rs is None and not old_rss:
        return None
    olds = list(reversed(by_creation(old_rss)))
    active = [r for r in [*olds, new_rs] if r is not None and is_active(r)]
    if not active:
        return new_rs if new_rs is not None else olds[0]
    return active[0] if len(active) == 1 else None


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    if rs is None:
        return False
    want = replicas(d)
    desired = (meta(rs).get("annotations") or {}).get(DESIRED_REPLICAS)
    return desired == str(want) and replicas(rs) == want and status_int(rs, "availableReplicas") == want


def is_scaling_event(d: Obj, all_rss: Sequence[Obj]) -> bool:
    """An active ReplicaSet was sized for another replica count than the Deployment's now."""
    for rs in all_rss:
        if not is_active(rs):
            continue
        desired = (meta(rs).get("annotations") or {}).get(DESIRED_REPLICAS)
        if desired is not None and desired.lstrip("-").isdigit() and int(desired) != replicas(d):
            return True
    return False


def _fraction(rs: Obj, d: Obj) -> int:
    """getReplicaSetFraction: this ReplicaSet's share of the new size, minus its size."""
    if replicas(d) == 0:
        return -replicas(rs)
    max_now = replicas(d) + max_surge(d)
    raw = (meta(rs).get("annotations") or {}).get(MAX_REPLICAS, "")
    before = int(raw) if raw.isdigit() else 0
    if before == 0:
        before = status_int(d, "replicas")
        if before == 0:
            return 0
    return go_round(replicas(rs) * max_now / before) - replicas(rs)


def proportion(rs: Obj, d: Obj, to_add: int, added: int) -> int:
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    frac, allowed = _fraction(rs, d), to_add - added
    return min(frac, allowed) if to_add > 0 else max(frac, allowed)


def scale_sizes(d: Obj, new_rs: Obj | None, old_rss: Sequence[Obj]) -> Sizes:
    """sync.go scale(): the sizes after a change of spec.replicas (sizes that change only)."""
    want = replicas(d)
    only = find_active_or_latest(new_rs, old_rss)
    if only is not None:
        return {} if replicas(only) == want else {_name(only): want}
    if is_saturated(d, new_rs):
        return {_name(r): 0 for r in old_rss if is_active(r)}
    if not is_rolling(d):
        return {}
    active = [r for r in [*old_rss, new_rs] if r is not None and is_active(r)]
    allowed = want + max_surge(d) if want > 0 else 0
    to_add = allowed - spec_sum(active)
    if to_add > 0:  # ReplicaSetsBySizeNewer: largest first, then newest
        active = sorted(reversed(by_creation(active)), key=lambda r: -replicas(r))
    elif to_add < 0:  # ReplicaSetsBySizeOlder: largest first, then oldest
        active = sorted(by_creation(active), key=lambda r: -replicas(r))
    added, size = 0, {}
    for rs in active:
        p = proportion(rs, d, to_add, added) if to_add else 0
        size[_name(rs)] = replicas(rs) + p
        added += p
    if active and to_add:  # leftovers to the largest
        first = _name(active[0])
        size[first] = max(0, size[first] + to_add - added)
    by_name = {_name(r): r for r in active}
    return {n: s for n, s in size.items() if s != replicas(by_name[n]) or _stale_annotations(by_name[n], d)}


def _stale_annotations(rs: Obj, d: Obj) -> bool:
    ann = meta(rs).get("annotations") or {}
    return ann.get(DESIRED_REPLICAS) != str(replicas(d)) or ann.get(MAX_REPLICAS) != str(
        replicas(d) + max_surge(d)
    )


def cleanup_victims(d: Obj, old_rss: Sequence[Obj]) -> list[str]:
    """Old ReplicaSets beyond revisionHistoryLimit that are fully scaled down, oldest revision first."""
    if not has_revision_history_limit(d):
        return []
    alive = [r for r in old_rss if not meta(r).get("deletionTimestamp")]
    diff = len(alive) - history_limit(d)
    if diff <= 0:
        return []
    out = []
    for rs in by_revision(alive)[:diff]:
        if (
            status_int(rs, "replicas")
            or replicas(rs)
            or int(meta(rs).get("generation") or 0) > status_int(rs, "observedGeneration")
        ):
            continue
        out.append(_name(rs))
    return out


def old_pods_running(new_rs: Obj | None, old_rss: Sequence[Obj], pods_by_rs: dict[str, list[Obj]]) -> bool:
    """Recreate waits until no old pod may still run (Succeeded and Failed ones do not)."""
    if status_sum(old_rss, "replicas") > 0:
        return True
    new_uid = meta(new_rs).get("uid") if new_rs is not None else None
    for uid, pods in pods_by_rs.items():
        if uid == new_uid:
            continue
        if any((p.get("status") or {}).get("phase") not in ("Succeeded", "Failed") for p in pods):
            return True
    return False
