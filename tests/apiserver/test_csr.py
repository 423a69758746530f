"""certificates.k8s.io/v1 CertificateSigningRequest through a real server: who asked is the server's
to say, kube's 422s and 403s (nothing stored on error), the /approval and /status rules, and the
whole user-onboarding flow of the Kubernetes docs with the real kubectl: apply a request, `kubectl
certificate approve` (a protobuf PUT), the controller manager's signer issues a certificate from
the cluster CA, and that certificate logs in as the user in the request's subject."""

from __future__ import annotations

import base64
import datetime as dt
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.apiserver.conftest import KUBECTL_127, Server, free_port
from tests.polling import wait_for

CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"


def make_request(
    cn: str, orgs: tuple[str, ...] = (), dns: tuple[str, ...] = ()
) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )
    b = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if dns:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM), key


def csr_body(
    name: str,
    pem: bytes,
    signer: str = CLIENT_SIGNER,
    usages: tuple[str, ...] = ("client auth",),
    **spec: object,
) -> dict[str, Any]:
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": base64.b64encode(pem).decode(),
            "signerName": signer,
            "usages": list(usages),
            **spec,
        },
    }


def _approved(csr: dict[str, Any]) -> dict[str, Any]:
    return dict(csr, status={"conditions": [{"type": "Approved", "status": "True", "reason": "Test"}]})


def test_create_takes_the_requestor_from_the_request_and_starts_pending(http: httpx.Client) -> None:
    pem, _ = make_request("carol", ("dev",))
    body = _approved(csr_body("t-create", pem))
    body["spec"]["username"] = "someone-else"
    r = http.post(CSRS, json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["spec"]["username"] == "admin" and "system:masters" in got["spec"]["groups"]
    assert got["status"] == {}  # nobody creates a pre-approved request
    http.delete(f"{CSRS}/t-create")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"request": base64.b64encode(b"not a pem").decode()},
            "spec.request",
            "PEM block type must be CERTIFICATE REQUEST",
        ),
        ({"usages": []}, "spec.usages", "usages must be provided"),
        ({"usages": ["client auth", "flying"]}, "spec.usages[1]", 'Unsupported value: "flying"'),
        ({"usages": ["client auth", "client auth"]}, "spec.usages[1]", 'Duplicate value: "client auth"'),
        ({"signerName": "nodomain"}, "spec.signerName", "must be a fully qualified domain and path"),
        ({"signerName": "example/x"}, "spec.signerName", "should be a domain with at least two segments"),
        (
            {"signerName": "kubernetes.io/legacy-unknown"},
            "spec.signerName",
            "the legacy signerName is not allowed",
        ),
        (
            {"expirationSeconds": 60},
            "spec.expirationSeconds",
            "may not specify a duration less than 600 seconds",
        ),
    ],
)
def test_invalid_requests_are_422_and_not_stored(
    http: httpx.Client, change: dict[str, object], field: str, words: str
) -> None:
    pem, _ = make_request("dave")
    body = csr_body("t-invalid", pem)
    body["spec"].update(change)
    r = http.post(CSRS, json=body)
    assert r.status_code == 422, r.text
    causes = r.json()["details"]["causes"]
    assert any(c["field"] == field and words in c["message"] for c in causes), causes
    assert http.get(f"{CSRS}/t-invalid").status_code == 404


def test_a_bad_signature_is_refused(http: httpx.Client) -> None:
    pem, _ = make_request("eve")
    der = bytearray(x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0xFF  # inside the signature
    tampered = (
        b"-----BEGIN CERTIFICATE REQUEST-----\n"
        + base64.encodebytes(bytes(der))
        + b"-----END CERTIFICATE REQUEST-----\n"
    )
    r = http.post(CSRS, json=csr_body("t-sig", tampered))
    assert r.status_code == 422, r.text
    assert "spec.request" in r.text


def test_masters_group_for_the_client_signer_is_forbidden(http: httpx.Client) -> None:
    pem, _ = make_request("mallory", ("system:masters",))
    r = http.post(CSRS, json=csr_body("t-masters", pem))
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        'certificatesigningrequests.certificates.k8s.io "t-masters" is forbidden: use of '
        "kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"
    )
    assert http.get(f"{CSRS}/t-masters").status_code == 404
    # another signer may be asked for that group (it is that signer's business)
    r = http.post(CSRS, json=csr_body("t-masters-other", pem, signer="example.com/mine"))
    assert r.status_code == 201, r.text
    http.delete(f"{CSRS}/t-masters-other")


