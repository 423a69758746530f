"""Binding and provisioning against a real server, with the test playing the nodes: the scheduler
picks a node for a pod whose claim waits for its first consumer and names it on the claim, the
local-path provisioner makes a volume there, the binder binds both sides with kube's marks; a
second pod of that claim is placed only on that node; a claim deleted under its pods waits for
them (pvc-protection), then its volume is released and the helper pod the provisioner runs on the node (played here) lets it delete the volume. A static
volume binds to an Immediate claim of its class, and Retain keeps it Released. An Immediate
local-path class cannot provision (no node), and pods of unbound or missing claims wait with the
scheduler's PreFilter words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.controller.cluster import Cluster, eventually, get_or_none

pytestmark = pytest.mark.anyio

Obj = dict[str, Any]
LOOPS = ("persistentvolume-binder", "local-path-provisioner", "pvc-protection", "pv-protection")


def claim(name: str, size: str = "1Gi", cls: str | None = None) -> Obj:
    spec: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def storage_class(name: str, provisioner: str) -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": provisioner,
    }


def pod_with(name: str, claim_name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox:1", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}],
        },
    }


async def _phase(cluster: Cluster, resource: str, name: str, want: str, ns: str | None = None) -> Obj | None:
    obj = await get_or_none(cluster.client, resource, name, ns)
    return obj if obj is not None and (obj.get("status") or {}).get("phase") == want else None


async def test_wait_for_first_consumer_provisions_on_the_chosen_node_and_delete_cleans_up(
    cluster: Cluster,
) -> None:
    for n in ("n1", "n2"):
        await cluster.add_node(n)
    await cluster.client.patch(
        "nodes", "n1", {"metadata": {"annotations": {"kubelite.io/local-path-dir": "/srv/n1"}}}
    )
    cluster.start_controllers(controllers=LOOPS)
    cluster.start_scheduler()
    pvc = await cluster.client.create("persistentvolumeclaims", claim("data"), "default")
    assert pvc["spec"]["storageClassName"] == "local-path"  # DefaultStorageClass admission
    # no consumer yet: nothing is provisioned, the claim says why
    events = await eventually(lambda: _events(cluster, "data"), what="WaitForFirstConsumer event")
    assert any(e["reason"] == "WaitForFirstConsumer" for e in events)
    assert (await cluster.client.list("persistentvolumes"))["items"] == []

    await cluster.client.create("pods", pod_with("p1", "data"), "default")
    p1 = await eventually(lambda: _scheduled(cluster, "p1"), what="p1 scheduled")
    node = p1["spec"]["nodeName"]
    bound = await eventually(
        lambda: _phase(cluster, "persistentvolumeclaims", "data", "Bound", "default"), what="claim Bound"
    )
    annotations = bound["metadata"]["annotations"]
    assert annotations["volume.kubernetes.io/selected-node"] == node
    assert annotations["volume.kubernetes.io/storage-provisioner"] == "rancher.io/local-path"
    assert annotations["pv.kubernetes.io/bind-completed"] == "yes"
    assert annotations["pv.kubernetes.io/bound-by-controller"] == "yes"
    pv_name = f"pvc-{pvc['metadata']['uid']}"
    assert bound["spec"]["volumeName"] == pv_name
    assert bound["status"]["accessModes"] == ["ReadWriteOnce"] and bound["status"]["capacity"] == {
        "storage": "1Gi"
    }
    pv = await eventually(lambda: _phase(cluster, "persistentvolumes", pv_name, "Bound"), what="volume Bound")
    base = "/srv/n1" if node == "n1" else "/var/lib/kubelite/storage"
    assert pv["spec"]["hostPath"] == {"path": f"{base}/{pv_name}_default_data", "type": "DirectoryOrCreate"}
    assert pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
    ]
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == "rancher.io/local-path"

    # a second consumer of the claim goes where the volume is, whatever the spread would prefer
    await cluster.client.create("pods", pod_with("p2", "data"), "default")
    p2 = await eventually(lambda: _scheduled(cluster, "p2"), what="p2 scheduled")
    assert p2["spec"]["nodeName"] == node

    # the claim is deleted while pods use it: pvc-protection holds it, the volume stays Bound
    assert bound["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert pv["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
    await cluster.client.delete("persistentvolumeclaims", "data", "default")
    held = await get_or_none(cluster.client, "persistentvolumeclaims", "data", "default")
    assert held is not None and held["metadata"]["deletionTimestamp"]
    # once its pods are gone it goes: the volume is Released, the helper pod empties its directory
    for p in ("p1", "p2"):
        await cluster.client.delete("pods", p, "default", grace_period_seconds=0)
    await eventually(
        lambda: _gone(cluster, "persistentvolumeclaims", "data", "default"), what="claim removed"
    )
    helper_name = f"helper-pod-delete-{pv_name}"
    helper = await eventually(
        lambda: get_or_none(cluster.client, "pods", helper_name, "kube-system"), what="helper pod"
    )
    assert helper["spec"]["nodeName"] == node
    assert helper["spec"]["containers"][0]["command"] == ["rm", "-rf", f"/data/{pv_name}_default_data"]
    assert helper["spec"]["volumes"][0]["hostPath"]["path"] == base
    assert (await get_or_none(cluster.client, "persistentvolumes", pv_name))["status"]["phase"] == "Released"  # type: ignore[index]
    await cluster.client.patch(
        "pods", helper_name, {"status": {"phase": "Succeeded"}}, namespace="kube-system", subresource="status"
    )
    await eventually(lambda: _gone(cluster, "persistentvolumes", pv_name), what="volume deleted")
    await eventually(lambda: _gone(cluster, "pods", helper_name, "kube-system"), what="helper pod deleted")


async def test_static_volume_binds_immediately_and_retain_keeps_it_released(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", storage_class("manual", "kubernetes.io/no-provisioner"))
    for name, size in (("small", "1Gi"), ("big", "5Gi")):
        await cluster.client.create(
            "persistentvolumes",
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name, "labels": {"tier": "x"}},
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
                    "storageClassName": "manual",
                    "hostPath": {"path": f"/tmp/{name}"},
                },
            },
        )
    cluster.start_controllers(controllers=LOOPS)
    await eventually(
        lambda: _phase(cluster, "persistentvolumes", "small", "Available"), what="small Available"
    )
    await cluster.client.create("persistentvolumeclaims", claim("c", "2Gi", "manual"), "default")
    bound = await eventually(
        lambda: _phase(cluster, "persistentvolumeclaims", "c", "Bound", "default"), what="claim Bound"
    )
    assert bound["spec"]["volumeName"] == "big"  # the smallest volume that holds 2Gi
    assert bound["status"]["capacity"] == {"storage": "5Gi"}
    big = await eventually(lambda: _phase(cluster, "persistentvolumes", "big", "Bound"), what="big Bound")
    assert big["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
    assert big["spec"]["claimRef"]["name"] == "c" and big["spec"]["claimRef"]["namespace"] == "default"
    assert big["spec"]["persistentVolumeReclaimPolicy"] == "Retain"  # the default for a volume made by hand
    # a claim nothing fits stays Pending and says so
    await cluster.client.create("persistentvolumeclaims", claim("huge", "50Gi", "manual"), "default")
    events = await eventually(lambda: _events(cluster, "huge"), what="FailedBinding event")
    assert events[0]["reason"] == "FailedBinding"
    assert events[0]["message"] == "no persistent volumes available for this claim"
    await cluster.client.delete("persistentvolumeclaims", "c", "default")
    released = await eventually(
        lambda: _phase(cluster, "persistentvolumes", "big", "Released"), what="Released"
    )
    assert released["spec"]["claimRef"]["name"] == "c"  # Retain: kept, not offered to other claims


async def test_immediate_local_path_claim_cannot_be_provisioned_and_its_pod_waits(cluster: Cluster) -> None:
    await cluster.add_node("n1")
    await cluster.client.create("storageclasses", storage_class("local-now", "rancher.io/local-path"))
    cluster.start_controllers(controllers=LOOPS)
    cluster.start_scheduler()
    await cluster.client.create("persistentvolumeclaims", claim("now", cls="local-now"), "default")
    failed = await eventually(
        lambda: _reason(cluster, "now", "ProvisioningFailed"), what="ProvisioningFailed"
    )
    assert failed["message"] == (
        'failed to provision volume with StorageClass "local-now": configuration error, no node was specified'
    )
    await cluster.client.create("pods", pod_with("waits", "now"), "default")
    await cluster.client.create("pods", pod_with("orphan", "no-such-claim"), "default")
    waiting = await eventually(lambda: _reason(cluster, "waits", "FailedScheduling"), what="FailedScheduling")
    hopeless = " preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    assert waiting["message"] == (
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims." + hopeless
    )
    orphan = await eventually(lambda: _reason(cluster, "orphan", "FailedScheduling"), what="FailedScheduling")
    assert (
        orphan["message"]
        == '0/1 nodes are available: persistentvolumeclaim "no-such-claim" not found.' + hopeless
    )


async def _reason(cluster: Cluster, name: str, reason: str) -> Obj | None:
    return next((e for e in await _events(cluster, name) if e["reason"] == reason), None)


async def _events(cluster: Cluster, name: str) -> list[Obj]:
    items = (await cluster.client.list("events", "default", field_selector=f"involvedObject.name={name}"))[
        "items"
    ]
    return list(items)


async def _scheduled(cluster: Cluster, name: str) -> Obj | None:
    pod = await get_or_none(cluster.client, "pods", name, "default")
    return pod if pod is not None and pod["spec"].get("nodeName") else None


async def _gone(cluster: Cluster, resource: str, name: str, ns: str | None = None) -> bool:
    return await get_or_none(cluster.client, resource, name, ns) is None
