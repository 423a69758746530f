"""Nodes and services against a real server: failure and eviction, endpoints, IPAM, namespaces."""

from __future__ import annotations

import ipaddress

import pytest

from api.errors import ApiError
from tests.controller.cluster import Cluster, active, eventually
from tests.objects import rc_body

pytestmark = pytest.mark.anyio


async def test_dead_node_goes_unknown_then_its_pods_are_replaced(cluster: Cluster) -> None:
    for n in ("a", "b"):
        await cluster.add_node(n)
    cluster.play_kubelets()
    cluster.start_controllers(node_monitor_grace_period=1.0, pod_eviction_timeout=2.0)
    cluster.start_scheduler()
    rc = await cluster.client.create("replicationcontrollers", rc_body("w", 4), "default")
    uid = rc["metadata"]["uid"]

    async def running_on(node: str) -> list | None:
        pods = active(await cluster.pods(owner_uid=uid))
        on = [p for p in pods if p["spec"].get("nodeName") == node and p["status"].get("phase") == "Running"]
        return on if on and len(pods) == 4 else None

    doomed = await eventually(lambda: running_on("a"), what="pods running on a")
    cluster.alive.discard("a")  # node a's kubelet dies

    async def unknown() -> bool:
        node = await cluster.client.get("nodes", "a")
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        taints = {(t["key"], t["effect"]) for t in node["spec"].get("taints") or []}
        return ready["status"] == "Unknown" and ("node.kubernetes.io/unreachable", "NoExecute") in taints

    await eventually(unknown, timeout=6, what="node a Unknown and tainted")

    async def not_ready() -> bool:
        for p in doomed:
            cur = await cluster.client.get("pods", p["metadata"]["name"], "default")
            ready = next(c for c in cur["status"]["conditions"] if c["type"] == "Ready")
            if ready["status"] != "False" and not cur["metadata"].get("deletionTimestamp"):
                return False
        return True

    await eventually(not_ready, timeout=6, what="pods on a not ready")

    async def replaced() -> bool:
        pods = active(await cluster.pods(owner_uid=uid))
        return len(pods) == 4 and all(p["spec"].get("nodeName") == "b" for p in pods)

    await eventually(replaced, timeout=10, what="pods evicted and replaced on b")
    evs = {e["reason"] for e in (await cluster.client.list("events", "default"))["items"]}
    assert "TaintManagerEviction" in evs


async def test_a_dead_nodes_pods_leave_as_their_tolerations_say(cluster: Cluster) -> None:
    """Taint eviction: a pod tolerating the unreachable taint for 1 s goes first, one with the
    API's default toleration waits out the controller's eviction timeout, one tolerating it
    for ever (a DaemonSet's) stays."""
    await cluster.add_node("a")
    cluster.play_kubelets()
    cluster.start_controllers(node_monitor_grace_period=1.0, pod_eviction_timeout=6.0)
    unreachable = {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}
    for name, tolerations in (
        ("quick", [{**unreachable, "tolerationSeconds": 1}]),
        ("default", None),
        ("daemon", [unreachable]),
    ):
        spec = {"nodeName": "a", "containers": [{"name": "c", "image": "busybox:1"}]}
        if tolerations is not None:
            spec["tolerations"] = tolerations
        await cluster.client.create("pods", {"metadata": {"name": name}, "spec": spec}, "default")
    cluster.alive.discard("a")

    async def gone(name: str) -> bool:
        try:
            pod = await cluster.client.get("pods", name, "default")
        except ApiError as e:
            return e.code == 404
        return bool(pod["metadata"].get("deletionTimestamp"))

    await eventually(lambda: gone("quick"), timeout=8, what="the 1 s pod evicted")
    assert not await gone("default") and not await gone("daemon")
    await eventually(lambda: gone("default"), timeout=12, what="the default pod evicted")
    assert not await gone("daemon")

    async def evictions() -> list[str]:
        items = (await cluster.client.list("events", "default"))["items"]
        return sorted(e["message"] for e in items if e["reason"] == "TaintManagerEviction")

    # events are written by the recorder after the deletion it reports: waited for, not assumed
    expected = ["Marking for deletion Pod default/default", "Marking for deletion Pod default/quick"]

    async def both_evented() -> bool:
        return await evictions() == expected

    await eventually(both_evented, timeout=5, what="both evictions evented")


