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
import socket
from dataclasses import dataclass
from pathlib import Path

from api import x509 as certs
from api.x509 import x509

_TEN_YEARS = 3650  # days


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


def _make_ca(files: TLSFiles) -> None:
    key = certs.new_key()
    now = dt.datetime.now(dt.UTC)
    subject = certs.name(f"kubelite-ca@{int(now.timestamp())}")
    cert = certs.sign(
        certs.builder(subject, subject, key, _TEN_YEARS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(certs.key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False),
        key,
    )
    certs.write_private(files.ca_key, certs.key_pem(key))
    certs.write_private(files.ca_cert, certs.cert_pem(cert))


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


def _make_server_cert(files: TLSFiles, dns: set[str], ips: set[str]) -> None:
    ca_key, ca_cert = certs.load_key(files.ca_key), certs.load_cert(files.ca_cert)
    key = certs.new_key()
    cert = certs.sign(
        certs.builder(certs.name("kube-apiserver"), ca_cert.subject, key, _TEN_YEARS)
        .add_extension(certs.alt_names(sorted(dns), sorted(ips)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([certs.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        ),
        ca_key,
    )
    certs.write_private(files.server_key, certs.key_pem(key))
    certs.write_private(files.server_cert, certs.cert_pem(cert))


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
        have_dns, have_ips = certs.names_of(certs.load_cert(files.server_cert))
        if dns <= have_dns and ips <= have_ips:
            return files
        dns, ips = dns | have_dns, ips | have_ips  # keep serving the old names too
    _make_server_cert(files, dns, ips)
    return files
