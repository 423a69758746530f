"""The CSR cleaner's decision (controller/csrcleaner.py `why_delete`), case by case with the time
handed in: kube's ages around each boundary, the certificate's expiry, and what never counts."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest

from api.jsonutil import format_time
from controller.clock import FakeClock
from controller.csrcleaner import CsrCleaner, not_after, why_delete

NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
SECOND = dt.timedelta(seconds=1)


def certificate(end: dt.datetime) -> str:
    """A self-signed certificate valid until `end`, as `status.certificate` carries it."""
    from api import x509 as certs

    key = certs.new_key()
    subject = certs.name("someone")
    cert = (
        certs.x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(certs.x509.random_serial_number())
        .not_valid_before(end - dt.timedelta(days=1))
        .not_valid_after(end)
    )
    return base64.b64encode(certs.cert_pem(certs.sign(cert, key))).decode()


def csr(
    *conditions: tuple[str, dt.datetime | None],
    created: dt.datetime = NOW - dt.timedelta(minutes=1),
    cert: str = "",
) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if conditions:
        status["conditions"] = [
            {"type": kind, "status": "True", **({"lastUpdateTime": format_time(t)} if t else {})}
            for kind, t in conditions
        ]
    if cert:
        status["certificate"] = cert
    return {
        "metadata": {"name": "r", "uid": "u-1", "creationTimestamp": format_time(created)},
        "spec": {"signerName": "example.com/x"},
        "status": status,
    }


VALID = certificate(NOW + dt.timedelta(days=30))
EXPIRED = certificate(NOW - SECOND)


@pytest.mark.parametrize(
    ("request_", "due"),
    [
        # issued: an hour after approval
        (csr(("Approved", NOW - HOUR), cert=VALID), False),
        (csr(("Approved", NOW - HOUR - SECOND), cert=VALID), True),
        # denied and failed: an hour after that condition
        (csr(("Denied", NOW - HOUR)), False),
        (csr(("Denied", NOW - HOUR - SECOND)), True),
        (csr(("Approved", NOW - SECOND), ("Failed", NOW - HOUR)), False),
        (csr(("Approved", NOW - SECOND), ("Failed", NOW - HOUR - SECOND)), True),
        # pending (no condition): a day after creation
        (csr(created=NOW - 24 * HOUR), False),
        (csr(created=NOW - 24 * HOUR - SECOND), True),
        (csr(created=NOW - SECOND), False),
        # approved and never issued: a day after approval, not an hour
        (csr(("Approved", NOW - 2 * HOUR)), False),
        (csr(("Approved", NOW - 24 * HOUR)), False),
        (csr(("Approved", NOW - 24 * HOUR - SECOND)), True),
        # issued with an expired certificate: at once; with a valid one: by age only
        (csr(("Approved", NOW - SECOND), cert=EXPIRED), True),
        (csr(("Approved", NOW - SECOND), cert=VALID), False),
        # a certificate without an Approved condition is not judged by its expiry
        (csr(("Failed", NOW - SECOND), cert=EXPIRED), False),
        # an unset update time never counts as old, however old the request
        (csr(("Denied", None), created=NOW - 48 * HOUR), False),
        (csr(("Approved", None), created=NOW - 48 * HOUR, cert=VALID), False),
        # a condition of another type is a decision too: the pending rule is for no condition at all
        (csr(("Other", NOW - 48 * HOUR), created=NOW - 48 * HOUR), False),
    ],
    ids=[
        "issued-1h",
        "issued-1h1s",
        "denied-1h",
        "denied-1h1s",
        "failed-1h",
        "failed-1h1s",
        "pending-24h",
        "pending-24h1s",
        "pending-fresh",
        "approved-unissued-2h",
        "approved-unissued-24h",
        "approved-unissued-24h1s",
        "issued-expired",
        "issued-valid",
        "failed-expired-cert",
        "denied-no-time",
        "approved-no-time",
        "other-condition",
    ],
)
def test_why_delete(request_: dict[str, Any], due: bool) -> None:
    assert bool(why_delete(request_, NOW)) is due, why_delete(request_, NOW)


def test_the_reason_names_the_rule() -> None:
    assert why_delete(csr(("Denied", NOW - 2 * HOUR)), NOW) == "denied more than 1h ago"
    assert why_delete(csr(created=NOW - 25 * HOUR), NOW) == "pending for more than 24h"
    assert why_delete(csr(("Approved", NOW), cert=EXPIRED), NOW).startswith("its certificate expired at")


def test_an_unreadable_certificate_or_time_keeps_the_request() -> None:
    assert not_after("not base64!") is None
    assert (
        not_after(
            base64.b64encode(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").decode()
        )
        is None
    )
    assert why_delete(csr(("Approved", NOW), cert="eA=="), NOW) == ""
    bad = csr(("Denied", NOW))
    bad["status"]["conditions"][0]["lastUpdateTime"] = "yesterday"
    assert why_delete(bad, NOW) == ""


def test_not_after_reads_the_first_certificate() -> None:
    assert not_after(VALID) == NOW + dt.timedelta(days=30)


class FakeCache:
    def __init__(self, *objs: dict[str, Any]) -> None:
        self.objs = list(objs)

    def list(self) -> list[dict[str, Any]]:
        return self.objs


class RecordingClient:
    def __init__(self) -> None:
        self.deleted: list[tuple[str, str, dict[str, Any]]] = []

    async def delete(self, r: str, name: str, namespace: str | None = None, **kw: Any) -> None:
        self.deleted.append((r, name, kw))


@pytest.mark.anyio
async def test_a_pass_deletes_what_is_due_with_a_uid_precondition() -> None:
    old = csr(("Denied", NOW - 2 * HOUR))
    fresh = csr()
    fresh["metadata"] = dict(fresh["metadata"], name="fresh", uid="u-2")
    client = RecordingClient()
    cleaner = CsrCleaner(client, FakeCache(old, fresh), clock=FakeClock(NOW))  # type: ignore[arg-type]
    await cleaner.clean()
    assert client.deleted == [("certificatesigningrequests", "r", {"preconditions": {"uid": "u-1"}})]
