"""pods/log, pods/exec and pods/portforward: the API server's proxy to the kubelet of the pod's node.

`KubeletProxy.proxy(scope, receive, send, pod, subresource)` is the hook `State.pod_proxy` names.
It checks the request as kube-apiserver does (pod bound to a node, container valid, pod not
completed for exec), finds the node's InternalIP and `status.daemonEndpoints.kubeletEndpoint.Port`,
and forwards to the kubelet's HTTPS server (`kubelet.server`): logs as a chunked text/plain
stream flushed per chunk (so `kubectl logs -f` sees lines as they come), exec and port-forward
as a WebSocket whose subprotocol is the one the kubelet chose from what the client offered,
frames pumped both ways until either side closes (`apiserver.wsrelay`). Port-forward's WebSocket
is kubectl 1.31+'s SPDY tunnel (`SPDY/3.1+portforward.k8s.io`) or the channel protocol (`v4.channel.k8s.io`, the
Python client): the kubelet speaks both (`kubelet.portforward`), the proxy only relays frames.
`ports=80,81` (or repeated) becomes the kubelet's `port=80&port=81`, as kube-apiserver does.
kubectl up to 1.30 upgrades the HTTP connection to SPDY/3.1 instead: `apiserver.spdyupgrade`
turns that into the same WebSocket call (subprotocol `SPDY/3.1+portforward.k8s.io`), so it
arrives here like 1.31+'s; a portforward request without an upgrade gets a 400. Exec over SPDY
(kubectl 1.27-1.29, or 1.30+ falling back) arrives the same way, as a WebSocket offering
`SPDY/3.1+v4.channel.k8s.io`, relayed to the kubelet's /exec like any other. Errors are Status bodies (for a WebSocket, an HTTP answer instead of the
upgrade, which kubectl decodes as a Status too).

The API server authenticates to kubelets the Kubernetes way: a client certificate with CN
`kube-apiserver-kubelet-client` (group system:masters), signed by the cluster CA, made on first
start beside the other certificates (`tls/kubelet-client.crt|key`). It verifies the kubelet in
turn, as kube-apiserver with `--kubelet-certificate-authority`: the kubelet's certificate must
chain to the cluster CA and name the address dialled (an IP SAN for an InternalIP). Kubelets get
such certificates through CertificateSigningRequests the controller manager approves and signs
(kubelet/certmanager.py, controller/csrapproving.py); a kubelet still serving a self-signed one (its
request not issued yet, or `--no-server-tls-bootstrap`) is refused with `certificate verify
failed` in the 503, as kube-apiserver refuses it. The same context serves nodes/proxy
(apiserver/resourceproxy.py) and the metrics API's summaries (apiserver/metricsapi.py). Hollow
nodes serve nothing: their metrics are made up without dialling. httpx and websockets are imported
on first use only.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from api import jsonutil
from api.asgi import deny_websocket, respond, until_disconnect
from api.errors import ApiError, bad_request, service_unavailable
from api.resources import by_plural

log = logging.getLogger("kubelite.apiserver.kubeletproxy")

KUBELET_CLIENT_CN = "kube-apiserver-kubelet-client"
DEFAULT_KUBELET_PORT = 10250
UPGRADE_REQUIRED = "Upgrade request required"  # the kubelet's answer to a plain-HTTP exec it would run
DIAL_TIMEOUT = 10.0
NODES = by_plural("", "nodes")
_MAX_ERROR_BODY = 64 * 1024


# --- credentials -----------------------------------------------------------------------
def ensure_kubelet_client_cert(tls_dir: Path, ca_cert: Path, ca_key: Path) -> tuple[Path, Path]:
    """Load or make the API server's client certificate for kubelets, signed by the cluster CA."""
    cert_path, key_path = tls_dir / "kubelet-client.crt", tls_dir / "kubelet-client.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    from api import x509 as certs

    signer, issuer = certs.load_key(ca_key), certs.load_cert(ca_cert)
    key = certs.new_key()
    cert = certs.sign(
        certs.builder(certs.name(KUBELET_CLIENT_CN, ["system:masters"]), issuer.subject, key, 3650)
        .add_extension(certs.x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(certs.x509.ExtendedKeyUsage([certs.CLIENT_AUTH]), critical=False),
        signer,
    )
    certs.write_private(key_path, certs.key_pem(key))
    cert_path.write_bytes(certs.cert_pem(cert))
    return cert_path, key_path


def client_ssl_context(cert: Path, key: Path, ca: Path) -> ssl.SSLContext:
    """Present `cert`; verify the kubelet's certificate against `ca` and the address dialled."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname
    ctx.load_verify_locations(cafile=str(ca))
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


# --- decisions (pure) ------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str  # /containerLogs/ns/pod/c, /exec/ns/pod/c or /portForward/ns/pod, quoted
    query: str

    @property
    def authority(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def pod_container(pod: dict[str, Any], requested: str) -> str:
    """The container a request is for (kube's validateContainer): the one named, else the pod's
    only container; 400 when it names none of the pod's, or names none and the pod has several
    (kubectl picks its default container itself, from `kubectl.kubernetes.io/default-container`)."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    name = meta.get("name", "")
    if not requested:
        containers = [str(c.get("name")) for c in spec.get("containers") or []]
        if len(containers) == 1:
            return containers[0]
        message = f"a container name must be specified for pod {name}"
        if containers:
            message += f", choose one of: [{' '.join(containers)}]"
            inits = [str(c.get("name")) for c in spec.get("initContainers") or []]
            if inits:
                message += f" or one of the init containers: [{' '.join(inits)}]"
        raise bad_request(message)
    names = [
        c.get("name")
        for key in ("containers", "initContainers", "ephemeralContainers")
        for c in spec.get(key) or []
    ]
    if requested not in names:
        raise bad_request(f"container {requested} is not valid for pod {name}")
    return requested


def node_name_of(pod: dict[str, Any]) -> str:
    node = (pod.get("spec") or {}).get("nodeName")
    if not node:
        raise bad_request(f"pod {(pod.get('metadata') or {}).get('name', '')} does not have a host assigned")
    return str(node)


def kubelet_endpoint(node: dict[str, Any]) -> tuple[str, int]:
    """(address, port) of a node's kubelet: InternalIP first, as kube-apiserver prefers it by default."""
    status = node.get("status") or {}
    addresses = status.get("addresses") or []
    host = ""
    for kind in ("InternalIP", "ExternalIP", "Hostname", "InternalDNS", "ExternalDNS"):
        host = next(
            (a.get("address", "") for a in addresses if a.get("type") == kind and a.get("address")), ""
        )
        if host:
            break
    if not host:
        raise service_unavailable(
            f"node {(node.get('metadata') or {}).get('name', '')} has no address: cannot reach its kubelet"
        )
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
    return host, int(port) if isinstance(port, int) and port > 0 else DEFAULT_KUBELET_PORT


def kubelet_target(
    pod: dict[str, Any], node: dict[str, Any], subresource: str, query: list[tuple[str, str]]
) -> Target:
    """Where a pods/log, exec or portforward request goes on the kubelet, with the query it forwards."""
    meta = pod.get("metadata") or {}
    ns, name = quote(meta.get("namespace", "default"), safe=""), quote(meta.get("name", ""), safe="")
    if subresource == "portforward":
        host, port = kubelet_endpoint(node)
        return Target(
            host,
            port,
            f"/portForward/{ns}/{name}",
            urlencode(
                [
                    ("port", p.strip())
                    for k, v in query
                    if k in ("ports", "port")
                    for p in v.split(",")
                    if p.strip()
                ]
            ),
        )
    container = pod_container(pod, next((v for k, v in query if k == "container"), ""))
    if subresource in ("exec", "attach"):
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            verb = "exec into" if subresource == "exec" else "attach to"
            raise bad_request(f"cannot {verb} a container in a completed pod; current phase is {phase}")
    host, port = kubelet_endpoint(node)
    kind = {"log": "containerLogs", "attach": "attach"}.get(subresource, "exec")
    path = "/".join(("", kind, ns, name, quote(container, safe="")))
    return Target(host, port, path, urlencode([(k, v) for k, v in query if k != "container"]))


def kubelet_error(code: int, body: bytes) -> ApiError:
    """A kubelet's error answer as the Status kube-apiserver would give (the kubelet's text as message)."""
    text = body[:_MAX_ERROR_BODY].decode("utf-8", "replace").strip()
    with contextlib.suppress(ValueError):
        parsed = jsonutil.loads(body)
        if isinstance(parsed, dict) and parsed.get("kind") == "Status":
            return ApiError.from_status(code, parsed)
    return ApiError.from_status(code if 400 <= code < 600 else 500, text)


# --- the proxy (I/O) ---------------------------------------------------------------------
class KubeletProxy:
    """The `State.pod_proxy` hook: forwards pods/log and pods/exec to the pod's kubelet."""

    def __init__(self, registry: Any, tls_dir: Path, ca_cert: Path, ca_key: Path) -> None:
        self.registry = registry
        cert, key = ensure_kubelet_client_cert(tls_dir, ca_cert, ca_key)
        self.ssl = client_ssl_context(cert, key, ca_cert)
        self._http: Any = None

    async def target(self, pod: dict[str, Any], subresource: str, query: list[tuple[str, str]]) -> Target:
        node_name = node_name_of(pod)
        assert NODES is not None
        try:
            node = (await self.registry.get(NODES, None, node_name)).obj
        except ApiError as e:
            if e.code == 404:
                raise service_unavailable(
                    f'node "{node_name}" of pod {pod["metadata"].get("name")} not found: '
                    "cannot reach its kubelet"
                ) from None
            raise
        return kubelet_target(pod, node, subresource, query)

    async def proxy(
        self, scope: dict[str, Any], receive: Any, send: Any, pod: dict[str, Any], subresource: str
    ) -> None:
        query = parse_qsl((scope.get("query_string") or b"").decode("latin-1"), keep_blank_values=True)
        websocket = scope["type"] == "websocket"
        try:
            if subresource == "log" and not websocket and not (pod.get("spec") or {}).get("nodeName"):
                # kube's LogLocation: a valid container of a pod with no node yet has no logs, an
                # empty stream rather than an error (only exec, attach and port-forward need a host)
                pod_container(pod, next((v for k, v in query if k == "container"), ""))
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-type", b"text/plain")],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
            target = await self.target(pod, subresource, query)
            if websocket:
                if subresource == "log":
                    raise bad_request("pods/log is served over plain HTTP, not a WebSocket")
                await self._exec(scope, receive, send, target)
            elif subresource == "log":
                await self._log(receive, send, target)
            elif subresource == "portforward":
                # neither a WebSocket nor a SPDY upgrade (those arrive as WebSockets): say what is needed
                await self._check_exec(target)
                raise bad_request(
                    "port-forward needs an upgrade: SPDY/3.1 (X-Stream-Protocol-Version: "
                    "portforward.k8s.io), or a WebSocket with subprotocol "
                    "SPDY/3.1+portforward.k8s.io or v4.channel.k8s.io"
                )
            else:
                # neither a WebSocket nor a SPDY upgrade (those arrive as WebSockets): the kubelet
                # checks the request as for an upgrade, so a reason one would fail is what the
                # client sees; if nothing is wrong, say what is needed
                await self._check_exec(target)
                raise bad_request(
                    f"{subresource} needs an upgrade: SPDY/3.1 (X-Stream-Protocol-Version: v4.channel.k8s.io), "
                    "or a WebSocket with subprotocol v5.channel.k8s.io or v4.channel.k8s.io"
                )
        except ApiError as e:
            if websocket:
                await _deny(send, e)
            else:
                await _respond_status(send, e)

    async def _check_exec(self, target: Target) -> None:
        """Ask the kubelet whether an exec would start (a plain GET: it runs nothing); ApiError if not."""
        import httpx

        url = f"https://{target.authority}{target.path}?{target.query}"
        try:
            resp = await self._client().get(url, timeout=DIAL_TIMEOUT)
        except httpx.HTTPError as e:
            raise _unreachable(target, e) from None
        if resp.status_code != 400 or resp.text.strip() != UPGRADE_REQUIRED:
            raise kubelet_error(resp.status_code, resp.content)

    # --- logs ---
    def _client(self) -> Any:
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(verify=self.ssl, timeout=httpx.Timeout(DIAL_TIMEOUT, read=None))
        return self._http

    async def _log(self, receive: Any, send: Any, target: Target) -> None:
        import httpx

        url = f"https://{target.authority}{target.path}" + (f"?{target.query}" if target.query else "")
        started = False

        async def stream() -> None:
            nonlocal started
            try:
                async with self._client().stream("GET", url) as resp:
                    if resp.status_code != 200:
                        raise kubelet_error(resp.status_code, await resp.aread())
                    started = True
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [(b"content-type", b"text/plain")],
                        }
                    )
                    async for chunk in resp.aiter_raw():
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
            except httpx.HTTPError as e:
                if not started:
                    raise _unreachable(target, e) from None
                log.info("log stream from %s ended: %s", target.authority, e)
                await send({"type": "http.response.body", "body": b""})

        await until_disconnect(receive, stream())

    # --- exec ---
    async def _exec(self, scope: dict[str, Any], receive: Any, send: Any, target: Target) -> None:
        from apiserver import wsrelay

        url = f"wss://{target.authority}{target.path}?{target.query}"
        try:
            upstream = await wsrelay.open_upstream(url, self.ssl, list(scope.get("subprotocols") or []))
        except wsrelay.Refused as e:
            raise kubelet_error(e.status, e.body) from None
        except wsrelay.Unreachable as e:
            raise _unreachable(target, e) from None
        await wsrelay.relay(upstream, receive, send)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _unreachable(target: Target, e: BaseException) -> ApiError:
    return service_unavailable(
        f"error dialing backend: the kubelet at {target.authority} is unreachable: {e or type(e).__name__}"
    )


async def _respond_status(send: Any, e: ApiError) -> None:
    await respond(send, e.code, e.body())


async def _deny(send: Any, e: ApiError) -> None:
    await deny_websocket(send, e.code, e.body())


__all__ = [
    "KUBELET_CLIENT_CN",
    "KubeletProxy",
    "Target",
    "ensure_kubelet_client_cert",
    "kubelet_endpoint",
    "kubelet_target",
    "pod_container",
]
