"""The CSI objects of storage.k8s.io/v1 served as kube-apiserver serves them (no driver runs here, so
nothing acts on them): the real kubectl applies a driver's install objects and prints them with
kube's columns, the Python client lists and watches each kind (as its informers do), bad objects get
kube's 422 with its field paths and store nothing, immutable fields stay, a VolumeAttachment's status
is written only through /status, and a node's kubelet makes its own CSINode, owned by its Node, and
may touch no other."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client, watch

from api.aclient import AsyncClient
from api.config import ClientConfig
from kubelet.node import NodeAgent, node_object, read_machine
from tests.apiserver.conftest import Server, table_rows

S = "/apis/storage.k8s.io/v1"
NODE_HEADER = "X-Kubelite-Node-Name"

INSTALL_YAML = """
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata:
  name: hostpath.csi.k8s.io
spec:
  podInfoOnMount: true
  volumeLifecycleModes: [Persistent, Ephemeral]
  tokenRequests:
  - audience: vault
    expirationSeconds: 3600
---
apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata:
  name: csi-0123
spec:
  attacher: hostpath.csi.k8s.io
  nodeName: node-a
  source:
    persistentVolumeName: pv-a
"""


def causes(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, r.text
    return {c["field"]: c["message"] for c in r.json()["details"]["causes"]}


def test_driver_install_objects_apply_and_print(server: Server, http: httpx.Client) -> None:
    server.kubectl("apply", "-f", "-", input=INSTALL_YAML, check=True)
    try:
        driver = http.get(f"{S}/csidrivers/hostpath.csi.k8s.io").json()
        assert driver["spec"] == {
            "attachRequired": True,
            "podInfoOnMount": True,
            "storageCapacity": False,
            "fsGroupPolicy": "ReadWriteOnceWithFSType",
            "requiresRepublish": False,
            "seLinuxMount": False,
            "volumeLifecycleModes": ["Persistent", "Ephemeral"],
            "tokenRequests": [{"audience": "vault", "expirationSeconds": 3600}],
        }
        rows = table_rows(server.kubectl("get", "csidrivers", check=True).stdout)
        assert rows[0] == [
            "NAME",
            "ATTACHREQUIRED",
            "PODINFOONMOUNT",
            "STORAGECAPACITY",
            "TOKENREQUESTS",
            "REQUIRESREPUBLISH",
            "MODES",
            "AGE",
        ]
        assert ["hostpath.csi.k8s.io", "true", "true", "false", "vault", "false", "Persistent,Ephemeral"] in [
            r[:7] for r in rows
        ]
        rows = table_rows(server.kubectl("get", "volumeattachments", check=True).stdout)
        assert rows[0] == ["NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE"]
        assert ["csi-0123", "hostpath.csi.k8s.io", "pv-a", "node-a", "false"] in [r[:5] for r in rows]
        # a second apply changes nothing; the four kinds print together
        server.kubectl("apply", "-f", "-", input=INSTALL_YAML, check=True)
        out = server.kubectl(
            "get", "csidrivers,csinodes,volumeattachments,csistoragecapacities", "-A", check=True
        ).stdout
        assert "csidriver.storage.k8s.io/hostpath.csi.k8s.io" in out
        assert "volumeattachment.storage.k8s.io/csi-0123" in out
    finally:
        server.kubectl("delete", "-f", "-", input=INSTALL_YAML, check=True)


def test_csidriver_refusals_and_immutability(http: httpx.Client) -> None:
    bad = {
        "metadata": {"name": "Bad_Driver"},
        "spec": {
            "fsGroupPolicy": "Sometimes",
            "tokenRequests": [{"audience": "a", "expirationSeconds": 60}, {"audience": "a"}],
            "volumeLifecycleModes": ["Forever"],
        },
    }
    got = causes(http.post(f"{S}/csidrivers", json=bad))
    assert got["metadata.name"].startswith('Invalid value: "Bad_Driver": a lowercase RFC 1123 subdomain')
    assert got["spec.fsGroupPolicy"].startswith('Unsupported value: "Sometimes"')
    assert got["spec.tokenRequests[0].expirationSeconds"] == (
        "Invalid value: 60: may not specify a duration less than 10 minutes"
    )
    assert got["spec.tokenRequests[1].audience"] == 'Duplicate value: "a"'
    assert got["spec.volumeLifecycleModes"].startswith('Unsupported value: "Forever"')
    assert http.get(f"{S}/csidrivers/Bad_Driver").status_code == 404
    assert (
        http.post(f"{S}/csidrivers", json={"metadata": {"name": "d.example.com"}, "spec": {}}).status_code
        == 201
    )
    try:
        r = http.patch(
            f"{S}/csidrivers/d.example.com",
            json={"spec": {"attachRequired": False, "podInfoOnMount": True}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert causes(r) == {"spec.attachedRequired": "Invalid value: false: field is immutable"}
        r = http.patch(
            f"{S}/csidrivers/d.example.com",
            json={"spec": {"podInfoOnMount": True}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 200 and r.json()["metadata"]["generation"] == 1
    finally:
        http.delete(f"{S}/csidrivers/d.example.com")


def test_volumeattachment_status_is_its_own(http: httpx.Client) -> None:
    va = {
        "metadata": {"name": "va-status"},
        "spec": {
            "attacher": "ebs.csi.aws.com",
            "nodeName": "node-a",
            "source": {"persistentVolumeName": "pv-1"},
        },
        "status": {"attached": True},
    }
    r = http.post(f"{S}/volumeattachments", json=va)
    assert r.status_code == 201 and r.json()["status"] == {"attached": False}  # reset at create
    try:
        body = r.json()
        body["spec"]["nodeName"] = "node-b"
        assert causes(http.put(f"{S}/volumeattachments/va-status", json=body)) == {
            "spec": "Invalid value: storage.VolumeAttachmentSpec{...}: field is immutable"
        }
        status = {"status": {"attached": True, "attachmentMetadata": {"devicePath": "/dev/xvdb"}}}
        r = http.patch(
            f"{S}/volumeattachments/va-status/status",
            json=status,
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == {"attached": True, "attachmentMetadata": {"devicePath": "/dev/xvdb"}}
        # a main write keeps the status; a status write keeps the spec
        r = http.patch(
            f"{S}/volumeattachments/va-status",
            json={"metadata": {"labels": {"a": "b"}}, "status": {"attached": False}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.json()["status"]["attached"] is True and r.json()["metadata"]["labels"] == {"a": "b"}
        bad = {"status": {"attached": True, "attachError": {"message": "x" * 1025}}}
        got = causes(
            http.patch(
                f"{S}/volumeattachments/va-status/status",
                json=bad,
                headers={"Content-Type": "application/merge-patch+json"},
            )
        )
        assert got == {"status.attachError.message": "Too long: may not be more than 262144 bytes"}
        both = {
            "metadata": {"name": "va-both"},
            "spec": {
                "attacher": "ebs.csi.aws.com",
                "nodeName": "node-a",
                "source": {"persistentVolumeName": "pv", "inlineVolumeSpec": {"csi": {"driver": "d"}}},
            },
        }
        assert causes(http.post(f"{S}/volumeattachments", json=both)) == {
            "spec.source": "Forbidden: must specify exactly one of inlineVolumeSpec and persistentVolumeName"
        }
    finally:
        http.delete(f"{S}/volumeattachments/va-status")


def test_csistoragecapacity_is_namespaced_and_checked(server: Server, http: httpx.Client, ns: str) -> None:
    base = f"{S}/namespaces/{ns}/csistoragecapacities"
    cap = {
        "metadata": {"name": "cap-a"},
        "storageClassName": "fast",
        "capacity": "10Gi",
        "nodeTopology": {"matchLabels": {"topology.kubernetes.io/zone": "a"}},
    }
    assert http.post(base, json=cap).status_code == 201
    rows = table_rows(server.kubectl("-n", ns, "get", "csistoragecapacities", check=True).stdout)
    assert rows == [["NAME", "STORAGECLASSNAME", "CAPACITY"], ["cap-a", "fast", "10Gi"]]
    got = causes(
        http.post(base, json={"metadata": {"name": "bad"}, "storageClassName": "", "capacity": "-1"})
    )
    assert got["storageClassName"].startswith('Invalid value: "": a lowercase RFC 1123 subdomain')
    assert got["capacity"] == 'Invalid value: "-1": must be greater than or equal to 0'
    r = http.patch(
        f"{base}/cap-a",
        json={"storageClassName": "slow", "capacity": "5Gi"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert causes(r) == {"storageClassName": 'Invalid value: "slow": field is immutable'}


def test_python_client_lists_and_watches_each_kind(api_client: Any, http: httpx.Client, ns: str) -> None:
    storage: Any = client.StorageV1Api(api_client)  # its models type every field Optional
    assert (
        http.post(f"{S}/csidrivers", json={"metadata": {"name": "py.csi.io"}, "spec": {}}).status_code == 201
    )
    node = {"metadata": {"name": "py-node"}, "spec": {"drivers": [{"name": "py.csi.io", "nodeID": "n1"}]}}
    assert http.post(f"{S}/csinodes", json=node).status_code == 201
    va = {
        "metadata": {"name": "py-va"},
        "spec": {"attacher": "py.csi.io", "nodeName": "py-node", "source": {"persistentVolumeName": "pv"}},
    }
    assert http.post(f"{S}/volumeattachments", json=va).status_code == 201
    cap = {"metadata": {"name": "py-cap"}, "storageClassName": "fast", "capacity": "1Gi"}
    assert http.post(f"{S}/namespaces/{ns}/csistoragecapacities", json=cap).status_code == 201
    try:
        drivers = storage.list_csi_driver()
        assert "py.csi.io" in [d.metadata.name for d in drivers.items]
        (got,) = [d for d in drivers.items if d.metadata.name == "py.csi.io"]
        assert got.spec.attach_required is True and got.spec.volume_lifecycle_modes == ["Persistent"]
        nodes = storage.list_csi_node()
        (n,) = [x for x in nodes.items if x.metadata.name == "py-node"]
        assert n.spec.drivers[0].node_id == "n1"
        vas = storage.list_volume_attachment()
        (a,) = [x for x in vas.items if x.metadata.name == "py-va"]
        assert a.status.attached is False and a.spec.source.persistent_volume_name == "pv"
        caps = storage.list_namespaced_csi_storage_capacity(ns)
        assert [(c.metadata.name, c.storage_class_name, c.capacity) for c in caps.items] == [
            ("py-cap", "fast", "1Gi")
        ]
        # informers: list, then watch from the list's resourceVersion
        for lister, rv, wanted, args in (
            (storage.list_csi_driver, drivers.metadata.resource_version, "py.csi.io", ()),
            (storage.list_csi_node, nodes.metadata.resource_version, "py-node", ()),
            (storage.list_volume_attachment, vas.metadata.resource_version, "py-va", ()),
            (storage.list_namespaced_csi_storage_capacity, caps.metadata.resource_version, "py-cap", (ns,)),
        ):
            w = watch.Watch()
            http.patch(
                _path(lister.__name__, wanted, ns),
                json={"metadata": {"labels": {"seen": "yes"}}},
                headers={"Content-Type": "application/merge-patch+json"},
            )
            for ev in w.stream(lister, *args, resource_version=rv, timeout_seconds=10):
                if ev["object"].metadata.name == wanted and ev["type"] == "MODIFIED":
                    assert ev["object"].metadata.labels == {"seen": "yes"}
                    w.stop()
                    break
            else:
                raise AssertionError(f"no MODIFIED event of {wanted} from {lister.__name__}")
    finally:
        http.delete(f"{S}/csidrivers/py.csi.io")
        http.delete(f"{S}/csinodes/py-node")
        http.delete(f"{S}/volumeattachments/py-va")


def _path(lister: str, name: str, ns: str) -> str:
    plural = {
        "list_csi_driver": "csidrivers",
        "list_csi_node": "csinodes",
        "list_volume_attachment": "volumeattachments",
    }.get(lister)
    return f"{S}/{plural}/{name}" if plural else f"{S}/namespaces/{ns}/csistoragecapacities/{name}"


def test_kubelet_makes_its_own_csinode_and_no_other(
    server: Server, http: httpx.Client, tmp_path: Path
) -> None:
    node = "csi-node-1"
    token = (server.data_dir / "node-token").read_text().strip()

    async def register() -> None:
        cfg = ClientConfig(
            server.url, token=token, ca_data=server.ca_file.read_bytes(), extra_headers={NODE_HEADER: node}
        )
        agent = NodeAgent(
            AsyncClient(cfg),
            node_object(node, "192.0.2.30", read_machine(), "fake://1", 10250),
            csi_node=True,
        )
        await agent.register()
        await agent.register()  # a restart adopts both the Node and its CSINode

    asyncio.run(register())
    try:
        the_node = http.get(f"/api/v1/nodes/{node}").json()
        csinode = http.get(f"{S}/csinodes/{node}").json()
        assert csinode["spec"] == {"drivers": []}
        assert csinode["metadata"]["ownerReferences"] == [
            {"apiVersion": "v1", "kind": "Node", "name": node, "uid": the_node["metadata"]["uid"]}
        ]
        rows = table_rows(server.kubectl("get", "csinodes", node, check=True).stdout)
        assert rows[0] == ["NAME", "DRIVERS", "AGE"] and rows[1][:2] == [node, "0"]
        with server.client(token=token) as kubelet:
            kubelet.headers[NODE_HEADER] = node
            assert kubelet.get(f"{S}/csinodes/{node}").status_code == 200
            assert kubelet.get(f"{S}/csidrivers").status_code == 200  # it reads the drivers
            other = {"metadata": {"name": "someone-else"}, "spec": {"drivers": []}}
            r = kubelet.post(f"{S}/csinodes", json=other)
            assert r.status_code == 403 and r.json()["message"] == (
                'csinodes.storage.k8s.io "someone-else" is forbidden: can only access CSINode with the same '
                "name as the requesting node"
            )
            assert http.post(f"{S}/csinodes", json=other).status_code == 201
            r = kubelet.delete(f"{S}/csinodes/someone-else")
            assert r.status_code == 403 and r.json()["message"] == (
                'csinodes.storage.k8s.io "someone-else" is forbidden: User "system:node:csi-node-1" cannot '
                'delete resource "csinodes" in API group "storage.k8s.io" at the cluster scope: can only access '
                "CSINode with the same name as the requesting node"
            )
            assert kubelet.get(f"{S}/csinodes").status_code == 403  # no listing
            assert kubelet.get(f"{S}/volumeattachments").status_code == 403
    finally:
        http.delete(f"{S}/csinodes/someone-else")
        http.delete(f"{S}/csinodes/{node}")
        http.delete(f"/api/v1/nodes/{node}")
