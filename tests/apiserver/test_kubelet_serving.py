"""A kubelet's serving certificate from the cluster CA, end to end on a real `kubelite server` with its
controller manager: the kubelet's certificate manager asks with the node's credential (the node
token, as `kubelite agent` joins), the csrapproving controller approves, the signer issues, and the
kubelet serves it: a client trusting only the cluster CA verifies it for the node's IP (what
metrics-server does with its ServiceAccount's ca.crt). Then logs and exec through the API server,
which now verifies the kubelet; and a kubelet on a self-signed certificate is refused.

The kubelet server runs in a thread with the host-process runtime double of tests/kubelet/test_server.py.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from api import x509 as certs
from apiserver.certs import TLSFiles
from kubelet.serving import SelfSigned
from tests.apiserver.conftest import Server, free_port
from tests.apiserver.test_log_exec_proxy import make_node, make_pod
from tests.kubelet.test_server import HostRuntime, Kubelet, start_kubelet
from tests.polling import wait_for

NODE = "serving-node"
CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("serving") / "data", free_port(), control_loops=True)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def tls_of(srv: Server) -> TLSFiles:
    tls = srv.data_dir / "tls"
    return TLSFiles(tls / "ca.crt", tls / "ca.key", tls / "server.crt", tls / "server.key")


@pytest.fixture(scope="module")
def kubelet(cluster: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubelet]:
    """A kubelet whose certificate comes through a CertificateSigningRequest (as `kubelite agent`'s)."""
    from api.aclient import AsyncClient
    from api.kubeletcerts import serving_names
    from kubelet.certmanager import ServingCertManager
    from kubelet.join import join_config

    tmp = tmp_path_factory.mktemp("serving-kubelet")
    with cluster.client() as http:
        make_node(http, NODE, 0)  # its addresses: InternalIP 127.0.0.1, Hostname NODE
    token = (cluster.data_dir / "node-token").read_text().strip()
    config = join_config(cluster.url, token, NODE, cluster.ca_file.read_bytes(), name_header=True)
    addresses = [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": NODE}]
    manager = ServingCertManager(
        AsyncClient(config),
        NODE,
        lambda: serving_names(NODE, addresses),
        tmp / "pki",
        cluster.ca_file.read_bytes(),
        first_wait=60,
    )
    k = start_kubelet(tmp, HostRuntime(tmp / "logs"), tls_of(cluster), node_name=NODE, certificates=manager)
    with cluster.client() as http:
        make_node(http, NODE, k.port)
    yield k
    k.stop()


def served(port: int, ca: Path) -> x509.Certificate:
    """The kubelet's certificate, through a handshake trusting only the cluster CA, for its IP."""
    ctx = ssl.create_default_context(cafile=str(ca))  # CERT_REQUIRED, check_hostname
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s,
    ):
        der = s.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def test_the_kubelet_serves_a_certificate_of_the_cluster_ca(cluster: Server, kubelet: Kubelet) -> None:
    cert = served(kubelet.port, cluster.ca_file)
    assert cert.subject.rfc4514_string() == f"CN=system:node:{NODE},O=system:nodes"
    assert certs.names_of(cert) == ({NODE}, {"127.0.0.1"})
    cert.verify_directly_issued_by(certs.load_cert(cluster.ca_file))


def test_its_request_was_auto_approved_and_issued(cluster: Server, kubelet: Kubelet) -> None:
    with cluster.client() as http:
        items = http.get(CSRS).json()["items"]
    (csr,) = [c for c in items if c["spec"]["username"] == f"system:node:{NODE}"]
    assert csr["metadata"]["name"].startswith("csr-")
    assert csr["spec"]["signerName"] == "kubernetes.io/kubelet-serving"
    assert "system:nodes" in csr["spec"]["groups"]
    (approved,) = [c for c in csr["status"]["conditions"] if c["type"] == "Approved"]
    assert approved["reason"] == "AutoApproved" and "csrapproving" in approved["message"], approved
    assert csr["status"]["certificate"]
    row = cluster.kubectl("get", "csr", csr["metadata"]["name"], check=True).stdout.splitlines()[-1]
    assert "kubernetes.io/kubelet-serving" in row and row.split()[-1] == "Approved,Issued", row


def test_a_request_for_another_nodes_names_stays_pending(cluster: Server, kubelet: Kubelet) -> None:
    """The node credential may ask, but not for an address its Node does not have: that request is
    left pending, while one made after it with the node's own names is approved."""
    from kubelet.certmanager import csr_object, new_request

    token = (cluster.data_dir / "node-token").read_text().strip()
    headers = {"Authorization": f"Bearer {token}", "X-Kubelite-Node-Name": NODE}
    ctx = ssl.create_default_context(cafile=str(cluster.ca_file))
    names = []
    with httpx.Client(base_url=cluster.url, verify=ctx, headers=headers, timeout=30) as node:
        for ips in (["10.9.9.9"], ["127.0.0.1"]):
            request, _ = new_request(NODE, [NODE], ips)
            r = node.post(CSRS, json=csr_object(request, ["digital signature", "server auth"]))
            assert r.status_code == 201, r.text
            names.append(r.json()["metadata"]["name"])
        assert node.get(f"{CSRS}/{names[0]}").status_code == 200  # and reads it back
    with cluster.client() as http:

        def conditions(name: str) -> list[str]:
            return [c["type"] for c in http.get(f"{CSRS}/{name}").json()["status"].get("conditions") or []]

        wait_for(lambda: conditions(names[1]) == ["Approved"], 30, "the good request approved")
        assert conditions(names[0]) == []  # judged first (one worker, in order), left pending


def test_logs_and_exec_through_the_verifying_api_server(cluster: Server, kubelet: Kubelet) -> None:
    with cluster.client() as http:
        make_pod(http, "default", "verified", NODE, ("c",))
    c = kubelet.runtime.add("default", "verified", "c")
    kubelet.runtime.write(c, "hello through a verified kubelet")
    r = cluster.kubectl("logs", "verified", check=True)
    assert r.stdout == "hello through a verified kubelet\n"
    r = cluster.kubectl("exec", "verified", "--", "sh", "-c", "echo out")
    assert (r.returncode, r.stdout) == (0, "out\n"), r.stderr


def test_a_self_signed_kubelet_is_refused(cluster: Server, tmp_path: Path) -> None:
    k = start_kubelet(
        tmp_path,
        HostRuntime(tmp_path / "logs"),
        tls_of(cluster),
        certificates=SelfSigned(tmp_path / "tls", "127.0.0.1", "rogue-node"),
    )
    try:
        with cluster.client() as http:
            make_node(http, "rogue-node", k.port)
            make_pod(http, "default", "unverified", "rogue-node", ("c",))
        k.runtime.add("default", "unverified", "c")
        r = cluster.kubectl("logs", "unverified")
        assert r.returncode == 1 and "certificate verify failed" in r.stderr, r.stderr
    finally:
        k.stop()
