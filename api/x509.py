"""X.509 for every part that makes or reads certificates: the API server's CA and serving
certificate, its client certificate for kubelets, client certificates it issues, the kubelet's
self-signed serving certificate.

One place for the mechanics (EC P-256 keys as k3s uses, PEM in and out, a builder whose validity
starts five minutes back for clock skew, SHA-256 signatures, keys written 0600 atomically); each
caller still states its certificate's profile (names, CA or not, key and extended key usages) in
its own words. `cryptography` costs tens of milliseconds to import: import this module only on
the paths that make or load certificates.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH
PrivateKey = ec.EllipticCurvePrivateKey


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: not an EC private key")
    return key


def pair_matches(cert: bytes, key: bytes) -> bool:
    """Whether a PEM private key (any algorithm) belongs to a PEM certificate; ValueError when either
    does not parse (as `kubectl create secret tls` checks a pair)."""
    public = x509.load_pem_x509_certificate(cert).public_key()
    private = serialization.load_pem_private_key(key, password=None)
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    return public.public_bytes(*spki) == private.public_key().public_bytes(*spki)


def write_private(path: Path, data: bytes) -> None:
    """Write a key (or anything secret) as 0600, replacing `path` atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    """A subject: O= for each group (as kube reads groups), then CN= (the user or host)."""
    return x509.Name(
        [
            *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def builder(subject: x509.Name, issuer: x509.Name, key: PrivateKey, days: int) -> x509.CertificateBuilder:
    """A certificate for `key`'s public half, valid from five minutes ago for `days`."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
    )


def alt_names(dns: Iterable[str], ips: Iterable[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    return x509.SubjectAlternativeName(names)


def names_of(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    """(DNS names, IP addresses) a certificate's subjectAltName lists."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set(), set()
    return set(san.get_values_for_type(x509.DNSName)), {
        str(i) for i in san.get_values_for_type(x509.IPAddress)
    }


def key_usage(digital_signature: bool = True, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )


def sign(b: x509.CertificateBuilder, signer: PrivateKey) -> x509.Certificate:
    return b.sign(signer, hashes.SHA256())


__all__ = [
    "CLIENT_AUTH",
    "SERVER_AUTH",
    "alt_names",
    "builder",
    "cert_pem",
    "key_pem",
    "key_usage",
    "load_cert",
    "load_key",
    "name",
    "names_of",
    "new_key",
    "pair_matches",
    "sign",
    "write_private",
    "x509",
]
