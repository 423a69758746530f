"""Pod phase and status from observed containers, by the kubelet's rules."""

from typing import Any

import pytest

from api.shapes import Condition
from kubelet.status import (
    ContainerView,
    Terminated,
    build_status,
    others_conditions,
    pod_phase,
    readiness_gates_moved,
)

T0, T1 = "2026-11-29T08:00:00Z", "2026-11-29T08:00:05Z"


def running(name="c", ready=True):
    return ContainerView(
        name, "busybox", "running", container_id="abc", started_at=T0, ready=ready, started=True
    )


def exited(name="c", code=0):
    return ContainerView(
        name,
        "busybox",
        "terminated",
        terminated=Terminated(code, "Completed" if code == 0 else "Error", T0, T1, "abc"),
    )


def crashlooping(name="c"):
    return ContainerView(
        name,
        "busybox",
        "waiting",
        reason="CrashLoopBackOff",
        restart_count=2,
        last_terminated=Terminated(1, "Error", T0, T1),
    )


@pytest.mark.parametrize(
    ("policy", "views", "phase"),
    [
        ("Always", [ContainerView("c", "i", "waiting")], "Pending"),
        ("Always", [running(), ContainerView("d", "i", "waiting")], "Pending"),
        ("Always", [running()], "Running"),
        ("Always", [crashlooping()], "Running"),
        ("Always", [exited(code=0)], "Running"),
        ("Never", [exited(code=0)], "Succeeded"),
        ("Never", [exited(code=0), exited("d", code=2)], "Failed"),
        ("OnFailure", [exited(code=0)], "Succeeded"),
        ("OnFailure", [exited(code=1)], "Running"),
        ("Never", [running(), exited("d", code=1)], "Running"),
        ("Always", [], "Pending"),
    ],
)
def test_phase(policy, views, phase):
    assert pod_phase(policy, views) == phase


def test_init_containers_hold_pending_and_fail_under_never():
    assert pod_phase("Always", [running()], [ContainerView("i", "x", "running")], 1) == "Pending"
    assert pod_phase("Always", [running()], [exited("i")], 1) == "Running"
    assert pod_phase("Never", [ContainerView("c", "x", "waiting")], [exited("i", 1)], 1) == "Failed"


def test_sidecars_must_start_and_never_decide_the_end():
    proxy = frozenset({"proxy"})
    started = ContainerView("proxy", "x", "running", started=True)
    assert (
        pod_phase(
            "Always", [ContainerView("c", "x", "waiting")], [ContainerView("proxy", "x", "running")], 1, proxy
        )
        == "Pending"
    )  # its startup probe has not passed
    assert pod_phase("Always", [running()], [started], 1, proxy) == "Running"
    assert pod_phase("Always", [running()], [crashlooping("proxy")], 1, proxy) == "Running"  # restarting
    assert (
        pod_phase("Never", [exited(code=0)], [exited("proxy", 143)], 1, proxy) == "Succeeded"
    )  # stopped at the end
    assert pod_phase("Never", [exited(code=3)], [exited("proxy", 0)], 1, proxy) == "Failed"


def test_build_status_conditions_and_container_statuses():
    pod = {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
        "status": {"conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "old"}]},
    }
    st = build_status(pod, [running("a"), running("b", ready=False)], [], "10.244.0.5", "192.168.1.2", T0, T1)
    conds = {c["type"]: c for c in st["conditions"]}
    assert st["phase"] == "Running"
    assert conds["Ready"]["status"] == "False" and conds["Ready"]["reason"] == "ContainersNotReady"
    assert conds["Ready"]["message"] == "containers with unready status: [b]"
    assert conds["Initialized"]["status"] == "True"
    assert conds["PodScheduled"]["lastTransitionTime"] == "old"  # unchanged condition keeps its time
    assert st["podIP"] == "10.244.0.5" and st["podIPs"] == [{"ip": "10.244.0.5"}]
    a = st["containerStatuses"][0]
    assert a["state"] == {"running": {"startedAt": T0}} and a["ready"] is True
    assert a["containerID"] == "kubelite://abc" and a["restartCount"] == 0
    for key in ("name", "ready", "restartCount", "image", "imageID"):  # the Python client requires these
        assert key in a


def test_crashloop_status_has_last_state():
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
    st = build_status(pod, [crashlooping()], [], "", "", T0, T1)
    cs = st["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["restartCount"] == 2
    assert "podIP" not in st


def test_readiness_gates_hold_ready_and_others_conditions_are_kept() -> None:
    gated = {
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": "a"}],
            "readinessGates": [
                {"conditionType": "lb.example.com/ready"},
                {"conditionType": "example.com/warm"},
            ],
        },
    }
    lb_false: Condition = {"type": "lb.example.com/ready", "status": "False", "lastTransitionTime": "t"}
    target: Condition = {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"}

    def ready(others: list[Condition]) -> tuple[Any, Any]:
        st = build_status(gated, [running("a")], [], "10.244.0.5", "192.168.1.2", T0, T1, others)
        return st, {c["type"]: c for c in st["conditions"]}["Ready"]

    st, r = ready([lb_false, target])
    assert r["status"] == "False" and r["reason"] == "ReadinessGatesNotReady"
    assert r["message"] == (
        'the status of pod readiness gate "lb.example.com/ready" is not "True", but False, '
        'corresponding condition of pod readiness gate "example.com/warm" does not exist.'
    )
    assert lb_false in st["conditions"] and target in st["conditions"]  # others' conditions, as they are
    assert others_conditions(st) == [lb_false, target]
    both: list[Condition] = [{**lb_false, "status": "True"}, {"type": "example.com/warm", "status": "True"}]
    assert ready(both)[1]["status"] == "True"
    # containers not ready: that is the reason given, whatever the gates say
    st = build_status(gated, [running("a", ready=False)], [], "", "", T0, T1, both)
    assert {c["type"]: c for c in st["conditions"]}["Ready"]["reason"] == "ContainersNotReady"


def test_readiness_gates_moved_only_for_a_gate_condition():
    spec = {"readinessGates": [{"conditionType": "lb.example.com/ready"}]}
    old = {"spec": spec, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    gate_true = {"spec": spec, "status": {"conditions": [{"type": "lb.example.com/ready", "status": "True"}]}}
    other = {"spec": spec, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert readiness_gates_moved(old, gate_true)
    assert not readiness_gates_moved(old, other)
    assert not readiness_gates_moved(
        {"status": {}}, {"status": {"conditions": [{"type": "x", "status": "True"}]}}
    )


def test_a_pod_is_not_reported_ended_while_its_sidecar_still_runs():
    pod = {
        "metadata": {"name": "p"},
        "spec": {
            "restartPolicy": "Never",
            "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
            "containers": [{"name": "c"}],
        },
    }
    proxy = ContainerView("proxy", "x", "running", started=True, ready=True)
    assert build_status(pod, [exited(code=0)], [proxy], "", "", T0, T1)["phase"] == "Running"
    assert build_status(pod, [exited(code=0)], [exited("proxy", 137)], "", "", T0, T1)["phase"] == "Succeeded"
