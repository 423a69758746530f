"""The kubelet's HTTPS listener: its serving certificate, the client-certificate handshake, uvicorn.

`KubeletServer` serves `kubelet.server.KubeletApp` over TLS on node_ip:port until cancelled, and
samples container usage (`kubelet.stats`) beside it. Its certificate comes from a
`ServingCertificates` source:
- `kubelet.certmanager.ServingCertManager` (what `kubelite agent` uses: kube's
  `serverTLSBootstrap`): a certificate of the cluster CA through a CertificateSigningRequest,
  which the controller manager approves and signs at once when it names only the node's own
  names and addresses, so the API server verifies it (as kube-apiserver with
  `--kubelet-certificate-authority`) and metrics-server does with its ServiceAccount's ca.crt.
  The server waits for it before listening, up to the manager's `first_wait` (60 s). Should none
  come by then (no controller manager, or a request left pending for the admin), it says so in a
  WARNING and serves a self-signed certificate meanwhile, which no verifying client accepts:
  logs, exec and metrics through the API server fail with `certificate verify failed` until the
  signed one arrives and is swapped in, without a restart.
- `SelfSigned`: a certificate made once by the kubelet and kept (kube's kubelet without
  serverTLSBootstrap); `kubelite agent --no-server-tls-bootstrap`, and tests of the server alone.
- `FixedCertificate`: a pair of files made elsewhere (tests issue one from a test CA).
A new certificate (rotation) is loaded into the running `SSLContext` (`load_cert_chain` again):
new handshakes present it, connections already open keep the old one.

The server asks for, without requiring, a client certificate signed by the cluster CA: a caller
without one may still bring a bearer token, and one from another CA fails the handshake. uvicorn's
ASGI scope carries no peer certificate, so `_PeerCertProtocol` (a subclass of its httptools
protocol) puts the certificate's CN and O entries into the per-connection state that uvicorn copies
into every request's and WebSocket's scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from api.websocket import server_protocol_class
from kubelet import serverauth as sa
from kubelet.server import API_SERVER_CN, PEER_CN, PEER_GROUPS, KubeletApp
from runtime.interface import Runtime

log = logging.getLogger(__name__)


def ensure_serving_cert(tls_dir: Path, node_ip: str, node_name: str = "") -> tuple[Path, Path]:
    """A self-signed serving certificate for this kubelet, made once and kept (as the kubelet does)."""
    cert_path, key_path = tls_dir / "kubelet.crt", tls_dir / "kubelet.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    from api import x509 as certs

    tls_dir.mkdir(parents=True, exist_ok=True)
    key = certs.new_key()
    subject = certs.name(f"{node_name or node_ip}@{int(dt.datetime.now(dt.UTC).timestamp())}")
    ips = ["127.0.0.1"]
    with contextlib.suppress(ValueError):
        ips.append(str(ipaddress.ip_address(node_ip)))
    cert = certs.sign(
        certs.builder(subject, subject, key, 365)
        .add_extension(
            certs.alt_names(["localhost", *([node_name] if node_name else [])], ips), critical=False
        )
        .add_extension(certs.x509.ExtendedKeyUsage([certs.SERVER_AUTH]), critical=False),
        key,
    )
    certs.write_private(key_path, certs.key_pem(key))
    cert_path.write_bytes(certs.cert_pem(cert))
    return cert_path, key_path


class ServingCertificates(Protocol):
    """Where the kubelet server's certificate comes from (see the module docstring)."""

    async def first(self) -> tuple[Path, Path] | None:
        """(certificate, key) files to serve at start; None: none yet (serve self-signed meanwhile)."""
        ...

    async def run(self, reload: Callable[[Path, Path], None]) -> None:
        """Until cancelled: hand every newer (certificate, key) to `reload`."""
        ...


class FixedCertificate:
    """A certificate and key made elsewhere, served as they are."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.cert, self.key = cert, key

    async def first(self) -> tuple[Path, Path] | None:
        return self.cert, self.key

    async def run(self, reload: Callable[[Path, Path], None]) -> None:
        await asyncio.Event().wait()  # never a new one


class SelfSigned(FixedCertificate):
    """The kubelet's own self-signed certificate (`ensure_serving_cert`), made on first use."""

    def __init__(self, tls_dir: Path, node_ip: str, node_name: str = "") -> None:
        super().__init__(tls_dir / "kubelet.crt", tls_dir / "kubelet.key")
        self.tls_dir, self.node_ip, self.node_name = tls_dir, node_ip, node_name

    async def first(self) -> tuple[Path, Path] | None:
        return ensure_serving_cert(self.tls_dir, self.node_ip, self.node_name)


def _peer_cert_protocol() -> type:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class _PeerCertProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            cn, groups = sa.peer_identity(transport.get_extra_info("peercert"))
            self.app_state = {**self.app_state, PEER_CN: cn, PEER_GROUPS: groups}

    return _PeerCertProtocol


