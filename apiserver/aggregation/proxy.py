"""The relay to extension API servers: kube-aggregator's proxyHandler.

A request for a service-backed group/version, once authenticated and authorized here, goes to a
ready endpoint of the APIService's Service (`apiserver.serviceendpoints`) over HTTPS:
- the server's certificate verified with the APIService's caBundle (the system roots without
  one) for the name `<service>.<namespace>.svc`, or not at all with insecureSkipTLSVerify;
- this server's front-proxy client certificate presented (`frontproxy`);
- the caller's identity in `X-Remote-User`, `X-Remote-Group` and `X-Remote-Extra-*`, any such
  headers of the client's dropped, and neither its `Authorization` nor `Impersonate-*` sent;
- the path and query as asked, `Host` as the client sent it, `X-Forwarded-For` added; the answer
  streamed back as it comes (watches too), without hop-by-hop or CORS headers. WebSocket
  upgrades are relayed frame by frame; other upgrades refused (400).

Failures are kube's plain-text answers, which kubectl shows as `the server is currently unable to
handle the request`: 503 `service unavailable` while the APIService is not Available or the
Service has no ready endpoint, 503 with the dial error when the endpoint cannot be reached (and
the availability controller is asked to check again at once).

`probe` is the availability check's `GET /apis/<group>/<version>`, as `system:kube-aggregator` in
`system:masters`, with the same TLS. httpx, ssl and websockets are imported on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.asgi import deny_websocket, respond
from apiserver import proxylocation as loc
from apiserver import proxyrewrite, serviceendpoints, wsrelay
from apiserver.aggregation.apiservices import APIServiceInfo
from apiserver.aggregation.requestinfo import identity_headers, without_identity
from apiserver.httprelay import Exchange, header_value, relay_exchange, stream_answer

if TYPE_CHECKING:
    import ssl

log = logging.getLogger(__name__)
PROBE_TIMEOUT = 5.0
_TEXT = b"text/plain; charset=utf-8"
_NOSNIFF = [(b"x-content-type-options", b"nosniff")]
PROBE_USER = "system:kube-aggregator"
PROBE_GROUPS = ("system:masters",)


class Refusal(Exception):
    """What kube's proxyError writes: a status and a line of text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def unavailable() -> Refusal:
    return Refusal(503, "service unavailable")


