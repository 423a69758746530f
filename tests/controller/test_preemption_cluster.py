"""Preemption end to end: a real `kubelite server` (controllers and scheduler in process) and two
hollow nodes, the real kubectl reading the result.

Both nodes are filled with low-priority pods of half a node's cpu each. A high-priority pod then
evicts one of them: the budget-protected node's pods are spared though their priority is the
lower, the victim is marked DisruptionTarget (PreemptionByScheduler) and told Preempted before it
goes, and the preemptor is nominated to the node and then bound there. A pod of the same priority
with preemptionPolicy Never stays Pending beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api.client import Client
from api.config import from_kubeconfig
from api.quantity import to_milli
from tests.apiserver.conftest import Server, hollow_cluster
from tests.polling import wait_for

NODES = ("hollow-0", "hollow-1")
CLASSES = {"low-5": (5, None), "low-10": (10, None), "high": (1000, None), "high-never": (1000, "Never")}


@pytest.fixture(scope="module")
def hollow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Server]]:
    with hollow_cluster(tmp_path_factory.mktemp("preemption"), nodes=2) as (srv, _):
        c = Client(from_kubeconfig([srv.kubeconfig]))
        wait_for(lambda: len(ready_nodes(c)) == 2, 60, "2 Ready hollow nodes")
        for name, (value, policy) in CLASSES.items():
            pc: dict[str, Any] = {"metadata": {"name": name}, "value": value}
            if policy:
                pc["preemptionPolicy"] = policy
            c.create("priorityclasses", pc)
        yield c, srv
        c.close()


def ready_nodes(c: Client) -> list[str]:
    return [
        n["metadata"]["name"]
        for n in c.list("nodes")["items"]
        if any(x["type"] == "Ready" and x["status"] == "True" for x in n["status"].get("conditions") or [])
    ]


@pytest.fixture
def ns(hollow: tuple[Client, Server], request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of the test's own; its pods gone from the nodes afterwards."""
    c, _ = hollow
    name = "p-" + request.node.name.replace("_", "-")[5:40].strip("-")
    c.create("namespaces", {"metadata": {"name": name}})
    yield name
    c.delete("namespaces", name)
    wait_for(lambda: not c.list("pods", name)["items"], 60, f"the pods of {name} gone")


def half_a_node(c: Client) -> str:
    """Half of a hollow node's cpu (the machine's), in millicores."""
    cpus = [to_milli(n["status"]["allocatable"]["cpu"]) for n in c.list("nodes")["items"]]
    return f"{min(cpus) // 2}m"


def pod(name: str, cls: str, cpu: str, node: str | None = None, **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "priorityClassName": cls,
        "containers": [{"name": "c", "image": "busybox:1", "resources": {"requests": {"cpu": cpu}}}],
    }
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    return {"metadata": {"name": name, "labels": labels}, "spec": spec}


def running(c: Client, ns: str, *names: str) -> bool:
    pods = {p["metadata"]["name"]: p for p in c.list("pods", ns)["items"]}
    return all(n in pods and pods[n]["status"].get("phase") == "Running" for n in names)


def fill(c: Client, ns: str, cpu: str, plan: dict[str, tuple[str, str, dict[str, str]]]) -> None:
    """Pods name -> (node, class, labels), each of `cpu`; waited for until Running."""
    for name, (node, cls, labels) in plan.items():
        c.create("pods", pod(name, cls, cpu, node, **labels), ns)
    wait_for(lambda: running(c, ns, *plan), 60, f"{sorted(plan)} Running")


def events(c: Client, ns: str, reason: str) -> list[dict[str, Any]]:
    return [e for e in c.list("events", ns)["items"] if e["reason"] == reason]


def history(c: Client, ns: str, since: str, done: Any) -> list[dict[str, Any]]:
    """The pod watch events of `ns` after resourceVersion `since`, read until `done(events)`."""
    seen: list[dict[str, Any]] = []
    for ev in c.watch("pods", ns, resource_version=since, timeout_seconds=60, bookmarks=False):
        seen.append(ev)
        if done(seen):
            return seen
    raise AssertionError(f"the watch ended before the story did: {[(e['type'], name_of(e)) for e in seen]}")


def name_of(ev: dict[str, Any]) -> str:
    return str(ev["object"]["metadata"]["name"])


