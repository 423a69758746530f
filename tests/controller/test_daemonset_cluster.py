"""DaemonSets against a real `kubelite server`: one pod per eligible node, placed by the scheduler."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from tests.controller.cluster import Cluster, active, eventually
from tests.objects import apps_body

settle = functools.partial(eventually, timeout=30.0)  # generous: these run beside real clusters on 2 cores

pytestmark = pytest.mark.anyio


async def test_daemonset_one_pod_per_node_new_nodes_taints_and_rolling_update(cluster: Cluster) -> None:
    await cluster.add_node("node-0")
    await cluster.add_node("node-1", labels={"disk": "ssd"})
    cluster.play_kubelets()
    cluster.start_controllers(controllers=("daemonset", "garbagecollector"))
    cluster.start_scheduler()
    ds = await cluster.client.create("daemonsets", apps_body("DaemonSet", "agent"), "default")
    uid = ds["metadata"]["uid"]

    async def running_on(nodes: set[str]) -> list[dict[str, Any]] | None:
        pods = active(await cluster.pods(owner_uid=uid))
        on = [p["spec"].get("nodeName") or "" for p in pods]
        ok = sorted(on) == sorted(nodes) and all(
            (p.get("status") or {}).get("phase") == "Running" for p in pods
        )
        return pods if ok else None

    pods = await settle(lambda: running_on({"node-0", "node-1"}), what="a pod on each node")
    for p in pods:  # pinned through required node affinity, bound by the scheduler
        terms = p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms["nodeSelectorTerms"] == [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [p["spec"]["nodeName"]]}]}
        ]
        keys = {(t["key"], t["effect"]) for t in p["spec"]["tolerations"]}
        assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
        assert ("node.kubernetes.io/not-ready", "NoExecute") in keys
        assert p["metadata"]["labels"]["controller-revision-hash"]
        assert p["metadata"]["labels"]["pod-template-generation"] == "1"

    await cluster.add_node("node-2")  # a node added later gets its pod
    await settle(lambda: running_on({"node-0", "node-1", "node-2"}), what="a pod on the new node")

    async def status(**want: int) -> dict[str, Any] | None:
        st = (await cluster.client.get("daemonsets", "agent", "default")).get("status") or {}
        return st if all(st.get(k, 0) == v for k, v in want.items()) else None

    await settle(
        lambda: status(
            desiredNumberScheduled=3,
            currentNumberScheduled=3,
            numberReady=3,
            numberAvailable=3,
            updatedNumberScheduled=3,
            numberMisscheduled=0,
        ),
        what="status of 3 nodes",
    )

    # a NoExecute taint the pod does not tolerate evicts it; a cordon does not
    await cluster.client.patch(
        "nodes", "node-2", {"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]}}
    )
    await cluster.client.patch("nodes", "node-1", {"spec": {"unschedulable": True}})
    await settle(lambda: running_on({"node-0", "node-1"}), what="evicted from the tainted node")

    # rolling update: every pod replaced by one of the new template, one node at a time
    old_hash = pods[0]["metadata"]["labels"]["controller-revision-hash"]
    await cluster.client.patch(
        "daemonsets",
        "agent",
        {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}}}},
        namespace="default",
    )

    async def updated() -> bool:
        pods = await running_on({"node-0", "node-1"})
        return bool(pods) and all(
            p["spec"]["containers"][0]["image"] == "busybox:2"
            and p["metadata"]["labels"]["controller-revision-hash"] != old_hash
            for p in pods or []
        )

    await settle(updated, timeout=20, what="rolled to busybox:2")
    revs = [
        r
        for r in (await cluster.client.list("controllerrevisions", "default"))["items"]
        if r["metadata"]["ownerReferences"][0]["uid"] == uid
    ]
    assert sorted(r["revision"] for r in revs) == [1, 2]
    assert all(r["data"]["spec"]["template"]["$patch"] == "replace" for r in revs)

    # a nodeSelector narrows it to the matching node
    await cluster.client.patch(
        "daemonsets",
        "agent",
        {"spec": {"template": {"spec": {"nodeSelector": {"disk": "ssd"}}}}},
        namespace="default",
    )
    await settle(lambda: running_on({"node-1"}), timeout=20, what="only the ssd node")
    await settle(lambda: status(desiredNumberScheduled=1, numberMisscheduled=0), what="status of 1 node")
