"""api/x509.py: the one place keys and certificates are made and read."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import x509 as certs


def test_a_signed_certificate_names_its_subject_sans_and_issuer(tmp_path: Path) -> None:
    ca_key = certs.new_key()
    ca_name = certs.name("test-ca")
    ca = certs.sign(certs.builder(ca_name, ca_name, ca_key, 1), ca_key)
    key = certs.new_key()
    cert = certs.sign(
        certs.builder(certs.name("alice", ["devs", "ops"]), ca.subject, key, 1).add_extension(
            certs.alt_names(["localhost"], ["127.0.0.1"]), critical=False
        ),
        ca_key,
    )
    assert cert.subject.rfc4514_string() == "CN=alice,O=ops,O=devs"  # O= first, as kube reads groups
    assert cert.issuer == ca.subject
    assert certs.names_of(cert) == ({"localhost"}, {"127.0.0.1"})
    assert certs.names_of(ca) == (set(), set())
    # written, read back; the key file is private
    certs.write_private(tmp_path / "k.pem", certs.key_pem(key))
    (tmp_path / "c.pem").write_bytes(certs.cert_pem(cert))
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    assert certs.load_cert(tmp_path / "c.pem") == cert
    assert certs.load_key(tmp_path / "k.pem").private_numbers() == key.private_numbers()


def test_pair_matches() -> None:
    key, other = certs.new_key(), certs.new_key()
    subject = certs.name("x")
    cert_pem = certs.cert_pem(certs.sign(certs.builder(subject, subject, key, 1), key))
    assert certs.pair_matches(cert_pem, certs.key_pem(key))
    assert not certs.pair_matches(cert_pem, certs.key_pem(other))
    with pytest.raises(ValueError):
        certs.pair_matches(b"not a certificate", certs.key_pem(key))
