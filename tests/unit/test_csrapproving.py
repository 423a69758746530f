"""The kubelet-serving approver's decision (`controller.csrapproving.verdict`), field by field: a
request that is exactly what its node is gets approved; each wrong field leaves it pending, with
the reason naming that field. And the names both ends derive from a Node (`api.kubeletcerts`)."""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from api.kubeletcerts import node_serving_names, serving_names
from controller.csrapproving import MESSAGE, REASON, approved_status, verdict

NODE = {
    "metadata": {"name": "node-a"},
    "status": {
        "addresses": [
            {"type": "InternalIP", "address": "10.0.0.5"},
            {"type": "Hostname", "address": "node-a.lan"},
            {"type": "ExternalIP", "address": "2001:db8::5"},
        ]
    },
}


def request_pem(
    cn: str = "system:node:node-a",
    orgs: tuple[str, ...] = ("system:nodes",),
    dns: tuple[str, ...] = ("node-a",),
    ips: tuple[str, ...] = ("10.0.0.5",),
    other: tuple[x509.GeneralName, ...] = (),
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
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    names += list(other)
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def csr(
    pem: bytes | None = None,
    username: str = "system:node:node-a",
    groups: tuple[str, ...] = ("system:nodes", "system:authenticated"),
    usages: tuple[str, ...] = ("digital signature", "server auth"),
    signer: str = "kubernetes.io/kubelet-serving",
) -> dict[str, Any]:
    return {
        "metadata": {"name": "csr-abcde"},
        "spec": {
            "request": base64.b64encode(pem or request_pem()).decode(),
            "signerName": signer,
            "usages": list(usages),
            "username": username,
            "groups": list(groups),
        },
    }


def test_a_request_that_is_exactly_its_node_is_approved() -> None:
    assert verdict(csr(), NODE) == ""
    every_name = request_pem(dns=("node-a", "node-a.lan"), ips=("10.0.0.5", "2001:db8::5"))
    assert verdict(csr(every_name), NODE) == ""
    assert verdict(csr(request_pem(dns=(), ips=("10.0.0.5",))), NODE) == ""  # fewer names is fine


def test_an_rsa_key_asks_with_key_encipherment_too() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_usages = ("digital signature", "key encipherment", "server auth")
    assert verdict(csr(request_pem(key=key), usages=rsa_usages), NODE) == ""
    assert "usages" in verdict(csr(request_pem(key=key)), NODE)
    assert "usages" in verdict(csr(usages=rsa_usages), NODE)  # not for an EC key


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (csr(username="system:node:node-b"), "subject common name"),  # CN is another node's
        (csr(username="alice"), "is not a node"),
        (csr(username="system:node:"), "is not a node"),
        (csr(groups=("system:authenticated",)), "not in group system:nodes"),
        (csr(request_pem(cn="system:node:node-b")), "subject common name"),
        (csr(request_pem(cn="")), "subject common name"),
        (csr(request_pem(orgs=())), "subject organization"),
        (csr(request_pem(orgs=("system:nodes", "system:masters"))), "subject organization"),
        (csr(request_pem(orgs=("system:masters",))), "subject organization"),
        (csr(usages=("server auth",)), "usages"),
        (csr(usages=("digital signature", "server auth", "client auth")), "usages"),
        (csr(usages=("digital signature", "client auth")), "usages"),
        (csr(request_pem(dns=("node-a", "kubernetes.default"))), "DNS name 'kubernetes.default'"),
        (csr(request_pem(dns=("node-b",))), "DNS name 'node-b'"),
        (csr(request_pem(ips=("10.0.0.6",))), "IP address 10.0.0.6"),
        (csr(request_pem(ips=("127.0.0.1",))), "IP address 127.0.0.1"),
        (csr(request_pem(dns=("10.0.0.5",), ips=())), "DNS name '10.0.0.5'"),  # an IP is no DNS name
        (csr(request_pem(other=(x509.RFC822Name("a@b.c"),))), "neither a DNS name nor an IP"),
        (csr(request_pem(other=(x509.UniformResourceIdentifier("spiffe://x/y"),))), "neither"),
        (csr(request_pem(dns=(), ips=())), "names no DNS name or IP address"),
        (csr(signer="kubernetes.io/kube-apiserver-client-kubelet"), "not a kubernetes.io/kubelet-serving"),
    ],
)
def test_each_wrong_field_leaves_it_pending(request_: dict[str, Any], why: str) -> None:
    assert why in verdict(request_, NODE)


def test_a_node_not_known_leaves_it_pending() -> None:
    assert "not known" in verdict(csr(), None)


def test_garbage_in_the_request_leaves_it_pending() -> None:
    bad = csr()
    bad["spec"]["request"] = base64.b64encode(b"not a PEM").decode()
    assert "does not parse" in verdict(bad, NODE)
    bad["spec"]["request"] = "%%%"
    assert "does not parse" in verdict(bad, NODE)


def test_the_approved_condition_is_kube_style() -> None:
    status = approved_status({"status": {}}, MESSAGE.format(node="node-a"), "2026-01-01T00:00:00Z")
    (cond,) = status["conditions"]
    assert (
        cond["type"] == "Approved" and cond["status"] == "True" and cond["reason"] == REASON == "AutoApproved"
    )
    assert "csrapproving" in cond["message"] and "node-a" in cond["message"]
    assert cond["lastUpdateTime"] == cond["lastTransitionTime"] == "2026-01-01T00:00:00Z"


def test_serving_names_are_the_node_and_its_addresses() -> None:
    assert node_serving_names(NODE) == (["node-a", "node-a.lan"], ["10.0.0.5", "2001:db8::5"])
    addresses = [
        {"type": "Hostname", "address": "node-a"},  # the node name again: once
        {"type": "InternalIP", "address": "not-an-ip"},  # left out
        {"type": "InternalDNS", "address": "a.internal"},
        {"type": "InternalIP", "address": "2001:0db8::0005"},  # normalised
        {"type": "Other", "address": "x"},
    ]
    assert serving_names("node-a", addresses) == (["node-a", "a.internal"], ["2001:db8::5"])
    assert serving_names("n", None) == (["n"], [])
