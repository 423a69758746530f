"""The kubelet's HTTPS server: container logs, exec and port-forward, for the API server only.

Paths as the real kubelet's: `GET /containerLogs/{ns}/{pod}/{container}` (text/plain, streamed
with `follow`; `tailLines`, `timestamps`, `previous`, `sinceSeconds`/`sinceTime`, `limitBytes`,
`stream`), `GET /exec/{ns}/{pod}/{container}?command=...` (a WebSocket, see `kubelet.exec`, or
kubectl's SPDY tunnelled in one, `kubelet.spdyexec`), `GET /portForward/{ns}/{pod}[/{uid}]` (a
WebSocket, see `kubelet.portforward`: into the pod sandbox's network namespace), plus `/healthz`. Containers are found through the runtime by
the labels `sync_pod` puts on them (pod name and namespace, container name, restart count):
the newest instance serves logs and exec, the one before it serves `previous`; port-forward
goes to the newest ready sandbox of the pod.

Authentication the Kubernetes way: the server presents its own self-signed certificate (the
API server does not verify it, as kube-apiserver without `--kubelet-certificate-authority`),
and asks for a client certificate signed by the cluster CA the agent got when joining; only
the CN `kube-apiserver-kubelet-client` is served (no certificate: 401, another CN: 403; a
certificate from another CA fails the handshake). uvicorn's ASGI scope carries no peer
certificate, so `_PeerCertProtocol` (a subclass of its httptools protocol) puts the CN into
the per-connection state that uvicorn copies into every request's and WebSocket's scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import logging
import os
import ssl
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from api import procmetrics
from api.asgi import deny_websocket, respond, until_disconnect
from api.websocket import server_protocol_class
from kubelet import exec as kexec
from kubelet import logs, spdyexec
from kubelet import portforward as pf
from kubelet.sync import POD_NAME, POD_NAMESPACE, POD_UID, newest_by_name
from runtime.containers import logs as cri
from runtime.interface import ContainerInfo, Runtime

log = logging.getLogger(__name__)

API_SERVER_CN = "kube-apiserver-kubelet-client"
PEER_CN = "kubelite.peer_cn"
UPGRADE_REQUIRED = "Upgrade request required"  # a plain-HTTP exec that would otherwise have worked
TEXT = b"text/plain; charset=utf-8"


class HttpError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- finding the container -----------------------------------------------------------------
def pick_instance(containers: list[ContainerInfo], pod: str, container: str, previous: bool) -> ContainerInfo:
    """The instance of `container` that serves a request (pure): the newest, or the one before it."""
    if not containers:
        raise HttpError(404, f'pod "{pod}" not found')
    # a pod deleted and made again under the same name: the newest pod UID wins
    by_uid: dict[str, list[ContainerInfo]] = {}
    for c in containers:
        by_uid.setdefault(c.labels.get(POD_UID, ""), []).append(c)
    newest_uid = max(by_uid, key=lambda u: max(c.created_at for c in by_uid[u]))
    instances = newest_by_name(by_uid[newest_uid]).get(container)
    if not instances:
        raise HttpError(400, f'container "{container}" in pod "{pod}" is not available')
    if previous:
        if len(instances) < 2:
            raise HttpError(400, f'previous terminated container "{container}" in pod "{pod}" not found')
        return instances[-2]
    return instances[-1]


# --- TLS -------------------------------------------------------------------------------
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


def peer_common_name(peercert: dict[str, Any] | None) -> str:
    for rdn in (peercert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return ""


def _peer_cert_protocol() -> type:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class _PeerCertProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.app_state = {
                **self.app_state,
                PEER_CN: peer_common_name(transport.get_extra_info("peercert")),
            }

    return _PeerCertProtocol


# --- the ASGI app ----------------------------------------------------------------------
def _route(path: str) -> tuple[str, str, str, str] | None:
    """(kind, namespace, pod, container or, for portForward, the pod UID or "")."""
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[0] in ("containerLogs", "exec", "attach", "portForward"):
        return parts[0], unquote(parts[1]), unquote(parts[2]), unquote(parts[3])
    if len(parts) == 3 and parts[0] == "portForward":
        return parts[0], unquote(parts[1]), unquote(parts[2]), ""
    return None


class KubeletApp:
    """ASGI: authenticate by the client certificate's CN, route, serve logs and exec."""

    def __init__(self, runtime: Runtime, allowed_cn: str = API_SERVER_CN, stats: Any = None) -> None:
        self.runtime = runtime
        self.allowed_cn = allowed_cn
        self.stats = stats  # kubelet.stats.StatsCollector: /stats/summary (None: 404)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            return
        try:
            self._authenticate(scope)
            route = _route(scope["path"])
            if scope["type"] == "http":
                if scope["path"] == "/healthz":
                    await _respond(send, 200, b"ok")
                elif scope["path"] == "/metrics":
                    await _respond(
                        send, 200, procmetrics.exposition(), b"text/plain; version=0.0.4; charset=utf-8"
                    )
                elif scope["path"] == "/stats/summary" and self.stats is not None:
                    await _respond(send, 200, json.dumps(self.stats.summary()).encode(), b"application/json")
                elif route is not None and route[0] == "containerLogs" and scope["method"] == "GET":
                    await self._logs(scope, receive, send, *route[1:])
                elif route is not None and route[0] in ("exec", "attach"):
                    # checked as an upgrade would be, so a proxy can learn why one would fail
                    await self._exec_target(scope, route[0], *route[1:])
                    raise HttpError(400, UPGRADE_REQUIRED)
                elif route is not None and route[0] == "portForward":
                    await self._netns(*route[1:])
                    raise HttpError(400, UPGRADE_REQUIRED)
                else:
                    raise HttpError(404, "404 page not found")
            elif route is not None and route[0] in ("exec", "attach"):
                await self._exec(scope, receive, send, route[0], *route[1:])
            elif route is not None and route[0] == "portForward":
                await self._port_forward(scope, receive, send, *route[1:])
            else:
                raise HttpError(404, "404 page not found")
        except HttpError as e:
            if scope["type"] == "http":
                await _respond(send, e.code, e.message.encode())
            else:
                await _deny(send, e.code, e.message)

    def _authenticate(self, scope: dict[str, Any]) -> None:
        cn = (scope.get("state") or {}).get(PEER_CN, "")
        if not cn:
            raise HttpError(401, "Unauthorized")
        if cn != self.allowed_cn:
            raise HttpError(403, f"Forbidden (user={cn}, verb=get, resource=nodes, subresource=proxy)")

    async def _instance(self, ns: str, pod: str, container: str, previous: bool) -> ContainerInfo:
        found = await self.runtime.list_containers({POD_NAME: pod, POD_NAMESPACE: ns})
        return pick_instance(found, pod, container, previous)

    async def _running(self, container_id: str) -> bool:
        try:
            return (await self.runtime.container_status(container_id)).state in ("created", "running")
        except Exception:
            return False

    async def _logs(
        self, scope: dict[str, Any], receive: Any, send: Any, ns: str, pod: str, container: str
    ) -> None:
        query = dict(parse_qsl((scope.get("query_string") or b"").decode("latin-1")))
        try:
            opts = logs.parse_options(query, time.time_ns())
        except logs.LogOptionError as e:
            raise HttpError(400, str(e)) from None
        inst = await self._instance(ns, pod, container, opts.previous)
        path = inst.log_path or (await self.runtime.container_status(inst.id)).log_path
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", TEXT)]})
        body = _Body(send, opts.limit_bytes)
        if path and os.path.exists(path):
            await until_disconnect(receive, self._log_body(body, path, inst.id, opts))
        await body.end()

    async def _log_body(self, body: _Body, path: str, container_id: str, opts: logs.LogOptions) -> None:
        """What is written (the tail of it, or all of it in blocks), then, with follow, what comes."""
        joiner = cri.LineJoiner()
        if opts.tail_lines is not None:
            data, offset = await asyncio.to_thread(cri.read_tail, path, opts.tail_lines)
            cut = data.rfind(b"\n") + 1  # an unfinished last line is read again later
            offset -= len(data) - cut
            lines = logs.tail_lines(cri.logical_lines(data[:cut].split(b"\n"), joiner), opts)
            if not await body.write(b"".join(logs.render(ln, opts.timestamps) for ln in lines)):
                return
        else:
            offset = 0
            while True:
                data, offset = await asyncio.to_thread(cri.read_lines_block, path, offset)
                if not data:
                    break
                lines = [ln for ln in cri.logical_lines(data.split(b"\n"), joiner) if logs.selected(ln, opts)]
                if not await body.write(b"".join(logs.render(ln, opts.timestamps) for ln in lines)):
                    return
        if not opts.follow or opts.previous:
            rest, _ = await asyncio.to_thread(cri.read_from, path, offset)  # an unfinished last line
            pending = [*cri.logical_lines([rest] if rest else [], joiner), *joiner.flush()]
            await body.write(
                b"".join(logs.render(ln, opts.timestamps) for ln in pending if logs.selected(ln, opts))
            )
            return
        async for line in cri.follow_lines(path, offset, lambda: self._running(container_id), joiner):
            if logs.selected(line, opts) and not await body.write(logs.render(line, opts.timestamps)):
                return

    async def _exec_target(
        self, scope: dict[str, Any], kind: str, ns: str, pod: str, container: str
    ) -> tuple[kexec.ExecOptions, ContainerInfo]:
        """An exec's options and container, or an attach's (`kind`): the container must run."""
        pairs = parse_qsl((scope.get("query_string") or b"").decode("latin-1"))
        try:
            opts = kexec.parse_attach_query(pairs) if kind == "attach" else kexec.parse_exec_query(pairs)
        except kexec.ExecOptionError as e:
            raise HttpError(400, str(e)) from None
        inst = await self._instance(ns, pod, container, False)
        if inst.state != "running":
            raise HttpError(400, f'container "{container}" in pod "{pod}" is not running')
        return opts, inst

    async def _exec(
        self, scope: dict[str, Any], receive: Any, send: Any, kind: str, ns: str, pod: str, container: str
    ) -> None:
        """An exec (a new process) or an attach (the container's own), over WebSocket or SPDY:
        the same streams and status, only what is started differs."""
        opts, inst = await self._exec_target(scope, kind, ns, pod, container)

        async def start() -> Any:
            if kind == "attach":
                return await self.runtime.attach(inst.id)
            return await self.runtime.exec(inst.id, opts.command, tty=opts.tty, stdin=opts.stdin)

        offered = list(scope.get("subprotocols") or [])
        protocol = kexec.choose_protocol(offered)
        if protocol is None and spdyexec.SPDY_V4 in offered:
            await self._exec_over_spdy(receive, send, opts, start, kind)
            return
        if protocol is None:
            offer = ", ".join((*kexec.PROTOCOLS, spdyexec.SPDY_V4))
            raise HttpError(400, f"no supported subprotocol: offer one of {offer}")
        msg = await receive()
        if msg["type"] != "websocket.connect":
            return
        try:
            session = await start()
        except Exception as e:
            await send({"type": "websocket.accept", "subprotocol": protocol})
            await send({"type": "websocket.send", "bytes": kexec.status_frame(kexec.error_status(str(e)))})
            await send({"type": "websocket.close", "code": 1000})
            return
        await send({"type": "websocket.accept", "subprotocol": protocol})
        await kexec.serve_exec(receive, send, session, opts)

    async def _exec_over_spdy(
        self, receive: Any, send: Any, opts: kexec.ExecOptions, start: Any, kind: str
    ) -> None:
        """kubectl's SPDY exec or attach, tunnelled by the API server: it starts once its streams are open."""
        from kubelet.spdysession import serve_spdy

        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept", "subprotocol": spdyexec.SPDY_V4})
        await serve_spdy(
            receive,
            send,
            lambda write, room: spdyexec.SpdyExecSession(write, opts, start, room),
            f"{kind} {opts.command}",
        )

    async def _netns(self, ns: str, pod: str, uid: str) -> tuple[str, str]:
        """(netns path, pod UID) of the pod's ready sandbox; "" as the path for host network."""
        found = [
            s
            for s in await self.runtime.list_sandboxes()
            if s.config.namespace == ns
            and s.config.name == pod
            and (not uid or s.config.uid == uid)
            and s.state == "ready"
        ]
        if not found:
            raise HttpError(404, f'pod "{pod}" not found')
        sandbox = max(found, key=lambda s: s.created_at)
        if not sandbox.netns_path and not sandbox.config.host_network:
            raise HttpError(500, f'pod "{pod}" has no network namespace')
        return sandbox.netns_path, sandbox.config.uid

    async def _port_forward(
        self, scope: dict[str, Any], receive: Any, send: Any, ns: str, pod: str, uid: str
    ) -> None:
        protocol = pf.choose_protocol(list(scope.get("subprotocols") or []))
        if protocol is None:
            raise HttpError(400, f"no supported subprotocol: offer one of {', '.join(pf.PROTOCOLS)}")
        try:
            ports = pf.parse_ports(parse_qsl((scope.get("query_string") or b"").decode("latin-1")))
        except pf.PortForwardError as e:
            raise HttpError(400, str(e)) from None
        if protocol == pf.V4 and not ports:
            raise HttpError(400, 'query parameter "port" is required')
        netns, pod_uid = await self._netns(ns, pod, uid)
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept", "subprotocol": protocol})

        async def dial(port: int) -> Any:
            return await pf.dial_pod(netns, port)

        if protocol == pf.V4:
            await pf.serve_channels(receive, send, ports, dial, pod, pod_uid)
        else:
            from kubelet.spdysession import serve_spdy_tunnel

            await serve_spdy_tunnel(receive, send, dial, pod, pod_uid)


