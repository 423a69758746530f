"""A Deployment on two real nodes driven by the real kubectl 1.33: apply, `set image`, `rollout
status` until complete, never fewer Ready pods than replicas - maxUnavailable meanwhile, `rollout
undo` back to the first image, and the garbage collector taking ReplicaSets and pods with it."""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.e2e.conftest import MANIFESTS, Cluster
from tests.polling import wait_for

NAME, REPLICAS, MAX_UNAVAILABLE = "web-deploy", 4, 1


def live_pods(c: Cluster) -> list[dict[str, Any]]:
    with c.client() as api:
        items = api.list("pods", "default", label_selector=f"app={NAME}")["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def is_ready(pod: dict[str, Any]) -> bool:
    return any(
        cond.get("type") == "Ready" and cond.get("status") == "True"
        for cond in (pod.get("status") or {}).get("conditions") or []
    )


def images(c: Cluster) -> set[str]:
    return {p["spec"]["containers"][0]["image"] for p in live_pods(c)}


def test_rolling_update_status_undo_with_the_real_kubectl(cluster: Cluster) -> None:
    c = cluster
    out = c.kubectl("apply", "-f", str(MANIFESTS / "web-deployment.yaml"), real=True).stdout
    assert out == f"deployment.apps/{NAME} created\n"
    r = c.kubectl("rollout", "status", f"deployment/{NAME}", "--timeout=150s", real=True, timeout=160)
    assert r.stdout.endswith(f'deployment "{NAME}" successfully rolled out\n'), r.stdout
    assert len([p for p in live_pods(c) if is_ready(p)]) == REPLICAS

    # sample the Ready pods all through the rolling update
    lowest = [REPLICAS]
    samples = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            ready = len([p for p in live_pods(c) if is_ready(p)])
            lowest[0] = min(lowest[0], ready)
            samples[0] += 1
            stop.wait(0.1)

    t = threading.Thread(target=sample)
    t.start()
    try:
        out = c.kubectl("set", "image", f"deployment/{NAME}", "web=kubelite/web:latest", real=True).stdout
        assert out == f"deployment.apps/{NAME} image updated\n"
        r = c.kubectl("rollout", "status", f"deployment/{NAME}", "--timeout=150s", real=True, timeout=160)
    finally:
        stop.set()
        t.join()
    assert r.returncode == 0 and r.stdout.endswith(f'deployment "{NAME}" successfully rolled out\n'), r.stdout
    assert "Waiting for deployment" in r.stdout  # it did wait for the rollout
    assert samples[0] > 10 and lowest[0] >= REPLICAS - MAX_UNAVAILABLE, (lowest, samples)
    # when status returns, the rollout is complete: every live pod runs the new image
    assert images(c) == {"kubelite/web:latest"} and len(live_pods(c)) == REPLICAS

    history = c.kubectl("rollout", "history", f"deployment/{NAME}", real=True).stdout
    assert history.splitlines()[1:4] == ["REVISION  CHANGE-CAUSE", "1         <none>", "2         <none>"]
    assert (
        c.kubectl("rollout", "undo", f"deployment/{NAME}", real=True).stdout
        == f"deployment.apps/{NAME} rolled back\n"
    )
    c.kubectl("rollout", "status", f"deployment/{NAME}", "--timeout=150s", real=True, timeout=160)
    wait_for(
        lambda: images(c) == {"kubelite/web:1.0"} and len(live_pods(c)) == REPLICAS,
        60,
        what="pods back on the first image",
    )
    d = json.loads(c.kubectl("get", "deployment", NAME, "-o", "json").stdout)
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert d["status"]["availableReplicas"] == REPLICAS and d["status"]["updatedReplicas"] == REPLICAS
    conds = {cond["type"]: cond["reason"] for cond in d["status"]["conditions"]}
    assert conds == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}

    c.kubectl("delete", "deployment", NAME, real=True, timeout=120)
    with c.client() as api:
        wait_for(
            lambda: not api.list("replicasets", "default", label_selector=f"app={NAME}")["items"],
            60,
            what="replica sets collected",
        )
    wait_for(lambda: not live_pods(c), 60, what="pods collected")


def test_drain_evicts_within_the_disruption_budget(cluster: Cluster) -> None:
    """The real kubectl's drain evicts through pods/eviction: with minAvailable 1 over two
    replicas it waits (429s) until each replacement is Ready elsewhere, and ends drained."""
    c = cluster
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "budgeted"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "budgeted"}},
            "template": {
                "metadata": {"labels": {"app": "budgeted"}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "c", "image": "busybox:1.35", "command": ["sleep", "3600"]}],
                },
            },
        },
    }
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "budgeted"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "budgeted"}}},
    }
    for obj in (deploy, pdb):
        c.kubectl("apply", "-f", "-", real=True, input=json.dumps(obj))

    def budgeted() -> list[dict[str, Any]]:
        with c.client() as api:
            items = api.list("pods", "default", label_selector="app=budgeted")["items"]
        return [p for p in items if not p["metadata"].get("deletionTimestamp")]

    wait_for(lambda: len([p for p in budgeted() if is_ready(p)]) == 2, 90, what="two budgeted pods Ready")
    node = budgeted()[0]["spec"]["nodeName"]
    try:
        r = c.kubectl(
            "drain",
            node,
            "--pod-selector=app=budgeted",
            "--ignore-daemonsets",
            "--timeout=120s",
            real=True,
            timeout=130,
        )
        assert f"node/{node} drained" in r.stdout, r
        assert "evicting pod" in r.stdout + r.stderr
        ready = wait_for(
            lambda: (ps := budgeted()) and all(is_ready(p) for p in ps) and len(ps) == 2 and ps,
            90,
            what="two Ready again",
        )
        assert all(p["spec"]["nodeName"] != node for p in ready)
    finally:
        c.kubectl("uncordon", node, real=True)
        for kind in ("deployment", "pdb"):
            c.kubectl("delete", kind, "budgeted", real=True, check=False)