# --- the server ------------------------------------------------------------------------
def _quiet_server_class() -> type:
    import uvicorn

    class _QuietServer(uvicorn.Server):
        """uvicorn that leaves the process's signals alone: the agent owns SIGTERM and SIGINT."""

        @contextlib.contextmanager
        def capture_signals(self) -> Any:
            yield

    return _QuietServer


class KubeletServer:
    """Serves `KubeletApp` over TLS on node_ip:port until cancelled."""

    def __init__(
        self,
        runtime: Runtime,
        client_config: Any,
        node_ip: str,
        port: int,
        data_dir: Path,
        allowed_cn: str = API_SERVER_CN,
        node_name: str = "",
        stats_interval: float = 15.0,
        api_client: Any = None,
        pods: Callable[[], list[dict[str, Any]]] | None = None,
        certificates: ServingCertificates | None = None,
    ) -> None:
        """`api_client`: the kubelet's client of the API server, for the token and access reviews
        of callers other than the API server (None: only the API server is served).
        `certificates`: where the serving certificate comes from (default: `SelfSigned`)."""
        self.runtime = runtime
        self.ca_data: bytes = client_config.ca_data
        self.node_ip = node_ip
        self.port = port
        self.tls_dir = Path(data_dir) / "kubelet-tls"
        self.node_name = node_name
        self.certificates: ServingCertificates = certificates or SelfSigned(self.tls_dir, node_ip, node_name)
        self._ctx: ssl.SSLContext | None = None
        from kubelet.stats import StatsCollector

        self.stats = StatsCollector(runtime, node_name, stats_interval)
        auth = sa.WebhookAuth(api_client, node_name) if api_client is not None else None
        self.app = KubeletApp(runtime, allowed_cn, self.stats, auth, pods)
        self.started = asyncio.Event()

    def ssl_context(self, cert: Path, key: Path) -> ssl.SSLContext:
        """Serve `cert`; ask for (not require: no certificate gets a 401) a client certificate
        signed by the cluster CA."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        ctx.load_verify_locations(cadata=self.ca_data.decode())
        ctx.verify_mode = ssl.CERT_OPTIONAL
        # no TLS 1.3 session tickets: with them, under load, asyncio's TLS transport here sometimes
        # held back the request that followed the handshake (measured: 1 connection in ~1000 hung)
        ctx.num_tickets = 0
        return ctx

    def reload(self, cert: Path, key: Path) -> None:
        """Serve a new certificate from the next handshake on (the running context, reloaded)."""
        if self._ctx is None:
            return
        self._ctx.load_cert_chain(str(cert), str(key))
        log.info("kubelet server: serving the certificate in %s from now on", cert)

    async def _first_certificate(self) -> tuple[Path, Path]:
        got = await self.certificates.first()
        if got is not None:
            return got
        log.warning(
            "kubelet server: no serving certificate from the cluster CA yet (its request is pending "
            "approval or signing): serving a self-signed certificate until it is issued; the API "
            "server and metrics-server will not trust this kubelet meanwhile"
        )
        return ensure_serving_cert(self.tls_dir, self.node_ip, self.node_name)

    async def _keep_certificate(self) -> None:
        """The certificate source's renewals, for as long as the server runs; a failure is logged
        (the server keeps serving what it has) rather than lost in a task nobody awaits."""
        try:
            await self.certificates.run(self.reload)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("kubelet server: renewing the serving certificate stopped")

    def _uvicorn_config(self, ctx: ssl.SSLContext) -> Any:
        import uvicorn

        return uvicorn.Config(
            self.app,
            host=self.node_ip,
            port=self.port,
            ssl_context_factory=lambda c, d: ctx,
            http=_peer_cert_protocol(),
            ws=server_protocol_class(),
            loop="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )

    async def run(self) -> None:
        self._ctx = self.ssl_context(*await self._first_certificate())
        server = _quiet_server_class()(self._uvicorn_config(self._ctx))
        serving = asyncio.ensure_future(server.serve())
        sampling = asyncio.create_task(self.stats.run(), name="kubelet-stats")
        rotating = asyncio.create_task(self._keep_certificate(), name="kubelet-certificates")
        try:
            while not server.started and not serving.done():
                await asyncio.sleep(0.02)
            if server.started:
                self.started.set()
                log.info("kubelet server listening on https://%s:%d", self.node_ip, self.port)
            await serving
            if not server.started:
                raise RuntimeError(f"kubelet server: could not listen on {self.node_ip}:{self.port}")
        finally:
            sampling.cancel()
            rotating.cancel()
            if not serving.done():
                server.should_exit = True
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(asyncio.shield(serving), 5)
                serving.cancel()


__all__ = ["FixedCertificate", "KubeletServer", "SelfSigned", "ServingCertificates", "ensure_serving_cert"]
