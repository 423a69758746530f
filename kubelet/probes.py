"""Liveness, readiness and startup probes: one task per running container instance.

Timing as Kubernetes defines it (initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1,
successThreshold 1, failureThreshold 3); the startup probe gates the other two. A probe task
only records verdicts and, when one flips, wakes the pod's worker (`on_change(uid)`): the
worker decides what follows (kill on liveness failure, readiness into the status), so all
actions stay in the one level-triggered sync. Probes are exec (through the runtime), httpGet
(a bare HTTP/1.1 GET over asyncio streams: 200-399 is success), tcpSocket (connect) and grpc
(grpc.health.v1 Health/Check, see `grpcprobe`).
A new container instance gets fresh verdicts: a restarted container starts unready.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

ExecFn = Callable[[str, list[str], float], Awaitable[int]]  # (container id, cmd, timeout) -> exit code


def resolve_port(port: Any, container: dict[str, Any]) -> int:
    """A probe or targetPort given by number or by the name of one of the container's ports."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    raise ValueError(f"port {port!r} is not a port of container {container.get('name')}")


async def http_get(host: str, port: int, path: str, timeout: float, scheme: str = "HTTP") -> int:
    """Status code of `GET path` (0 when the connection or the answer fails)."""
    async def go() -> int:
        reader, writer = await asyncio.open_connection(host, port, ssl=scheme == "HTTPS" or None)
        try:
            writer.write(f"GET {path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.30\r\n"
                         "Connection: close\r\nAccept: */*\r\n\r\n".encode())
            await writer.drain()
            line = await reader.readline()
            parts = line.split()
            return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
        finally:
            writer.close()

    try:
        return await asyncio.wait_for(go(), timeout)
    except (OSError, TimeoutError, ValueError):
        return 0


async def tcp_open(host: str, port: int, timeout: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


@dataclass
class Verdicts:
    started: bool = False
    ready: bool = False
    live_failed: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class ProbeManager:
    def __init__(self, exec_fn: ExecFn, on_change: Callable[[str], None]) -> None:
        self._exec = exec_fn
        self._on_change = on_change
        self._by_container: dict[str, Verdicts] = {}  # container id -> verdicts
        self._owner: dict[str, str] = {}  # container id -> pod uid

    def ensure(self, uid: str, container: dict[str, Any], container_id: str, pod_ip: str) -> Verdicts:
        """Start the probes of a running container instance once; return its current verdicts."""
        v = self._by_container.get(container_id)
        if v is not None:
            return v
        v = Verdicts(started="startupProbe" not in container,
                     ready="readinessProbe" not in container)
        self._by_container[container_id] = v
        self._owner[container_id] = uid
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            if kind in container:
                v.tasks.append(asyncio.create_task(
                    self._run(kind, uid, container, container_id, pod_ip, v), name=f"probe:{kind}"))
        return v

    def verdicts(self, container_id: str) -> Verdicts | None:
        return self._by_container.get(container_id)

    def forget(self, container_ids: set[str]) -> None:
        for cid in container_ids:
            v = self._by_container.pop(cid, None)
            self._owner.pop(cid, None)
            if v:
                for t in v.tasks:
                    t.cancel()

    def forget_pod(self, uid: str) -> None:
        self.forget({cid for cid, owner in self._owner.items() if owner == uid})

    def live_ids(self, uid: str) -> set[str]:
        return {cid for cid, owner in self._owner.items() if owner == uid}

    async def probe_once(self, probe: dict[str, Any], container: dict[str, Any], container_id: str,
                         pod_ip: str) -> bool:
        timeout = float(probe.get("timeoutSeconds", 1))
        if "exec" in probe:
            try:
                code = await self._exec(container_id, list(probe["exec"].get("command") or []), timeout)
            except Exception as e:
                log.debug("exec probe failed: %r", e)
                return False
            return code == 0
        if "httpGet" in probe:
            h = probe["httpGet"]
            status = await http_get(h.get("host") or pod_ip or "127.0.0.1", resolve_port(h["port"], container),
                                    h.get("path", "/"), timeout, h.get("scheme", "HTTP"))
            return 200 <= status < 400
        if "tcpSocket" in probe:
            t = probe["tcpSocket"]
            return await tcp_open(t.get("host") or pod_ip or "127.0.0.1", resolve_port(t["port"], container), timeout)
        if "grpc" in probe:
            from kubelet.grpcprobe import grpc_check

            g = probe["grpc"]
            ok, why = await grpc_check(pod_ip or "127.0.0.1", int(g["port"]), g.get("service") or "", timeout)
            if not ok:
                log.debug("grpc probe of %s failed: %s", container.get("name"), why)
            return ok
        log.info("probe of container %s has no handler (exec, httpGet, tcpSocket, grpc)", container.get("name"))
        return False

    async def _run(self, kind: str, uid: str, container: dict[str, Any], container_id: str, pod_ip: str,
                   v: Verdicts) -> None:
        probe = container[kind]
        period = float(probe.get("periodSeconds", 10))
        success_needed = int(probe.get("successThreshold", 1))
        failure_needed = int(probe.get("failureThreshold", 3))
        await asyncio.sleep(float(probe.get("initialDelaySeconds", 0)))
        successes = failures = 0
        while True:
            if kind != "startupProbe" and not v.started:
                await asyncio.sleep(min(period, 1.0))
                continue
            ok = await self.probe_once(probe, container, container_id, pod_ip)
            successes, failures = (successes + 1, 0) if ok else (0, failures + 1)
            changed = False
            if kind == "startupProbe":
                if ok and not v.started:
                    v.started = changed = True
                elif failures >= failure_needed:
                    v.live_failed = changed = True  # a startup failure restarts like liveness
                if v.started:
                    self._on_change(uid)
                    return
            elif kind == "livenessProbe":
                if failures >= failure_needed and not v.live_failed:
                    v.live_failed = changed = True
            elif successes >= success_needed and not v.ready:
                v.ready = changed = True
            elif failures >= failure_needed and v.ready:
                v.ready, changed = False, True
            if changed:
                self._on_change(uid)
            await asyncio.sleep(period)
