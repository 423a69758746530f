"""pods/proxy, services/proxy and nodes/proxy: kube-apiserver's HTTP proxy to a pod, to a ready
endpoint of a service, or to a node's kubelet (`kubectl proxy`, the URLs `kubectl cluster-info`
prints). The decisions are pure (`apiserver.proxylocation`: where to; `apiserver.proxyrewrite`:
what changes on the way); this is their I/O.

Every method is relayed (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS), the query string as it
came, the request body streamed upstream as it arrives, the answer's status, headers and body
streamed back chunk by chunk as they come (no size limit either way). Only a text/html answer is
read whole (up to `HTML_LIMIT`; a larger one passes unrewritten), to rewrite its links as kube
does. A WebSocket upgrade is relayed frame by frame (`apiserver.wsrelay`), an upstream that
refuses it answers for itself; other upgrades (SPDY, h2c) are refused with a 400.

Pods and service endpoints are dialled directly at their IPs (every host of a kubelite cluster
routes to every node's pod CIDR), over TLS without verification when `https` is named (kube's
proxy transport); the kubelet with the API server's kubelet client certificate, its own
certificate verified against the cluster CA and the node address (`apiserver.kubeletproxy`). An upstream that cannot be reached is a 503 `error trying to reach
service: dial tcp ...`; errors before that are kube's Status bodies (404 for a missing object).
httpx is imported on first use.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from typing import Any

from api.asgi import deny_websocket, respond
from api.errors import ApiError, bad_request, service_unavailable
from api.resources import by_plural
from apiserver import proxylocation as loc
from apiserver import proxyrewrite, wsrelay
from apiserver.corking import STREAMED
from apiserver.handlers.routing import Route
from apiserver.httprelay import Exchange, header_value, relay_body, relay_exchange

log = logging.getLogger("kubelite.apiserver.resourceproxy")

HTML_LIMIT = 16 * 1024 * 1024
_KINDS = {"pods": "pod", "services": "service", "nodes": "node"}


class ResourceProxy:
    """The `proxy` subresources of one API server: registry lookups, then the relay."""

    def __init__(self, registry: Any, kubelet_ssl: ssl.SSLContext | None) -> None:
        self.registry = registry
        self.kubelet_ssl = kubelet_ssl
        self.rng = random.Random()
        self._clients: dict[bool, Any] = {}
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE  # kube's proxy transport: IPs, no names to verify
        self.insecure_ssl = insecure

    async def _get(self, plural: str, namespace: str | None, name: str) -> dict[str, Any]:
        res = by_plural("", plural)
        assert res is not None
        obj: dict[str, Any] = (await self.registry.get(res, namespace, name)).obj
        return obj

    async def locate(self, route: Route) -> loc.Upstream:
        """kube's ResourceLocation of the object the route names (404, 400 and 503 as kube words them)."""
        plural, ns = route.resource.plural, route.namespace
        scheme, name, port = loc.split_scheme_name_port(route.name or "", _KINDS[plural])
        if plural == "pods":
            return loc.pod_upstream(await self._get("pods", ns, name), scheme, port)
        if plural == "nodes":
            upstream = loc.node_upstream(await self._get("nodes", None, name), scheme, port)
            await _check_proxyable(upstream.host)
            return upstream
        if loc.names_port_number(port):
            port = loc.service_port_name(await self._get("services", ns, name), port)
        endpoints = await self._get("endpoints", ns, name)
        for candidate in loc.endpoint_candidates(endpoints, port, self.rng):
            pod = loc.target_pod(candidate, ns or "")
            if pod is None:
                continue
            try:
                if loc.pod_has_ip(await self._get("pods", ns, pod), candidate.ip):
                    return loc.service_upstream(scheme, candidate)
            except ApiError as e:
                if e.code != 404:
                    raise
        raise loc.no_endpoints(route.name or "")

    def _ssl(self, upstream: loc.Upstream) -> ssl.SSLContext:
        if not upstream.kubelet:
            return self.insecure_ssl
        if self.kubelet_ssl is None:
            raise service_unavailable(
                "nodes/proxy is not available: no kubelet client certificate in this server"
            )
        return self.kubelet_ssl

    def _client(self, upstream: loc.Upstream) -> Any:
        client = self._clients.get(upstream.kubelet)
        if client is None:
            import httpx

            client = self._clients[upstream.kubelet] = httpx.AsyncClient(
                verify=self._ssl(upstream),
                timeout=httpx.Timeout(wsrelay.DIAL_TIMEOUT, read=None, write=None, pool=None),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
                trust_env=False,  # cluster addresses: never through a proxy of the environment
            )
        return client

    # --- HTTP ---
    async def serve(self, scope: dict[str, Any], receive: Any, send: Any, route: Route) -> None:
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        upgrade = header_value(headers, b"upgrade")
        if upgrade and "upgrade" in header_value(headers, b"connection").lower():
            raise bad_request(f"cannot proxy an upgrade to {upgrade}: only WebSocket upgrades are relayed")
        upstream = await self.locate(route)
        method, path = scope["method"], loc.upstream_path(route.path)
        query = (scope.get("query_string") or b"").decode("latin-1")
        if loc.redirects_to_slash(path, method):
            raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            location = (raw + "/" + (f"?{query}" if query else "")).encode("latin-1")
            start = [(b"location", location), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 301, "headers": start})
            await send({"type": "http.response.body", "body": b""})
            return
        path = path or "/"
        prefix, sent = _forwarded(scope, route, path)
        client = self._client(upstream)
        host = header_value(headers, b"host")
        hosts = (upstream.authority, upstream.host) if upstream.port in (80, 443) else (upstream.authority,)

        def rewrite(url: str) -> str:
            return proxyrewrite.rewrite_url(url, hosts, host, prefix)

        def failed(e: BaseException, timed_out: bool) -> Exception:
            return loc.unreachable(loc.dial_error(e, upstream.authority, timed_out))

        await relay_exchange(
            client,
            Exchange(method, upstream.url(path, query), sent, headers),
            receive,
            lambda answer: _answer(answer, send, rewrite, method == "HEAD"),
            failed,
        )

    # --- WebSocket ---
    async def websocket(self, scope: dict[str, Any], receive: Any, send: Any, route: Route) -> None:
        try:
            upstream = await self.locate(route)
            path = loc.upstream_path(route.path) or "/"
            _, sent = _forwarded(scope, route, path, websocket=True)
            url = upstream.url(path, (scope.get("query_string") or b"").decode("latin-1"), websocket=True)
            offered = list(scope.get("subprotocols") or [])
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in sent]
            try:
                connection = await wsrelay.open_upstream(url, self._ssl(upstream), offered, headers)
            except wsrelay.Unreachable as e:
                raise loc.unreachable(loc.dial_error(e, upstream.authority)) from None
        except wsrelay.Refused as e:
            await deny_websocket(send, e.status, e.body, e.content_type, scope=scope)
            return
        except ApiError as e:
            await deny_websocket(send, e.code, e.body(), scope=scope)
            return
        await wsrelay.relay(connection, receive, send)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def resource_proxy(state: Any) -> ResourceProxy:
    """The server's ResourceProxy, made on first use (with the kubelet proxy's client certificate)."""
    if state.resource_proxy is None:
        kubelet = getattr(state.pod_proxy, "ssl", None)
        state.resource_proxy = ResourceProxy(state.registry, kubelet)
    proxy: ResourceProxy = state.resource_proxy
    return proxy


