"""`kubectl port-forward TYPE/NAME [LOCAL:]REMOTE...`: local ports to a pod, through the API server.

Resolves what to forward to as kubectl does: `pod/x` (or a bare name) is the pod; `svc/x` is the
first running pod its selector picks, with each service port translated to its target port
(a number, or a container port name looked up in that pod); `rc/x` the first pod of the RC's
selector. Named remote ports of a pod are looked up among its container ports. The pod must be
Running. Then it listens on every `--address` (`localhost` = 127.0.0.1 and ::1), printing
`Forwarding from 127.0.0.1:18080 -> 80` per address and `Handling connection for 18080` per
connection. Each accepted connection gets its own WebSocket to `pods/NAME/portforward?ports=R`
in the channel protocol `v4.channel.k8s.io`: data on channel 0, the kubelet's error text on
channel 1, each channel's first two bytes being the port (little-endian). `websockets` is
imported only here.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlencode

from api.conditions import is_ready
from kubectl.env import CommandError, Env
from kubectl.flags import FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "port-forward": {
        "address": ("list", [], "", "Local addresses to listen on, comma separated (default: localhost)."),
        "pod-running-timeout": ("str", "1m0s", ""),
    }
}
HELP = {
    "port-forward": Help(
        summary="Carry local ports to ports of a pod",
        more="Listens on local ports and carries each connection to a port of the pod. TYPE/NAME "
        "picks a pod of a deployment, service and so on; a service's port is translated to its "
        "target port. Runs until interrupted.",
        usage="TYPE/NAME [LOCAL_PORT:]REMOTE_PORT [...[LOCAL_PORT_N:]REMOTE_PORT_N]",
        examples="""
        # Local ports 5000 and 6000 to the same ports of a pod
        kubectl port-forward pod/web-1 5000 6000

        # Local 8080 to a deployment pod's 80
        kubectl port-forward deployment/web 8080:80

        # A service's named port, on every address
        kubectl port-forward --address 0.0.0.0 svc/web 8443:https

        # A free local port, chosen for you
        kubectl port-forward pod/web-1 :80
        """,
    )
}
PROTOCOL = "v4.channel.k8s.io"
DATA, ERROR = 0, 1
USAGE = (
    "error: TYPE/NAME and list of ports are required for port-forward\n"
    "See 'kubectl port-forward -h' for help and examples"
)


# --- decisions (pure) ------------------------------------------------------------------
def parse_port_specs(specs: list[str]) -> list[tuple[str, str]]:
    """`[LOCAL:]REMOTE` -> (local, remote); `REMOTE` alone listens on the same port, `:REMOTE` on any free one
    ("0"); a local that is a port name stands for the number it resolves to."""
    pairs = []
    for spec in specs:
        local, sep, remote = spec.partition(":")
        if not sep:
            local, remote = spec, spec
        elif not local:
            local = "0"
        if not remote:
            raise CommandError(f"error: Error parsing remote port '{spec}'")
        if sep and not (local.isdigit() and int(local) < 65536):
            raise CommandError(f"error: Error parsing local port '{local}': invalid syntax")
        pairs.append((local, remote))
    return pairs


def container_port_by_name(pod: dict[str, Any], name: str) -> int:
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == name:
                return int(p["containerPort"])
    raise CommandError(
        f"error: Pod '{(pod.get('metadata') or {}).get('name')}' does not have a named port '{name}'"
    )


def pod_port(pod: dict[str, Any], remote: str) -> int:
    """A pod's remote port: a number, or the name of one of its container ports."""
    return int(remote) if remote.isdigit() else container_port_by_name(pod, remote)


def service_target_port(service: dict[str, Any], pod: dict[str, Any], remote: str) -> int:
    """The container port behind a service port (given by number or name), as kubectl translates it."""
    name = (service.get("metadata") or {}).get("name")
    for sp in (service.get("spec") or {}).get("ports") or []:
        if str(sp.get("port")) == remote or (sp.get("name") and sp.get("name") == remote):
            target = sp.get("targetPort", sp.get("port"))
            if isinstance(target, str) and not target.isdigit():
                return container_port_by_name(pod, target)
            return int(target or sp.get("port"))
    raise CommandError(f"error: Service {name} does not have a service port {remote}")


