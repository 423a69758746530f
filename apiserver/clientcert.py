"""x509 client certificates: who a TLS client is, as kube-apiserver's x509 authenticator says.

The serving TLS context asks for a client certificate (optional) and verifies it against the
cluster CA; a verified one names its user in the subject's CommonName and its groups in the
Organization entries, and wins over any bearer token (kube's union authenticator tries x509
first). uvicorn gives an ASGI app no TLS details, so `with_client_certs` wraps its HTTP protocol:
the verified subject of the connection is put in each request's scope under the ASGI TLS
extension (`scope["extensions"]["tls"]["client_cert_name"]`, in the RFC 4514-like form kube
logs), plus a parsed `(user, groups)` for the authenticator.

`issue_client_cert` makes such a certificate for `kubelite kubeconfig --user`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

IDENTITY_KEY = "kubelite.x509"


def identity_of(peer: dict[str, Any] | None) -> tuple[str, tuple[str, ...]] | None:
    """(CommonName, Organizations) of a verified peer certificate as `ssl.getpeercert()` returns it."""
    if not peer:
        return None
    cn, orgs = "", []
    for rdn in peer.get("subject") or ():
        for key, value in rdn:
            if key == "commonName":
                cn = value
            elif key == "organizationName":
                orgs.append(value)
    return (cn, tuple(orgs)) if cn else None


def with_client_certs(protocol_cls: type) -> type:
    """The HTTP protocol class, with each request's scope carrying the connection's client identity."""

    class ClientCertProtocol(protocol_cls):
        _identity: tuple[str, tuple[str, ...]] | None = None

        def connection_made(self, transport: Any) -> None:
            ssl_object = transport.get_extra_info("ssl_object")
            self._identity = identity_of(ssl_object.getpeercert()) if ssl_object is not None else None
            super().connection_made(transport)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._identity is not None:
                user, groups = self._identity
                name = ",".join([f"CN={user}", *(f"O={g}" for g in groups)])
                self.scope["extensions"] = {**(self.scope.get("extensions") or {}),
                                            "tls": {"client_cert_name": name}}
                self.scope[IDENTITY_KEY] = self._identity

    return ClientCertProtocol


def issue_client_cert(ca_cert: Path, ca_key: Path, user: str, groups: list[str], days: int = 365) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for `user` in `groups`, signed by the cluster CA, for client auth."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca = x509.load_pem_x509_certificate(ca_cert.read_bytes())
    signer = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([*(x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups),
                         x509.NameAttribute(NameOID.COMMON_NAME, user)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(signer, hashes.SHA256()))  # type: ignore[arg-type]
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))