async def _answer(answer: Any, send: Any, rewrite: Any, head: bool) -> None:
    """The upstream's answer relayed: a redirect's Location and an HTML page's links rewritten."""
    out = proxyrewrite.response_headers(answer.headers.raw)
    location = answer.headers.get("location")
    html = (
        _is_html(answer.headers.get("content-type", "")) and not head and answer.status_code not in (204, 304)
    )
    if location is not None:
        out = [(k, rewrite(location).encode("utf-8") if k == b"location" else v) for k, v in out]
    elif html:
        body, whole = await _read_up_to(answer, HTML_LIMIT)
        if whole:
            body = proxyrewrite.rewrite_body(body, answer.headers.get("content-encoding", ""), rewrite)
            kept = [(k, v) for k, v in out if k not in (b"content-length", b"content-type")]
            await respond(send, answer.status_code, body, answer.headers["content-type"].encode(), kept)
            return
        await send(
            {"type": "http.response.start", "status": answer.status_code, "headers": out, STREAMED: True}
        )
        await send({"type": "http.response.body", "body": body, "more_body": True})
        await relay_body(answer, send)
        return
    await send({"type": "http.response.start", "status": answer.status_code, "headers": out, STREAMED: True})
    await relay_body(answer, send)


def _forwarded(scope: dict[str, Any], route: Route, path: str, websocket: bool = False) -> tuple[str, Any]:
    """The proxy's own path (what precedes the proxied one) and the headers sent upstream."""
    prefix = scope["path"][: len(scope["path"]) - len(route.path)]
    client_ip = (scope.get("client") or (None,))[0]
    uri = proxyrewrite.join_path(prefix, path)
    return prefix, proxyrewrite.request_headers(list(scope["headers"]), client_ip, uri, websocket)


async def _read_up_to(answer: Any, limit: int) -> tuple[bytes, bool]:
    """The answer's first bytes, and whether they are all of it (at most `limit` bytes read)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in answer.aiter_raw():
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(parts), False
    return b"".join(parts), True


def _is_html(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "text/html"


async def _check_proxyable(host: str) -> None:
    """kube's isProxyableHostname: every address of the kubelet's host must be global unicast."""
    if loc.parse_ip(host) is not None:
        if not loc.is_global_unicast(host):
            raise bad_request("address not allowed")
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError as e:
        raise bad_request(f"lookup {host}: {e.strerror or e}") from None
    if not infos or not all(loc.is_global_unicast(str(i[4][0])) for i in infos):
        raise bad_request("address not allowed" if infos else "no addresses for hostname")


__all__ = ["HTML_LIMIT", "ResourceProxy", "resource_proxy"]
