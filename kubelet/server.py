"""The kubelet's HTTPS server: container logs, exec and port-forward, for the API server only.

Paths as the real kubelet's: `GET /containerLogs/{ns}/{pod}/{container}` (text/plain, streamed
with `follow`; `tailLines`, `timestamps`, `previous`, `sinceSeconds`/`sinceTime`, `limitBytes`,
`stream`), `GET /exec/{ns}/{pod}/{container}?command=...` (a WebSocket, see `kubelet.exec`, or
kubectl's SPDY tunnelled in one, `kubelet.spdyexec`), `GET /portForward/{ns}/{pod}[/{uid}]` (a
WebSocket, see `kubelet.portforward`: into the pod sandbox's network namespace), plus `/healthz`. Containers are found through the runtime by
the labels `sync_pod` puts on them (pod name and namespace, container name, restart count):
the newest instance serves logs and exec, the one before it serves `previous`; port-forward
goes to the newest ready sandbox of the pod.

Read-only endpoints: `/healthz`, `/metrics` (the kubelet's own), `/metrics/resource` (kube's
resource metrics, what metrics-server scrapes: `kubelet.resourcemetrics`), `/stats/summary` (the
Summary API) and `/pods` (the pods bound to this node, a v1 PodList).

Authentication the Kubernetes way: the API server's client certificate (CN
`kube-apiserver-kubelet-client`) is served as it is; any other caller, by a client certificate of
the cluster CA or a bearer token, is authenticated and authorized by the API server as kube's
webhook modes do (`kubelet.serverauth`): no credential 401, not allowed 403. The TLS listener that
puts the client certificate's CN and O into each scope's state is `kubelet.serving`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

from api import procmetrics
from api.asgi import deny_websocket, respond, until_disconnect
from kubelet import exec as kexec
from kubelet import logs, spdyexec
from kubelet import portforward as pf
from kubelet import serverauth as sa
from kubelet.containerconfig import POD_NAME, POD_NAMESPACE, POD_UID
from kubelet.instances import newest_by_name
from runtime.containers import logs as cri
from runtime.interface import ContainerInfo, Runtime

log = logging.getLogger(__name__)

API_SERVER_CN = "kube-apiserver-kubelet-client"
PEER_CN = "kubelite.peer_cn"
PEER_GROUPS = "kubelite.peer_groups"
UPGRADE_REQUIRED = "Upgrade request required"  # a plain-HTTP exec that would otherwise have worked
TEXT = b"text/plain; charset=utf-8"
METRICS_TEXT = b"text/plain; version=0.0.4; charset=utf-8"


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
    """ASGI: authenticate and authorize (`kubelet.serverauth`), route, serve."""

    def __init__(
        self,
        runtime: Runtime,
        allowed_cn: str = API_SERVER_CN,
        stats: Any = None,
        auth: sa.WebhookAuth | None = None,
        pods: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.runtime = runtime
        self.allowed_cn = allowed_cn  # the API server's certificate: served without a review
        self.stats = stats  # kubelet.stats.StatsCollector: /stats/summary, /metrics/resource (None: 404)
        self.auth = auth  # reviews other callers with the API server (None: they are refused)
        self.pods = pods  # the pods bound to this node: /pods (None: 404)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            return
        try:
            await self._admit(scope)
            route = _route(scope["path"])
            if scope["type"] == "http":
                if (found := self._read_only(scope["path"])) is not None:
                    await _respond(send, 200, *found)
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

    async def _admit(self, scope: dict[str, Any]) -> None:
        state = scope.get("state") or {}
        cn = state.get(PEER_CN, "")
        cert = sa.from_certificate(cn, tuple(state.get(PEER_GROUPS) or ())) if cn else None
        token = None if cert is not None else sa.bearer_token(scope.get("headers") or [])
        method = scope.get("method", "GET")  # a WebSocket is a GET upgrade
        refused = await sa.admit(method, scope["path"], cert, token, self.allowed_cn, self.auth)
        if refused is not None:
            raise HttpError(*refused)

    def _read_only(self, path: str) -> tuple[bytes, bytes] | None:
        """(body, content type) of the read-only endpoints, None for any other path."""
        if path == "/healthz":
            return b"ok", TEXT
        if path == "/metrics":
            return procmetrics.exposition(), METRICS_TEXT
        if path == "/metrics/resource" and self.stats is not None:
            from kubelet.resourcemetrics import render

            return render(self.stats.snapshot()), METRICS_TEXT
        if path == "/stats/summary" and self.stats is not None:
            return json.dumps(self.stats.summary()).encode(), b"application/json"
        if path == "/pods" and self.pods is not None:
            pod_list = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": self.pods()}
            return json.dumps(pod_list).encode(), b"application/json"
        return None

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


__all__ = ["API_SERVER_CN", "PEER_CN", "PEER_GROUPS", "HttpError", "KubeletApp", "pick_instance"]
