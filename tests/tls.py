"""TLS for tests: a throwaway self-signed certificate (an Ingress' TLS Secret, a CA a client must
not trust), made with api.x509's mechanics, and one HTTPS request with SNI that trusts only a
given CA (what a browser asking an ingress for a host does)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence

from api import x509 as certs


def self_signed(
    common_name: str, dns: Sequence[str] = (), ca: bool = False, ips: Sequence[str] = ()
) -> tuple[bytes, bytes]:
    """(certificate, key) in PEM, valid for a day, naming `dns` and `ips` in its subjectAltName."""
    key = certs.new_key()
    subject = certs.name(common_name)
    b = certs.builder(subject, subject, key, days=1)
    if dns or ips:
        b = b.add_extension(certs.alt_names(dns, ips), critical=False)
    if ca:
        b = b.add_extension(certs.x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return certs.cert_pem(certs.sign(b, key)), certs.key_pem(key)


def issued(
    ca_cert: bytes, ca_key: bytes, common_name: str, dns: Sequence[str] = (), ips: Sequence[str] = ()
) -> tuple[bytes, bytes]:
    """(certificate, key) in PEM for a server, signed by the PEM CA pair, valid for a day (a kubelet's
    serving certificate of the cluster CA, as the kubelet-serving signer would issue it)."""
    from cryptography.hazmat.primitives import serialization

    issuer = certs.x509.load_pem_x509_certificate(ca_cert)
    signer = serialization.load_pem_private_key(ca_key, None)
    assert isinstance(signer, certs.PrivateKey)
    key = certs.new_key()
    b = (
        certs.builder(certs.name(common_name, ["system:nodes"]), issuer.subject, key, days=1)
        .add_extension(certs.alt_names(dns, ips), critical=False)
        .add_extension(certs.x509.ExtendedKeyUsage([certs.SERVER_AUTH]), critical=False)
    )
    return certs.cert_pem(certs.sign(b, signer)), certs.key_pem(key)


def https_get(ip: str, port: int, host: str, path: str, ca: bytes, timeout: float = 5) -> tuple[bytes, bytes]:
    """GET `path` over TLS with SNI and Host `host`, trusting only the PEM `ca`: (status line and
    headers, body) of the response; OSError (ssl.SSLError among them) when it cannot be had."""
    ctx = ssl.create_default_context(cadata=ca.decode())
    with (
        socket.create_connection((ip, port), timeout=timeout) as raw,
        ctx.wrap_socket(raw, server_hostname=host) as s,
    ):
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body
