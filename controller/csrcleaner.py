"""The CSR cleaner: old CertificateSigningRequests are deleted (kube-controller-manager's
`csrcleaner`).

Automated clients make requests (in kube, every kubelet renewing its certificates), approvers and
signers answer them at once, and nothing else ever removes them: without this loop every request
ever made stays in storage.
The rules are kube's (pkg/controller/certificates/cleaner), each age measured from the condition
that decided the request, or from its creation while nothing has:
- issued (Approved and `status.certificate` set): an hour after the Approved condition's
  lastUpdateTime, or as soon as the certificate has expired (its notAfter is past);
- Denied or Failed: an hour after that condition's lastUpdateTime;
- pending (no condition at all): a day after its creationTimestamp;
- approved and never issued (no signer serves it): a day after the Approved condition's
  lastUpdateTime (a rule kube added in 2025, kubernetes#133116).
A time that is missing or does not read never counts as old, nor does a certificate that does not
parse count as expired (kube logs nothing and keeps the request).

`why_delete` decides, with no I/O and the time handed in; `CsrCleaner` is the shell: every
`period` seconds (kube's hour; a pass as soon as the cache has synced) it judges each request in
its informer's cache and deletes those that are due. Each DELETE carries the cached uid as a
precondition (kube's sends none): a request deleted and re-made under the same name since the
cache saw it is left for the next pass to judge, not removed on the old one's age. The time comes
from a `Clock`, so tests move it instead of waiting hours.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from api.errors import ApiError
from api.informer import Informer
from api.jsonutil import parse_time
from controller.base import ApiClient, Obj, meta, run_every
from controller.clock import Clock, RealClock

log = logging.getLogger(__name__)

PERIOD = 3600.0  # seconds between passes (kube's pollingInterval)
APPROVED_TTL = dt.timedelta(hours=1)  # an issued request, from its approval
DENIED_TTL = dt.timedelta(hours=1)  # a denied or failed one, from that condition
PENDING_TTL = dt.timedelta(hours=24)  # one nobody decided, or approved and never issued

RESOURCE = "certificatesigningrequests"


def _older(stamp: Any, ttl: dt.timedelta, now: dt.datetime) -> bool:
    """Whether `stamp` (RFC 3339) is more than `ttl` before `now`; an unset or unreadable time is
    never old (kube's isOlderThan ignores a zero time)."""
    if not isinstance(stamp, str) or not stamp:
        return False
    try:
        t = parse_time(stamp)
    except ValueError:
        return False
    return now - t > ttl


def not_after(certificate: str) -> dt.datetime | None:
    """The end of validity of the first certificate in `status.certificate` (base64 of PEM, as the
    JSON carries it); None when it does not decode or parse."""
    try:
        pem = base64.b64decode(certificate, validate=True)
    except (binascii.Error, ValueError):
        return None
    # cryptography costs tens of milliseconds to import: only a pass that meets a certificate pays it
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(pem).not_valid_after_utc
    except ValueError:
        return None


def why_delete(csr: Obj, now: dt.datetime) -> str:
    """Why `csr` is due for deletion at `now` ("" while it is not): kube's cleaner rules."""
    status = csr.get("status") or {}
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    certificate = status.get("certificate")
    issued = isinstance(certificate, str) and bool(certificate)
    if not status.get("conditions"):
        # kubectl shows a request with no condition as Pending
        if _older(meta(csr).get("creationTimestamp"), PENDING_TTL, now):
            return "pending for more than 24h"
        return ""
    for c in conditions:
        kind, updated = c.get("type"), c.get("lastUpdateTime")
        if kind == "Denied" and _older(updated, DENIED_TTL, now):
            return "denied more than 1h ago"
        if kind == "Failed" and _older(updated, DENIED_TTL, now):
            return "failed more than 1h ago"
        if kind != "Approved":
            continue
        if issued and _older(updated, APPROVED_TTL, now):
            return "approved and issued more than 1h ago"
        if not issued and _older(updated, PENDING_TTL, now):
            return "approved more than 24h ago and never issued"
    if issued and any(c.get("type") == "Approved" for c in conditions):
        end = not_after(str(certificate))
        if end is not None and now > end:
            return f"its certificate expired at {end:%Y-%m-%dT%H:%M:%SZ}"
    return ""


@dataclass(eq=False)  # a loop, compared by identity
class CsrCleaner:
    name: ClassVar[str] = "csrcleaner"

    client: ApiClient
    csrs: Informer
    period: float = PERIOD
    clock: Clock = field(default_factory=RealClock)

    async def run(self) -> None:
        await run_every(self.period, "csr cleaner", self.clean, (self.csrs,))

    async def clean(self) -> None:
        """One pass over the cache: delete every request that is due."""
        now = self.clock.now()
        for csr in self.csrs.list():
            why = why_delete(csr, now)
            if not why:
                continue
            m = meta(csr)
            log.info("deleting certificate signing request %s: %s", m.get("name"), why)
            try:
                await self.client.delete(RESOURCE, m["name"], preconditions={"uid": m.get("uid")})
            except ApiError as e:
                # 404: gone already; 409: a new request under that name, judged on the next pass.
                # Anything else is this request's alone: the others are still judged (as kube's).
                if e.code not in (404, 409):
                    log.warning("csr cleaner: deleting %s failed: %s", m.get("name"), e)
