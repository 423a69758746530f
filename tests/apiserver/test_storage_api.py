"""PersistentVolumeClaims, PersistentVolumes and StorageClasses served as kube-apiserver serves them
(this server runs no control loops, so nothing binds here): the real kubectl creates and prints
them with kube's columns and short names, the Python client reads them, bad ones get kube's 422
and store nothing, a claim without a class gets the default one, a bound claim grows only when its
class allows expansion, and a node reads only the claims its pods use and the volumes behind them."""

from __future__ import annotations

import httpx
from kubernetes import client

from tests.apiserver.conftest import KUBECTL_127, Server, table_rows

CLAIM_YAML = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
"""


def test_default_class_is_served_and_printed(server: Server, api_client: client.ApiClient) -> None:
    rows = table_rows(server.kubectl("get", "sc", check=True).stdout)
    assert rows[0] == [
        "NAME",
        "PROVISIONER",
        "RECLAIMPOLICY",
        "VOLUMEBINDINGMODE",
        "ALLOWVOLUMEEXPANSION",
        "AGE",
    ]
    assert rows[1][:6] == [
        "local-path",
        "(default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        "false",
    ]
    sc = client.StorageV1Api(api_client).read_storage_class("local-path")
    assert sc.provisioner == "rancher.io/local-path" and sc.volume_binding_mode == "WaitForFirstConsumer"
    assert sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "true"


def test_claim_gets_the_default_class_and_prints(
    server: Server, api_client: client.ApiClient, ns: str
) -> None:
    server.kubectl("-n", ns, "apply", "-f", "-", input=CLAIM_YAML, check=True)
    rows = table_rows(server.kubectl("-n", ns, "get", "pvc", check=True).stdout)
    assert rows[0] == [
        "NAME",
        "STATUS",
        "VOLUME",
        "CAPACITY",
        "ACCESS",
        "MODES",
        "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS",
        "AGE",
    ]
    assert rows[1][:4] == ["data", "Pending", "local-path", "<unset>"]
    pvc = client.CoreV1Api(api_client).read_namespaced_persistent_volume_claim("data", ns)
    assert pvc.spec.storage_class_name == "local-path" and pvc.spec.volume_mode == "Filesystem"
    assert pvc.status.phase == "Pending"
    # an explicit "" opts out of the default class
    explicit = CLAIM_YAML.replace("name: data", "name: none") + '  storageClassName: ""\n'
    server.kubectl("-n", ns, "create", "-f", "-", input=explicit, check=True)
    assert (
        client.CoreV1Api(api_client)
        .read_namespaced_persistent_volume_claim("none", ns)
        .spec.storage_class_name
        == ""
    )
    # kubectl 1.27 validates through OpenAPI v2 and knows the short name
    assert "data" in server.kubectl("-n", ns, "get", "pvc", binary=KUBECTL_127, check=True).stdout


def test_volume_prints_and_is_refused_when_bad(server: Server, http: httpx.Client) -> None:
    pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "disk-1"},
        "spec": {
            "capacity": {"storage": "5Gi"},
            "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
            "hostPath": {"path": "/srv/disk-1"},
            "storageClassName": "manual",
        },
    }
    r = http.post("/api/v1/persistentvolumes", json=pv)
    assert r.status_code == 201, r.text
    assert (
        r.json()["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
        and r.json()["status"]["phase"] == "Pending"
    )
    rows = table_rows(server.kubectl("get", "pv", "disk-1", check=True).stdout)
    assert rows[0][:5] == ["NAME", "CAPACITY", "ACCESS", "MODES", "RECLAIM"]
    assert rows[1][:5] == ["disk-1", "5Gi", "RWO,ROX", "Retain", "Pending"]
    bad = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "bad"},
        "spec": {"accessModes": ["ReadWriteOnce"], "local": {"path": "/mnt"}},
    }
    r = http.post("/api/v1/persistentvolumes", json=bad)
    assert r.status_code == 422, r.text
    causes = {c["field"]: c["message"] for c in r.json()["details"]["causes"]}
    assert causes == {
        "spec.capacity": "Required value",
        "spec.nodeAffinity": "Required value: Local volume requires node affinity",
    }
    assert http.get("/api/v1/persistentvolumes/bad").status_code == 404
    http.delete("/api/v1/persistentvolumes/disk-1")


def test_bad_claims_and_forbidden_changes(server: Server, http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/persistentvolumeclaims"
    r = http.post(base, json={"metadata": {"name": "x"}, "spec": {"resources": {"requests": {}}}})
    assert r.status_code == 422, r.text
    assert r.json()["message"] == (
        'PersistentVolumeClaim "x" is invalid: [spec.accessModes: Required value: at least 1 '
        "access mode is required, spec.resources[storage]: Required value]"
    )
    assert http.get(f"{base}/x").status_code == 404
    server.kubectl("-n", ns, "apply", "-f", "-", input=CLAIM_YAML, check=True)
    r = http.patch(
        f"{base}/data",
        json={"spec": {"accessModes": ["ReadWriteMany"]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 422
    assert "spec is immutable after creation except resources.requests" in r.json()["message"]
    # bound (as the binder would write it), then grown: local-path does not allow expansion
    claim = http.get(f"{base}/data").json()
    claim["spec"]["volumeName"] = "pvc-1"
    assert http.put(f"{base}/data", json=claim).status_code == 200
    claim = http.get(f"{base}/data").json()
    claim["status"] = {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]}
    assert http.put(f"{base}/data/status", json=claim).status_code == 200
    r = http.patch(
        f"{base}/data",
        json={"spec": {"resources": {"requests": {"storage": "2Gi"}}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        'persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can '
        "be resized and the storageclass that provisions the pvc must support resize"
    )
    rows = table_rows(server.kubectl("-n", ns, "get", "pvc", "data", check=True).stdout)
    assert rows[1][:5] == ["data", "Bound", "pvc-1", "1Gi", "RWO"]


def test_node_reads_only_the_claims_and_volumes_of_its_pods(
    server: Server, http: httpx.Client, ns: str
) -> None:
    base = f"/api/v1/namespaces/{ns}"
    volumes = {"used": f"pv-used-{ns}"[:63], "other": f"pv-other-{ns}"[:63]}
    for name, volume in volumes.items():
        body = {
            "metadata": {"name": name},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "volumeName": volume,
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
        assert http.post(f"{base}/persistentvolumeclaims", json=body).status_code == 201
        pv = {
            "metadata": {"name": volume},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/srv"},
            },
        }
        assert http.post("/api/v1/persistentvolumes", json=pv).status_code == 201
    pod = {
        "metadata": {"name": "p"},
        "spec": {
            "nodeName": "n7",
            "containers": [{"name": "c", "image": "busybox"}],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "used"}}],
        },
    }
    assert http.post(f"{base}/pods", json=pod).status_code == 201
    token = (server.data_dir / "node-token").read_text().strip()
    try:
        with server.client(token=token) as node:
            node.headers["X-Kubelite-Node-Name"] = "n7"
            assert node.get(f"{base}/persistentvolumeclaims/used").status_code == 200
            r = node.get(f"{base}/persistentvolumeclaims/other")
            assert r.status_code == 403 and "no relationship found between node 'n7'" in r.json()["message"]
            assert node.get(f"/api/v1/persistentvolumes/{volumes['used']}").status_code == 200
            r = node.get(f"/api/v1/persistentvolumes/{volumes['other']}")
            assert r.status_code == 403, r.text
            assert r.json()["message"] == (
                f'persistentvolumes "{volumes["other"]}" is forbidden: User "system:node:n7" cannot get resource '
                '"persistentvolumes" in API group "" at the cluster scope: no relationship found between node '
                "'n7' and this object"
            )
            assert node.get(f"{base}/persistentvolumeclaims").status_code == 403  # no listing
            node.headers["X-Kubelite-Node-Name"] = "n8"
            assert node.get(f"/api/v1/persistentvolumes/{volumes['used']}").status_code == 403
    finally:
        for volume in volumes.values():
            http.delete(f"/api/v1/persistentvolumes/{volume}")