def test_approval_and_status_rules(http: httpx.Client) -> None:
    pem, _ = make_request("frank")
    csr = http.post(CSRS, json=csr_body("t-rules", pem, signer="example.com/manual")).json()
    # a main update changes no status (kube's PrepareForUpdate), a /status write may not approve
    r = http.put(f"{CSRS}/t-rules", json=_approved(csr))
    assert r.status_code == 200 and r.json()["status"] == {}, r.text
    r = http.put(f"{CSRS}/t-rules/status", json=_approved(r.json()))
    assert r.status_code == 422 and 'updates may not add a condition of type \\"Approved\\"' in r.text, r.text
    r = http.put(f"{CSRS}/t-rules/approval", json=_approved(http.get(f"{CSRS}/t-rules").json()))
    assert r.status_code == 200, r.text
    cond = r.json()["status"]["conditions"][0]
    assert cond["lastUpdateTime"] and cond["lastTransitionTime"], cond
    approved = r.json()
    both = dict(
        approved,
        status={"conditions": [*approved["status"]["conditions"], {"type": "Denied", "status": "True"}]},
    )
    r = http.put(f"{CSRS}/t-rules/approval", json=both)
    assert r.status_code == 422 and "Approved and Denied conditions are mutually exclusive" in r.text, r.text
    r = http.put(f"{CSRS}/t-rules/approval", json=dict(approved, status={"conditions": []}))
    assert r.status_code == 422 and 'updates may not remove a condition of type \\"Approved\\"' in r.text, (
        r.text
    )
    # /approval cannot set the certificate; /status can, once, and only PEM certificates
    r = http.put(
        f"{CSRS}/t-rules/approval", json=dict(approved, status=dict(approved["status"], certificate="eA=="))
    )
    assert r.status_code == 200 and "certificate" not in r.json()["status"], r.text
    r = http.put(
        f"{CSRS}/t-rules/status", json=dict(approved, status=dict(approved["status"], certificate="eA=="))
    )
    assert r.status_code == 422 and "must contain at least one CERTIFICATE PEM block" in r.text, r.text
    assert http.get(f"{CSRS}/t-rules").json()["status"] == approved["status"]  # nothing stored on error
    http.delete(f"{CSRS}/t-rules")


def test_approving_needs_approve_on_the_signer(http: httpx.Client) -> None:
    pem, _ = make_request("grace")
    csr = http.post(CSRS, json=csr_body("t-authz", pem, signer="example.com/team")).json()
    role: dict[str, Any] = {
        "metadata": {"name": "t-csr-approver"},
        "rules": [
            {
                "apiGroups": ["certificates.k8s.io"],
                "resources": ["certificatesigningrequests", "certificatesigningrequests/approval"],
                "verbs": ["get", "update"],
            }
        ],
    }
    assert http.post("/apis/rbac.authorization.k8s.io/v1/clusterroles", json=role).status_code == 201
    binding = {
        "metadata": {"name": "t-csr-approver"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "t-csr-approver"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "approver"}],
    }
    assert (
        http.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json=binding).status_code == 201
    )
    as_approver = {"Impersonate-User": "approver"}
    r = http.put(f"{CSRS}/t-authz/approval", json=_approved(csr), headers=as_approver)
    assert r.status_code == 403, r.text
    assert 'user not permitted to approve requests with signerName \\"example.com/team\\"' in r.text
    # the signer's domain wildcard grants it, as in kube
    role["rules"].append(
        {
            "apiGroups": ["certificates.k8s.io"],
            "resources": ["signers"],
            "resourceNames": ["example.com/*"],
            "verbs": ["approve"],
        }
    )
    assert (
        http.put("/apis/rbac.authorization.k8s.io/v1/clusterroles/t-csr-approver", json=role).status_code
        == 200
    )
    deadline = time.monotonic() + 10
    while True:  # the RBAC cache follows the write
        r = http.put(f"{CSRS}/t-authz/approval", json=_approved(csr), headers=as_approver)
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.status_code == 200, r.text
    for path in ("clusterrolebindings", "clusterroles"):
        http.delete(f"/apis/rbac.authorization.k8s.io/v1/{path}/t-csr-approver")
    http.delete(f"{CSRS}/t-authz")


