"""The CSI strategy rows (apiserver/kinds/csi.py) through the server's own create and update steps:
storage/v1 defaults of a CSIDriver, kube's 422 words and field paths for the four kinds, what stays
immutable, the generation a CSIDriver counts, and the Table cells kubectl prints."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from api import tables
from api.resources import by_plural
from apiserver.validation.csi import drop_new_error_codes, validate_volume_attachment_status
from tests.apiserver_unit import strategy
from tests.apiserver_unit.strategy import by_field

Obj = dict[str, Any]
G = "storage.k8s.io"
NOW = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)
DNS_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def driver(name: str = "hostpath.csi.k8s.io", **spec: Any) -> Obj:
    return {"apiVersion": f"{G}/v1", "kind": "CSIDriver", "metadata": {"name": name}, "spec": spec}


def csinode(*drivers: Obj, name: str = "node-1") -> Obj:
    return {
        "apiVersion": f"{G}/v1",
        "kind": "CSINode",
        "metadata": {"name": name},
        "spec": {"drivers": list(drivers)},
    }


def attachment(**source: Any) -> Obj:
    return {
        "apiVersion": f"{G}/v1",
        "kind": "VolumeAttachment",
        "metadata": {"name": "csi-123"},
        "spec": {
            "attacher": "ebs.csi.aws.com",
            "nodeName": "node-1",
            "source": source or {"persistentVolumeName": "pv-1"},
        },
    }


def capacity(**fields: Any) -> Obj:
    return {
        "apiVersion": f"{G}/v1",
        "kind": "CSIStorageCapacity",
        "metadata": {"name": "cap-1", "namespace": "default"},
        "storageClassName": "fast",
        **fields,
    }


def test_csidriver_gets_kubes_defaults_and_no_generation() -> None:
    obj, causes = strategy.create(G, "csidrivers", driver(nodeAllocatableUpdatePeriodSeconds=30))
    assert causes == []
    assert obj["spec"] == {
        "attachRequired": True,
        "podInfoOnMount": False,
        "storageCapacity": False,
        "fsGroupPolicy": "ReadWriteOnceWithFSType",
        "requiresRepublish": False,
        "seLinuxMount": False,
        "volumeLifecycleModes": ["Persistent"],
    }  # the alpha field is dropped (MutableCSINodeAllocatableCount is off in 1.33)
    assert "generation" not in obj["metadata"]
    # an explicit null is a nil pointer to kube: defaulted alike
    obj2, causes = strategy.create(G, "csidrivers", driver(attachRequired=None, volumeLifecycleModes=[]))
    assert causes == [] and obj2["spec"]["attachRequired"] is True
    assert obj2["spec"]["volumeLifecycleModes"] == ["Persistent"]


def test_csidriver_refusals_in_kubes_words() -> None:
    _, causes = strategy.create(
        G,
        "csidrivers",
        driver(
            "Bad_Name",
            fsGroupPolicy="Sometimes",
            volumeLifecycleModes=["Persistent", "Forever"],
            tokenRequests=[
                {"audience": "vault", "expirationSeconds": 599},
                {"audience": "vault"},
                {"audience": "", "expirationSeconds": (1 << 32) + 1},
                {"audience": "ok", "expirationSeconds": 1 << 32},
            ],
        ),
    )
    assert by_field(causes) == {
        "metadata.name": f'Invalid value: "Bad_Name": {DNS_SUBDOMAIN}',
        "spec.fsGroupPolicy": 'Unsupported value: "Sometimes": supported values: "File", "None", '
        '"ReadWriteOnceWithFSType"',
        "spec.volumeLifecycleModes": 'Unsupported value: "Forever": supported values: "Persistent", "Ephemeral"',
        "spec.tokenRequests[0].expirationSeconds": "Invalid value: 599: may not specify a duration less than 10 minutes",
        "spec.tokenRequests[1].audience": 'Duplicate value: "vault"',
        "spec.tokenRequests[2].expirationSeconds": "Invalid value: 4294967297: may not specify a duration "
        "larger than 2^32 seconds",
    }
    # the 63 characters the API reference mentions are not enforced on the name: a DNS subdomain is
    _, causes = strategy.create(G, "csidrivers", driver("a" * 64 + ".example.com"))
    assert causes == []


def test_csidriver_immutable_fields_and_generation() -> None:
    old, _ = strategy.create(G, "csidrivers", driver())
    new = copy.deepcopy(old)
    new["spec"].update(
        podInfoOnMount=True, fsGroupPolicy="File", storageCapacity=True, requiresRepublish=True
    )
    stored, causes = strategy.update(G, "csidrivers", new, old)
    assert causes == [] and stored["metadata"]["generation"] == 1  # mutable since 1.29, counted
    again, _ = strategy.update(G, "csidrivers", copy.deepcopy(stored), stored)
    assert again["metadata"]["generation"] == 1  # no change of spec, no new generation
    new = copy.deepcopy(stored)
    new["spec"].update(attachRequired=False, volumeLifecycleModes=["Ephemeral"])
    _, causes = strategy.update(G, "csidrivers", new, stored)
    assert by_field(causes) == {
        "spec.attachedRequired": "Invalid value: false: field is immutable",
        "spec.volumeLifecycleModes": 'Invalid value: []storage.VolumeLifecycleMode{"Ephemeral"}: field is immutable',
    }


def test_csinode_drivers_are_checked_and_kept() -> None:
    good = {"name": "ebs.csi.aws.com", "nodeID": "i-123", "topologyKeys": ["topology.ebs.csi.aws.com/zone"]}
    obj, causes = strategy.create(
        G, "csinodes", csinode(good, {"name": "nfs.csi.k8s.io", "nodeID": "n", "allocatable": {"count": 5}})
    )
    assert causes == []
    _, causes = strategy.create(
        G,
        "csinodes",
        csinode(
            good,
            {"name": "ebs.csi.aws.com", "nodeID": "x" * 193, "allocatable": {"count": -1}},
            {"name": "", "nodeID": "", "topologyKeys": ["zone", "zone", "bad key"]},
            {"name": "d" * 64, "nodeID": "n"},
        ),
    )
    assert by_field(causes) == {
        "spec.drivers[1].nodeID": f'Invalid value: "{"x" * 193}": must be 192 characters or less',
        "spec.drivers[1].allocatable.count": "Invalid value: -1: must be greater than or equal to 0",
        "spec.drivers[1].name": 'Duplicate value: "ebs.csi.aws.com"',
        "spec.drivers[2].name": f'Invalid value: "": {DNS_SUBDOMAIN}',
        "spec.drivers[2].nodeID": "Required value",
        "spec.drivers[2]": "Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        "spec.drivers[3].name": "Too long: may not be more than 63 bytes",
    }
    fields = [c["field"] for c in causes]
    assert fields.count("spec.drivers[2].name") == 2  # required, then not a subdomain
    assert 'Duplicate value: "zone"' in [c["message"] for c in causes if c["field"] == "spec.drivers[2]"]
    # a driver already listed never changes; adding and removing drivers is what a kubelet does
    changed = copy.deepcopy(obj)
    changed["spec"]["drivers"][0]["nodeID"] = "i-456"
    _, causes = strategy.update(G, "csinodes", changed, obj)
    assert by_field(causes) == {
        "spec.drivers": "Invalid value: storage.CSINodeDriver{...}: field is immutable"
    }
    grown = copy.deepcopy(obj)
    grown["spec"]["drivers"] = [obj["spec"]["drivers"][0], {"name": "other.csi.io", "nodeID": "o"}]
    assert strategy.update(G, "csinodes", grown, obj)[1] == []


def test_volumeattachment_source_spec_and_status() -> None:
    obj, causes = strategy.create(G, "volumeattachments", attachment())
    assert causes == [] and obj["status"] == {"attached": False}
    _, causes = strategy.create(G, "volumeattachments", {**attachment(), "spec": {"source": {}}})
    # the common rules want an attacher, v1's stricter ones a CSI driver name: kube reports all three
    assert [c["message"] for c in causes if c["field"] == "spec.attacher"] == [
        "Required value",
        "Required value",
        f'Invalid value: "": {DNS_SUBDOMAIN}',
    ]
    assert by_field(causes) | {"spec.attacher": ""} == {
        "spec.attacher": "",
        "spec.source": "Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName",
        "spec.nodeName": f'Invalid value: "": {DNS_SUBDOMAIN}',
    }
    both = attachment(
        persistentVolumeName="pv", inlineVolumeSpec={"csi": {"driver": "d", "volumeHandle": "h"}}
    )
    assert by_field(strategy.create(G, "volumeattachments", both)[1]) == {
        "spec.source": "Forbidden: must specify exactly one of inlineVolumeSpec and persistentVolumeName"
    }
    empty = strategy.create(G, "volumeattachments", attachment(persistentVolumeName=""))[1]
    assert [(c["field"], c["message"]) for c in empty] == [
        ("spec.source.persistentVolumeName", "Required value: must specify non empty persistentVolumeName"),
        ("spec.source.persistentVolumeName", f'Invalid value: "": {DNS_SUBDOMAIN}'),
    ]
    inline = attachment(
        inlineVolumeSpec={
            "capacity": {"storage": "1Gi"},
            "hostPath": {"path": "/x"},
            "persistentVolumeReclaimPolicy": "Delete",
        }
    )
    assert by_field(strategy.create(G, "volumeattachments", inline)[1]) == {
        "spec.source.inlineVolumeSpec.capacity": "Forbidden: may not be specified in the context of inline volumes",
        "spec.source.inlineVolumeSpec.csi": "Required value: has to be specified in the context of inline volumes",
        "spec.source.inlineVolumeSpec.accessModes": "Required value",
        "spec.source.inlineVolumeSpec.persistentVolumeReclaimPolicy": "Forbidden: may only be Retain in the "
        "context of inline volumes",
    }
    ok = attachment(
        inlineVolumeSpec={
            "accessModes": ["ReadWriteOnce"],
            "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"},
        }
    )
    created, causes = strategy.create(G, "volumeattachments", ok)
    assert causes == []
    # the spec is read-only; a main write keeps the status
    changed = copy.deepcopy(created)
    changed["spec"]["nodeName"] = "node-2"
    changed["status"] = {"attached": True}
    stored, causes = strategy.update(G, "volumeattachments", changed, created)
    assert by_field(causes) == {
        "spec": "Invalid value: storage.VolumeAttachmentSpec{...}: field is immutable"
    }
    assert stored["status"] == {"attached": False}


def test_volumeattachment_status_rules() -> None:
    old, _ = strategy.create(G, "volumeattachments", attachment())
    new = copy.deepcopy(old)
    new["status"] = {
        "attached": False,
        "attachError": {"message": "x" * 1025, "errorCode": 5},
        "attachmentMetadata": {"k": "v" * (256 * 1024)},
    }
    drop_new_error_codes(new, old)
    assert "errorCode" not in new["status"]["attachError"]  # its gate is off in 1.33
    assert by_field(validate_volume_attachment_status(new, old)) == {
        "status.attachmentMetadata": "Too long: may not be more than 262144 bytes",
        "status.attachError.message": "Too long: may not be more than 262144 bytes",
    }


def test_csistoragecapacity_rules() -> None:
    obj, causes = strategy.create(
        G, "csistoragecapacities", capacity(capacity="10Gi", nodeTopology={"matchLabels": {"zone": "a"}})
    )
    assert causes == []
    _, causes = strategy.create(
        G,
        "csistoragecapacities",
        capacity(
            storageClassName="",
            capacity="-1Gi",
            maximumVolumeSize="-1",
            nodeTopology={"matchExpressions": [{"key": "zone", "operator": "In"}]},
        ),
    )
    assert by_field(causes) == {
        "nodeTopology.matchExpressions[0].values": "Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "storageClassName": f'Invalid value: "": {DNS_SUBDOMAIN}',
        "capacity": 'Invalid value: "-1Gi": must be greater than or equal to 0',
    }  # maximumVolumeSize is not checked by kube
    changed = copy.deepcopy(obj)
    changed.update(storageClassName="slow", nodeTopology={"matchLabels": {"zone": "b"}}, capacity="1Gi")
    assert by_field(strategy.update(G, "csistoragecapacities", changed, obj)[1]) == {
        "nodeTopology": "Invalid value: v1.LabelSelector{...}: field is immutable",
        "storageClassName": 'Invalid value: "slow": field is immutable',
    }


def _cells(plural: str, obj: Obj) -> tuple[list[str], list[Any]]:
    res = by_plural(G, plural)
    assert res is not None
    obj = copy.deepcopy(obj)
    obj["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    table = tables.to_table(res, [obj], "1", "None", NOW)
    return [c["name"] for c in table["columnDefinitions"]], table["rows"][0]["cells"]


def test_tables_as_kube_prints_them() -> None:
    stored, _ = strategy.create(G, "csidrivers", driver(tokenRequests=[{"audience": "a"}, {"audience": "b"}]))
    cols, cells = _cells("csidrivers", stored)
    assert cols == [
        "Name",
        "AttachRequired",
        "PodInfoOnMount",
        "StorageCapacity",
        "TokenRequests",
        "RequiresRepublish",
        "Modes",
        "Age",
    ]
    assert cells[:7] == ["hostpath.csi.k8s.io", True, False, False, "a,b", False, "Persistent"]
    assert _cells("csidrivers", driver())[1][1:7] == [True, False, False, "<unset>", False, "<none>"]
    cols, cells = _cells("csinodes", csinode({"name": "a", "nodeID": "n"}))
    assert cols == ["Name", "Drivers", "Age"] and cells[:2] == ["node-1", 1]
    cols, cells = _cells("volumeattachments", {**attachment(), "status": {"attached": True}})
    assert cols == ["Name", "Attacher", "PV", "Node", "Attached", "Age"]
    assert cells[:5] == ["csi-123", "ebs.csi.aws.com", "pv-1", "node-1", True]
    cols, cells = _cells("csistoragecapacities", capacity())
    assert cols == ["Name", "StorageClassName", "Capacity"] and cells == ["cap-1", "fast", "<unset>"]
