"""The HTTPS POST of a review to a webhook (the admission webhooks' AdmissionReviews, the CRD
conversion webhooks' ConversionReviews), and where a `service` webhook lives.

- `url`: called as given, plus kube's `?timeout=<N>s` query (the server may stop early).
- `service`: the Service's port named by the webhook (443 by default) is resolved to a ready
  endpoint (`apiserver.serviceendpoints`, as kube-apiserver does with
  `--enable-aggregator-routing`), and the connection goes to that address with the TLS server
  name and Host `<name>.<namespace>.svc`, which the serving certificate must name. A Service
  without such an endpoint is a call error (a server without a route to pod addresses has none
  that answers, and the failure policy decides).
- The server certificate is verified against the webhook's caBundle, or the system roots when it
  has none; the SSL context of each bundle is made once.
- The whole call (resolution, connect, TLS, request, answer) is bounded by the target's timeout
  (an admission webhook's timeoutSeconds, a conversion webhook's fixed 30 s); past it the error
  is kube's `context deadline exceeded`.
- `send` answers (status, body) and words a failure as kube's REST client does, `Post "<url>":
  <why>`; `post`, the admission webhooks' call, adds their `failed to call webhook: ` and refuses
  a status other than 2xx.

Connections are kept alive and reused, by address, TLS server name and caBundle: a webhook is
called on every matching write, and a TLS handshake per call cost the API server ~3 ms of CPU a
write; httpx with a pool still ~1.8 ms, mostly its anyio TLS stream in Python (bench/webhooks.py).
So the POST is plain HTTP/1.1 on asyncio's own TLS transport, read by the same functions as the
project's API client (`api.aclient`). ssl and the client are imported on the first call: a
server whose writes call no webhook never loads them for this.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from apiserver import serviceendpoints
from apiserver.storage.interface import Store
from apiserver.webhooks.review import CallError

if TYPE_CHECKING:
    import ssl

    from api.connpool import Conn

Obj = dict[str, Any]
_CONTEXTS: dict[bytes, ssl.SSLContext] = {}
# kept-alive connections by (address, port, TLS server name, caBundle); few webhooks, few keys
_IDLE: dict[tuple[str, int, str, bytes], list[Conn]] = {}
_MAX_IDLE = 16  # per key: as many as writes call the webhook at once, within reason


class Target(Protocol):
    """Where a webhook is and how long a call may take (an admission `Hook`, a CRD's conversion)."""

    @property
    def url(self) -> str: ...  # "" for a service

    @property
    def service(self) -> tuple[str, str, str, int] | None: ...  # namespace, name, path, port

    @property
    def ca_bundle(self) -> bytes: ...  # PEM; empty: the system roots

    @property
    def timeout(self) -> float: ...


def _context(ca_bundle: bytes) -> ssl.SSLContext:
    ctx = _CONTEXTS.get(ca_bundle)
    if ctx is None:
        import ssl

        try:
            ctx = (
                ssl.create_default_context(cadata=ca_bundle.decode())
                if ca_bundle
                else ssl.create_default_context()
            )
        except (ssl.SSLError, ValueError, UnicodeDecodeError) as e:
            raise CallError(f"caBundle holds no usable certificate: {e}") from None
        _CONTEXTS[ca_bundle] = ctx
    return ctx


def _host(address: str) -> str:
    try:
        return f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    except ValueError:
        return address


def pick_endpoint(service: Obj, slices: list[Obj], endpoints: Obj | None, port: int) -> tuple[str, int]:
    """(address, port) of a ready endpoint behind the Service's `port`; CallError when none."""
    try:
        return random.choice(serviceendpoints.ready_endpoints(service, slices, endpoints, port))
    except serviceendpoints.NoEndpoint as e:
        raise CallError(str(e)) from None


async def _resolve(store: Store, namespace: str, name: str, port: int) -> tuple[str, int]:
    try:
        return await serviceendpoints.resolve(store, namespace, name, port)
    except serviceendpoints.NoEndpoint as e:
        raise CallError(str(e)) from None


def shown_url(target: Target) -> str:
    """The URL a call is reported with: kube's, with its `?timeout=` query."""
    timeout = f"?timeout={int(target.timeout)}s"
    if target.service is not None:
        namespace, name, path, port = target.service
        return f"https://{name}.{namespace}.svc:{port}{path}{timeout}"
    return target.url + timeout


async def _send(store: Store, target: Target, body: bytes) -> tuple[int, bytes]:
    shown = shown_url(target)
    if target.service is not None:
        namespace, name, path, port = target.service
        server_name = f"{name}.{namespace}.svc"
        try:
            host, to = await _resolve(store, namespace, name, port)
        except CallError as e:  # kube resolves as it dials: the error of the POST
            raise CallError(f'Post "{shown}": {e}') from None
        host_header = f"{server_name}:{port}"
    else:
        u = urlsplit(target.url)
        server_name = u.hostname or ""
        host, to, path = server_name, u.port or 443, u.path or "/"
        host_header = u.netloc
    head = (
        f"POST {path or '/'}?timeout={int(target.timeout)}s HTTP/1.1\r\nHost: {host_header}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return await _exchange((host, to, server_name, target.ca_bundle), head + body, shown)


async def _exchange(key: tuple[str, int, str, bytes], request: bytes, shown: str) -> tuple[int, bytes]:
    """Send `request` on a kept connection to `key`'s server (else a new one) and read the answer.
    A kept one the server closed meanwhile is replaced once: a review has no side effects."""
    import ssl

    from api.aclient import StaleConnection, read_body, read_head
    from api.connpool import Conn

    host, port, server_name, ca_bundle = key
    try:
        ctx = _context(ca_bundle)
    except CallError as e:
        raise CallError(f'Post "{shown}": {e}') from None
    idle = _IDLE.setdefault(key, [])
    for _ in range(2):
        c = None
        while idle and c is None:
            c = idle.pop()
            if c.reader.at_eof():
                c.close()
                c = None
        reused = c is not None
        if c is None:
            try:
                r, w = await asyncio.open_connection(
                    _host(host), port, ssl=ctx, server_hostname=server_name or None
                )
            except OSError as e:  # ssl.SSLError is one too
                what = (
                    f"tls: {e}"
                    if isinstance(e, ssl.SSLError)
                    else f"dial tcp {_host(host)}:{port}: connect: {e.strerror or e}"
                )
                raise CallError(f'Post "{shown}": {what}') from None
            c = Conn(r, w)
        try:
            c.writer.write(request)
            status, headers = await read_head(c, reused)
            answer, keep = await read_body(c, headers, status)
        except StaleConnection:
            c.close()
            continue
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            c.close()
            raise CallError(f'Post "{shown}": {e or type(e).__name__}') from None
        except BaseException:  # cancelled (the timeout): the connection is in an unknown state
            c.close()
            raise
        if keep and len(idle) < _MAX_IDLE:
            idle.append(c)
        else:
            c.close()
        return status, answer
    raise CallError(f'Post "{shown}": the server keeps closing connections')


async def send(store: Store, target: Target, body: bytes) -> tuple[int, bytes]:
    """The webhook's (status, answer) to `body`; CallError `Post "<url>": <why>` when there is none
    within the target's timeout."""
    try:
        async with asyncio.timeout(target.timeout):
            return await _send(store, target, body)
    except TimeoutError:
        raise CallError(f'Post "{shown_url(target)}": context deadline exceeded') from None


async def post(store: Store, hook: Target, body: bytes) -> bytes:
    """An admission webhook's answer to `body`; CallError in kube's admission words when there is
    none within its timeout or it is not a 2xx."""
    try:
        status, answer = await send(store, hook, body)
    except CallError as e:
        raise CallError(f"failed to call webhook: {e}") from None
    if not 200 <= status < 300:
        raise CallError(
            f'failed to call webhook: Post "{shown_url(hook)}": the server responded with status code {status}'
        )
    return answer
