"""kubectl rollout's pure rules: StatefulSet and DaemonSet status wording, history picking, undo patch."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl import rollout_rules as rules


def sts(status: dict[str, Any], partition: int | None = None, gen: int = 2) -> dict[str, Any]:
    strategy: dict[str, Any] = {"type": "RollingUpdate"}
    if partition is not None:
        strategy["rollingUpdate"] = {"partition": partition}
    return {
        "metadata": {"name": "db", "generation": gen},
        "spec": {"replicas": 3, "updateStrategy": strategy},
        "status": status,
    }


@pytest.mark.parametrize(
    ("obj", "want"),
    [
        (sts({"observedGeneration": 1}), ("Waiting for statefulset spec update to be observed...\n", False)),
        (sts({"observedGeneration": 2, "readyReplicas": 1}), ("Waiting for 2 pods to be ready...\n", False)),
        (
            sts({"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 1}, partition=1),
            ("Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...\n", False),
        ),
        (
            sts({"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 2}, partition=1),
            ("partitioned roll out complete: 2 new pods have been updated...\n", True),
        ),
        (
            sts(
                {
                    "observedGeneration": 2,
                    "readyReplicas": 3,
                    "updatedReplicas": 1,
                    "updateRevision": "db-2",
                    "currentRevision": "db-1",
                }
            ),
            ("waiting for statefulset rolling update to complete 1 pods at revision db-2...\n", False),
        ),
        (
            sts(
                {
                    "observedGeneration": 2,
                    "readyReplicas": 3,
                    "currentReplicas": 3,
                    "updateRevision": "db-2",
                    "currentRevision": "db-2",
                }
            ),
            ("statefulset rolling update complete 3 pods at revision db-2...\n", True),
        ),
    ],
)
def test_statefulset_status(obj: dict[str, Any], want: tuple[str, bool]) -> None:
    assert rules.statefulset_status(obj) == want


def test_daemonset_status_and_on_delete() -> None:
    ds: dict[str, Any] = {
        "metadata": {"name": "agent", "generation": 1},
        "status": {"observedGeneration": 1, "desiredNumberScheduled": 2, "updatedNumberScheduled": 1},
    }
    assert (
        rules.daemonset_status(ds)[0]
        == 'Waiting for daemon set "agent" rollout to finish: 1 out of 2 new pods have been updated...\n'
    )
    ds["status"].update(updatedNumberScheduled=2, numberAvailable=2)
    assert rules.daemonset_status(ds) == ('daemon set "agent" successfully rolled out\n', True)
    ds["spec"] = {"updateStrategy": {"type": "OnDelete"}}
    with pytest.raises(rules.RolloutError, match="only available for RollingUpdate"):
        rules.daemonset_status(ds)


def test_undo_target_and_patch() -> None:
    def rs(rev: int, image: str) -> dict[str, Any]:
        return {
            "metadata": {"annotations": {rules.REVISION: str(rev), "team": "a"}},
            "spec": {
                "template": {
                    "metadata": {"labels": {"app": "w", rules.HASH_LABEL: f"h{rev}"}},
                    "spec": {"containers": [{"name": "c", "image": image}]},
                }
            },
        }

    history = rules.history_of("Deployment", [rs(1, "a"), rs(3, "c"), rs(2, "b")])
    assert rules.undo_target("Deployment", "w", history, 0) is history[2]
    assert rules.undo_target("Deployment", "w", history, 1) is history[1]
    with pytest.raises(rules.RolloutError, match="unable to find specified revision 5 in history"):
        rules.undo_target("Deployment", "w", history, 5)
    with pytest.raises(rules.RolloutError, match='no rollout history found for deployment "w"'):
        rules.undo_target("Deployment", "w", {1: history[1]}, 0)
    with pytest.raises(rules.RolloutError, match="no last revision to roll back to"):
        rules.undo_target("DaemonSet", "w", {1: {"revision": 1}}, 0)
    d = {
        "metadata": {"annotations": {rules.REVISION: "3", "other": "x"}},
        "spec": {"template": {"metadata": {"labels": {"app": "w"}}, "spec": {}}},
    }
    ops = rules.deployment_undo_patch(d, history[2])
    assert ops[0]["value"]["metadata"] == {"creationTimestamp": None, "labels": {"app": "w"}}
    assert ops[1] == {
        "op": "replace",
        "path": "/metadata/annotations",
        "value": {rules.REVISION: "3", "team": "a"},
    }
    assert rules.history_table({}) == "No rollout history found."
