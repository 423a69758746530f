"""x509 client certificates: who a TLS client is, as kube-apiserver's x509 authenticator says.

The serving TLS context asks for a client certificate (optional) and verifies it against the
cluster CA; a verified one names its user in the subject's CommonName and its groups in the
Organization entries, and wins over any bearer token (kube's union authenticator tries x509
first). uvicorn gives an ASGI app no TLS details, so `with_client_certs` wraps its HTTP protocol:
the verified subject of the connection is put in each request's scope under the ASGI TLS
extension (`scope["extensions"]["tls"]["client_cert_name"]`, in the RFC 4514-like form kube
logs), plus a parsed `(user, groups)` for the authenticator.
The handshake verified the certificate once, but a connection may outlive it: as kube's x509
authenticator, which verifies the chain at the current time on every request, a request on a
connection whose certificate has since expired carries no identity (so it is 401 Unauthorized unless
a bearer token speaks for it). A kubelet that rotates its certificate opens new connections for it.

`issue_client_cert` makes such a certificate for `kubelite kubeconfig --user`.
"""

from __future__ import annotations

import ssl
import time
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


Identity = tuple[str, tuple[str, ...]]


def not_after(peer: dict[str, Any] | None) -> float | None:
    """The end of a peer certificate's validity (seconds since the epoch) as `ssl.getpeercert()` gives it."""
    end = (peer or {}).get("notAfter")
    return float(ssl.cert_time_to_seconds(end)) if end else None


class _ConnectionIdentity:
    """Mixed into a uvicorn protocol: the verified identity of its TLS connection and when its
    certificate expires, read once."""

    _identity: Identity | None = None
    _not_after: float | None = None

    def connection_made(self, transport: Any) -> None:
        ssl_object = transport.get_extra_info("ssl_object")
        peer = ssl_object.getpeercert() if ssl_object is not None else None
        self._identity, self._not_after = identity_of(peer), not_after(peer)
        super().connection_made(transport)  # type: ignore[misc]  # the protocol's, next in the MRO

    def _current(self) -> Identity | None:
        """The identity, while its certificate is still valid (kube verifies it on every request)."""
        if self._not_after is not None and time.time() > self._not_after:
            return None
        return self._identity


def _carry(scope: dict[str, Any], identity: Identity | None) -> None:
    """Put the connection's identity in a request's (or upgrade's) scope."""
    if identity is None:
        return
    user, groups = identity
    name = ",".join([f"CN={user}", *(f"O={g}" for g in groups)])
    scope["extensions"] = {**(scope.get("extensions") or {}), "tls": {"client_cert_name": name}}
    scope[IDENTITY_KEY] = identity


def with_client_certs(protocol_cls: type) -> type:
    """The HTTP protocol class, with each request's scope carrying the connection's client identity."""

    class ClientCertProtocol(_ConnectionIdentity, protocol_cls):
        def on_message_begin(self) -> None:
            super().on_message_begin()
            _carry(self.scope, self._current())

    return ClientCertProtocol


def with_client_certs_ws(protocol_cls: type) -> type:
    """The WebSocket protocol class (uvicorn's sans-I/O one), its scope carrying the identity too:
    kubectl 1.30+ runs exec and port-forward over WebSocket, on the connection its upgrade came by."""

    class ClientCertWebSocketProtocol(_ConnectionIdentity, protocol_cls):
        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)  # builds the scope and schedules the app, not yet run
            scope = getattr(self, "scope", None)
            if scope is not None:
                _carry(scope, self._current())

    return ClientCertWebSocketProtocol


def issue_client_cert(
    ca_cert: Path, ca_key: Path, user: str, groups: list[str], days: int = 365
) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for `user` in `groups`, signed by the cluster CA, for client auth."""
    from api import x509 as certs

    ca, signer = certs.load_cert(ca_cert), certs.load_key(ca_key)
    key = certs.new_key()
    cert = certs.sign(
        certs.builder(certs.name(user, groups), ca.subject, key, days)
        .add_extension(certs.key_usage(), critical=True)
        .add_extension(certs.x509.ExtendedKeyUsage([certs.CLIENT_AUTH]), critical=False),
        signer,
    )
    return certs.cert_pem(cert), certs.key_pem(key)
