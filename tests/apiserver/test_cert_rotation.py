"""A kubelet's client certificate renewed before it expires, end to end: a real `kubelite server`
whose signer issues certificates of TTL seconds (`--cluster-signing-duration`; kube's ten-minute
floor is only for a request's expirationSeconds, which the kubelet does not set) and a hollow
`kubelite agent` (the same bootstrap, rotation and connection code as a real node's; no root) that
gets its certificate by TLS bootstrap with the node token. The test shows that the agent asks for
a new certificate with the old one at 70-90 % of its lifetime (a second request, from
system:node:<name>, approved as a self renewal), that the old certificate is refused once expired
(the API server checks it on every request, on a kept-alive connection too, as kube's x509
authenticator does), and that the node keeps renewing its Lease and stays Ready past that expiry,
so its requests go with the new certificate.

The signer's five minutes of backdating (kube's, fixed) would put the renewal point of any
certificate under about two minutes in the past the moment it is issued; the server runs with the
test-only `KUBELITE_TEST_SIGNING_BACKDATE=0` (controller/csrsigning.py) so that a 20-second
certificate lives 20 seconds and its renewal falls at 14-18 seconds, as a year's falls in months.
"""

from __future__ import annotations

import base64
import datetime as dt
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from tests.apiserver.conftest import Server, free_port, hollow_agent
from tests.polling import wait_for

NODE = "rot-a"
TTL = 20  # seconds: the signing duration, so every certificate's whole lifetime
GRACE = 5  # --node-monitor-grace-period: a node silent this long would turn NotReady (Unknown)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("KUBELITE_TEST_SIGNING_BACKDATE", "0")  # the server process inherits it
    srv = Server(
        tmp_path / "data",
        free_port(),
        ["--cluster-signing-duration", f"{TTL}s", "--node-monitor-grace-period", f"{GRACE}s"],
        control_loops=True,
    )
    srv.node_name_header = False  # as in production: the token only bootstraps
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def current(path: Path) -> x509.Certificate | None:
    """The certificate the agent keeps in `path` (replaced atomically), None before there is one."""
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def whoami(http: httpx.Client) -> int | str:
    """The user a SelfSubjectReview names, or the status code when there is none."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    r = http.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json=body)
    return str(r.json()["status"]["userInfo"]["username"]) if r.status_code == 201 else r.status_code


def microtime(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def ready(node: dict[str, Any]) -> str:
    conds = (node.get("status") or {}).get("conditions") or []
    return next((str(c["status"]) for c in conds if c["type"] == "Ready"), "")


def client_requests(admin: httpx.Client) -> list[dict[str, Any]]:
    items = admin.get("/apis/certificates.k8s.io/v1/certificatesigningrequests").json()["items"]
    return [c for c in items if c["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"]


def test_the_client_certificate_is_renewed_before_it_expires_and_the_node_stays_ready(
    server: Server, tmp_path: Path
) -> None:
    pem = tmp_path / f"agent-{NODE}" / NODE / "pki" / "kubelet-client-current.pem"
    with hollow_agent(tmp_path, [server], NODE) as agent, server.client() as admin:
        first = wait_for(lambda: current(pem), 30, "the bootstrapped client certificate")
        assert first.not_valid_after_utc - first.not_valid_before_utc == dt.timedelta(seconds=TTL)
        first_end = first.not_valid_after_utc

        # a client of our own with the first certificate, on one kept-alive connection
        (tmp_path / "first.pem").write_bytes(pem.read_bytes())
        ctx = ssl.create_default_context(cafile=str(server.ca_file))
        ctx.load_cert_chain(str(tmp_path / "first.pem"))
        with httpx.Client(base_url=server.url, verify=ctx, timeout=10) as old:
            assert whoami(old) == f"system:node:{NODE}"
            wait_for(lambda: ready(admin.get(f"/api/v1/nodes/{NODE}").json()) == "True", 20, "the node Ready")

            # renewed at 70-90 % of the lifetime, before the end
            second = wait_for(
                lambda: (c := current(pem)) is not None and c.serial_number != first.serial_number and c,
                TTL,
                "a renewed client certificate",
            )
            assert dt.datetime.now(dt.UTC) < first_end
            assert second.not_valid_after_utc > first_end
            lifetime = first_end - first.not_valid_before_utc
            issued_at = second.not_valid_before_utc  # no backdate: the moment it was signed
            slack = dt.timedelta(seconds=2)  # notBefore is whole seconds; the request takes a moment
            assert first.not_valid_before_utc + lifetime * 0.7 - slack <= issued_at
            assert issued_at <= first.not_valid_before_utc + lifetime * 0.9 + slack
            assert second.subject == first.subject and second.public_key() != first.public_key()

            # a second request, made by the node with its certificate, approved as a self renewal
            requests = client_requests(admin)
            bootstrap = [c for c in requests if c["metadata"]["name"].startswith("node-csr-")]
            renewals = [c for c in requests if c["spec"]["username"] == f"system:node:{NODE}"]
            assert len(bootstrap) == 1 and bootstrap[0]["spec"]["username"].startswith("system:bootstrap:")
            issued = {
                x509.load_pem_x509_certificate(base64.b64decode(c["status"]["certificate"])).serial_number: c
                for c in renewals
                if c["status"].get("certificate")
            }
            renewal = issued[second.serial_number]
            assert renewal["metadata"]["name"].startswith("csr-")
            (approved,) = [c for c in renewal["status"]["conditions"] if c["type"] == "Approved"]
            assert (
                approved["message"]
                == "Auto approving self kubelet client certificate after SubjectAccessReview."
            )

            # the old certificate is refused once it has expired, on the same connection
            answers: list[tuple[float, int | str]] = []  # (when, what the old certificate got)

            def old_refused() -> float | None:
                answers.append((time.time(), whoami(old)))
                return answers[-1][0] if answers[-1][1] == 401 else None

            refused = wait_for(old_refused, TTL, "the old certificate refused")
            assert refused > first_end.timestamp(), answers

        # the node's own requests go on past the first certificate's end: its Lease keeps renewing
        lease = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{NODE}"
        wait_for(
            lambda: (
                microtime(admin.get(lease).json()["spec"]["renewTime"]) > first_end + dt.timedelta(seconds=2)
            ),
            10,
            "the Lease renewed after the first certificate expired",
        )
        # long enough past the end for a silent node to have turned NotReady: it is still Ready
        wait_for(lambda: time.time() > first_end.timestamp() + GRACE + 1, GRACE + 5, "the grace period")
        assert ready(admin.get(f"/api/v1/nodes/{NODE}").json()) == "True"
        assert microtime(admin.get(lease).json()["spec"]["renewTime"]) > first_end + dt.timedelta(
            seconds=GRACE
        )
        assert agent.poll() is None
    log = (tmp_path / f"agent-{NODE}.log").read_text()
    assert "client certificate: renewed" in log
    assert "Unauthorized" not in log and "401" not in log, log[-3000:]
