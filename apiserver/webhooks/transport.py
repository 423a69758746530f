"""The HTTPS POST of an AdmissionReview to a webhook, and where a `service` webhook lives.

- `url`: called as given, plus kube's `?timeout=<N>s` query (the server may stop early).
- `service`: the Service's port named by the webhook (443 by default) is resolved to a ready
  endpoint (`apiserver.serviceendpoints`, as kube-apiserver does with
  `--enable-aggregator-routing`), and the connection goes to that address with the TLS server
  name and Host `<name>.<namespace>.svc`, which the serving certificate must name. A Service
  without such an endpoint is a call error (a server without a route to pod addresses has none
  that answers, and the failure policy decides).
- The server certificate is verified against the webhook's caBundle, or the system roots when it
  has none; the SSL context of each bundle is made once.
- The whole call (resolution, connect, TLS, request, answer) is bounded by timeoutSeconds; past
  it the error is kube's `context deadline exceeded`.

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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from apiserver import serviceendpoints
from apiserver.storage.interface import Store
from apiserver.webhooks.configs import Hook
from apiserver.webhooks.review import CallError

if TYPE_CHECKING:
    import ssl

    from api.connpool import Conn

Obj = dict[str, Any]
_CONTEXTS: dict[bytes, ssl.SSLContext] = {}
# kept-alive connections by (address, port, TLS server name, caBundle); few webhooks, few keys
_IDLE: dict[tuple[str, int, str, bytes], list[Conn]] = {}
_MAX_IDLE = 16  # per key: as many as writes call the webhook at once, within reason


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
            raise CallError(f"failed to call webhook: caBundle holds no usable certificate: {e}") from None
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
        raise CallError(f"failed to call webhook: {e}") from None


async def _resolve(store: Store, namespace: str, name: str, port: int) -> tuple[str, int]:
    try:
        return await serviceendpoints.resolve(store, namespace, name, port)
    except serviceendpoints.NoEndpoint as e:
        raise CallError(f"failed to call webhook: {e}") from None


async def _post(store: Store, hook: Hook, body: bytes) -> bytes:
    timeout = f"?timeout={int(hook.timeout)}s"
    if hook.service is not None:
        namespace, name, path, port = hook.service
        server_name = f"{name}.{namespace}.svc"
        shown = f"https://{server_name}:{port}{path}{timeout}"
        host, target = await _resolve(store, namespace, name, port)
        host_header = f"{server_name}:{port}"
    else:
        u = urlsplit(hook.url)
        shown, server_name = hook.url + timeout, u.hostname or ""
        host, target, path = server_name, u.port or 443, u.path or "/"
        host_header = u.netloc
    head = (
        f"POST {path}{timeout} HTTP/1.1\r\nHost: {host_header}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    key = (host, target, server_name, hook.ca_bundle)
    status, answer = await _exchange(key, head + body, shown)
    if not 200 <= status < 300:
        raise CallError(
            f'failed to call webhook: Post "{shown}": the server responded with status code {status}'
        )
    return answer


async def _exchange(key: tuple[str, int, str, bytes], request: bytes, shown: str) -> tuple[int, bytes]:
    """Send `request` on a kept connection to `key`'s server (else a new one) and read the answer.
    A kept one the server closed meanwhile is replaced once: a review has no side effects."""
    import ssl

    from api.aclient import StaleConnection, read_body, read_head
    from api.connpool import Conn

    host, port, server_name, ca_bundle = key
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
                    _host(host), port, ssl=_context(ca_bundle), server_hostname=server_name or None
                )
            except OSError as e:  # ssl.SSLError is one too
                what = (
                    f"tls: {e}"
                    if isinstance(e, ssl.SSLError)
                    else f"dial tcp {_host(host)}:{port}: connect: {e.strerror or e}"
                )
                raise CallError(f'failed to call webhook: Post "{shown}": {what}') from None
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
            raise CallError(f'failed to call webhook: Post "{shown}": {e or type(e).__name__}') from None
        except BaseException:  # cancelled (the timeout): the connection is in an unknown state
            c.close()
            raise
        if keep and len(idle) < _MAX_IDLE:
            idle.append(c)
        else:
            c.close()
        return status, answer
    raise CallError(f'failed to call webhook: Post "{shown}": the server keeps closing connections')


async def post(store: Store, hook: Hook, body: bytes) -> bytes:
    """The webhook's answer to `body`; CallError when there is none within its timeout."""
    try:
        async with asyncio.timeout(hook.timeout):
            return await _post(store, hook, body)
    except TimeoutError:
        target = hook.url or "https://{1}.{0}.svc:{3}{2}".format(*hook.service or ("", "", "", 0))
        raise CallError(
            f'failed to call webhook: Post "{target}?timeout={int(hook.timeout)}s": context deadline exceeded'
        ) from None