def test_a_high_priority_pod_preempts_where_no_budget_breaks_and_binds(
    hollow: tuple[Client, Server], ns: str
) -> None:
    c, srv = hollow
    cpu = half_a_node(c)
    # the guarded pods are the less important, so without their budget their node would be chosen
    guarded = {"app": "guarded"}
    plan = {
        "guarded-0": (NODES[0], "low-5", guarded),
        "guarded-1": (NODES[0], "low-5", guarded),
        "plain-0": (NODES[1], "low-10", {"app": "plain"}),
        "plain-1": (NODES[1], "low-10", {"app": "plain"}),
    }
    fill(c, ns, cpu, plan)
    pdb = {"metadata": {"name": "guard"}, "spec": {"minAvailable": 2, "selector": {"matchLabels": guarded}}}
    c.create("poddisruptionbudgets", pdb, ns)
    wait_for(
        lambda: (c.get("poddisruptionbudgets", "guard", ns).get("status") or {}).get("currentHealthy") == 2,
        30,
        "the budget's status",
    )
    since = c.list("pods", ns)["metadata"]["resourceVersion"]
    vip = c.create("pods", pod("vip", "high", cpu), ns)
    wait_for(lambda: running(c, ns, "vip"), 60, "vip Running")
    assert c.get("pods", "vip", ns)["spec"]["nodeName"] == NODES[1]

    def told(seen: list[dict[str, Any]]) -> bool:
        deleted = {name_of(e) for e in seen if e["type"] == "DELETED"}
        return bool(deleted) and any(
            name_of(e) == "vip" and e["object"]["spec"].get("nodeName") for e in seen
        )

    seen = history(c, ns, since, told)
    (victim,) = {name_of(e) for e in seen if e["type"] == "DELETED"}
    assert victim in ("plain-0", "plain-1")
    survivors = {p["metadata"]["name"] for p in c.list("pods", ns)["items"]}
    assert survivors == {"guarded-0", "guarded-1", "plain-0", "plain-1", "vip"} - {victim}
    # the victim was marked before it went, in kube's words
    marks = [
        cond
        for e in seen
        if name_of(e) == victim
        for cond in e["object"]["status"].get("conditions") or []
        if cond["type"] == "DisruptionTarget"
    ]
    assert marks and marks[0]["status"] == "True" and marks[0]["reason"] == "PreemptionByScheduler"
    marked = next(
        e["object"] for e in seen if name_of(e) == victim and marks[0] in e["object"]["status"]["conditions"]
    )
    assert {"Ready", "PodScheduled"} <= {c["type"] for c in marked["status"]["conditions"]}  # merged by type
    assert marks[0]["message"] == "default-scheduler: preempting to accommodate a higher priority pod"
    (preempted,) = wait_for(lambda: events(c, ns, "Preempted"), 10, "the Preempted event")
    assert preempted["involvedObject"]["name"] == victim and preempted["type"] == "Normal"
    assert preempted["message"] == f"Preempted by pod {vip['metadata']['uid']} on node {NODES[1]}"
    # the preemptor: told it fits nowhere, nominated to the node, then bound there
    vip_states = [e["object"] for e in seen if name_of(e) == "vip"]
    nominated_at = next(
        i for i, p in enumerate(vip_states) if p["status"].get("nominatedNodeName") == NODES[1]
    )
    bound_at = next(i for i, p in enumerate(vip_states) if p["spec"].get("nodeName"))
    assert nominated_at < bound_at
    wait_for(
        lambda: any(
            e["involvedObject"]["name"] == "vip"
            and e["message"] == "0/2 nodes are available: 2 Insufficient cpu."
            for e in events(c, ns, "FailedScheduling")
        ),
        10,
        "vip's FailedScheduling, with no preemption verdict (it preempted)",
    )
    # kube 1.33 leaves the nomination on the bound pod: the real kubectl shows it
    described = srv.kubectl("-n", ns, "describe", "pod", "vip", check=True).stdout
    assert f"NominatedNodeName:  {NODES[1]}" in described, described
    wide = srv.kubectl("-n", ns, "get", "pod", "vip", "-o", "wide", check=True).stdout.splitlines()
    assert wide[0].split()[7:9] == ["NOMINATED", "NODE"] and wide[1].split()[7] == NODES[1], wide


def test_preemption_policy_never_stays_pending(hollow: tuple[Client, Server], ns: str) -> None:
    c, _ = hollow
    cpu = half_a_node(c)
    fill(c, ns, cpu, {f"low-{i}": (NODES[i % 2], "low-10", {"app": "low"}) for i in range(4)})
    c.create("pods", pod("polite", "high-never", cpu), ns)
    failed = wait_for(
        lambda: [e for e in events(c, ns, "FailedScheduling") if e["involvedObject"]["name"] == "polite"],
        30,
        "polite's FailedScheduling",
    )
    assert failed[0]["message"] == (
        "0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
    )
    # a pod of the same priority that may preempt does, and the room it makes is held for it
    c.create("pods", pod("pushy", "high", cpu), ns)
    wait_for(lambda: running(c, ns, "pushy"), 60, "pushy Running")
    polite = c.get("pods", "polite", ns)
    assert not polite["spec"].get("nodeName") and polite["status"].get("phase") == "Pending"
    assert not polite["status"].get("nominatedNodeName")
    lows = [p for p in c.list("pods", ns)["items"] if p["metadata"]["name"].startswith("low-")]
    assert len(lows) == 3 and not any(
        p["metadata"].get("deletionTimestamp") for p in lows
    )  # one: pushy's victim
