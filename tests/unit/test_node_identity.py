"""Each node's own identity, as pure decisions: the kubelet client approver's `verdict` (kube's
nodeclient and selfnodeclient recognizers, k3s's node password), the password's hash, the
authenticator's view of the node token, a certificate's user, and the agent's stored certificate."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from api import nodepassword
from apiserver.auth import Authenticator, certificate_user
from controller.clientapproving import BOOTSTRAP, MESSAGE, SELF, SELF_MESSAGE, verdict
from controller.csrapproving import approved_status
from kubelet import bootstrap

PASSWORD = "p" * 64
DIGEST = nodepassword.digest(PASSWORD)
BOOTSTRAPPER = ("system:bootstrappers", "system:authenticated")


def request_pem(
    cn: str = "system:node:n1",
    orgs: tuple[str, ...] = ("system:nodes",),
    dns: tuple[str, ...] = (),
    key: Any = None,
) -> bytes:
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs),
            *([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []),
        ]
    )
    b = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if dns:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def csr(
    pem: bytes | None = None,
    username: str = "system:bootstrap:abc123",
    groups: tuple[str, ...] = BOOTSTRAPPER,
    usages: tuple[str, ...] = ("digital signature", "client auth"),
    signer: str = nodepassword.CLIENT_SIGNER,
    digest: str | None = DIGEST,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "request": base64.b64encode(pem or request_pem()).decode(),
        "signerName": signer,
        "usages": list(usages),
        "username": username,
        "groups": list(groups),
    }
    if digest is not None:
        spec["extra"] = {nodepassword.EXTRA_KEY: [digest]}
    return {"metadata": {"name": "node-csr-x"}, "spec": spec}


SECRET = nodepassword.secret_object("n1", DIGEST)


def test_a_bootstrap_request_with_the_names_password_is_approved() -> None:
    v = verdict(csr(), SECRET)
    assert (v.recognizer, v.pending, v.node) == (BOOTSTRAP, "", "n1")
    status = approved_status(csr(), MESSAGE, "2024-01-01T00:00:00Z")
    (c,) = status["conditions"]
    assert (c["type"], c["status"], c["reason"]) == ("Approved", "True", "AutoApproved")
    assert c["message"] == "Auto approving kubelet client certificate after SubjectAccessReview."


def test_a_node_renewing_its_own_certificate_is_selfnodeclient() -> None:
    v = verdict(
        csr(username="system:node:n1", groups=("system:nodes", "system:authenticated"), digest=None), None
    )
    assert v.recognizer == SELF
    assert SELF_MESSAGE == "Auto approving self kubelet client certificate after SubjectAccessReview."
    # another node's certificate is not its own: neither self nor a bootstrapper
    other = verdict(csr(username="system:node:n2", groups=("system:nodes",), digest=None), None)
    assert not other.recognizer and "neither" in other.pending


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (
            csr(signer="kubernetes.io/kube-apiserver-client"),
            "not a kubernetes.io/kube-apiserver-client-kubelet",
        ),
        (csr(signer="kubernetes.io/kubelet-serving"), "not a"),
        (csr(usages=("digital signature", "server auth")), "usages"),
        (csr(usages=("digital signature", "key encipherment", "client auth")), "usages"),  # EC key
        (csr(usages=("client auth",)), "usages"),
        (csr(request_pem(cn="n1")), "common name"),
        (csr(request_pem(cn="system:node:")), "common name"),
        (csr(request_pem(orgs=())), "organization"),
        (csr(request_pem(orgs=("system:nodes", "system:masters"))), "organization"),
        (csr(request_pem(dns=("n1",))), "names no DNS"),
        (csr(groups=("team-a", "system:authenticated")), "neither"),
        (csr(digest=None), "no node password"),
    ],
)
def test_what_is_not_a_node_client_request_stays_pending(request_: dict[str, Any], why: str) -> None:
    v = verdict(request_, SECRET)
    assert not v.recognizer and why in v.pending


def test_an_rsa_key_asks_for_key_encipherment_too() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = request_pem(key=key)
    assert verdict(
        csr(pem, usages=("digital signature", "key encipherment", "client auth")), SECRET
    ).recognizer
    assert not verdict(csr(pem), SECRET).recognizer


def test_a_name_claimed_with_another_password_stays_pending() -> None:
    other = nodepassword.secret_object("n1", nodepassword.digest("another"))
    v = verdict(csr(), other)
    assert not v.recognizer and v.pending.startswith("Node password rejected, duplicate hostname")
    # a freed name (the Node and its Secret deleted since the request was made) is not approved either
    assert "freed" in verdict(csr(), None).pending


def test_password_hash_and_verification() -> None:
    stored = nodepassword.hash_digest(DIGEST)
    assert stored.startswith("$scrypt$16384$8$1$") and DIGEST not in stored
    assert nodepassword.verify(DIGEST, stored)
    assert not nodepassword.verify(nodepassword.digest("other"), stored)
    assert stored != nodepassword.hash_digest(DIGEST)  # salted
    for bad in ("", "$scrypt$x", "$bcrypt$1$2$3$00$00", "$scrypt$16384$8$1$zz$00"):
        assert not nodepassword.verify(DIGEST, bad)
    secret = nodepassword.secret_object("n1", DIGEST)
    assert secret["metadata"] == {"name": "n1.node-password.k3s", "namespace": "kube-system"}
    assert nodepassword.verify(DIGEST, nodepassword.stored_hash(secret))
    assert nodepassword.node_of_secret("n1.node-password.k3s") == "n1"
    assert nodepassword.node_of_secret("other") == ""


def test_the_node_token_is_a_bootstrap_credential() -> None:
    auth = Authenticator("admin", "s3cret", "ab" * 32)
    u = auth.authenticate(b"Bearer node:s3cret", b"n1", PASSWORD.encode())
    assert u.name.startswith("system:bootstrap:") and len(u.name) == len("system:bootstrap:") + 6
    assert u.groups == BOOTSTRAPPER and not u.is_node and u.node_name is None
    assert dict(u.extra) == {nodepassword.EXTRA_KEY: (DIGEST,)}
    assert PASSWORD not in repr(u)


def test_a_certificate_names_its_node() -> None:
    u = certificate_user("system:node:n1", ("system:nodes",))
    assert u.is_node and u.node_name == "n1" and "system:authenticated" in u.groups
    assert not certificate_user("system:node:n1", ("team-a",)).is_node  # not in system:nodes
    assert not certificate_user("alice", ("system:nodes",)).is_node  # kube's NodeIdentifier: RBAC decides


def _issued(ca_key: Any, ca: x509.Certificate, cn: str, days: float) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_a_stored_client_certificate_is_reused_only_when_good(tmp_path: Path) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")])
    now = dt.datetime.now(dt.UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=10))
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    good = _issued(ca_key, ca, "system:node:n1", 1)
    assert bootstrap.unusable(good, ca_pem, "n1", now) == ""
    assert "not system:node:n2" in bootstrap.unusable(good, ca_pem, "n2", now)
    assert "expired" in bootstrap.unusable(good, ca_pem, "n1", now + dt.timedelta(days=2))
    other_key = ec.generate_private_key(ec.SECP256R1())
    assert "cluster CA" in bootstrap.unusable(_issued(other_key, ca, "system:node:n1", 1), ca_pem, "n1", now)
    from api.config import ClientConfig

    cfg = bootstrap.with_certificate(
        ClientConfig("https://h:1", token="node:x", extra_headers={nodepassword.HEADER: "p"}), good
    )
    assert cfg.token is None and cfg.extra_headers == {}
    assert cfg.client_cert_data and cfg.client_cert_data.startswith(b"-----BEGIN CERTIFICATE-----")
    assert cfg.client_key_data and b"PRIVATE KEY" in cfg.client_key_data
    # the node password: made once, kept private, read back
    pw = bootstrap.node_password(tmp_path)
    assert len(pw) == 64 and bootstrap.node_password(tmp_path) == pw
    assert (tmp_path / "node-password").stat().st_mode & 0o777 == 0o600
