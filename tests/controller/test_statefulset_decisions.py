"""The StatefulSet controller's pure decisions and the ControllerRevision helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from controller import history
from controller import statefulset_claims as sc
from controller import statefulset_decisions as sd
from tests.objects import apps_body

Obj = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def sts(replicas: int = 3, **spec: Any) -> Obj:
    meta = {"namespace": "ns", "uid": "S", "generation": 1}
    return apps_body("StatefulSet", "web", replicas, "nginx:1", meta=meta, **{"serviceName": "nginx", **spec})


def pod(
    i: int, rev: str = "web-1", healthy: bool = True, phase: str = "Running", deleting: bool = False
) -> Obj:
    m: Obj = {"name": f"web-{i}", "uid": f"u{i}", "labels": {"controller-revision-hash": rev}}
    if deleting:
        m["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    st: Obj = {"phase": phase if healthy or phase != "Running" else "Pending"}
    if healthy:
        st["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"}]
    return {"metadata": m, "status": st}


def test_ordered_ready_creates_one_at_a_time() -> None:
    assert sd.decide(sts(), [], "web-1", "web-1", NOW).create == [(0, "web-1")]
    assert sd.decide(sts(), [pod(0, healthy=False)], "web-1", "web-1", NOW).create == []  # wait for web-0
    assert sd.decide(sts(), [pod(0)], "web-1", "web-1", NOW).create == [(1, "web-1")]


def test_parallel_creates_and_deletes_all() -> None:
    plan = sd.decide(sts(3, podManagementPolicy="Parallel"), [pod(1, healthy=False)], "web-1", "web-1", NOW)
    assert plan.create == [(0, "web-1"), (2, "web-1")]
    plan = sd.decide(sts(1, podManagementPolicy="Parallel"), [pod(0), pod(1), pod(2)], "web-1", "web-1", NOW)
    assert [p["metadata"]["name"] for p in plan.delete] == ["web-2", "web-1"]


def test_scale_down_highest_first_one_at_a_time_when_healthy() -> None:
    plan = sd.decide(sts(1), [pod(0), pod(1), pod(2)], "web-1", "web-1", NOW)
    assert [p["metadata"]["name"] for p in plan.delete] == ["web-2"]
    assert sd.decide(sts(1), [pod(0), pod(1), pod(2, deleting=True)], "web-1", "web-1", NOW).delete == []
    assert sd.decide(sts(1), [pod(0, healthy=False), pod(1)], "web-1", "web-1", NOW).delete == []


def test_failed_pod_is_deleted_to_be_recreated() -> None:
    failed = pod(1, phase="Failed", healthy=False)
    plan = sd.decide(sts(), [pod(0), failed], "web-1", "web-1", NOW)
    assert plan.delete == [failed] and plan.create == []


def test_rolling_update_highest_first_down_to_partition() -> None:
    pods = [pod(0), pod(1), pod(2)]
    plan = sd.decide(sts(), pods, "web-1", "web-2", NOW)
    assert plan.delete == [pods[2]]
    pods2 = [pod(0), pod(1), pod(2, "web-2", healthy=False)]
    assert sd.decide(sts(), pods2, "web-1", "web-2", NOW).delete == []  # wait for web-2 to be healthy
    pods3 = [pod(0), pod(1), pod(2, "web-2")]
    assert sd.decide(sts(), pods3, "web-1", "web-2", NOW).delete == [pods3[1]]
    partitioned = sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}})
    pods4 = [pod(0), pod(1), pod(2, "web-2")]
    assert sd.decide(partitioned, pods4, "web-1", "web-2", NOW).delete == []
    # below the partition a missing pod comes back at the current revision, above it at the update one
    assert sd.decide(partitioned, [], "web-1", "web-2", NOW).create == [(0, "web-1")]
    assert sd.decide(partitioned, [pod(0), pod(1)], "web-1", "web-2", NOW).create == [(2, "web-2")]


def test_on_delete_never_deletes() -> None:
    plan = sd.decide(
        sts(updateStrategy={"type": "OnDelete"}), [pod(0), pod(1), pod(2)], "web-1", "web-2", NOW
    )
    assert plan.delete == [] and plan.create == []


def test_status_and_rollout_completion() -> None:
    st = sd.decide(sts(), [pod(0), pod(1, "web-2"), pod(2, healthy=False)], "web-1", "web-2", NOW).status
    assert st == {
        "observedGeneration": 1,
        "replicas": 3,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "currentReplicas": 2,
        "updatedReplicas": 1,
        "currentRevision": "web-1",
        "updateRevision": "web-2",
        "collisionCount": 0,
    }
    done = sd.decide(sts(), [pod(i, "web-2") for i in range(3)], "web-1", "web-2", NOW).status
    assert done["currentRevision"] == "web-2" and done["currentReplicas"] == 3


def test_pod_identity_and_template_from_revision() -> None:
    rev = history.new_revision(sts(volumeClaimTemplates=[{"metadata": {"name": "data"}}]), 1)
    s = sts(volumeClaimTemplates=[{"metadata": {"name": "data"}}])
    p = sd.pod_for(s, 4, rev)
    m = p["metadata"]
    assert m["name"] == "web-4" and p["spec"]["hostname"] == "web-4" and p["spec"]["subdomain"] == "nginx"
    assert m["labels"] == {
        "app": "web",
        "controller-revision-hash": rev["metadata"]["name"],
        "statefulset.kubernetes.io/pod-name": "web-4",
        "apps.kubernetes.io/pod-index": "4",
    }
    assert p["spec"]["containers"] == [{"name": "c", "image": "nginx:1"}]
    assert p["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-4"}}]
    assert sd.pod_for(s, 4, rev, claims_served=False)["spec"]["volumes"] == [{"name": "data", "emptyDir": {}}]
    assert sd.ordinal_of("web", p) == 4 and sd.ordinal_of("web", {"metadata": {"name": "web-x"}}) is None


def test_revisions() -> None:
    a, b = sts(), sts()
    b["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    ra, rb = history.new_revision(a, 1), history.new_revision(b, 2)
    assert ra["metadata"]["name"].startswith("web-") and ra["metadata"]["name"] != rb["metadata"]["name"]
    assert ra["metadata"]["labels"]["controller-revision-hash"] == ra["metadata"]["name"][len("web-") :]
    assert ra["data"]["spec"]["template"]["$patch"] == "replace" and ra["revision"] == 1
    assert history.revision_hash(ra["data"]) != history.revision_hash(ra["data"], 1)  # collisionCount
    assert history.equal([ra, rb], history.template_patch(b)) == [rb]
    for r in (ra, rb):
        r["metadata"]["ownerReferences"][0]["uid"] = "S"
    assert history.owned(a, [rb, ra]) == [ra, rb] and history.next_number([ra, rb]) == 3
    many = [dict(ra, revision=i, metadata=dict(ra["metadata"], name=f"r{i}")) for i in range(1, 6)]
    assert [r["metadata"]["name"] for r in history.to_prune(many, {"r1", "r5"}, 2)] == ["r2"]


def test_claims_per_ordinal() -> None:
    tmpl = {
        "metadata": {"name": "data", "labels": {"tier": "db"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    s = sts(volumeClaimTemplates=[tmpl])
    (claim,) = sc.claims_for(s, 2)
    assert claim["metadata"] == {
        "name": "data-web-2",
        "namespace": "ns",
        "labels": {"tier": "db", "app": "web"},
    }
    assert claim["spec"] == tmpl["spec"] and claim["spec"] is not tmpl["spec"]
    owned = sc.claims_for(
        sts(volumeClaimTemplates=[tmpl], persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete"}), 0
    )[0]
    assert owned["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"
    # a template volume of the claim's name is replaced, others are kept
    spec = sc.with_claim_volumes(
        {"volumes": [{"name": "data", "emptyDir": {}}, {"name": "x", "emptyDir": {}}]}, s, 1, True
    )
    assert spec["volumes"] == [
        {"name": "x", "emptyDir": {}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-1"}},
    ]
