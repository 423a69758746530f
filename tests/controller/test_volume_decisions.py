"""The storage decisions, pure: which volume a claim binds to and what both sides and their phases
look like (controller.volume_decisions), the local-path provisioner's volume and helper pod
(controller.localpath), and the scheduler's VolumeBinding filter."""

from __future__ import annotations

from typing import Any

from controller import volume_decisions as vd
from controller.localpath import helper_pod, volume_for, wants_volume
from controller.scheduler.nodeinfo import NodeInfo, pod_info
from controller.scheduler.plugins import volumebinding
from controller.volumeprotection import claim_in_use

Obj = dict[str, Any]
WFFC = {
    "metadata": {"name": "local-path"},
    "provisioner": "rancher.io/local-path",
    "reclaimPolicy": "Delete",
    "volumeBindingMode": "WaitForFirstConsumer",
}


def claim(
    name: str = "data", size: str = "1Gi", modes: list[str] | None = None, cls: str = "", **meta: Any
) -> Obj:
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "7",
            **meta,
        },
        "spec": {
            "accessModes": modes or ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": cls,
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Pending"},
    }


def volume(
    name: str,
    size: str,
    modes: list[str] | None = None,
    cls: str = "",
    node: str | None = None,
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> Obj:
    body: Obj = {
        "capacity": {"storage": size},
        "accessModes": modes or ["ReadWriteOnce"],
        "storageClassName": cls,
        "hostPath": {"path": f"/srv/{name}"},
        **spec,
    }
    if node:
        body["nodeAffinity"] = {
            "required": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
                        ]
                    }
                ]
            }
        }
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": body,
        "status": {"phase": "Available"},
    }


def test_best_volume_is_the_smallest_that_fits() -> None:
    vols = [
        volume("big", "10Gi"),
        volume("small", "512Mi"),
        volume("ok", "2Gi"),
        volume("ro", "1Gi", ["ReadOnlyMany"]),
        volume("other-class", "1Gi", cls="fast"),
    ]
    chosen = vd.best_volume(claim(), vols)
    assert chosen is not None and chosen["metadata"]["name"] == "ok"
    assert vd.best_volume(claim(size="20Gi"), vols) is None
    taken = volume("taken", "1Gi", claimRef={"namespace": "default", "name": "someone", "uid": "x"})
    assert vd.best_volume(claim(), [taken]) is None
    prebound = volume("mine", "50Gi", claimRef={"namespace": "default", "name": "data"})
    assert vd.best_volume(claim(), [*vols, prebound])["metadata"]["name"] == "mine"  # type: ignore[index]


def test_selector_and_node_affinity_narrow_the_choice() -> None:
    vols = [
        volume("a", "1Gi", labels={"tier": "gold"}, node="n1"),
        volume("b", "1Gi", labels={"tier": "iron"}),
    ]
    sel = claim()
    sel["spec"]["selector"] = {"matchLabels": {"tier": "gold"}}
    assert vd.best_volume(sel, vols)["metadata"]["name"] == "a"  # type: ignore[index]
    assert vd.best_volume(sel, vols, ("n2", {"kubernetes.io/hostname": "n2"})) is None
    assert vd.best_volume(sel, vols, ("n1", {"kubernetes.io/hostname": "n1"})) is not None


def test_binding_marks_both_sides_and_phases_follow() -> None:
    c, v = claim(), volume("v", "1Gi")
    bv = vd.bound_volume(v, c)
    assert bv["spec"]["claimRef"] == {
        "kind": "PersistentVolumeClaim",
        "namespace": "default",
        "name": "data",
        "uid": "uid-data",
        "apiVersion": "v1",
        "resourceVersion": "7",
    }
    assert bv["metadata"]["annotations"] == {vd.BOUND_BY_CONTROLLER: "yes"}
    bc = vd.bound_claim(c, bv)
    assert bc["spec"]["volumeName"] == "v"
    assert bc["metadata"]["annotations"] == {vd.BOUND_BY_CONTROLLER: "yes", vd.BIND_COMPLETED: "yes"}
    assert vd.claim_status(bc, bv) == {
        "phase": "Bound",
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": "1Gi"},
    }
    assert vd.volume_phase(v, None) == "Available"
    assert vd.volume_phase(bv, bc) == "Bound"
    assert vd.volume_phase(bv, None) == "Released"  # its claim is gone
    assert vd.claim_status(bc, None)["phase"] == "Lost"  # a bound claim whose volume is gone
    # a claim its author pointed at a volume not made yet waits
    assert vd.claim_status(dict(c, spec=dict(c["spec"], volumeName="later")), None)["phase"] == "Pending"


