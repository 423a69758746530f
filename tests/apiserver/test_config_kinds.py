"""ConfigMaps, Secrets and ServiceAccounts served as kube-apiserver serves them: the real kubectl
creates and prints them, the official Python client reads them back, bad ones get kube's 422/400
and store nothing."""

from __future__ import annotations

import base64

import httpx
import pytest
from kubernetes import client

from tests.apiserver.conftest import KUBECTL_127, Server, table_rows


@pytest.fixture(scope="module")
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


def test_kubectl_creates_and_prints(server: Server, ns: str) -> None:
    server.kubectl(
        "-n", ns, "create", "configmap", "app", "--from-literal=mode=fast", "--from-literal=n=3", check=True
    )
    server.kubectl(
        "-n", ns, "create", "secret", "generic", "pw", "--from-literal=password=s3cret", check=True
    )
    server.kubectl("-n", ns, "create", "serviceaccount", "robot", check=True)
    out = server.kubectl("-n", ns, "get", "cm,secret,sa", check=True).stdout
    lines = table_rows(out)
    assert lines[0] == ["NAME", "DATA", "AGE"]
    assert lines[1][:2] == ["configmap/app", "2"]
    assert ["NAME", "TYPE", "DATA", "AGE"] in lines
    assert any(row[:3] == ["secret/pw", "Opaque", "1"] for row in lines)
    assert ["NAME", "SECRETS", "AGE"] in lines
    assert any(row[:2] == ["serviceaccount/robot", "0"] for row in lines)
    # kubectl 1.27 validates through OpenAPI v2 and reads the short name
    assert "app" in server.kubectl("-n", ns, "get", "cm", binary=KUBECTL_127, check=True).stdout


def test_secret_string_data_is_encoded_and_not_stored(core: client.CoreV1Api, ns: str) -> None:
    body = client.V1Secret(
        metadata=client.V1ObjectMeta(name="s"),
        string_data={"user": "admin"},
        data={"user": base64.b64encode(b"old").decode(), "k": base64.b64encode(b"v").decode()},
    )
    core.create_namespaced_secret(ns, body)
    got = core.read_namespaced_secret("s", ns)
    assert got.type == "Opaque"
    assert got.string_data is None
    assert base64.b64decode(got.data["user"]) == b"admin"  # stringData wins over data
    assert base64.b64decode(got.data["k"]) == b"v"


def test_bad_objects_are_refused_and_not_stored(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}"
    r = http.post(f"{base}/configmaps", json={"metadata": {"name": "bad"}, "data": {"a b": "x"}})
    assert r.status_code == 422, r.text
    cause = r.json()["details"]["causes"][0]
    assert cause["field"] == "data[a b]" and "a valid config key" in cause["message"]
    r = http.post(
        f"{base}/secrets",
        json={
            "metadata": {"name": "tls"},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": base64.b64encode(b"c").decode()},
        },
    )
    assert r.status_code == 422, r.text
    assert [c["field"] for c in r.json()["details"]["causes"]] == ["data[tls.key]"]
    r = http.post(f"{base}/secrets", json={"metadata": {"name": "b64"}, "data": {"k": "not base64!"}})
    assert r.status_code == 400, r.text
    assert "illegal base64 data at input byte 3" in r.json()["message"]
    for plural, name in (("configmaps", "bad"), ("secrets", "tls"), ("secrets", "b64")):
        assert http.get(f"{base}/{plural}/{name}").status_code == 404


def test_immutable_config_map_keeps_its_data(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    r = http.post(base, json={"metadata": {"name": "frozen"}, "data": {"a": "1"}, "immutable": True})
    assert r.status_code == 201, r.text
    r = http.patch(
        f"{base}/frozen", json={"data": {"a": "2"}}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["details"]["causes"][0] == {
        "reason": "FieldValueForbidden",
        "message": "Forbidden: field is immutable when `immutable` is set",
        "field": "data",
    }
    assert http.get(f"{base}/frozen").json()["data"] == {"a": "1"}


def test_secret_type_is_immutable(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/secrets"
    assert http.post(base, json={"metadata": {"name": "t"}, "data": {}}).status_code == 201
    r = http.patch(
        f"{base}/t",
        json={"type": "kubernetes.io/basic-auth", "data": {"username": "YQ=="}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["details"]["causes"][0]["field"] == "type"


def test_a_node_reads_only_what_its_pods_use(server: Server, http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}"
    for name in ("used", "other"):
        assert http.post(f"{base}/secrets", json={"metadata": {"name": name}, "data": {}}).status_code == 201
        assert http.post(f"{base}/configmaps", json={"metadata": {"name": name}}).status_code == 201
    pod = {
        "metadata": {"name": "p"},
        "spec": {
            "nodeName": "n7",
            "containers": [
                {"name": "c", "image": "busybox", "envFrom": [{"configMapRef": {"name": "used"}}]}
            ],
            "volumes": [{"name": "s", "secret": {"secretName": "used"}}],
        },
    }
    assert http.post(f"{base}/pods", json=pod).status_code == 201
    token = (server.data_dir / "node-token").read_text().strip()
    with server.client(token=token) as node:
        node.headers["X-Kubelite-Node-Name"] = "n7"
        assert node.get(f"{base}/secrets/used").status_code == 200
        assert node.get(f"{base}/configmaps/used").status_code == 200
        r = node.get(f"{base}/secrets/other")
        assert r.status_code == 403, r.text
        assert "no relationship found between node 'n7' and this object" in r.json()["message"]
        assert node.get(f"{base}/secrets").status_code == 403  # no listing of secrets
        node.headers["X-Kubelite-Node-Name"] = "n8"
        assert node.get(f"{base}/secrets/used").status_code == 403