def pick_pod(pods: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The pod kubectl would take: running and ready ones first, then the oldest."""

    def key(p: dict[str, Any]) -> tuple[bool, bool, str]:
        status = p.get("status") or {}
        return (
            status.get("phase") != "Running",
            not is_ready(p),
            (p.get("metadata") or {}).get("creationTimestamp", ""),
        )

    live = [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]
    return min(live or pods, key=key) if pods else None


def listen_hosts(addresses: list[str]) -> list[str]:
    hosts: list[str] = []
    for a in ",".join(addresses or ["localhost"]).split(","):
        for h in ("127.0.0.1", "::1") if a.strip() == "localhost" else (a.strip(),):
            if h and h not in hosts:
                hosts.append(h)
    return hosts


def shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# --- the command -------------------------------------------------------------------------
def resolve_target(
    env: Env, what: str, specs: list[tuple[str, str]]
) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """(pod, [(local, container port)]) for a TYPE/NAME and its port specs."""
    kind, sep, name = what.partition("/")
    res = env.resource(kind) if sep else None
    if res is None or res.kind == "Pod":
        pod = dict(env.client.get("pods", name if sep else what, env.namespace))
        return pod, [_local_of(local, pod_port(pod, remote)) for local, remote in specs]
    obj = env.client.get(res, name, env.namespace)
    from kubectl.targets import selector_of

    sel = selector_of(obj)
    if not sel:
        raise CommandError(f"error: cannot attach to {res.kind}: selector for {res.plural} {name} is empty")
    chosen = pick_pod(list(env.client.list("pods", env.namespace, label_selector=sel).get("items") or []))
    if chosen is None:
        raise CommandError(f"error: no pods found for {what}")
    pod = chosen
    if res.kind == "Service":  # `svc/x 80` listens on 80 (the service port), forwards to the target port
        return pod, [_local_of(local, service_target_port(obj, pod, remote)) for local, remote in specs]
    return pod, [_local_of(local, pod_port(pod, remote)) for local, remote in specs]


def _local_of(local: str, remote: int) -> tuple[str, int]:
    return (local if local.isdigit() else str(remote)), remote


def port_forward(env: Env, p: Parsed) -> int:
    if len(p.args) < 2:
        raise CommandError(USAGE)
    pod, ports = resolve_target(env, p.args[0], parse_port_specs(p.args[1:]))
    phase = (pod.get("status") or {}).get("phase")
    if phase != "Running":
        raise CommandError(
            f"error: unable to forward port because pod is not running. Current status={phase}"
        )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Forwarder(env, pod["metadata"]["name"]).run(ports, listen_hosts(p["address"])))
    return 0


class Forwarder:
    """Listens locally; each connection is one WebSocket to the pod's portforward subresource."""

    def __init__(self, env: Env, pod: str) -> None:
        from api.requests import resource

        self.env = env
        cfg = env.config
        path = resource("pods").object_path(pod, env.namespace, "portforward")
        base = "wss" + cfg.server[5:] if cfg.server.startswith("https") else "ws" + cfg.server[4:]
        self.url = base + path
        self.ssl = cfg.ssl_context() if self.url.startswith("wss") else None
        self.headers = {"Authorization": f"Bearer {cfg.token}"} if cfg.token else {}

    async def run(self, ports: list[tuple[str, int]], hosts: list[str]) -> None:
        servers = []
        for local, remote in ports:
            port = int(local or remote)
            chosen = [port]  # `:80` or `0:80`: the port the first listener got, for every address
            for host in hosts:
                try:
                    server = await asyncio.start_server(self._handler(chosen, remote), host, port)
                except OSError as e:
                    if host == "::1" and len(hosts) > 1:
                        continue  # no IPv6 loopback: kubectl goes on with IPv4
                    raise CommandError(f"error: unable to listen on port {port}: {e}") from None
                port = chosen[0] = server.sockets[0].getsockname()[1]
                servers.append(server)
                print(f"Forwarding from {shown(host)}:{port} -> {remote}", file=self.env.out, flush=True)
        await asyncio.gather(*(s.serve_forever() for s in servers))

    def _handler(self, local: list[int], remote: int) -> Any:
        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self.handle(reader, writer, local[0], remote)

        return on_connection

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, local: int, remote: int
    ) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus

        print(f"Handling connection for {local}", file=self.env.out, flush=True)
        try:
            ws = await connect(
                f"{self.url}?{urlencode({'ports': remote})}",
                subprotocols=[PROTOCOL],  # type: ignore[list-item]
                additional_headers=self.headers,
                ssl=self.ssl,
                max_size=None,
                compression=None,
                ping_interval=None,
                user_agent_header=self.env.config.user_agent,
            )
        except (InvalidStatus, OSError) as e:
            why = (
                bytes(e.response.body or b"").decode(errors="replace")
                if isinstance(e, InvalidStatus)
                else str(e)
            )
            self._error(local, remote, f"error upgrading connection: {why.strip()}")
            writer.close()
            return

        async def up() -> None:
            with contextlib.suppress(ConnectionClosed, OSError):
                while data := await reader.read(32 * 1024):
                    await ws.send(bytes((DATA,)) + data)

        sending = asyncio.ensure_future(up())
        header_left = {DATA: 2, ERROR: 2}  # each channel starts with the port, 2 bytes
        try:
            async for frame in ws:
                data = frame.encode() if isinstance(frame, str) else frame
                if not data or data[0] not in header_left:
                    continue
                channel, payload = data[0], data[1:]
                skip = min(header_left[channel], len(payload))
                header_left[channel] -= skip
                payload = payload[skip:]
                if payload and channel == DATA:
                    writer.write(payload)
                    await writer.drain()
                elif payload:
                    self._error(local, remote, payload.decode(errors="replace"))
        except (ConnectionClosed, OSError):
            pass
        finally:
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
            await ws.close()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _error(self, local: int, remote: int, message: str) -> None:
        print(
            f"error: an error occurred forwarding {local} -> {remote}: {message}",
            file=self.env.err,
            flush=True,
        )