async def test_endpoints_follow_readiness_and_named_ports(cluster: Cluster) -> None:
    cluster.start_controllers()
    svc = {
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }
    await cluster.client.create("services", svc, "default")
    for i, port in enumerate((8080, 8080, 9090)):
        pod = {
            "metadata": {"name": f"p{i}", "labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {"name": "c", "image": "busybox:1", "ports": [{"name": "http", "containerPort": port}]}
                ]
            },
        }
        await cluster.client.create("pods", pod, "default")
        ready = "True" if i != 1 else "False"
        await cluster.client.patch(
            "pods",
            f"p{i}",
            {
                "status": {
                    "phase": "Running",
                    "podIP": f"10.244.0.{10 + i}",
                    "conditions": [{"type": "Ready", "status": ready}],
                }
            },
            namespace="default",
            subresource="status",
        )

    async def subsets() -> list | None:
        try:
            ep = await cluster.client.get("endpoints", "web", "default")
        except ApiError:
            return None
        return ep.get("subsets")

    def shape(ss: list) -> list:
        return sorted(
            (
                s["ports"][0]["port"],
                [a["ip"] for a in s.get("addresses", [])],
                [a["ip"] for a in s.get("notReadyAddresses", [])],
            )
            for s in ss
        )

    want = [(8080, ["10.244.0.10"], ["10.244.0.11"]), (9090, ["10.244.0.12"], [])]
    ss = await eventually(lambda: _when(subsets, lambda s: s and shape(s) == want), what="endpoints")
    addr = ss[0]["addresses"][0]
    assert addr["targetRef"]["kind"] == "Pod" and addr["targetRef"]["name"] == "p0"
    await cluster.client.patch(
        "pods",
        "p1",
        {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        namespace="default",
        subresource="status",
    )
    want = [(8080, ["10.244.0.10", "10.244.0.11"], []), (9090, ["10.244.0.12"], [])]
    await eventually(
        lambda: _when(subsets, lambda s: s and shape(s) == want), timeout=1.0, what="ready within 1 s"
    )


async def test_node_ipam_gives_distinct_cidrs(cluster: Cluster) -> None:
    cluster.start_controllers(cluster_cidr="10.100.0.0/16")
    for i in range(4):
        await cluster.add_node(f"n{i}", heartbeat=False)

    async def cidrs() -> list[str] | None:
        got = [(n.get("spec") or {}).get("podCIDR") for n in (await cluster.client.list("nodes"))["items"]]
        return got if all(got) else None  # type: ignore[return-value]

    got = await eventually(cidrs, what="podCIDRs")
    assert len(set(got)) == 4
    assert all(ipaddress.IPv4Network(c).subnet_of(ipaddress.IPv4Network("10.100.0.0/16")) for c in got)
    assert all(ipaddress.ip_network(c).prefixlen == 24 for c in got)


async def test_deleting_a_namespace_deletes_its_contents(cluster: Cluster) -> None:
    cluster.start_controllers()
    await cluster.client.create("namespaces", {"metadata": {"name": "doomed"}})
    await cluster.client.create("replicationcontrollers", rc_body("x", 2), "doomed")
    await eventually(lambda: _when(lambda: cluster.pods("doomed"), lambda p: len(p) == 2), what="pods")
    await cluster.client.delete("namespaces", "doomed")

    async def gone() -> bool:
        try:
            await cluster.client.get("namespaces", "doomed")
            return False
        except ApiError as e:
            return e.code == 404

    await eventually(gone, what="namespace gone")


async def _when(get, pred):
    v = await get()
    return v if pred(v) else None


async def test_pods_of_a_deleted_node_are_force_deleted(cluster: Cluster) -> None:
    cluster.start_controllers(pod_gc_quarantine=0.3)
    await cluster.add_node("temp", heartbeat=False)
    pod = {
        "metadata": {"name": "stranded"},
        "spec": {"nodeName": "temp", "containers": [{"name": "c", "image": "busybox:1"}]},
    }
    await cluster.client.create("pods", pod, "default")
    await cluster.client.delete("nodes", "temp")

    async def gone() -> bool:
        try:
            await cluster.client.get("pods", "stranded", "default")
            return False
        except ApiError as e:
            return e.code == 404

    await eventually(gone, what="pod of the deleted node force-deleted")
