"""StatefulSets against a real `kubelite server`: ordered, stable names, partitioned rolling update."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from tests.controller.cluster import Cluster, eventually
from tests.objects import apps_body

pytestmark = pytest.mark.anyio
settle = functools.partial(eventually, timeout=30.0)  # generous: these run beside real clusters on 2 cores


def sts_body(name: str, replicas: int, **spec: Any) -> dict[str, Any]:
    return apps_body("StatefulSet", name, replicas, serviceName=name, **spec)


async def test_statefulset_ordered_scale_and_partitioned_update(cluster: Cluster) -> None:
    await cluster.add_node("node-0")
    await cluster.add_node("node-1")
    cluster.play_kubelets()
    cluster.start_controllers(controllers=("statefulset", "garbagecollector"))
    cluster.start_scheduler()
    created: list[str] = []
    seen: set[str] = set()

    async def names() -> list[str]:
        pods = [p for p in await cluster.pods() if not p["metadata"].get("deletionTimestamp")]
        for p in sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"]):
            if p["metadata"]["uid"] not in seen:
                seen.add(p["metadata"]["uid"])
                created.append(p["metadata"]["name"])
        return sorted(
            p["metadata"]["name"] for p in pods if (p.get("status") or {}).get("phase") == "Running"
        )

    async def running(want: list[str]) -> bool:
        return await names() == want

    await cluster.client.create("statefulsets", sts_body("db", 3), "default")
    await settle(lambda: running(["db-0", "db-1", "db-2"]), what="db-0..2 running")
    assert created == ["db-0", "db-1", "db-2"]  # one at a time, in order
    pod = await cluster.client.get("pods", "db-1", "default")
    assert pod["spec"]["hostname"] == "db-1" and pod["spec"]["subdomain"] == "db"
    labels = pod["metadata"]["labels"]
    assert (
        labels["statefulset.kubernetes.io/pod-name"] == "db-1"
        and labels["apps.kubernetes.io/pod-index"] == "1"
    )
    st = (await cluster.client.get("statefulsets", "db", "default"))["status"]
    assert labels["controller-revision-hash"] == st["currentRevision"] == st["updateRevision"]

    # a deleted pod comes back under the same name
    old_uid = pod["metadata"]["uid"]
    await cluster.client.delete("pods", "db-1", "default")

    async def replaced() -> bool:
        try:
            p = await cluster.client.get("pods", "db-1", "default")
        except Exception:
            return False
        return p["metadata"]["uid"] != old_uid and (p.get("status") or {}).get("phase") == "Running"

    await settle(replaced, what="db-1 recreated")

    # rolling update with partition 1: db-2 then db-1 are replaced, db-0 keeps the old revision
    await cluster.client.patch(
        "statefulsets",
        "db",
        {
            "spec": {
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
                "template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}},
            }
        },
        namespace="default",
    )

    async def images() -> dict[str, str] | None:
        pods = [
            p
            for p in await cluster.pods()
            if not p["metadata"].get("deletionTimestamp")
            and (p.get("status") or {}).get("phase") == "Running"
        ]
        got = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in pods}
        want = {"db-0": "busybox:1", "db-1": "busybox:2", "db-2": "busybox:2"}
        return got if got == want else None

    await settle(images, timeout=20, what="db-1, db-2 updated; db-0 kept")
    st = (await cluster.client.get("statefulsets", "db", "default"))["status"]
    assert st["currentRevision"] != st["updateRevision"] and st.get("updatedReplicas") == 2

    # partition 0 finishes the update; then the current revision is the update revision
    await cluster.client.patch(
        "statefulsets",
        "db",
        {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}},
        namespace="default",
    )

    async def done() -> bool:
        s = (await cluster.client.get("statefulsets", "db", "default")).get("status") or {}
        return (
            s.get("currentRevision") == s.get("updateRevision")
            and s.get("updatedReplicas") == 3
            and s.get("readyReplicas") == 3
        )

    await settle(done, timeout=20, what="update complete")

    # scale down: highest ordinal first
    await cluster.client.patch("statefulsets", "db", {"spec": {"replicas": 1}}, namespace="default")
    await settle(lambda: running(["db-0"]), what="scaled to db-0")


async def test_parallel_statefulset_creates_all_at_once(cluster: Cluster) -> None:
    await cluster.add_node("node-0")
    cluster.play_kubelets()
    cluster.start_controllers(controllers=("statefulset",))
    await cluster.client.create("statefulsets", sts_body("p", 4, podManagementPolicy="Parallel"), "default")

    async def all_four() -> bool:  # no scheduler: none can become Running, yet all four exist
        return sorted(p["metadata"]["name"] for p in await cluster.pods()) == ["p-0", "p-1", "p-2", "p-3"]

    await settle(all_four, what="4 pods created in parallel")


async def test_orphaned_pods_are_adopted_by_a_new_statefulset(cluster: Cluster) -> None:
    await cluster.add_node("node-0")
    cluster.play_kubelets()
    cluster.start_controllers(controllers=("statefulset", "garbagecollector"))
    cluster.start_scheduler()
    first = await cluster.client.create("statefulsets", sts_body("keep", 2), "default")

    async def owned_by(uid: str, n: int) -> list[dict[str, Any]] | None:
        pods = [
            p
            for p in await cluster.pods()
            if any(r["uid"] == uid for r in p["metadata"].get("ownerReferences") or [])
            and (p.get("status") or {}).get("phase") == "Running"
        ]
        return pods if len(pods) == n else None

    before = await settle(lambda: owned_by(first["metadata"]["uid"], 2), what="2 pods")
    await cluster.client.delete("statefulsets", "keep", "default", propagation_policy="Orphan")

    async def orphaned() -> bool:
        pods = await cluster.pods()
        return len(pods) == 2 and all(not p["metadata"].get("ownerReferences") for p in pods)

    await settle(orphaned, what="pods orphaned")
    second = await cluster.client.create("statefulsets", sts_body("keep", 2), "default")
    after = await settle(lambda: owned_by(second["metadata"]["uid"], 2), what="pods adopted")
    assert {p["metadata"]["uid"] for p in after} == {p["metadata"]["uid"] for p in before}  # the same pods


async def test_each_pod_gets_its_own_claims_which_outlive_it(cluster: Cluster) -> None:
    cluster.start_controllers(controllers=("statefulset",))  # no scheduler: claims come before any binding
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    await cluster.client.create(
        "statefulsets",
        sts_body("vol", 2, volumeClaimTemplates=[claim], podManagementPolicy="Parallel"),
        "default",
    )

    async def claims() -> list[str] | None:
        items = (await cluster.client.list("persistentvolumeclaims", "default"))["items"]
        names = sorted(c["metadata"]["name"] for c in items)
        return names if names == ["data-vol-0", "data-vol-1"] else None

    await settle(claims, what="a claim per pod")
    pvc = await cluster.client.get("persistentvolumeclaims", "data-vol-1", "default")
    assert pvc["metadata"]["labels"] == {"app": "vol"}
    pod = await settle(lambda: _get(cluster, "vol-1"), what="vol-1")
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-vol-1"}} in pod["spec"]["volumes"]
    await cluster.client.patch("statefulsets", "vol", {"spec": {"replicas": 1}}, namespace="default")

    async def one_pod() -> bool:
        return [p["metadata"]["name"] for p in await cluster.pods()] == ["vol-0"]

    await settle(one_pod, what="scaled to vol-0")
    assert await claims()  # Retain: the claim of the removed pod stays for a scale back up
    events = (await cluster.client.list("events", "default"))["items"]
    assert any(
        e["reason"] == "SuccessfulCreate"
        and "create Claim data-vol-0 Pod vol-0 in StatefulSet vol success" in e["message"]
        for e in events
    )


async def _get(cluster: Cluster, name: str) -> dict[str, Any] | None:
    try:
        return dict(await cluster.client.get("pods", name, "default"))
    except Exception:
        return None