def _wait_for(http: httpx.Client, name: str, check: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        csr: dict[str, Any] = http.get(f"{CSRS}/{name}").json()
        status = csr.get("status") or {}
        done = (check == "certificate" and status.get("certificate")) or (
            check == "Failed" and any(c["type"] == "Failed" for c in status.get("conditions") or [])
        )
        return csr if done else None

    return wait_for(reached, 20, what=f"{name} {check}")


def test_kubectl_approves_and_the_issued_certificate_logs_in(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", free_port(), control_loops=True)
    srv.start()
    try:
        pem, key = make_request("alice", ("dev",))
        manifest = tmp_path / "csr.json"
        import json

        manifest.write_text(json.dumps(csr_body("alice", pem, expirationSeconds=3600)))
        srv.kubectl("apply", "-f", str(manifest), check=True)
        out = srv.kubectl("certificate", "approve", "alice", binary=KUBECTL_127, check=True).stdout
        assert "certificatesigningrequest.certificates.k8s.io/alice approved" in out
        with srv.client() as http:
            csr = _wait_for(http, "alice", "certificate")
        rows = srv.kubectl("get", "csr", "alice", check=True).stdout.split()
        assert rows[-1] == "Approved,Issued" and rows[-2] == "60m" and "admin" in rows, rows
        cert_pem = base64.b64decode(csr["status"]["certificate"])
        cert = x509.load_pem_x509_certificate(cert_pem)
        ca = x509.load_pem_x509_certificate(srv.ca_file.read_bytes())
        cert.verify_directly_issued_by(ca)
        assert cert.subject.rfc4514_string() == "CN=alice,O=dev"
        # an hour is short-lived (under 8 h): valid from 5 minutes back, for the whole hour ahead
        assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(seconds=3600 + 300)
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        # the certificate is a login: the user is its CN, the groups its O=s
        (tmp_path / "alice.crt").write_bytes(cert_pem)
        (tmp_path / "alice.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        ctx = ssl.create_default_context(cafile=str(srv.ca_file))
        ctx.load_cert_chain(tmp_path / "alice.crt", tmp_path / "alice.key")
        with httpx.Client(base_url=srv.url, verify=ctx, timeout=30) as alice:
            r = alice.post(
                "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
            )
            assert r.status_code == 201, r.text
            assert r.json()["status"]["userInfo"]["username"] == "alice"
            assert "dev" in r.json()["status"]["userInfo"]["groups"]
            assert alice.get("/api/v1/namespaces").status_code == 403  # no role yet
        # a kubelet serving request with a subject its signer does not sign fails, unsigned
        with srv.client() as http:
            bad, _ = make_request("someone", dns=("node-a.example",))
            body = csr_body(
                "serving",
                bad,
                signer="kubernetes.io/kubelet-serving",
                usages=("digital signature", "server auth"),
            )
            assert http.post(CSRS, json=body).status_code == 201
            assert (
                http.put(
                    f"{CSRS}/serving/approval", json=_approved(http.get(f"{CSRS}/serving").json())
                ).status_code
                == 200
            )
            failed = _wait_for(http, "serving", "Failed")
        cond = next(c for c in failed["status"]["conditions"] if c["type"] == "Failed")
        assert cond["reason"] == "SignerValidationFailure" and "system:nodes" in cond["message"], cond
        assert not failed["status"].get("certificate")
    finally:
        srv.stop()
