"""ReplicaSet and Deployment controllers against a real `kubelite server` (the test plays the kubelets)."""

from __future__ import annotations

from typing import Any

import pytest

from controller import deployment_util as du
from tests.controller.cluster import Cluster, active, eventually
from tests.objects import apps_body

pytestmark = pytest.mark.anyio

Obj = dict[str, Any]


def deploy_body(
    name: str, replicas: int, image: str = "busybox:1", rolling: tuple[int, int] | None = None, **spec: Any
) -> Obj:
    """A Deployment; `rolling` is (maxSurge, maxUnavailable) of a RollingUpdate strategy."""
    if rolling is not None:
        surge, unavailable = rolling
        spec["strategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
        }
    return apps_body("Deployment", name, replicas, image, **spec)


async def start(cluster: Cluster, nodes: int = 2) -> None:
    for i in range(nodes):
        await cluster.add_node(f"node-{i}")
    cluster.play_kubelets()
    cluster.start_controllers()
    cluster.start_scheduler()


async def rss_of(cluster: Cluster, uid: str) -> list[Obj]:
    items = (await cluster.client.list("replicasets", "default"))["items"]
    return [r for r in items if any(o.get("uid") == uid for o in r["metadata"].get("ownerReferences") or [])]


async def test_replicaset_match_expressions_status_and_adoption(cluster: Cluster) -> None:
    await start(cluster)
    orphan = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "orphan", "labels": {"app": "rs", "tier": "a"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1"}]},
    }
    await cluster.client.create("pods", orphan, "default")

    async def orphan_running() -> bool:
        p = await cluster.client.get("pods", "orphan", "default")
        return (p.get("status") or {}).get("phase") == "Running"

    # as kube's adoption e2e test: the orphan runs before its owner exists, so the controller's pod
    # cache has it when the ReplicaSet's first sync comes (else it makes 3 and the orphan is surplus)
    await eventually(orphan_running, what="orphan running")
    rs = apps_body(
        "ReplicaSet",
        "rs",
        3,
        selector={
            "matchLabels": {"app": "rs"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}],
        },
    )
    rs["spec"]["template"]["metadata"]["labels"]["tier"] = "b"
    created = await cluster.client.create("replicasets", rs, "default")
    uid = created["metadata"]["uid"]

    async def ready() -> Obj | None:
        st = (await cluster.client.get("replicasets", "rs", "default")).get("status") or {}
        ok = st.get("replicas") == 3 and st.get("readyReplicas") == 3 and st.get("availableReplicas") == 3
        return st if ok else None

    st = await eventually(ready, what="rs ready")
    assert st["fullyLabeledReplicas"] == 2  # the adopted orphan has tier=a, not the template's tier=b
    assert st["observedGeneration"] == (await cluster.client.get("replicasets", "rs", "default"))[
        "metadata"
    ].get("generation", 0)
    pods = active(await cluster.pods(owner_uid=uid))
    assert len(pods) == 3 and "orphan" in {p["metadata"]["name"] for p in pods}
    ref = next(r for r in pods[0]["metadata"]["ownerReferences"] if r["uid"] == uid)
    assert (
        ref["kind"] == "ReplicaSet" and ref["apiVersion"] == "apps/v1" and ref["blockOwnerDeletion"] is True
    )
    # a pod whose labels stop matching is released and replaced
    await cluster.client.patch("pods", "orphan", {"metadata": {"labels": {"tier": "c"}}}, namespace="default")

    async def released() -> bool:
        p = await cluster.client.get("pods", "orphan", "default")
        owned = active(await cluster.pods(owner_uid=uid))
        return not p["metadata"].get("ownerReferences") and len(owned) == 3

    await eventually(released, what="orphan released and replaced")


