"""The kubelet's serving certificate from the cluster CA, asked for and renewed through the API (kube's
`serverTLSBootstrap: true` with its certificate manager), so that whoever trusts the cluster CA
(the API server, metrics-server with its ServiceAccount's ca.crt) can verify the kubelet it dials
by its address.

Asking: a fresh EC P-256 key, and a `certificates.k8s.io/v1` CertificateSigningRequest named by
`generateName: csr-` (as kube's kubelet names them), `signerName: kubernetes.io/kubelet-serving`,
subject `O=system:nodes, CN=system:node:<node>`, the names `api.kubeletcerts.serving_names` gives
for the node's own view of itself (its name, its Node status addresses), usages digital signature
and server auth. The API server records the node's identity as the requester; the controller
manager approves it when every field matches the node (controller/csrapproving.py) and signs it
(controller/csrsigning.py). The kubelet waits for `status.certificate` through a watch of that one
request (`metadata.name=<name>`), read once before each watch so nothing between create and
watch is missed; a Denied or Failed request, or one deleted, is asked for again after a back-off.

Keeping: certificate then key in one 0600 file, `kubelet-server-current.pem` in the cert dir
(kube's name for it), replaced atomically. On a restart a stored certificate is reused while it is
unexpired, issued by the current cluster CA and names everything the node is now; otherwise a new
one is asked for.

Rotating: as kube's certificate manager (client-go util/certificate/certificate_manager.go), at a
jittered 70-90 % of the certificate's whole validity (notBefore to notAfter: `nextRotationDeadline`,
`jitteryDuration`) a new key and request are made, and the new pair replaces the file and is
handed to `reload` (the kubelet server loads it into its running TLS context: new handshakes get
it, open connections keep theirs). A failed attempt is retried as kube's manager does
(`retry_delays`), a request not issued in 15 minutes is given up for a new one, and the loop runs
at most once a second (kube's wait.Until period). Note that the signer backdates notBefore by five
minutes, so a certificate much shorter than a quarter of an hour is due as soon as it arrives and
is renewed about once a second, in kube too (its signer raises an expirationSeconds below ten
minutes to ten for this reason; `--cluster-signing-duration` has no such floor).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from api.errors import ApiError
from api.kubeletcerts import NODES_GROUP, SIGNER, node_user, usages_for
from api.protocol import ApiClient

log = logging.getLogger(__name__)

RESOURCE = "certificatesigningrequests"
CERT_FILE = "kubelet-server-current.pem"
PERIOD = 1.0  # kube's manager runs its loop with wait.Until(..., time.Second): never more often
WAIT_ISSUED = 15 * 60.0  # kube's certificateWaitTimeout: a request unanswered this long is given up
Names = Callable[[], tuple[list[str], list[str]]]  # the node's (DNS names, IP addresses) now


class Refused(Exception):
    """The request was denied, failed, or deleted before it was issued."""


# --- decisions (pure) --------------------------------------------------------------------
def csr_object(request_pem: bytes, usages: list[str]) -> dict[str, Any]:
    """The CertificateSigningRequest a kubelet creates for `request_pem`."""
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"generateName": "csr-"},
        "spec": {
            "request": base64.b64encode(request_pem).decode(),
            "signerName": SIGNER,
            "usages": usages,
        },
    }


def outcome(csr: dict[str, Any]) -> bytes | None:
    """The issued certificate (PEM) of a request, None while it is pending; Refused when it never will be."""
    status = csr.get("status") or {}
    for c in status.get("conditions") or []:
        if (
            isinstance(c, dict)
            and c.get("type") in ("Denied", "Failed")
            and c.get("status", "True") == "True"
        ):
            raise Refused(f"{c.get('type')}: {c.get('reason', '')} {c.get('message', '')}".strip())
    cert = status.get("certificate")
    return base64.b64decode(cert) if cert else None


def rotation_deadline(not_before: dt.datetime, not_after: dt.datetime, fraction: float) -> dt.datetime:
    """When to ask for the next certificate: `fraction` (kube's jitter: 0.7 to 0.9) into its validity."""
    return not_before + (not_after - not_before) * fraction


def jittered(rng: random.Random) -> float:
    """kube's certificate manager's point of rotation: uniformly within 70-90 % of the lifetime."""
    return 0.7 + 0.2 * rng.random()


def retry_delays(rng: random.Random) -> Iterator[float]:
    """The waits between failed attempts at a new certificate, as kube's certificate manager: five
    tries 2 s apart doubling, jittered by up to 10 % (wait.Backoff{2s, x2, 0.1, 5 steps}), then one
    every 32 s for as long as it takes (wait.PollInfinite)."""
    for delay in (2.0, 4.0, 8.0, 16.0):
        yield delay * (1 + 0.1 * rng.random())
    while True:
        yield 32.0


def stored_problem(pem: bytes, ca_pem: bytes, now: dt.datetime) -> tuple[Any, str]:
    """(the certificate in `pem`, why it is not to be used again: it does not parse, has expired or
    was not issued by the cluster CA; "" when it may be). Each use adds its own name checks."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(pem)
        cas = x509.load_pem_x509_certificates(ca_pem)
    except ValueError as e:
        return None, f"does not parse: {e}"
    if now >= cert.not_valid_after_utc:
        return cert, f"expired at {cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
    for ca in cas:
        try:
            cert.verify_directly_issued_by(ca)
            return cert, ""
        except Exception:  # ValueError, TypeError, or cryptography's InvalidSignature
            continue
    return cert, "not issued by the cluster CA"


def unusable(pem: bytes, ca_pem: bytes, now: dt.datetime, dns: list[str], ips: list[str]) -> str:
    """Why a stored serving certificate is not to be served again ("" when it is): see
    `stored_problem`, or it does not name all the node's names."""
    from api import x509 as certs

    cert, why = stored_problem(pem, ca_pem, now)
    if why:
        return why
    have_dns, have_ips = certs.names_of(cert)
    missing = sorted(set(dns) - have_dns) + sorted(set(ips) - have_ips)
    return f"does not name {missing}" if missing else ""


def new_request(
    node_name: str, dns: list[str] | None = None, ips: list[str] | None = None
) -> tuple[bytes, bytes]:
    """(PEM certificate request, PEM private key) for a fresh EC P-256 key, as system:node:NAME in
    system:nodes, naming `dns` and `ips` when given (a serving certificate's; a client's has none)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    from api import x509 as certs

    key = certs.new_key()
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        certs.name(node_user(node_name), [NODES_GROUP])
    )
    if dns or ips:
        builder = builder.add_extension(certs.alt_names(dns or [], ips or []), critical=False)
    request = builder.sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM), certs.key_pem(key)


# --- the manager (I/O) ---------------------------------------------------------------------
async def wait_issued(client: ApiClient, name: str) -> bytes:
    """The certificate of request `name`, through a watch of that one object (Refused when it is
    denied, fails or goes); the client certificate's bootstrap waits the same way."""
    while True:
        csr = await client.get(RESOURCE, name)
        pem = outcome(csr)
        if pem is not None:
            return pem
        rv = str((csr.get("metadata") or {}).get("resourceVersion") or "")
        async for event in client.watch(
            RESOURCE, field_selector=f"metadata.name={name}", resource_version=rv, timeout_seconds=300
        ):
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "DELETED":
                raise Refused("deleted before it was issued")
            if kind in ("ADDED", "MODIFIED"):
                pem = outcome(obj)
                if pem is not None:
                    return pem
            elif kind == "ERROR":
                break  # e.g. 410 Gone: read it again and watch from there


class ServingCertManager:
    """This node's serving certificate: `first` gets one, `run` keeps it renewed."""

    def __init__(
        self,
        client: ApiClient,
        node_name: str,
        names: Names,
        cert_dir: Path,
        ca_pem: bytes,
        first_wait: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.node_name = node_name
        self.names = names
        self.path = Path(cert_dir) / CERT_FILE
        self.ca_pem = ca_pem
        self.first_wait = first_wait
        self.rng = rng or random.Random()
        self.pending: asyncio.Task[Path] | None = None  # a request still waited for after `first`
        self.issued: list[str] = []  # the names of the requests that got a certificate (for tests)

    async def first(self) -> tuple[Path, Path] | None:
        """A certificate to serve at start: the stored one if still good, else a new one, waited for
        at most `first_wait` seconds; None when none came in time (the request stays waited for)."""
        if self.path.exists():
            why = unusable(self.path.read_bytes(), self.ca_pem, dt.datetime.now(dt.UTC), *self.names())
            if not why:
                log.info("serving certificate: reusing %s", self.path)
                return self.path, self.path
            log.info("serving certificate: %s %s, asking for a new one", self.path, why)
        self.pending = asyncio.create_task(self._renew(), name="serving-certificate")
        try:
            await asyncio.wait_for(asyncio.shield(self.pending), self.first_wait)
        except TimeoutError:
            return None
        return self.path, self.path

    async def run(self, reload: Callable[[Path, Path], None]) -> None:
        """Until cancelled: wait out a request `first` left pending, then renew at each deadline;
        every new certificate is handed to `reload`."""
        try:
            if self.pending is not None:
                await self.pending
                reload(self.path, self.path)
            while True:
                await asyncio.sleep(max(PERIOD, self._seconds_to_deadline()))
                await self._renew()
                reload(self.path, self.path)
        finally:
            if self.pending is not None:
                self.pending.cancel()

    def _seconds_to_deadline(self) -> float:
        from cryptography import x509

        cert = x509.load_pem_x509_certificate(self.path.read_bytes())
        deadline = rotation_deadline(cert.not_valid_before_utc, cert.not_valid_after_utc, jittered(self.rng))
        seconds = (deadline - dt.datetime.now(dt.UTC)).total_seconds()
        log.info("serving certificate valid until %s: renewing at %s", cert.not_valid_after_utc, deadline)
        return max(0.0, seconds)

    async def _renew(self) -> Path:
        """Ask until a certificate is issued; store it with its key."""
        from api import x509 as certs

        delays = retry_delays(self.rng)
        while True:
            dns, ips = self.names()
            request, key = new_request(self.node_name, dns, ips)
            delay = 0.0
            try:
                created = await self.client.create(RESOURCE, csr_object(request, usages_for(rsa=False)))
                name = str(created["metadata"]["name"])
                log.info("serving certificate: asked with %s (names %s)", name, [*dns, *ips])
                pem = await asyncio.wait_for(wait_issued(self.client, name), WAIT_ISSUED)
            except Refused as e:
                delay = next(delays)
                log.warning("serving certificate: request refused (%s); asking again in %.0f s", e, delay)
            except (ApiError, OSError) as e:  # TimeoutError (not issued in time) is an OSError
                delay = next(delays)
                log.warning("serving certificate: %s; asking again in %.0f s", e, delay)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                certs.write_private(self.path, pem.rstrip(b"\n") + b"\n" + key)
                self.issued.append(name)
                log.info("serving certificate: %s issued, stored in %s", name, self.path)
                return self.path
            await asyncio.sleep(delay)
