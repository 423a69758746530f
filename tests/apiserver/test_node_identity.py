"""Each node its own identity, through a live server with its controllers (as in production: the
node token only bootstraps): an agent-like client gets its kubelet client certificate by TLS
bootstrap and is then `system:node:<name>`, which may write its own Node but not another's; a second
join under that name with another password is refused with k3s's words and gets no certificate;
the token alone reads no pods or secrets; the certificate renews itself (selfnodeclient); and a
deleted Node frees its name."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import nodepassword
from api.config import ClientConfig
from tests.apiserver.conftest import Server, free_port
from tests.polling import wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("identity") / "data", free_port(), control_loops=True)
    srv.node_name_header = False
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def token_config(srv: Server) -> ClientConfig:
    from kubelet.join import join_config

    token = (srv.data_dir / "node-token").read_text().strip()
    return join_config(srv.url, token, "ignored", srv.ca_file.read_bytes())


def join(srv: Server, node: str, data_dir: Path, timeout: float = 60) -> ClientConfig:
    """What `kubelite agent` does first: the node's certificate, by TLS bootstrap."""
    from kubelet.bootstrap import bootstrap

    return asyncio.run(asyncio.wait_for(bootstrap(token_config(srv), node, data_dir), timeout))


def cert_client(srv: Server, data_dir: Path) -> httpx.Client:
    pem = data_dir / "pki" / "kubelet-client-current.pem"
    ctx = ssl.create_default_context(cafile=str(srv.ca_file))
    ctx.load_cert_chain(str(pem))
    return httpx.Client(base_url=srv.url, verify=ctx, timeout=30)


def whoami(http: httpx.Client) -> dict[str, Any]:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    r = http.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json=body)
    assert r.status_code == 201, r.text
    info: dict[str, Any] = r.json()["status"]["userInfo"]
    return info


def node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}


def csr_names(srv: Server) -> set[str]:
    with srv.client() as admin:
        return {
            c["metadata"]["name"]
            for c in admin.get("/apis/certificates.k8s.io/v1/certificatesigningrequests").json()["items"]
        }


def issued_to(admin: httpx.Client, node_name: str) -> dict[str, Any]:
    """The bootstrap request whose certificate was issued to `node_name`."""
    import base64

    from cryptography import x509

    for c in admin.get("/apis/certificates.k8s.io/v1/certificatesigningrequests").json()["items"]:
        cert = c["status"].get("certificate")
        if c["spec"]["signerName"] == nodepassword.CLIENT_SIGNER and cert:
            subject = x509.load_pem_x509_certificate(base64.b64decode(cert)).subject.rfc4514_string()
            if subject == f"CN=system:node:{node_name},O=system:nodes" and c["metadata"]["name"].startswith(
                "node-csr-"
            ):
                return dict(c)
    raise AssertionError(f"no bootstrap request issued to {node_name}")


def test_a_node_bootstraps_its_certificate_and_is_that_node(cluster: Server, tmp_path: Path) -> None:
    cfg = join(cluster, "id-a", tmp_path / "a")
    assert cfg.token is None and cfg.client_cert_data and not cfg.extra_headers
    with cluster.client() as admin:
        req = issued_to(admin, "id-a")
        assert req["spec"]["groups"] == ["system:bootstrappers", "system:authenticated"]
        (approved,) = [c for c in req["status"]["conditions"] if c["type"] == "Approved"]
        assert approved["reason"] == "AutoApproved"
        assert approved["message"] == "Auto approving kubelet client certificate after SubjectAccessReview."
        secret = admin.get("/api/v1/namespaces/kube-system/secrets/id-a.node-password.k3s").json()
        assert nodepassword.stored_hash(secret).startswith("$scrypt$")
        assert admin.post("/api/v1/nodes", json=node("id-other")).status_code == 201
    with cert_client(cluster, tmp_path / "a") as http:
        me = whoami(http)
        assert me["username"] == "system:node:id-a" and "system:nodes" in me["groups"]
        assert http.post("/api/v1/nodes", json=node("id-a")).status_code == 201
        merge = {"Content-Type": "application/merge-patch+json"}
        ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
        assert http.patch("/api/v1/nodes/id-a/status", json=ready, headers=merge).status_code == 200
        r = http.patch("/api/v1/nodes/id-other/status", json=ready, headers=merge)
        assert r.status_code == 403
        assert (
            r.json()["message"]
            == 'nodes "id-other" is forbidden: node "id-a" is not allowed to modify node "id-other"'
        )
        # a restart reuses the stored certificate: no new request
        before = csr_names(cluster)
        assert join(cluster, "id-a", tmp_path / "a").client_cert_data == cfg.client_cert_data
        assert csr_names(cluster) == before


