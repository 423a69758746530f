"""The kubelet's serving certificate manager (kubelet/certmanager.py) with the real kubelet HTTPS
server: its decisions (the request it makes, when it rotates, what it reuses), then a server whose
certificate comes through CertificateSigningRequests on the in-memory API, signed by a test CA with
a lifetime of seconds, rotated while the server runs (no restart: the same task serves every
certificate), reused after a restart, and swapped in when it arrives after the server started on
its self-signed fallback. Every handshake is verified against the CA with the IP checked."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import random
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from cryptography import x509

from api import x509 as certs
from api.protocol import ApiClient
from apiserver.certs import TLSFiles, ensure_certs
from kubelet.certmanager import (
    CERT_FILE,
    Refused,
    ServingCertManager,
    csr_object,
    jittered,
    new_request,
    outcome,
    retry_delays,
    rotation_deadline,
    unusable,
)
from kubelet.serving import KubeletServer
from runtime.interface import Runtime
from tests.apiserver.conftest import free_port
from tests.controller.fakeapi import FakeApi
from tests.kubelet.test_server import HostRuntime
from tests.polling import until

NODE = "node-r"
NAMES = (["node-r"], ["127.0.0.1"])
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


# --- decisions ---------------------------------------------------------------------------------
def test_the_request_is_kube_kubelets() -> None:
    request, key = new_request(NODE, *NAMES)
    obj = csr_object(request, ["digital signature", "server auth"])
    assert obj["metadata"] == {"generateName": "csr-"}
    assert obj["spec"]["signerName"] == "kubernetes.io/kubelet-serving"
    assert obj["spec"]["usages"] == ["digital signature", "server auth"]
    parsed = x509.load_pem_x509_csr(base64.b64decode(obj["spec"]["request"]))
    assert parsed.subject.rfc4514_string() == "CN=system:node:node-r,O=system:nodes"
    san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["node-r"]
    assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert b"PRIVATE KEY" in key


def test_outcome_of_a_request() -> None:
    assert outcome({"status": {}}) is None
    assert outcome({"status": {"conditions": [{"type": "Approved", "status": "True"}]}}) is None
    assert outcome({"status": {"certificate": base64.b64encode(b"PEM").decode()}}) == b"PEM"
    for kind in ("Denied", "Failed"):
        with pytest.raises(Refused, match=kind):
            outcome({"status": {"conditions": [{"type": kind, "status": "True", "reason": "R"}]}})


def test_rotation_is_at_70_to_90_percent_of_the_lifetime() -> None:
    end = T0 + dt.timedelta(days=100)
    assert rotation_deadline(T0, end, 0.7) == T0 + dt.timedelta(days=70)
    assert rotation_deadline(T0, end, 0.9) == T0 + dt.timedelta(days=90)
    rng = random.Random(7)
    fractions = [jittered(rng) for _ in range(1000)]
    assert 0.7 <= min(fractions) < 0.72 and 0.88 < max(fractions) <= 0.9


def issue(ca: TLSFiles, request_pem: bytes, lifetime: float, start: dt.datetime | None = None) -> bytes:
    """What a signer issues for the request: its subject and names, from `start` for `lifetime` s."""
    request = x509.load_pem_x509_csr(request_pem)
    start = start or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    b = (
        x509.CertificateBuilder()
        .subject_name(request.subject)
        .issuer_name(certs.load_cert(ca.ca_cert).subject)
        .public_key(request.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(seconds=lifetime))
        .add_extension(request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value, False)
        .add_extension(x509.ExtendedKeyUsage([certs.SERVER_AUTH]), False)
    )
    return certs.cert_pem(certs.sign(b, certs.load_key(ca.ca_key)))


def test_failed_renewals_are_retried_as_kubes_certificate_manager() -> None:
    """wait.Backoff{2s, x2, jitter 0.1, 5 steps}, then wait.PollInfinite(32s)."""
    for seed in range(20):
        delays = retry_delays(random.Random(seed))
        got = [next(delays) for _ in range(7)]
        for d, base in zip(got, (2.0, 4.0, 8.0, 16.0), strict=False):
            assert base <= d <= base * 1.1
        assert got[4:] == [32.0, 32.0, 32.0]


def test_what_a_restarted_kubelet_reuses(tmp_path: Path) -> None:
    ca, other = ensure_certs(tmp_path / "ca", []), ensure_certs(tmp_path / "other", [])
    request, _ = new_request(NODE, *NAMES)
    now = dt.datetime.now(dt.UTC)
    good = issue(ca, request, 3600)
    assert unusable(good, ca.ca_pem(), now, *NAMES) == ""
    assert unusable(good, ca.ca_pem(), now, ["node-r"], []) == ""  # names more than needed
    assert "expired" in unusable(good, ca.ca_pem(), now + dt.timedelta(hours=2), *NAMES)
    assert "not issued by the cluster CA" in unusable(good, other.ca_pem(), now, *NAMES)
    assert "does not name ['10.0.0.9']" in unusable(good, ca.ca_pem(), now, ["node-r"], ["10.0.0.9"])
    assert "does not parse" in unusable(b"junk", ca.ca_pem(), now, *NAMES)


# --- the server, certificates from the (in-memory) API -------------------------------------------
async def sign_requests(api: FakeApi, ca: TLSFiles, lifetime: float) -> None:
    """A signer: every request without a certificate gets one, valid `lifetime` seconds."""
    async for event in api.watch("certificatesigningrequests"):
        csr = event["object"]
        if event["type"] == "DELETED" or (csr.get("status") or {}).get("certificate"):
            continue
        pem = issue(ca, base64.b64decode(csr["spec"]["request"]), lifetime)
        status = {
            "conditions": [{"type": "Approved", "status": "True", "reason": "AutoApproved"}],
            "certificate": base64.b64encode(pem).decode(),
        }
        await api.update("certificatesigningrequests", dict(csr, status=status), subresource="status")


async def served(port: int, ca: TLSFiles) -> x509.Certificate | None:
    """The certificate the kubelet presents, verified against `ca` for 127.0.0.1; None when it does
    not verify (the self-signed fallback)."""
    ctx = ssl.create_default_context(cadata=ca.ca_pem().decode())  # check_hostname: the IP SAN
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1")
    except ssl.SSLCertVerificationError:
        return None
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    return x509.load_der_x509_certificate(der)


class Node:
    def __init__(self, tmp: Path, api: FakeApi, ca: TLSFiles, first_wait: float = 10.0) -> None:
        self.manager = ServingCertManager(
            cast(ApiClient, api), NODE, lambda: NAMES, tmp / "pki", ca.ca_pem(), first_wait, random.Random(3)
        )
        self.port = free_port()
        self.server = KubeletServer(
            cast(Runtime, HostRuntime(tmp / "logs")),
            SimpleNamespace(ca_data=ca.ca_pem()),
            "127.0.0.1",
            self.port,
            tmp / "kubelet",
            node_name=NODE,
            certificates=self.manager,
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Node:
        self.task = asyncio.create_task(self.server.run())
        await until(lambda: self.server.started.is_set() or self.task.done(), 15, "the kubelet server")  # type: ignore[union-attr]
        assert not self.task.done()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def background() -> AsyncIterator[list[asyncio.Task[Any]]]:
    tasks: list[asyncio.Task[Any]] = []
    yield tasks
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.anyio
async def test_a_short_lived_certificate_is_rotated_into_the_running_server(
    tmp_path: Path, background: list[asyncio.Task[Any]]
) -> None:
    ca, api = ensure_certs(tmp_path / "ca", []), FakeApi()
    background.append(asyncio.create_task(sign_requests(api, ca, lifetime=3.0)))
    seen: list[int] = []

    async with Node(tmp_path, api, ca) as node:

        async def watch_served() -> None:
            while True:
                cert = await served(node.port, ca)
                assert cert is not None, "a served certificate did not verify"
                assert certs.names_of(cert) == ({NODE}, {"127.0.0.1"})
                if not seen or seen[-1] != cert.serial_number:
                    seen.append(cert.serial_number)
                await asyncio.sleep(0.05)

        background.append(asyncio.create_task(watch_served()))
        await until(lambda: len(seen) >= 3 or background[-1].done(), 20, "two rotations")
        assert len(seen) >= 3, background[-1].result()
        assert node.task is not None and not node.task.done()  # one server all along
    assert len(node.manager.issued) >= 3 and all(n.startswith("csr-") for n in node.manager.issued)
    assert (tmp_path / "pki" / CERT_FILE).stat().st_mode & 0o777 == 0o600


@pytest.mark.anyio
async def test_a_restarted_kubelet_reuses_its_certificate(
    tmp_path: Path, background: list[asyncio.Task[Any]]
) -> None:
    ca, api = ensure_certs(tmp_path / "ca", []), FakeApi()
    background.append(asyncio.create_task(sign_requests(api, ca, lifetime=3600)))
    async with Node(tmp_path, api, ca) as node:
        first = await served(node.port, ca)
    creates = [c for c in api.calls if c[0] == "create"]
    async with Node(tmp_path, api, ca) as node:
        again = await served(node.port, ca)
    assert first is not None and again is not None and first.serial_number == again.serial_number
    assert [c for c in api.calls if c[0] == "create"] == creates  # no new request


@pytest.mark.anyio
async def test_a_certificate_issued_late_replaces_the_self_signed_fallback(
    tmp_path: Path, background: list[asyncio.Task[Any]]
) -> None:
    ca, api = ensure_certs(tmp_path / "ca", []), FakeApi()
    async with Node(tmp_path, api, ca, first_wait=0.2) as node:  # nobody signs: the fallback
        assert await served(node.port, ca) is None
        background.append(asyncio.create_task(sign_requests(api, ca, lifetime=3600)))
        got: list[x509.Certificate] = []

        async def verified() -> None:
            while (cert := await served(node.port, ca)) is None:
                await asyncio.sleep(0.05)
            got.append(cert)

        background.append(asyncio.create_task(verified()))
        await until(lambda: got, 15, "the issued certificate served")
        assert len(node.manager.issued) == 1  # the request made at start, not a second one
