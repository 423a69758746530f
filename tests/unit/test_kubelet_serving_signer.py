"""The signer's rules for kubelet certificates (`controller.csrsigning.refusal`) and its validity
arithmetic (`duration`, `validity`, `issue`): kube's ValidateKubeletServingCSR and
PermissiveSigningPolicy, checked with real certificate requests and a real CA."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from api import x509 as certs
from controller.csrsigning import (
    KUBELET_CLIENT,
    KUBELET_SERVING,
    duration,
    issue,
    refusal,
    validity,
)

SERVING = ["digital signature", "server auth"]
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
YEAR = dt.timedelta(days=365)


def request(
    cn: str = "system:node:n1",
    orgs: tuple[str, ...] = ("system:nodes",),
    names: tuple[x509.GeneralName, ...] = (
        x509.DNSName("n1"),
        x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
    ),
) -> Any:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )
    b = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return b.sign(key, hashes.SHA256())


def test_a_kubelet_serving_request_is_signed() -> None:
    assert refusal(KUBELET_SERVING, SERVING, request()) == ""
    with_rsa_usage = ["key encipherment", "digital signature", "server auth"]
    assert refusal(KUBELET_SERVING, with_rsa_usage, request()) == ""


@pytest.mark.parametrize(
    ("usages", "req", "why"),
    [
        (["server auth"], request(), "usages did not match"),  # digital signature is required
        (["key encipherment", "server auth"], request(), "usages did not match"),
        (["digital signature", "server auth", "client auth"], request(), "usages did not match"),
        (["digital signature", "client auth"], request(), "usages did not match"),
        (SERVING, request(orgs=()), "organization"),
        (SERVING, request(orgs=("system:nodes", "x")), "organization"),
        (SERVING, request(cn="n1"), "common name"),
        (SERVING, request(cn="system:node:"), "common name"),
        (SERVING, request(names=()), "DNS name or IP address subject alternative name is required"),
        (SERVING, request(names=(x509.RFC822Name("a@b.c"),)), "only DNS names and IP addresses"),
        (
            SERVING,
            request(names=(x509.DNSName("n1"), x509.UniformResourceIdentifier("https://x"))),
            "only DNS",
        ),
    ],
)
def test_kubelet_serving_refusals(usages: list[str], req: Any, why: str) -> None:
    assert why in refusal(KUBELET_SERVING, usages, req)


def test_kubelet_client_usages_are_an_exact_set_too() -> None:
    no_names = request(names=())
    assert refusal(KUBELET_CLIENT, ["digital signature", "client auth"], no_names) == ""
    assert refusal(KUBELET_CLIENT, ["digital signature", "key encipherment", "client auth"], no_names) == ""
    assert "usages did not match" in refusal(KUBELET_CLIENT, ["client auth"], no_names)
    assert "not allowed" in refusal(KUBELET_CLIENT, ["digital signature", "client auth"], request())


def test_duration_honours_expiration_seconds_between_10_minutes_and_the_signing_duration() -> None:
    assert duration(None, YEAR) == YEAR
    assert duration(3600, YEAR) == HOUR
    assert duration(600, YEAR) == dt.timedelta(minutes=10)
    assert duration(60, YEAR) == dt.timedelta(minutes=10)  # raised to kube's floor
    assert duration(7200, HOUR) == HOUR  # never more than the signing duration
    assert duration(600, dt.timedelta(seconds=30)) == dt.timedelta(seconds=30)  # nor for the floor
    assert duration(True, YEAR) == YEAR  # not a number of seconds


def test_validity_backdates_and_keeps_short_lifetimes_whole() -> None:
    far = NOW + 10 * YEAR
    assert validity(NOW, HOUR, far) == (NOW - dt.timedelta(minutes=5), NOW + HOUR)
    assert validity(NOW, dt.timedelta(seconds=30), far)[1] == NOW + dt.timedelta(seconds=30)
    start, end = validity(NOW, YEAR, far)  # long-lived: the whole span shifted back
    assert start == NOW - dt.timedelta(minutes=5) and end == start + YEAR
    assert validity(NOW, YEAR, NOW + HOUR)[1] == NOW + HOUR  # never past the CA


def test_issue_copies_names_and_sets_the_usages(tmp_path: Any) -> None:
    ca = certs.x509.load_pem_x509_certificate(
        certs.cert_pem(
            certs.sign(
                certs.builder(
                    certs.name("ca"), certs.name("ca"), (ca_key := certs.new_key()), 3650
                ).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True),
                ca_key,
            )
        )
    )
    pem = issue(request(), SERVING, ca, ca_key, dt.timedelta(seconds=90), dt.datetime.now(dt.UTC))
    cert = x509.load_pem_x509_certificate(pem)
    cert.verify_directly_issued_by(ca)
    assert certs.names_of(cert) == ({"n1"}, {"10.0.0.1"})
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH
    ]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_encipherment
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(seconds=90 + 300)