def test_another_password_for_a_claimed_name_is_refused(cluster: Server, tmp_path: Path) -> None:
    from kubelet.bootstrap import BootstrapRefused

    join(cluster, "id-b", tmp_path / "first")
    before = csr_names(cluster)
    with pytest.raises(BootstrapRefused) as e:
        join(cluster, "id-b", tmp_path / "impostor")
    assert "Node password rejected, duplicate hostname or contents of" in str(e.value)
    assert "may not match server node-passwd entry" in str(e.value)
    assert csr_names(cluster) == before  # no request stored, so none signed
    assert not (tmp_path / "impostor" / "pki").exists()
    # deleting the Node frees the name (its password Secret goes with it), as in k3s
    with cluster.client() as admin:
        assert admin.post("/api/v1/nodes", json=node("id-b")).status_code == 201
        assert admin.delete("/api/v1/nodes/id-b").status_code == 200
        wait_for(
            lambda: (
                admin.get("/api/v1/namespaces/kube-system/secrets/id-b.node-password.k3s").status_code == 404
            ),
            20,
            "the node password Secret gone with its Node",
        )
    join(cluster, "id-b", tmp_path / "impostor")


def test_the_node_token_alone_reads_nothing(cluster: Server) -> None:
    cfg = token_config(cluster)
    ctx = ssl.create_default_context(cafile=str(cluster.ca_file))
    headers = {"Authorization": f"Bearer {cfg.token}", "X-Kubelite-Node-Name": "id-a"}
    with httpx.Client(base_url=cluster.url, verify=ctx, headers=headers, timeout=30) as http:
        me = whoami(http)
        assert me["username"].startswith("system:bootstrap:") and me["groups"][0] == "system:bootstrappers"
        for path, what in (
            ("/api/v1/pods", 'pods is forbidden: User "system:bootstrap:'),
            ("/api/v1/namespaces/kube-system/secrets", 'secrets is forbidden: User "system:bootstrap:'),
            ("/api/v1/nodes", 'nodes is forbidden: User "system:bootstrap:'),
        ):
            r = http.get(path)
            assert r.status_code == 403 and r.json()["message"].startswith(what), r.text
        r = http.put("/api/v1/nodes/id-a/status", json=node("id-a"))
        assert r.status_code == 403
        # what it may do: read certificate requests (kube's system:node-bootstrapper)
        assert http.get("/apis/certificates.k8s.io/v1/certificatesigningrequests").status_code == 200


def test_the_certificate_renews_itself(cluster: Server, tmp_path: Path) -> None:
    from api.aclient import AsyncClient
    from kubelet import bootstrap

    cfg = join(cluster, "id-c", tmp_path)
    path = tmp_path / "pki" / bootstrap.CERT_FILE

    async def renew() -> tuple[str, str]:
        client = AsyncClient(cfg)
        try:
            name = await bootstrap.ask(client, "id-c", path.with_name("renewed.pem"), "csr-")
            # the client's connections now present the new certificate
            bootstrap.use(client, bootstrap.with_certificate(cfg, path.with_name("renewed.pem").read_bytes()))
            review = await client.create(
                "selfsubjectreviews", {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
            )
            return name, str(review["status"]["userInfo"]["username"])
        finally:
            await client.aclose()

    name, user = asyncio.run(asyncio.wait_for(renew(), 60))
    assert user == "system:node:id-c"
    with cluster.client() as admin:
        req = admin.get(f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}").json()
    assert req["spec"]["username"] == "system:node:id-c"
    (approved,) = [c for c in req["status"]["conditions"] if c["type"] == "Approved"]
    assert approved["message"] == "Auto approving self kubelet client certificate after SubjectAccessReview."
    assert req["status"]["certificate"]
