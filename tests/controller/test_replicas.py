"""Pure replication decisions: activeness, delete order, slow start, claim, status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api.selectors import selector_from_map
from controller import replicas as rs

NOW = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def pod(
    name: str,
    node: str = "",
    phase: str = "Running",
    ready: bool | None = None,
    created: str = "2026-01-01T00:00:00Z",
    owner: str | None = None,
    labels: dict[str, str] | None = None,
    deleting: bool = False,
    ready_since: str = "2026-01-01T00:00:00Z",
) -> dict[str, Any]:
    m: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "uid": f"uid-{name}",
        "creationTimestamp": created,
        "labels": labels if labels is not None else {"app": "web"},
    }
    if owner:
        m["ownerReferences"] = [
            {"kind": "ReplicationController", "name": "rc", "uid": owner, "controller": True}
        ]
    if deleting:
        m["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    st: dict[str, Any] = {"phase": phase}
    if ready is not None:
        st["conditions"] = [
            {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": ready_since}
        ]
    return {"metadata": m, "spec": {"nodeName": node} if node else {}, "status": st}


def rc(replicas: int = 3, uid: str = "rc1", gen: int = 2) -> dict[str, Any]:
    return {
        "kind": "ReplicationController",
        "apiVersion": "v1",
        "metadata": {"name": "rc", "namespace": "ns", "uid": uid, "generation": gen},
        "spec": {
            "replicas": replicas,
            "selector": {"app": "web"},
            "template": {"metadata": {"labels": {"app": "web", "tier": "fe"}}, "spec": {"containers": []}},
        },
    }


def test_active_excludes_deleting_and_finished() -> None:
    assert rs.is_active(pod("a"))
    assert not rs.is_active(pod("a", deleting=True))
    assert not rs.is_active(pod("a", phase="Succeeded"))
    assert not rs.is_active(pod("a", phase="Failed"))


def test_delete_order_unscheduled_pending_notready_newest() -> None:
    pods = [
        pod("ready-old", node="n", ready=True, created="2026-01-01T00:00:00Z"),
        pod("ready-new", node="n", ready=True, created="2026-01-01T00:00:05Z"),
        pod("notready", node="n", ready=False),
        pod("pending", node="n", phase="Pending"),
        pod("unscheduled", phase="Pending"),
    ]
    order = [p["metadata"]["name"] for p in rs.pods_to_delete(pods, 5)]
    assert order == ["unscheduled", "pending", "notready", "ready-new", "ready-old"]
    assert [p["metadata"]["name"] for p in rs.pods_to_delete(pods, 2)] == ["unscheduled", "pending"]


def test_ready_for_less_time_goes_first() -> None:
    a = pod("a", node="n", ready=True, ready_since="2026-01-01T00:00:00Z")
    b = pod("b", node="n", ready=True, ready_since="2026-01-01T00:10:00Z")
    assert rs.pods_to_delete([a, b], 1)[0]["metadata"]["name"] == "b"


def test_slow_start_batches() -> None:
    assert list(rs.slow_start_batches(10)) == [1, 2, 4, 3]
    assert list(rs.slow_start_batches(0)) == []
    assert sum(rs.slow_start_batches(500)) == 500


def test_pod_from_template_has_controller_ref_and_generate_name() -> None:
    p = rs.pod_from_template(rc())
    assert p["metadata"]["generateName"] == "rc-"
    assert p["metadata"]["labels"] == {"app": "web", "tier": "fe"}
    (ref,) = p["metadata"]["ownerReferences"]
    assert ref["uid"] == "rc1" and ref["controller"] is True and ref["kind"] == "ReplicationController"


def test_claim_adopts_orphans_releases_nonmatching_ignores_other_uid() -> None:
    pods = [
        pod("mine", owner="rc1"),
        pod("orphan"),
        pod("old-rc", owner="rc0"),  # same name, old UID: never adopted
        pod("moved", owner="rc1", labels={"app": "other"}),
        pod("orphan-deleting", deleting=True),
        pod("stranger", labels={"app": "other"}),
    ]
    owned, adopt, release = rs.claim(rc(), [rs.facts_of(p) for p in pods], selector_from_map({"app": "web"}))
    names = lambda fs: [f.pod["metadata"]["name"] for f in fs]  # noqa: E731
    assert names(owned) == ["mine"]
    assert names(adopt) == ["orphan"]
    assert names(release) == ["moved"]


def test_status_counts_and_failure_condition() -> None:
    active = [
        rs.facts_of(p)
        for p in (
            pod("a", ready=True, labels={"app": "web", "tier": "fe"}),
            pod("b", ready=False),
            pod("c", ready=True),
        )
    ]
    st = rs.calculate_status(rc(), active, None, NOW)
    assert st == {
        "replicas": 3,
        "fullyLabeledReplicas": 1,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "observedGeneration": 2,
    }
    r = rc()
    r["spec"]["minReadySeconds"] = 3600 * 24
    assert rs.calculate_status(r, active, None, NOW)["availableReplicas"] == 0
    failed = rs.calculate_status(rc(), [], "error creating pod: quota", NOW)
    assert failed["conditions"][0]["type"] == "ReplicaFailure"
    assert rs.status_changed(None, failed)
    assert not rs.status_changed(st, dict(st))
