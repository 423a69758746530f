"""Raw ASGI request/response helpers: the handlers read bytes and answer bytes, nothing in between.

`Request` wraps the ASGI scope (headers as a bytes dict, query string parsed once) and reads
the body with kube's 3 MiB limit. `decode_body` accepts JSON and YAML (the Python client sends
no Content-Type at all) and turns malformed or absurdly nested input into a 400, never a 500.
`State` is what every handler shares: registry, store, settings, credentials.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from api import jsonutil
from api.asgi import respond
from api.errors import ApiError, bad_request, go_json, status_details, too_large
from apiserver.auth import Authenticator
from apiserver.config import ServerConfig
from apiserver.registry import Registry
from apiserver.storage.interface import Store

Scope = dict[str, Any]
MAX_BODY = 3 * 1024 * 1024
MAX_DEPTH = 100
JSON = b"application/json"


@dataclass
class State:
    config: ServerConfig
    store: Store
    registry: Registry
    auth: Authenticator
    ca_pem: bytes
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # kubelet proxy for pods/log and pods/exec (`serve()` sets it); None answers 503
    pod_proxy: Any = None
    # pods/proxy, services/proxy, nodes/proxy (apiserver.resourceproxy), made on first use
    resource_proxy: Any = None
    # RBAC for every user but nodes and system:masters; None allows every authenticated user
    authorizer: Any = None
    # service-account tokens: issued by serviceaccounts/<name>/token, accepted as bearer tokens
    tokens: Any = None
    # the node authorizer's graph of pods and what they use (apiserver.nodegraph.NodeGraph)
    node_graph: Any = None
    # the APIServices and the relay to extension API servers (apiserver.aggregation.served)
    aggregator: Any = None
    # the control-loop processes' metrics, scraped for /metrics (apiserver.loopprocess)
    loop_metrics: list[Callable[[], Awaitable[bytes]]] = field(default_factory=list)
    # metrics.k8s.io's kubelet summaries (apiserver.metricsapi.MetricsSource), made on first use
    metrics_source: Any = None
    # API Priority and Fairness (apiserver.flowcontrol.gate.Gate); None lets every request through
    flowcontrol: Any = None


class Request:
    __slots__ = ("headers", "method", "path", "query", "receive", "scope")

    def __init__(self, scope: Scope, receive: Any) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = scope.get("method", "GET")
        self.path: str = scope["path"]
        self.headers: dict[bytes, bytes] = dict(scope["headers"])
        qs = scope.get("query_string") or b""
        self.query: dict[str, str] = (
            dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else {}
        )

    @property
    def accept(self) -> str:
        return self.headers.get(b"accept", b"").decode("latin-1")

    @property
    def content_type(self) -> str:
        return self.headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()

    def wants_table(self) -> bool:
        return "as=Table" in self.accept

    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"

    async def body(self) -> bytes:
        length = self.headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            raise too_large(f"Request entity too large: limit is {MAX_BODY}")
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await self.receive()
            if msg["type"] == "http.disconnect":
                break
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                raise too_large(f"Request entity too large: limit is {MAX_BODY}")
            chunks.append(chunk)
            if not msg.get("more_body"):
                break
        return b"".join(chunks)


def _depth_ok(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if d > MAX_DEPTH:
            return False
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values() if isinstance(x, dict | list))
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v if isinstance(x, dict | list))
    return True


def decode_body(body: bytes, content_type: str) -> Any:
    """JSON or YAML into Python values; 400 on anything malformed, empty or nested past MAX_DEPTH."""
    if not body.strip():
        raise bad_request("the body of the request was empty")
    if content_type == "application/vnd.kubernetes.protobuf":
        from apiserver.handlers import protobuf

        return protobuf.decode(body)
    yaml_ct = content_type in (
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "application/apply-patch+yaml",
    )
    try:
        value = jsonutil.loads(body)
    except jsonutil.JSONDecodeError as e:
        if not yaml_ct and content_type not in ("", "text/plain", "application/octet-stream"):
            raise bad_request(f"couldn't get version/kind; json parse error: {e}") from None
        value = _yaml(body, e)
    # the brackets bound the depth: only a body with many of them needs the walk
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and not _depth_ok(value):
        raise bad_request(f"the object is nested deeper than {MAX_DEPTH} levels")
    return value


def _yaml(body: bytes, json_error: Exception) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(body, Loader=loader)
    except RecursionError:
        raise bad_request(f"the object is nested deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as e:
        raise bad_request(f"couldn't get version/kind; json parse error: {json_error}; yaml: {e}") from None


async def respond_json(
    send: Any, status: int, obj: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await respond(send, status, jsonutil.dumps(obj), JSON, headers)


async def respond_error(send: Any, err: ApiError) -> None:
    """The Status, and a Retry-After header when it asks for a wait (kube's ErrorNegotiated:
    client-go reads the header, not the body's retryAfterSeconds)."""
    retry = (err.details or {}).get("retryAfterSeconds")
    headers = [(b"retry-after", str(retry).encode())] if isinstance(retry, int) and retry > 0 else None
    await respond(send, err.code, err.body(), headers=headers)


async def respond_status(
    send: Any, status: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A Status body byte for byte as kube-apiserver writes one (Go's encoder, trailing newline)."""
    await respond(send, int(status.get("code") or 200), go_json(status) + b"\n", headers=headers)


def success_status(code: int = 200, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Success Status in metav1.Status field order (details before code), as kube-apiserver writes it."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = status_details(details)
    body["code"] = code
    return body


def warning_header(message: str) -> tuple[bytes, bytes]:
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    return b"warning", f'299 - "{escaped}"'.encode()


def with_warning(send: Any, message: str) -> Any:
    """`send` answering with one more Warning header (a deprecated custom resource version's)."""
    header = warning_header(message)

    async def warned(event: dict[str, Any]) -> None:
        if event.get("type") == "http.response.start":
            event = {**event, "headers": [*event.get("headers", ()), header]}
        await send(event)

    return warned
