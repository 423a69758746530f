"""One probe attempt (exec, httpGet, tcpSocket, grpc) and what the kubelet says when it fails.

`run_probe` answers (success, output): the output is what a Warning `Unhealthy` event shows after
"Liveness probe failed: " (the command's output, `HTTP probe failed with statuscode: 503`, `dial
tcp 10.244.0.7:80: connect: connection refused`, a gRPC health status). httpGet, as the kubelet's:
the handler's host, else the pod IP; its `httpHeaders`; HTTPS without verifying the certificate;
200-399 passes. The same GET serves lifecycle hooks (`hooks`), which only fail when no answer came.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

ExecFn = Callable[
    [str, list[str], float], Awaitable[tuple[int, bytes]]
]  # (id, cmd, timeout) -> (code, output)


def resolve_port(port: Any, container: dict[str, Any]) -> int:
    """A probe or targetPort given by number or by the name of one of the container's ports."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    raise ValueError(f"port {port!r} is not a port of container {container.get('name')}")


def _insecure() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # as the kubelet: probes skip verification
    return ctx


async def http_request(
    host: str, port: int, path: str, scheme: str, headers: list[dict[str, Any]], user_agent: str
) -> int:
    """One `GET`; the status code, or OSError/ValueError when no HTTP answer came."""
    reader, writer = await asyncio.open_connection(
        host, port, ssl=_insecure() if scheme.upper() == "HTTPS" else None
    )
    try:
        path = path if path.startswith("/") else "/" + path
        names = {str(h.get("name", "")).lower() for h in headers}
        extra = "".join(f"{h['name']}: {h.get('value', '')}\r\n" for h in headers if h.get("name"))
        agent = "" if "user-agent" in names else f"User-Agent: {user_agent}\r\n"
        accept = "" if "accept" in names else "Accept: */*\r\n"
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{agent}{accept}{extra}"
            "Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        parts = (await reader.readline()).split()
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise ValueError("malformed HTTP response")
        return int(parts[1])
    finally:
        writer.close()


def _dial_error(host: str, port: int, e: BaseException) -> str:
    if isinstance(e, ConnectionRefusedError):
        return f"dial tcp {host}:{port}: connect: connection refused"
    if isinstance(e, TimeoutError):
        return f"dial tcp {host}:{port}: i/o timeout"
    return f"dial tcp {host}:{port}: {e.strerror if isinstance(e, OSError) and e.strerror else e}"


async def run_probe(
    probe: dict[str, Any], container: dict[str, Any], container_id: str, pod_ip: str, exec_fn: ExecFn
) -> tuple[bool, str]:
    timeout = float(probe.get("timeoutSeconds", 1))
    host = pod_ip or "127.0.0.1"
    if "exec" in probe:
        cmd = [str(x) for x in probe["exec"].get("command") or []]
        try:
            code, output = await exec_fn(container_id, cmd, timeout)
        except TimeoutError:
            return False, f"command {' '.join(cmd)!r} timed out"
        except Exception as e:
            return False, str(e)
        return code == 0, output.decode(errors="replace")
    if "httpGet" in probe:
        h = probe["httpGet"]
        host, port, scheme = (
            h.get("host") or host,
            resolve_port(h["port"], container),
            h.get("scheme") or "HTTP",
        )
        url = f"{scheme.lower()}://{host}:{port}{h.get('path') or '/'}"
        try:
            async with asyncio.timeout(timeout):
                status = await http_request(
                    host,
                    port,
                    h.get("path") or "/",
                    scheme,
                    list(h.get("httpHeaders") or []),
                    "kube-probe/1.30",
                )
        except TimeoutError:
            return (
                False,
                f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
            )
        except (OSError, ValueError) as e:
            return False, f'Get "{url}": {_dial_error(host, port, e)}'
        return (True, "") if 200 <= status < 400 else (False, f"HTTP probe failed with statuscode: {status}")
    if "tcpSocket" in probe:
        t = probe["tcpSocket"]
        host, port = t.get("host") or host, resolve_port(t["port"], container)
        try:
            async with asyncio.timeout(timeout):
                _, writer = await asyncio.open_connection(host, port)
            writer.close()
        except (OSError, TimeoutError) as e:
            return False, _dial_error(host, port, e)
        return True, ""
    if "grpc" in probe:
        from kubelet.grpcprobe import grpc_check

        g = probe["grpc"]
        return await grpc_check(host, int(g["port"]), g.get("service") or "", timeout)
    return False, "missing probe handler (exec, httpGet, tcpSocket or grpc)"