class _Body:
    """A streamed text/plain body that stops at limitBytes: write() says whether more is wanted."""

    def __init__(self, send: Any, limit: int | None) -> None:
        self.send = send
        self.budget = limit

    async def write(self, data: bytes) -> bool:
        if self.budget is not None:
            data = data[: self.budget]
            self.budget -= len(data)
        if data:
            await self.send({"type": "http.response.body", "body": data, "more_body": True})
        return self.budget is None or self.budget > 0

    async def end(self) -> None:
        await self.send({"type": "http.response.body", "body": b""})


async def _respond(send: Any, code: int, body: bytes, content_type: bytes = TEXT) -> None:
    await respond(send, code, body, content_type)


async def _deny(send: Any, code: int, message: str) -> None:
    await deny_websocket(send, code, message.encode(), TEXT)


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
    ) -> None:
        self.runtime = runtime
        self.ca_data: bytes = client_config.ca_data
        self.node_ip = node_ip
        self.port = port
        self.tls_dir = Path(data_dir) / "kubelet-tls"
        from kubelet.stats import StatsCollector

        self.stats = StatsCollector(runtime, node_name, stats_interval)
        self.app = KubeletApp(runtime, allowed_cn, self.stats)
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


__all__ = ["API_SERVER_CN", "KubeletApp", "KubeletServer", "ensure_serving_cert", "pick_instance"]