async def test_deployment_rolls_out_undoes_and_collects(cluster: Cluster) -> None:
    await start(cluster)
    body = deploy_body("web", 4, rolling=(1, 1))
    d = await cluster.client.create("deployments", body, "default")
    uid = d["metadata"]["uid"]

    async def complete(image: str, revision: str = "1") -> Obj | None:
        cur = await cluster.client.get("deployments", "web", "default")
        st = cur.get("status") or {}
        prog = du.get_condition(st, "Progressing") or {}
        ok = (
            st.get("observedGeneration", 0) >= cur["metadata"].get("generation", 0)
            and st.get("updatedReplicas") == 4
            and st.get("replicas") == 4
            and st.get("availableReplicas") == 4
            and prog.get("reason") == du.NEW_RS_AVAILABLE
            and cur["spec"]["template"]["spec"]["containers"][0]["image"] == image
            and (cur["metadata"].get("annotations") or {}).get(du.REVISION) == revision
        )
        return cur if ok else None

    cur = await eventually(lambda: complete("busybox:1"), what="first rollout")
    assert cur["metadata"]["annotations"][du.REVISION] == "1"
    assert du.get_condition(cur["status"], "Available")["status"] == "True"  # type: ignore[index]
    rss = await rss_of(cluster, uid)
    assert len(rss) == 1
    first = rss[0]
    h = first["metadata"]["labels"][du.HASH_LABEL]
    assert first["metadata"]["name"] == f"web-{h}"
    assert first["spec"]["selector"]["matchLabels"][du.HASH_LABEL] == h
    pods = active(await cluster.pods())
    assert len(pods) == 4 and all(p["metadata"]["labels"][du.HASH_LABEL] == h for p in pods)

    await cluster.client.patch(
        "deployments",
        "web",
        {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}}}},
        namespace="default",
        content_type="application/strategic-merge-patch+json",
    )
    cur = await eventually(lambda: complete("busybox:2", "2"), timeout=20, what="second rollout")
    assert cur["metadata"]["annotations"][du.REVISION] == "2"
    by_name = {r["metadata"]["name"]: r for r in await rss_of(cluster, uid)}
    assert len(by_name) == 2 and by_name[first["metadata"]["name"]]["spec"]["replicas"] == 0
    events = (await cluster.client.list("events", "default"))["items"]
    msgs = [e["message"] for e in events if e["reason"] == "ScalingReplicaSet"]
    assert any(m.startswith("Scaled down replica set web-") for m in msgs), msgs

    # scale during steady state goes to the one active RS
    await cluster.client.patch("deployments", "web", {"spec": {"replicas": 2}}, namespace="default")

    async def two() -> bool:
        return len(active(await cluster.pods())) == 2

    await eventually(two, what="scaled to 2")

    # deleting the Deployment takes its ReplicaSets and their pods (garbage collector)
    await cluster.client.delete("deployments", "web", "default")

    async def gone() -> bool:
        return not await rss_of(cluster, uid) and not active(await cluster.pods())

    await eventually(gone, timeout=20, what="replicasets and pods collected")


async def test_recreate_and_history_limit(cluster: Cluster) -> None:
    await start(cluster)
    d = await cluster.client.create(
        "deployments", deploy_body("rec", 2, strategy={"type": "Recreate"}, revisionHistoryLimit=1), "default"
    )
    uid = d["metadata"]["uid"]
    for image in ("busybox:1", "busybox:2", "busybox:3"):
        await cluster.client.patch(
            "deployments",
            "rec",
            {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}},
            namespace="default",
            content_type="application/strategic-merge-patch+json",
        )

        async def done(image: str = image) -> bool:
            pods = active(await cluster.pods())
            return len(pods) == 2 and all(p["spec"]["containers"][0]["image"] == image for p in pods)

        await eventually(done, timeout=20, what=f"recreated with {image}")

    async def pruned() -> list[Obj] | None:
        rss = await rss_of(cluster, uid)
        return rss if len(rss) == 2 else None

    rss = await eventually(pruned, timeout=20, what="history limited to 1 old ReplicaSet")
    assert sorted(du.revision(r) for r in rss) == [2, 3]


async def test_scaling_mid_rollout_is_proportional_and_orphaning_keeps_replicasets(cluster: Cluster) -> None:
    await start(cluster)
    body = deploy_body("prop", 10, rolling=(3, 2))
    d = await cluster.client.create("deployments", body, "default")
    uid = d["metadata"]["uid"]

    async def sizes(want: dict[str, int]) -> dict[str, int] | None:
        rss = await rss_of(cluster, uid)
        got = {
            r["spec"]["template"]["spec"].get("nodeSelector", {}).get("nope", "old"): r["spec"]["replicas"]
            for r in rss
        }
        return got if got == want else None

    await eventually(lambda: sizes({"old": 10}), what="first rollout")

    async def available() -> bool:
        return ((await cluster.client.get("deployments", "prop", "default")).get("status") or {}).get(
            "availableReplicas"
        ) == 10

    await eventually(available, what="10 available")
    # a template whose pods never schedule: the rollout stops at old 8 + new 5 (13 = 10 + surge)
    await cluster.client.patch(
        "deployments",
        "prop",
        {"spec": {"template": {"spec": {"nodeSelector": {"nope": "x"}}}}},
        namespace="default",
        content_type="application/strategic-merge-patch+json",
    )
    await eventually(lambda: sizes({"old": 8, "x": 5}), timeout=20, what="rollout stuck at 8 + 5")
    # 10 -> 20 mid-rollout: 10 more (to 23 = 20 + surge) spread by size, 8*23/13 -> 14 and 5*23/13 -> 9
    await cluster.client.patch("deployments", "prop", {"spec": {"replicas": 20}}, namespace="default")
    await eventually(lambda: sizes({"old": 14, "x": 9}), timeout=20, what="proportional 14 + 9")

    # orphan propagation: the Deployment goes, its ReplicaSets stay, released
    await cluster.client.delete("deployments", "prop", "default", propagation_policy="Orphan")

    async def orphaned() -> bool:
        rss = (await cluster.client.list("replicasets", "default"))["items"]
        return len(rss) == 2 and all(not r["metadata"].get("ownerReferences") for r in rss)

    await eventually(orphaned, timeout=20, what="replica sets orphaned")
