"""The kubelet's HTTPS listener: its serving certificate, the client-certificate handshake, uvicorn.

`KubeletServer` serves `kubelet.server.KubeletApp` over TLS on node_ip:port until cancelled, and
samples container usage (`kubelet.stats`) beside it. The server presents its own self-signed
certificate, made once and kept (as the kubelet does; the API server does not verify it, as
kube-apiserver without `--kubelet-certificate-authority`), and asks for, without requiring, a
client certificate signed by the cluster CA: a caller without one may still bring a bearer token,
and one from another CA fails the handshake. uvicorn's ASGI scope carries no peer certificate, so
`_PeerCertProtocol` (a subclass of its httptools protocol) puts the certificate's CN and O entries
into the per-connection state that uvicorn copies into every request's and WebSocket's scope.
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
from typing import Any

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
    ) -> None:
        """`api_client`: the kubelet's client of the API server, for the token and access reviews
        of callers other than the API server (None: only the API server is served)."""
        self.runtime = runtime
        self.ca_data: bytes = client_config.ca_data
        self.node_ip = node_ip
        self.port = port
        self.tls_dir = Path(data_dir) / "kubelet-tls"
        from kubelet.stats import StatsCollector

        self.stats = StatsCollector(runtime, node_name, stats_interval)
        auth = sa.WebhookAuth(api_client, node_name) if api_client is not None else None
        self.app = KubeletApp(runtime, allowed_cn, self.stats, auth, pods)
        self.started = asyncio.Event()

    def ssl_context(self) -> ssl.SSLContext:
        """Serve our own certificate; ask for (not require: no certificate gets a 401) a client
        certificate signed by the cluster CA."""
        cert, key = ensure_serving_cert(self.tls_dir, self.node_ip)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        ctx.load_verify_locations(cadata=self.ca_data.decode())
        ctx.verify_mode = ssl.CERT_OPTIONAL
        # no TLS 1.3 session tickets: with them, under load, asyncio's TLS transport here sometimes
        # held back the request that followed the handshake (measured: 1 connection in ~1000 hung)
        ctx.num_tickets = 0
        return ctx

    def _uvicorn_config(self) -> Any:
        import uvicorn

        ctx = self.ssl_context()
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
        server = _quiet_server_class()(self._uvicorn_config())
        serving = asyncio.ensure_future(server.serve())
        sampling = asyncio.create_task(self.stats.run(), name="kubelet-stats")
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
            if not serving.done():
                server.should_exit = True
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(asyncio.shield(serving), 5)
                serving.cancel()


__all__ = ["KubeletServer", "ensure_serving_cert"]
