"""Pure Deployment decisions: fenceposts, hashing, revisions, rolling steps, proportional scaling,
progress conditions, history cleanup (cases after kube's deployment controller tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from controller import deployment_progress as progress
from controller import deployment_rollout as plan
from controller import deployment_util as du
from tests.objects import apps_body

Obj = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


def deployment(
    replicas: int, surge: Any = "25%", unavailable: Any = "25%", strategy: str = "RollingUpdate", **spec: Any
) -> Obj:
    st: Obj = {"type": strategy}
    if strategy == "RollingUpdate":
        st["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    meta = {"namespace": "default", "uid": "d-uid", "generation": 1}
    return {**apps_body("Deployment", "web", replicas, "img:1", meta=meta, strategy=st, **spec), "status": {}}


def rs(
    name: str,
    replicas: int,
    available: int | None = None,
    created: str = "2026-01-01T00:00:00Z",
    revision: int | None = None,
    max_replicas: int | None = None,
    desired: int | None = None,
) -> Obj:
    ann: Obj = {}
    if revision is not None:
        ann[du.REVISION] = str(revision)
    if max_replicas is not None:
        ann[du.MAX_REPLICAS] = str(max_replicas)
    if desired is not None:
        ann[du.DESIRED_REPLICAS] = str(desired)
    avail = replicas if available is None else available
    return {
        "metadata": {"name": name, "uid": f"{name}-uid", "creationTimestamp": created, "annotations": ann},
        "spec": {"replicas": replicas, "template": {}},
        "status": {"replicas": replicas, "readyReplicas": avail, "availableReplicas": avail},
    }


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "want"),
    [
        (10, "25%", "25%", (3, 2)),  # surge rounds up, unavailable rounds down
        (1, "25%", "25%", (1, 0)),
        (4, 0, 0, (0, 1)),  # both zero: one may be unavailable
        (3, "50%", "50%", (2, 1)),
        (5, 2, "0%", (2, 0)),
    ],
)
def test_fenceposts(replicas: int, surge: Any, unavailable: Any, want: tuple[int, int]) -> None:
    assert du.resolve_fenceposts(deployment(replicas, surge, unavailable)) == want


def test_max_unavailable_is_zero_for_recreate_and_capped_at_replicas() -> None:
    assert du.max_unavailable(deployment(4, strategy="Recreate")) == 0
    assert du.max_unavailable(deployment(2, 0, 5)) == 2
    with pytest.raises(ValueError):
        du.scaled_value("abc", 10, True)


def test_hash_is_stable_safe_and_moves_with_template_and_collisions() -> None:
    t = deployment(1)["spec"]["template"]
    h = du.compute_hash(t)
    assert h == du.compute_hash(dict(reversed(list(t.items()))))  # key order does not matter
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789") and 1 <= len(h) <= 10
    assert du.compute_hash(t, 1) not in (h, du.compute_hash(t, 2))
    other = {"metadata": t["metadata"], "spec": {"containers": [{"name": "c", "image": "img:2"}]}}
    assert du.compute_hash(other) != h
    assert du.fnv32a(b"") == 0x811C9DC5 and du.fnv32a(b"a") == 0xE40C292C  # FNV-1a test vectors
    assert du.safe_encode("1234") == "5678" and du.safe_encode("09") == "4f"  # rand.SafeEncodeString


def test_new_replica_set_names_labels_selects_and_annotates() -> None:
    d = deployment(10)
    d["metadata"]["annotations"] = {"team": "a", du.LAST_APPLIED: "{}", du.REVISION: "7"}
    old = rs("web-old", 10, revision=3)
    new = plan.new_replica_set(d, [old], 4)
    h = new["spec"]["template"]["metadata"]["labels"][du.HASH_LABEL]
    assert new["metadata"]["name"] == f"web-{h}" and new["metadata"]["labels"] == {
        "app": "web",
        du.HASH_LABEL: h,
    }
    assert new["spec"]["selector"]["matchLabels"] == {"app": "web", du.HASH_LABEL: h}
    assert new["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert new["spec"]["replicas"] == 3  # 10 + surge 3 - 10 existing
    ann = new["metadata"]["annotations"]
    assert ann == {"team": "a", du.REVISION: "4", du.DESIRED_REPLICAS: "10", du.MAX_REPLICAS: "13"}
    assert du.equal_ignore_hash(new["spec"]["template"], d["spec"]["template"])
    assert du.find_new_rs(d, [old, new]) is new


def test_revisions_and_history_annotation() -> None:
    rss = [rs("a", 0, revision=1), rs("b", 0, revision=4), rs("c", 3, revision=2)]
    assert du.max_revision(rss) == 4 and du.last_revision(rss) == 2
    assert du.last_revision([rs("a", 1, revision=1)]) == 0
    ann, changed = du.new_rs_annotations(deployment(3), rs("c", 3, revision=2), 5, exists=True)
    assert changed and ann[du.REVISION] == "5" and ann[du.REVISION_HISTORY] == "2"
    again = rs("c", 3, revision=5)
    again["metadata"]["annotations"][du.REVISION_HISTORY] = "2"
    ann, changed = du.new_rs_annotations(deployment(3), again, 7, exists=True)
    assert ann[du.REVISION_HISTORY] == "2,5"
    _, changed = du.new_rs_annotations(deployment(3), rs("c", 3, revision=9), 7, exists=True)
    assert not changed  # a newer revision is never lowered


def test_rolling_update_steps() -> None:
    d = deployment(10)  # surge 3, unavailable 2
    old = rs("old", 10, created="2026-01-01T00:00:00Z")
    new = rs("new", 0, created="2026-01-02T00:00:00Z")
    assert plan.reconcile_new_rs(d, [old, new], new) == 3
    new = rs("new", 3, available=0, created="2026-01-02T00:00:00Z")
    assert plan.reconcile_new_rs(d, [old, new], new) is None  # at 13 = 10 + surge
    # min available 8, new has 3 unavailable: 13 - 8 - 3 = 2 may go
    assert plan.reconcile_old_rss(d, [old, new], [old], new) == {"old": 8}
    # unavailable old replicas are dropped first, without spending availability
    old = rs("old", 8, available=6)
    assert plan.reconcile_old_rss(d, [old, new], [old], new) == {}
    new = rs("new", 3, available=3, created="2026-01-02T00:00:00Z")
    assert plan.reconcile_old_rss(d, [old, new], [old], new) == {"old": 5}
    # a new RS above the Deployment's size is cut back
    assert plan.reconcile_new_rs(deployment(2), [new], new) == 2


def test_rolling_update_with_zero_surge_scales_down_first() -> None:
    d = deployment(4, surge=0, unavailable=1)
    old, new = rs("old", 4), rs("new", 0, created="2026-01-02T00:00:00Z")
    assert plan.reconcile_new_rs(d, [old, new], new) is None
    assert plan.reconcile_old_rss(d, [old, new], [old], new) == {"old": 3}
    old = rs("old", 3)
    assert plan.reconcile_new_rs(d, [old, new], new) == 1


@pytest.mark.parametrize(
    ("before", "after", "new_size", "old_size", "want_new", "want_old"),
    [
        (5, 10, 2, 3, 4, 6),  # kube sync_test "proportional scaling: 5 -> 10"
        (5, 3, 2, 3, 1, 2),  # "proportional scaling: 5 -> 3"
        (10, 0, 4, 6, 0, 0),  # scaling to zero takes everything
    ],
)
def test_proportional_scaling(
    before: int, after: int, new_size: int, old_size: int, want_new: int, want_old: int
) -> None:
    d = deployment(after, 0, 0)
    new = rs("new", new_size, created="2026-01-02T00:00:00Z", max_replicas=before, desired=before)
    old = rs("old", old_size, max_replicas=before, desired=before)
    assert plan.is_scaling_event(d, [old, new])
    sizes = plan.scale_sizes(d, new, [old])
    assert (sizes.get("new", new_size), sizes.get("old", old_size)) == (want_new, want_old)


def test_scale_single_active_or_saturated() -> None:
    d = deployment(6)
    only = rs("new", 3, desired=3)
    assert plan.scale_sizes(d, only, [rs("old", 0)]) == {"new": 6}
    sat = rs("new", 6, desired=6, created="2026-01-02T00:00:00Z")
    assert plan.scale_sizes(d, sat, [rs("old", 2)]) == {"old": 0}
    assert not plan.is_scaling_event(d, [sat])


def test_progress_conditions_complete_progressing_and_timed_out() -> None:
    d = deployment(2)
    new = rs("web-new", 2)
    status, again = progress.rollout_status(d, [new], new, NOW)
    prog = du.get_condition(status, "Progressing")
    assert (
        prog
        and prog["reason"] == du.NEW_RS_AVAILABLE
        and prog["message"] == 'ReplicaSet "web-new" has successfully progressed.'
    )
    assert du.get_condition(status, "Available")["status"] == "True"  # type: ignore[index]
    assert again is None
    # progress made: ReplicaSetUpdated, and a requeue at the deadline
    d["status"] = {
        "replicas": 2,
        "updatedReplicas": 0,
        "conditions": [
            du.new_condition("Progressing", "True", du.RS_UPDATED, "x", NOW - dt.timedelta(seconds=30))
        ],
    }
    half = rs("web-new", 2, available=0)
    half["status"]["replicas"] = 1
    status, again = progress.rollout_status(d, [rs("web-old", 1), half], half, NOW)
    prog = du.get_condition(status, "Progressing")
    assert prog and prog["reason"] == du.RS_UPDATED and prog["lastUpdateTime"] == "2026-01-01T12:00:00Z"
    assert prog["lastTransitionTime"] == "2026-01-01T11:59:30Z"
    assert again == pytest.approx(601.0)
    # no progress for longer than the deadline
    d["status"] = dict(
        status,
        conditions=[
            du.new_condition("Progressing", "True", du.RS_UPDATED, "x", NOW - dt.timedelta(seconds=601))
        ],
    )
    status, _ = progress.rollout_status(d, [rs("web-old", 1), half], half, NOW)
    prog = du.get_condition(status, "Progressing")
    assert prog and prog["status"] == "False" and prog["reason"] == du.TIMED_OUT
    assert du.get_condition(status, "Available")["reason"] == du.MIN_UNAVAILABLE  # type: ignore[index]


def test_paused_and_resumed_conditions() -> None:
    d = deployment(1, paused=True)
    st = progress.paused_status(d, NOW)
    assert st and du.get_condition(st, "Progressing")["reason"] == du.PAUSED  # type: ignore[index]
    d["status"] = st
    assert progress.paused_status(d, NOW) is None
    d["spec"]["paused"] = False
    st = progress.paused_status(d, NOW)
    assert st and du.get_condition(st, "Progressing")["reason"] == du.RESUMED  # type: ignore[index]


def test_cleanup_keeps_history_limit_and_busy_sets() -> None:
    d = deployment(1, revisionHistoryLimit=1)
    olds = [
        rs("r1", 0, revision=1),
        rs("r2", 0, revision=2),
        rs("r3", 1, revision=3),
        rs("r4", 0, revision=4),
    ]
    # three over the limit of one, oldest revisions first; r3 still has a replica
    assert plan.cleanup_victims(d, olds) == ["r1", "r2"]
    d["spec"]["revisionHistoryLimit"] = 2**31 - 1
    assert plan.cleanup_victims(d, olds) == []


def test_recreate_waits_for_old_pods() -> None:
    new = rs("new", 0)
    running = {"old-uid": [{"status": {"phase": "Running"}}]}
    done = {"old-uid": [{"status": {"phase": "Succeeded"}}]}
    assert plan.old_pods_running(new, [rs("old", 0) | {"status": {}}], running)
    assert not plan.old_pods_running(new, [rs("old", 0) | {"status": {}}], done)