def test_local_path_volume_and_helper() -> None:
    c = claim(
        cls="local-path",
        annotations={vd.STORAGE_PROVISIONER: "rancher.io/local-path", vd.SELECTED_NODE: "n1"},
    )
    assert wants_volume(c, WFFC) == "n1"
    assert wants_volume(claim(cls="local-path"), WFFC) is None  # the binder has not handed it over
    pv = volume_for(c, WFFC, "n1", "/data/n1/storage")
    assert pv["metadata"]["name"] == "pvc-uid-data"
    assert pv["spec"]["hostPath"] == {
        "path": "/data/n1/storage/pvc-uid-data_default_data",
        "type": "DirectoryOrCreate",
    }
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert vd.prebound_to(pv, c) and vd.node_fits(pv, "n1", {}) is False  # affinity is on the hostname label
    assert vd.node_fits(pv, "n1", {"kubernetes.io/hostname": "n1"})
    helper = helper_pod(pv)
    assert helper is not None and helper["spec"]["nodeName"] == "n1"
    assert helper["spec"]["volumes"][0]["hostPath"]["path"] == "/data/n1/storage"
    assert helper["spec"]["containers"][0]["command"] == ["rm", "-rf", "/data/pvc-uid-data_default_data"]


def _pod(*claims: str) -> Obj:
    return {
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {
            "containers": [{"name": "c", "image": "i"}],
            "volumes": [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims],
        },
    }


def _node(name: str) -> NodeInfo:
    n = NodeInfo(name, {})
    n.set_node(
        {
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
        }
    )
    return n


def test_volume_binding_filter() -> None:
    claims = {
        "default/wffc": claim("wffc", cls="local-path"),
        "default/imm": claim("imm", cls="manual"),
        "default/bound": dict(claim("bound"), spec=dict(claim("bound")["spec"], volumeName="pv-n1")),
    }
    vols = {"pv-n1": volume("pv-n1", "1Gi", node="n1")}
    classes = {
        "local-path": WFFC,
        "manual": {"metadata": {"name": "manual"}, "provisioner": "x", "volumeBindingMode": "Immediate"},
    }

    def of(pod: Obj) -> volumebinding.PodVolumes:
        return volumebinding.pod_volumes(pod, claims.get, vols.get, classes.get, lambda: list(vols.values()))

    assert of(_pod("missing")).error == 'persistentvolumeclaim "missing" not found'
    assert of(_pod("imm")).error == "pod has unbound immediate PersistentVolumeClaims"
    info = pod_info("default/p", _pod("bound", "wffc"))
    info.volumes = of(info.pod)
    assert volumebinding.filter(info, _node("n1")) == ()
    assert volumebinding.filter(info, _node("n2")) == ("node(s) had volume node affinity conflict",)
    assert [c["metadata"]["name"] for c in volumebinding.to_select(info.volumes, "n1")] == ["wffc"]
    chosen = claim("wffc", cls="local-path", annotations={vd.SELECTED_NODE: "n2"})
    claims["default/wffc"] = chosen
    info.volumes = of(_pod("wffc"))
    assert volumebinding.filter(info, _node("n1")) == (
        "node(s) didn't find available persistent volumes to bind",
    )
    assert volumebinding.filter(info, _node("n2")) == ()
    assert volumebinding.to_select(info.volumes, "n2") == []


def test_claim_in_use_by_an_unfinished_pod_of_its_namespace() -> None:
    running = dict(_pod("data"), status={"phase": "Running"})
    done = dict(_pod("data"), status={"phase": "Succeeded"})
    assert claim_in_use("default/data", [running])
    assert not claim_in_use("default/data", [done])
    assert not claim_in_use("default/other", [running])
    assert not claim_in_use("elsewhere/data", [running])