class Relay:
    def __init__(
        self, store: Any, client_cert: tuple[Path, Path] | None, unreachable: Callable[[str], None]
    ) -> None:
        self.store = store
        self.client_cert = client_cert
        self.unreachable = unreachable
        self._contexts: dict[tuple[bytes, bool], ssl.SSLContext] = {}
        self._clients: dict[tuple[bytes, bool], Any] = {}

    def context(self, info: APIServiceInfo) -> ssl.SSLContext:
        """The TLS client context of an APIService (its caBundle or insecure, our client certificate)."""
        key = (info.ca_bundle, info.insecure)
        ctx = self._contexts.get(key)
        if ctx is None:
            import ssl

            if info.insecure:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            else:
                try:
                    ctx = ssl.create_default_context(
                        cadata=info.ca_bundle.decode() if info.ca_bundle else None
                    )
                except (ssl.SSLError, ValueError, UnicodeDecodeError) as e:
                    raise Refusal(500, f"caBundle holds no usable certificate: {e}") from None
            if self.client_cert is not None:
                ctx.load_cert_chain(str(self.client_cert[0]), str(self.client_cert[1]))
            self._contexts[key] = ctx
        return ctx

    def _client(self, info: APIServiceInfo) -> Any:
        key = (info.ca_bundle, info.insecure)
        client = self._clients.get(key)
        if client is None:
            import httpx

            client = self._clients[key] = httpx.AsyncClient(
                verify=self.context(info),
                timeout=httpx.Timeout(wsrelay.DIAL_TIMEOUT, read=None, write=None, pool=None),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
                trust_env=False,  # cluster addresses: never through a proxy of the environment
            )
        return client

    async def locate(self, info: APIServiceInfo) -> loc.Upstream:
        assert info.service is not None
        ref = info.service
        try:
            host, port = await serviceendpoints.resolve(self.store, ref.namespace, ref.name, ref.port)
        except serviceendpoints.NoEndpoint as e:
            log.info("APIService %s: %s", info.name, e)
            raise unavailable() from None
        return loc.Upstream("https", host, port)

    def _sent(self, scope: dict[str, Any], user: Any, websocket: bool = False) -> list[tuple[bytes, bytes]]:
        client_ip = (scope.get("client") or (None,))[0]
        headers = proxyrewrite.request_headers(list(scope["headers"]), client_ip, scope["path"], websocket)
        return without_identity(headers) + identity_headers(user.name, user.groups, user.extra)

    # --- HTTP ---
    async def serve(
        self, scope: dict[str, Any], receive: Any, send: Any, info: APIServiceInfo, user: Any
    ) -> None:
        try:
            await self._serve(scope, receive, send, info, user)
        except Refusal as e:
            await respond(send, e.status, e.message.encode() + b"\n", _TEXT, _NOSNIFF)

    async def _serve(
        self, scope: dict[str, Any], receive: Any, send: Any, info: APIServiceInfo, user: Any
    ) -> None:
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        upgrade = header_value(headers, b"upgrade")
        if upgrade and "upgrade" in header_value(headers, b"connection").lower():
            raise Refusal(400, f"cannot proxy an upgrade to {upgrade}: only WebSocket upgrades are relayed")
        if not info.available:
            raise unavailable()
        upstream = await self.locate(info)
        query = (scope.get("query_string") or b"").decode("latin-1")

        def failed(e: BaseException, timed_out: bool) -> Exception:
            self.unreachable(info.name)
            return Refusal(503, loc.dial_error(e, upstream.authority, timed_out))

        await relay_exchange(
            self._client(info),
            Exchange(
                scope["method"],
                upstream.url(scope["path"], query),
                self._sent(scope, user),
                headers,
                {"sni_hostname": info.server_name},
            ),
            receive,
            lambda answer: stream_answer(answer, send),
            failed,
        )

    # --- WebSocket ---
    async def websocket(
        self, scope: dict[str, Any], receive: Any, send: Any, info: APIServiceInfo, user: Any
    ) -> None:
        try:
            if not info.available:
                raise unavailable()
            upstream = await self.locate(info)
            url = upstream.url(
                scope["path"], (scope.get("query_string") or b"").decode("latin-1"), websocket=True
            )
            sent = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in self._sent(scope, user, websocket=True)
            ]
            offered = list(scope.get("subprotocols") or [])
            try:
                connection = await wsrelay.open_upstream(
                    url, self.context(info), offered, sent, info.server_name
                )
            except wsrelay.Unreachable as e:
                self.unreachable(info.name)
                raise Refusal(503, loc.dial_error(e, upstream.authority)) from None
        except wsrelay.Refused as e:
            await deny_websocket(send, e.status, e.body, e.content_type, scope=scope)
            return
        except Refusal as e:
            await deny_websocket(send, e.status, e.message.encode() + b"\n", _TEXT, scope=scope)
            return
        await wsrelay.relay(connection, receive, send)

    # --- the availability check ---
    async def probe(self, info: APIServiceInfo, host: str, port: int, path: str) -> tuple[int, bytes]:
        """(status, body) of the extension server's answer to GET `path`; httpx's errors raised."""
        import asyncio

        headers = [(b"accept", b"application/json"), *identity_headers(PROBE_USER, PROBE_GROUPS)]
        url = loc.Upstream("https", host, port).url(path)
        async with asyncio.timeout(PROBE_TIMEOUT):
            answer = await self._client(info).get(
                url, headers=headers, extensions={"sni_hostname": info.server_name}, follow_redirects=False
            )
        return answer.status_code, answer.content

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
