"""The certificate signer: approved CertificateSigningRequests of kube's own signers get a certificate
from the cluster CA (kube-controller-manager's csrsigning controller, `--cluster-signing-cert-file`
and `--cluster-signing-key-file`).

Three signers are kube's and served here, each with kube's rules on what it will sign:
- `kubernetes.io/kube-apiserver-client`: client certificates the API server accepts (the user is the
  CN, the groups the O=s); usages within digital signature, key encipherment and client auth,
  client auth among them.
- `kubernetes.io/kube-apiserver-client-kubelet`: a kubelet's client certificate: subject
  `O=system:nodes, CN=system:node:<name>`, no subject alternative names, usages exactly
  {digital signature, client auth} or {digital signature, key encipherment, client auth}.
- `kubernetes.io/kubelet-serving`: a kubelet's serving certificate (kubelet/certmanager.py asks for
  it, controller/csrapproving.py approves it): the same subject, DNS or IP names only (at least
  one), usages exactly {digital signature, server auth} or {digital signature, key encipherment,
  server auth} (kube's ValidateKubeletServingCSR: key encipherment only matters for RSA keys).
A request its signer will not sign gets a `Failed` condition (reason SignerValidationFailure) and
stays unsigned, as kube does; requests for other signers are left to whoever serves them.

How long a certificate lives is kube's arithmetic (`validity`): the request's `expirationSeconds`
(at least 10 minutes) up to `cluster_signing_duration` (a year; `--cluster-signing-duration`,
which tests shorten); valid from five minutes ago (clocks drift); a long-lived certificate (8 h or
more) ends that much earlier too, a short-lived one keeps its whole lifetime ahead of it; never past
the CA's own end. Tests only: `KUBELITE_TEST_SIGNING_BACKDATE` (seconds) replaces the five minutes
of backdating, which kube hard-codes, so that a certificate of seconds has a lifetime of seconds and
a kubelet renews it at 70-90 % of them as it would a year's (with the backdate any certificate under
about two minutes is due for renewal the moment it is issued). Handlers only enqueue names; `sync` re-reads the cache and acts on an approved,
unsigned, not-failed request.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

from api import jsonutil
from api.informer import Informer
from api.kubeletcerts import NODE_PREFIX, NODES_GROUP, SIGNER
from controller.base import ApiClient, Obj, QueueController, meta

log = logging.getLogger(__name__)

CLIENT = "kubernetes.io/kube-apiserver-client"
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = SIGNER
SIGNERS = (CLIENT, KUBELET_CLIENT, KUBELET_SERVING)
# kube's signer: 5 minutes, fixed; the variable is for tests that want seconds-long lifetimes
BACKDATE = dt.timedelta(seconds=float(os.environ.get("KUBELITE_TEST_SIGNING_BACKDATE", "300")))
SHORT = dt.timedelta(hours=8)  # below this a certificate's end is not backdated (kube's signer)
MIN_REQUESTED = dt.timedelta(minutes=10)  # a shorter expirationSeconds is raised to this
_CLIENT_USAGES = {"digital signature", "key encipherment", "client auth"}
# the kubelet signers want one of two exact sets: with key encipherment (RSA keys) or without
_KUBELET_USAGES = {
    KUBELET_CLIENT: ({"digital signature", "client auth"}, _CLIENT_USAGES),
    KUBELET_SERVING: (
        {"digital signature", "server auth"},
        {"digital signature", "key encipherment", "server auth"},
    ),
}


def wants_signing(csr: Obj) -> bool:
    """Approved, not denied or failed, no certificate yet, and for one of our signers."""
    status = csr.get("status") or {}
    kinds = {c.get("type") for c in status.get("conditions") or [] if isinstance(c, dict)}
    return (
        (csr.get("spec") or {}).get("signerName") in SIGNERS
        and "Approved" in kinds
        and not kinds & {"Denied", "Failed"}
        and not status.get("certificate")
    )


def refusal(signer: str, usages: list[str], request: Any) -> str:
    """Why `signer` will not sign this request ("" when it will)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    used = set(usages)
    if signer == CLIENT:
        if "client auth" not in used or not used <= _CLIENT_USAGES:
            return f"invalid usages for a client certificate: {sorted(used)} (client auth required; only digital signature, key encipherment, client auth allowed)"
        return ""
    if used not in _KUBELET_USAGES[signer]:
        wanted = " or ".join(str(sorted(u)) for u in _KUBELET_USAGES[signer])
        return f"usages did not match: {sorted(used)} (wanted {wanted})"
    orgs = [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    cns = [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if orgs != [NODES_GROUP]:
        return f'subject organization is not exactly "{NODES_GROUP}"'
    if len(cns) != 1 or not cns[0].startswith(NODE_PREFIX) or cns[0] == NODE_PREFIX:
        return f'subject common name does not begin with "{NODE_PREFIX}"'
    try:
        san = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    names = list(san) if san is not None else []
    if signer == KUBELET_CLIENT:
        return "subject alternative names are not allowed" if names else ""
    if not names:
        return "a DNS name or IP address subject alternative name is required"
    if any(not isinstance(n, x509.DNSName | x509.IPAddress) for n in names):
        return "only DNS names and IP addresses are allowed as subject alternative names"
    return ""


def duration(expiration_seconds: Any, cluster_signing_duration: dt.timedelta) -> dt.timedelta:
    """How long the certificate is asked to live (kube's signer): the request's `expirationSeconds`
    when it asks for less than the signing duration, raised to 10 minutes; else the signing duration."""
    if not isinstance(expiration_seconds, int) or isinstance(expiration_seconds, bool):
        return cluster_signing_duration
    requested = dt.timedelta(seconds=expiration_seconds)
    if requested > cluster_signing_duration:
        return cluster_signing_duration
    return max(requested, MIN_REQUESTED)


def validity(
    now: dt.datetime, ttl: dt.timedelta, ca_not_after: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """(notBefore, notAfter) of a certificate signed `now` for `ttl` (kube's PermissiveSigningPolicy):
    valid from BACKDATE ago; a long-lived one ends `ttl` after that start, a short-lived one (under
    SHORT) `ttl` after now, so that the backdate does not eat its lifetime; never after the CA's end."""
    start = now - BACKDATE
    end = now + ttl if ttl < SHORT else start + ttl
    return start, min(end, ca_not_after)


_KEY_USAGE_FLAGS = {
    "signing": "digital_signature",
    "digital signature": "digital_signature",
    "content commitment": "content_commitment",
    "key encipherment": "key_encipherment",
    "key agreement": "key_agreement",
    "data encipherment": "data_encipherment",
    "cert sign": "key_cert_sign",
    "crl sign": "crl_sign",
    "encipher only": "encipher_only",
    "decipher only": "decipher_only",
}


def issue(
    request: Any, usages: list[str], ca_cert: Any, ca_key: Any, ttl: dt.timedelta, now: dt.datetime
) -> bytes:
    """The PEM certificate for `request`'s subject, key and names, signed by the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    flags = dict.fromkeys(set(_KEY_USAGE_FLAGS.values()), False)
    for u in usages:
        if u in _KEY_USAGE_FLAGS:
            flags[_KEY_USAGE_FLAGS[u]] = True
    if not flags["key_agreement"]:  # encipher/decipher only mean something with key agreement alone
        flags["encipher_only"] = flags["decipher_only"] = False
    extended = {
        "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
        "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
        "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
        "email protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
        "s/mime": ExtendedKeyUsageOID.EMAIL_PROTECTION,
        "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
        "ocsp signing": ExtendedKeyUsageOID.OCSP_SIGNING,
        "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    }
    start, end = validity(now, ttl, ca_cert.not_valid_after_utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(request.subject)
        .issuer_name(ca_cert.subject)
        .public_key(request.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False
        )
    )
    if any(flags.values()):  # as Go's x509, no KeyUsage extension when no bit is set
        b = b.add_extension(x509.KeyUsage(**flags), critical=True)
    ext = sorted({extended[u] for u in usages if u in extended}, key=lambda o: o.dotted_string)
    if ext:
        b = b.add_extension(x509.ExtendedKeyUsage(ext), critical=False)
    try:
        san = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        b = b.add_extension(san, critical=False)
    except x509.ExtensionNotFound:
        pass
    from cryptography.hazmat.primitives.serialization import Encoding

    return b.sign(ca_key, hashes.SHA256()).public_bytes(Encoding.PEM)


class CsrSigningController(QueueController):
    name = "csrsigning"

    def __init__(
        self,
        client: ApiClient,
        csrs: Informer,
        cert_file: Path,
        key_file: Path,
        max_ttl: float = 365 * 24 * 3600.0,
    ) -> None:
        super().__init__(workers=1)
        self.client = client
        self.csrs = csrs
        self.cert_file, self.key_file = cert_file, key_file
        self.max_ttl = max_ttl
        self._ca: tuple[Any, Any] | None = None
        csrs.add_handlers(self.enqueue, lambda _old, new: self.enqueue(new), lambda _obj: None)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.csrs, *informers)

    def _authority(self) -> tuple[Any, Any]:
        """The CA certificate and key, read once (at the first request to sign)."""
        if self._ca is None:
            from api import x509 as certs

            self._ca = certs.load_cert(self.cert_file), certs.load_key(self.key_file)
        return self._ca

    async def sync(self, key: str) -> None:
        csr = self.csrs.get(key)
        if csr is None or not wants_signing(csr):
            return
        from cryptography import x509

        spec = csr.get("spec") or {}
        usages = [str(u) for u in spec.get("usages") or []]
        request = x509.load_pem_x509_csr(base64.b64decode(spec.get("request") or ""))
        status = dict(csr.get("status") or {})
        why = refusal(spec["signerName"], usages, request)
        if why:
            now = jsonutil.now_str()
            failed = {
                "type": "Failed",
                "status": "True",
                "reason": "SignerValidationFailure",
                "message": why,
                "lastUpdateTime": now,
                "lastTransitionTime": now,
            }
            status["conditions"] = [*(status.get("conditions") or []), failed]
            log.info("certificate request %s not signed: %s", meta(csr).get("name"), why)
        else:
            ttl = duration(spec.get("expirationSeconds"), dt.timedelta(seconds=self.max_ttl))
            ca_cert, ca_key = self._authority()
            pem = issue(request, usages, ca_cert, ca_key, ttl, dt.datetime.now(dt.UTC))
            status["certificate"] = base64.b64encode(pem).decode()
        await self.write_status(self.client, "certificatesigningrequests", csr, status, requeue=key)
