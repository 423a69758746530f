"""The storage strategy rows (apiserver/kinds/storage.py) through the server's own create and update
steps: defaults as core/v1 and storage/v1 defaults.go, kube's 422 wording for claims, volumes and
classes, the claim's immutable spec, the default-class choice, and the Table cells kubectl prints."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from api import tables
from api.resources import by_plural
from apiserver.kinds.storage import default_class
from tests.apiserver_unit import strategy

Obj = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)


def create(plural: str, obj: Obj, group: str = "") -> tuple[Obj, list[dict[str, str]]]:
    return strategy.create(group, plural, obj)


def update(plural: str, new: Obj, old: Obj, group: str = "") -> list[dict[str, str]]:
    return strategy.update(group, plural, new, old)[1]


def claim(**spec: Any) -> Obj:
    body = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, **spec}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": body,
    }


def volume(**spec: Any) -> Obj:
    body = {
        "capacity": {"storage": "5Gi"},
        "accessModes": ["ReadWriteOnce"],
        "hostPath": {"path": "/srv/v"},
        **spec,
    }
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "v"}, "spec": body}


def fields(causes: list[dict[str, str]]) -> dict[str, str]:
    return {c["field"]: c["message"] for c in causes}


def test_claim_defaults_and_requirements() -> None:
    obj, causes = create("persistentvolumeclaims", claim())
    assert causes == []
    assert obj["spec"]["volumeMode"] == "Filesystem" and obj["status"] == {"phase": "Pending"}
    assert obj["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]  # StorageObjectInUseProtection
    _, causes = create(
        "persistentvolumeclaims", {"metadata": {"name": "x", "namespace": "default"}, "spec": {}}
    )
    assert fields(causes) == {
        "spec.accessModes": "Required value: at least 1 access mode is required",
        "spec.resources[storage]": "Required value",
    }
    _, causes = create(
        "persistentvolumeclaims",
        claim(accessModes=["ReadWriteOncePod", "ReadWriteOnce"], resources={"requests": {"storage": "0"}}),
    )
    assert fields(causes) == {
        "spec.accessModes": "Forbidden: may not use ReadWriteOncePod with other access modes",
        "spec.resources.requests[storage]": 'Invalid value: "0": must be greater than zero',
    }
    _, causes = create("persistentvolumeclaims", claim(accessModes=["WriteSometimes"]))
    assert fields(causes)["spec.accessModes"].startswith(
        'Unsupported value: "WriteSometimes": supported values: '
        '"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce"'
    )


def test_claim_spec_is_immutable_but_binding_fields_and_bound_growth() -> None:
    old, _ = create("persistentvolumeclaims", claim(storageClassName="fast"))
    changed = copy.deepcopy(old)
    changed["spec"]["accessModes"] = ["ReadWriteMany"]
    assert fields(update("persistentvolumeclaims", changed, old)) == {
        "spec": "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName "
        "for bound claims"
    }
    binding = copy.deepcopy(old)
    binding["spec"]["volumeName"] = "pv-1"
    binding["metadata"]["annotations"] = {"pv.kubernetes.io/bind-completed": "yes"}
    assert update("persistentvolumeclaims", binding, old) == []
    grown = copy.deepcopy(old)
    grown["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert "spec" in fields(update("persistentvolumeclaims", grown, old))  # not bound: no resize
    bound = copy.deepcopy(binding)
    bound["status"] = {"phase": "Bound"}
    grown = copy.deepcopy(bound)
    grown["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert update("persistentvolumeclaims", grown, bound) == []
    shrunk = copy.deepcopy(bound)
    shrunk["spec"]["resources"]["requests"]["storage"] = "512Mi"
    assert fields(update("persistentvolumeclaims", shrunk, bound)) == {
        "spec.resources.requests.storage": "Forbidden: field can not be less than previous value"
    }


def test_volume_defaults_and_sources() -> None:
    obj, causes = create("persistentvolumes", volume())
    assert causes == []
    assert (
        obj["spec"]["persistentVolumeReclaimPolicy"] == "Retain" and obj["spec"]["volumeMode"] == "Filesystem"
    )
    assert obj["status"] == {"phase": "Pending"} and obj["metadata"]["finalizers"] == [
        "kubernetes.io/pv-protection"
    ]
    _, causes = create("persistentvolumes", {"metadata": {"name": "v"}, "spec": {}})
    assert fields(causes) == {
        "spec.accessModes": "Required value: at least 1 access mode is required",
        "spec.capacity": "Required value",
        "spec": "Required value: must specify a volume type",
    }
    _, causes = create("persistentvolumes", volume(local={"path": "/mnt/disk"}))
    assert fields(causes) == {
        "spec.local": "Forbidden: may not specify more than 1 volume type",
        "spec.nodeAffinity": "Required value: Local volume requires node affinity",
    }
    _, causes = create(
        "persistentvolumes", volume(persistentVolumeReclaimPolicy="Keep", capacity={"cpu": "1"})
    )
    assert (
        fields(causes)["spec.persistentVolumeReclaimPolicy"]
        == 'Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"'
    )
    assert "spec.capacity" in fields(causes)
    old, _ = create("persistentvolumes", volume())
    moved = copy.deepcopy(old)
    moved["spec"]["hostPath"] = {"path": "/elsewhere"}
    assert "spec.persistentvolumesource" in fields(update("persistentvolumes", moved, old))


def test_storage_class_defaults_and_immutables() -> None:
    sc = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "fast"},
        "provisioner": "example.com/fast",
    }
    obj, causes = create("storageclasses", sc, "storage.k8s.io")
    assert causes == []
    assert obj["reclaimPolicy"] == "Delete" and obj["volumeBindingMode"] == "Immediate"
    _, causes = create(
        "storageclasses",
        {"metadata": {"name": "x"}, "volumeBindingMode": "Later", "reclaimPolicy": "Recycle"},
        "storage.k8s.io",
    )
    assert fields(causes) == {
        "provisioner": "Required value",
        "reclaimPolicy": 'Unsupported value: "Recycle": supported values: "Delete", "Retain"',
        "volumeBindingMode": 'Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    }
    changed = dict(obj, provisioner="example.com/slow", parameters={"a": "b"})
    assert fields(update("storageclasses", changed, obj, "storage.k8s.io")) == {
        "provisioner": "Forbidden: updates to provisioner are forbidden.",
        "parameters": "Forbidden: updates to parameters are forbidden.",
    }


def test_default_class_is_the_newest_marked() -> None:
    def sc(name: str, created: str, default: bool) -> Obj:
        ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
        return {"metadata": {"name": name, "creationTimestamp": created, "annotations": ann}}

    assert default_class([sc("a", "2026-01-01T00:00:00Z", False)]) is None
    chosen = default_class(
        [
            sc("old", "2026-01-01T00:00:00Z", True),
            sc("new", "2026-02-01T00:00:00Z", True),
            sc("plain", "2026-03-01T00:00:00Z", False),
        ]
    )
    assert chosen is not None and chosen["metadata"]["name"] == "new"


def test_tables_print_as_kubectl_shows_them() -> None:
    created = {"creationTimestamp": "2026-01-01T00:00:00Z"}
    pvc_res, pv_res = by_plural("", "persistentvolumeclaims"), by_plural("", "persistentvolumes")
    sc_res = by_plural("storage.k8s.io", "storageclasses")
    assert pvc_res is not None and pv_res is not None and sc_res is not None
    pending = {
        "metadata": {"name": "data", **created},
        "spec": {"storageClassName": "local-path", "volumeMode": "Filesystem"},
        "status": {"phase": "Pending"},
    }
    bound = {
        "metadata": {"name": "db", **created},
        "spec": {"volumeName": "pvc-1", "storageClassName": "local-path", "volumeMode": "Filesystem"},
        "status": {
            "phase": "Bound",
            "accessModes": ["ReadOnlyMany", "ReadWriteOnce"],
            "capacity": {"storage": "1Gi"},
        },
    }
    t = tables.to_table(pvc_res, [pending, bound], "1", now=NOW)
    assert [c["name"] for c in t["columnDefinitions"]] == [
        "Name",
        "Status",
        "Volume",
        "Capacity",
        "Access Modes",
        "StorageClass",
        "VolumeAttributesClass",
        "Age",
        "VolumeMode",
    ]
    assert t["rows"][0]["cells"] == [
        "data",
        "Pending",
        "",
        "",
        "",
        "local-path",
        "<unset>",
        "10m",
        "Filesystem",
    ]
    assert t["rows"][1]["cells"][:5] == ["db", "Bound", "pvc-1", "1Gi", "RWO,ROX"]
    pv = {
        "metadata": {"name": "pvc-1", **created},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "local-path",
            "claimRef": {"namespace": "default", "name": "db"},
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    }
    t = tables.to_table(pv_res, [pv], "1", now=NOW)
    assert [c["name"] for c in t["columnDefinitions"]] == [
        "Name",
        "Capacity",
        "Access Modes",
        "Reclaim Policy",
        "Status",
        "Claim",
        "StorageClass",
        "VolumeAttributesClass",
        "Reason",
        "Age",
        "VolumeMode",
    ]
    assert t["rows"][0]["cells"] == [
        "pvc-1",
        "1Gi",
        "RWO",
        "Delete",
        "Bound",
        "default/db",
        "local-path",
        "<unset>",
        "",
        "10m",
        "Filesystem",
    ]
    sc = {
        "metadata": {
            "name": "local-path",
            **created,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "rancher.io/local-path",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    t = tables.to_table(sc_res, [sc], "1", now=NOW)
    assert t["rows"][0]["cells"] == [
        "local-path (default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        False,
        "10m",
    ]
