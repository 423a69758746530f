"""The real kubectl (1.33, and a 1.30 smoke test) against `kubelite server` with only the written kubeconfig."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.apiserver.conftest import KUBECTL_127, KUBECTL_OLD, Server

RC = """apiVersion: v1
kind: ReplicationController
metadata:
  name: web
  labels: {{tier: front}}
spec:
  replicas: 2
  selector: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {{app: web}}
  ports:
  - port: 80
    targetPort: 80
"""


def _write(tmp_path: Path, text: str, name: str = "m.yaml") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_create_get_formats_and_errors(server: Server, ns: str, tmp_path: Path) -> None:
    f = _write(tmp_path, RC.format(image="busybox:1"))
    r = server.kubectl("-n", ns, "create", "-f", f, check=True)
    assert "replicationcontroller/web created" in r.stdout and "service/web created" in r.stdout
    dup = server.kubectl("-n", ns, "create", "-f", f)
    assert dup.returncode == 1
    assert (
        f'Error from server (AlreadyExists): error when creating "{f}": replicationcontrollers "web" already exists'
        in dup.stderr
    )
    missing = server.kubectl("-n", ns, "get", "pod", "nope")
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'

    table = server.kubectl("-n", ns, "get", "rc", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert table[1].split()[:2] == ["web", "2"]
    wide = server.kubectl("-n", ns, "get", "rc", "-o", "wide", check=True).stdout.splitlines()
    assert wide[0].split()[5:] == ["CONTAINERS", "IMAGES", "SELECTOR"] and "app=web" in wide[1]
    doc = json.loads(server.kubectl("-n", ns, "get", "rc,svc", "-o", "json", check=True).stdout)
    assert [i["kind"] for i in doc["items"]] == ["ReplicationController", "Service"]
    assert "kind: ReplicationController" in server.kubectl("-n", ns, "get", "rc", "web", "-o", "yaml").stdout
    names = server.kubectl("-n", ns, "get", "rc,svc", "-o", "name", check=True).stdout.split()
    assert names == ["replicationcontroller/web", "service/web"]
    assert server.kubectl("-n", ns, "get", "rc", "-l", "tier=front", "-o", "name").stdout.split() == [
        "replicationcontroller/web"
    ]
    assert server.kubectl("-n", ns, "get", "rc", "-l", "tier!=front").stderr.startswith("No resources found")
    every = server.kubectl("get", "rc", "-A", check=True).stdout.splitlines()
    assert every[0].split()[:2] == ["NAMESPACE", "NAME"] and any(ns in line for line in every)
    everything = server.kubectl("-n", ns, "get", "all", check=True).stdout
    assert "replicationcontroller/web" in everything and "service/web" in everything
    single = server.kubectl("-n", ns, "get", "svc", "web", check=True).stdout.splitlines()
    assert single[0].split()[:4] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP"]
    assert single[1].split()[1] == "ClusterIP" and single[1].split()[2].startswith("10.96.")


def test_invalid_object_message(server: Server, ns: str, tmp_path: Path) -> None:
    bad = _write(
        tmp_path,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers: []\n",
        "bad.yaml",
    )
    r = server.kubectl("-n", ns, "create", "-f", bad)
    assert r.returncode == 1
    assert r.stderr.startswith(
        'The Pod "Bad_Name" is invalid: \n* metadata.name: Invalid value: "Bad_Name": '
        "a lowercase RFC 1123 subdomain must consist of"
    ), r.stderr
    assert "* spec.containers: Required value" in r.stderr


def test_unknown_field_message(server: Server, ns: str, tmp_path: Path) -> None:
    unknown = _write(
        tmp_path,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: u\nspec:\n  bogus: 1\n"
        "  containers: [{name: c, image: busybox}]\n",
        "u.yaml",
    )
    r = server.kubectl("-n", ns, "create", "-f", unknown)
    assert r.returncode == 1 and 'unknown field "spec.bogus"' in r.stderr, r.stderr


def test_apply_twice_and_server_side(server: Server, ns: str, tmp_path: Path, http: httpx.Client) -> None:
    f = _write(tmp_path, RC.format(image="busybox:1"))
    assert (
        "replicationcontroller/web created" in server.kubectl("-n", ns, "apply", "-f", f, check=True).stdout
    )
    f = _write(tmp_path, RC.format(image="busybox:2"))
    out = server.kubectl("-n", ns, "apply", "-f", f, check=True).stdout
    assert "replicationcontroller/web configured" in out and "service/web unchanged" in out
    rc = http.get(f"/api/v1/namespaces/{ns}/replicationcontrollers/web").json()
    assert rc["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"
    assert rc["metadata"]["generation"] == 2
    last = json.loads(rc["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"
    f = _write(tmp_path, RC.format(image="busybox:3"))
    out = server.kubectl("-n", ns, "apply", "--server-side", "--force-conflicts", "-f", f, check=True).stdout
    assert "replicationcontroller/web serverside-applied" in out
    rc = http.get(f"/api/v1/namespaces/{ns}/replicationcontrollers/web").json()
    assert rc["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:3"
    fresh = _write(
        tmp_path,
        RC.format(image="busybox:1").replace("name: web\n  labels", "name: ssa\n  labels").split("---")[0],
        "ssa.yaml",
    )
    out = server.kubectl("-n", ns, "apply", "--server-side", "-f", fresh, check=True).stdout
    assert "replicationcontroller/ssa serverside-applied" in out


def test_scale_delete_and_describe(server: Server, ns: str, tmp_path: Path, http: httpx.Client) -> None:
    f = _write(tmp_path, RC.format(image="busybox:1"))
    server.kubectl("-n", ns, "create", "-f", f, check=True)
    assert (
        server.kubectl("-n", ns, "scale", "rc", "web", "--replicas=3", check=True).stdout.strip()
        == "replicationcontroller/web scaled"
    )
    assert http.get(f"/api/v1/namespaces/{ns}/replicationcontrollers/web").json()["spec"]["replicas"] == 3
    r = server.kubectl("-n", ns, "scale", "rc", "web", "--current-replicas=3", "--replicas=1", check=True)
    assert "scaled" in r.stdout

    p = http.post(
        f"/api/v1/namespaces/{ns}/pods",
        json={"metadata": {"name": "d"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    ).json()
    ev = {
        "metadata": {"name": "d.1"},
        "involvedObject": {
            "kind": "Pod",
            "namespace": ns,
            "name": "d",
            "uid": p["metadata"]["uid"],
            "apiVersion": "v1",
        },
        "reason": "Scheduled",
        "message": "Successfully assigned d to node-1",
        "type": "Normal",
        "source": {"component": "default-scheduler"},
        "count": 1,
        "firstTimestamp": "2026-01-01T00:00:00Z",
        "lastTimestamp": "2026-01-01T00:00:00Z",
    }
    assert http.post(f"/api/v1/namespaces/{ns}/events", json=ev).status_code == 201
    out = server.kubectl("-n", ns, "describe", "pod", "d", check=True).stdout
    assert "Name:" in out and "Successfully assigned d to node-1" in out and "Scheduled" in out

    r = server.kubectl("-n", ns, "delete", "pod", "d", "--timeout=20s", check=True)
    assert r.stdout.strip() == 'pod "d" deleted'
    assert http.get(f"/api/v1/namespaces/{ns}/pods/d").status_code == 404
    r = server.kubectl("-n", ns, "delete", "-f", f, check=True)
    assert 'replicationcontroller "web" deleted' in r.stdout
    assert http.get(f"/api/v1/namespaces/{ns}/services/web").status_code == 404


def test_delete_waits_for_graceful_pod(server: Server, ns: str, http: httpx.Client) -> None:
    http.post(
        f"/api/v1/namespaces/{ns}/pods",
        json={
            "metadata": {"name": "g"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "busybox"}]},
        },
    ).raise_for_status()
    proc = server.kubectl_background("-n", ns, "delete", "pod", "g", "--timeout=30s")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = http.get(f"/api/v1/namespaces/{ns}/pods/g").json()
        if got["metadata"].get("deletionTimestamp"):
            break
        time.sleep(0.05)
    assert got["metadata"]["deletionGracePeriodSeconds"] == 30
    assert proc.poll() is None  # still waiting for the kubelet
    # the kubelet confirms: delete with grace 0
    assert (
        http.request("DELETE", f"/api/v1/namespaces/{ns}/pods/g", json={"gracePeriodSeconds": 0}).status_code
        == 200
    )
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out.strip() == 'pod "g" deleted'


def test_get_watch_prints_changes_until_timeout(server: Server, ns: str, http: httpx.Client) -> None:
    http.post(
        f"/api/v1/namespaces/{ns}/pods",
        json={"metadata": {"name": "w0"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    ).raise_for_status()
    proc = server.kubectl_background("-n", ns, "get", "pods", "-w", "--request-timeout=5s")
    assert proc.stdout is not None
    header, first = proc.stdout.readline(), proc.stdout.readline()  # the listing is out: now change something
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] and first.startswith("w0 ")
    http.post(
        f"/api/v1/namespaces/{ns}/pods",
        json={"metadata": {"name": "w1"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    ).raise_for_status()
    out, err = proc.communicate(timeout=30)
    assert any(line.startswith("w1 ") for line in out.splitlines()), out + err


@pytest.mark.parametrize("binary", [KUBECTL_OLD, KUBECTL_127], ids=["1.30", "1.27"])
def test_old_kubectl_smoke(server: Server, ns: str, tmp_path: Path, binary: str) -> None:
    """1.30 validates through /openapi/v3; 1.27 through /openapi/v2 as protobuf and v2beta1 discovery."""
    f = _write(tmp_path, RC.format(image="busybox:1"))
    r = server.kubectl("-n", ns, "apply", "-f", f, binary=binary, check=True)
    assert "replicationcontroller/web created" in r.stdout
    f = _write(tmp_path, RC.format(image="busybox:2"))
    assert (
        "replicationcontroller/web configured"
        in server.kubectl("-n", ns, "apply", "-f", f, binary=binary, check=True).stdout
    )
    out = server.kubectl("-n", ns, "get", "rc,svc", binary=binary, check=True).stdout
    assert "replicationcontroller/web" in out and "service/web" in out
    assert server.kubectl("version", "-o", "json", binary=binary, check=True).stdout.count("gitVersion") == 2


def test_generators_sending_protobuf(server: Server, ns: str, http: httpx.Client) -> None:
    """`create namespace` and `create service` POST application/vnd.kubernetes.protobuf."""
    extra = f"{ns}-pb"[:63]
    assert (
        server.kubectl("create", "namespace", extra, check=True).stdout.strip()
        == f"namespace/{extra} created"
    )
    assert http.get(f"/api/v1/namespaces/{extra}").json()["status"]["phase"] == "Active"
    out = server.kubectl(
        "-n", ns, "create", "service", "nodeport", "np", "--tcp=81:8081", "--node-port=30555", check=True
    ).stdout
    assert out.strip() == "service/np created"
    svc = http.get(f"/api/v1/namespaces/{ns}/services/np").json()
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["selector"] == {"app": "np"}
    p = svc["spec"]["ports"][0]
    assert (p["name"], p["port"], p["targetPort"], p["nodePort"]) == ("81-8081", 81, 8081, 30555)
    server.kubectl("delete", "namespace", extra, "--wait=false", check=True)
