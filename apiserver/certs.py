"""The server's TLS identity: a private CA and a serving certificate, made once, kept in DATA_DIR.

Generated on first start (EC P-256, as k3s does) and reused on restart so kubeconfigs and node
tokens stay valid. The serving certificate names every listen address plus localhost and
127.0.0.1; if a restart listens somewhere new, only the serving certificate is re-issued from
the same CA. Files: `tls/ca.crt`, `tls/ca.key`, `tls/server.crt`, `tls/server.key` (keys 0600).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_TEN_YEARS = dt.timedelta(days=3650)


@dataclass(frozen=True)
class TLSFiles:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path

    def ca_pem(self) -> bytes:
        return self.ca_cert.read_bytes()

    def ca_hash(self) -> str:
        """sha256 hex of the CA certificate PEM: what a k3s-style node token carries."""
        return hashlib.sha256(self.ca_pem()).hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _make_ca(files: TLSFiles) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"kubelite-ca@{int(now.timestamp())}")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _TEN_YEARS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(files.ca_key, _key_pem(key))
    _write_private(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM))


def local_addresses() -> set[str]:
    """Every address on this host's interfaces now (what a wildcard listen serves on)."""
    import json
    import subprocess

    try:
        out = subprocess.run(
            ["ip", "-j", "addr", "show"], capture_output=True, text=True, timeout=5, check=True
        )
        return {
            a["local"]
            for link in json.loads(out.stdout)
            for a in link.get("addr_info") or []
            if a.get("local")
        }
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError):
        return set()


def _wanted_names(hosts: list[str]) -> tuple[set[str], set[str]]:
    dns, ips = (
        {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
        {"127.0.0.1", "::1"},
    )
    try:
        dns.add(socket.gethostname())
    except OSError:
        pass
    for h in hosts:
        if h in ("0.0.0.0", "::"):
            ips |= {a for a in local_addresses() if ":" not in a or h == "::"}
            continue
        if not h:
            continue
        try:
            ips.add(str(ipaddress.ip_address(h)))
        except ValueError:
            dns.add(h)
    return dns, ips


def _cert_names(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set(), set()
    return set(san.get_values_for_type(x509.DNSName)), {
        str(i) for i in san.get_values_for_type(x509.IPAddress)
    }


def _make_server_cert(files: TLSFiles, dns: set[str], ips: set[str]) -> None:
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in sorted(dns)]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in sorted(ips)]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _TEN_YEARS)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(files.server_key, _key_pem(key))
    _write_private(files.server_cert, cert.public_bytes(serialization.Encoding.PEM))


def ensure_ca(data_dir: Path) -> TLSFiles:
    """Load or create the CA (a new CA drops the serving certificate it did not sign)."""
    tls = data_dir / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(tls / "ca.crt", tls / "ca.key", tls / "server.crt", tls / "server.key")
    if not (files.ca_cert.exists() and files.ca_key.exists()):
        _make_ca(files)
        files.server_cert.unlink(missing_ok=True)
    return files


def ensure_certs(data_dir: Path, hosts: list[str]) -> TLSFiles:
    """Load or create the CA and a serving certificate that names every one of `hosts`."""
    files = ensure_ca(data_dir)
    dns, ips = _wanted_names(hosts)
    if files.server_cert.exists() and files.server_key.exists():
        have_dns, have_ips = _cert_names(x509.load_pem_x509_certificate(files.server_cert.read_bytes()))
        if dns <= have_dns and ips <= have_ips:
            return files
        dns, ips = dns | have_dns, ips | have_ips  # keep serving the old names too
    _make_server_cert(files, dns, ips)
    return files
