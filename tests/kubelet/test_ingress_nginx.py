"""The ingress controller loop with a real nginx on loopback ports: requests are routed by Host
and path to the ready endpoints of the right service, TLS is served from a kubernetes.io/tls
Secret (SNI), the Ingress's status names the nodes, a burst of endpoint changes is picked up
by seamless reloads with no new client failing and every request in flight finished, and
stopping leaves no nginx process."""

from __future__ import annotations

import asyncio
import http.server
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.informer import InformerFactory
from kubelet.ingress.controller import IngressController
from tests.apiserver.conftest import free_port
from tests.controller.fakeapi import FakeApi
from tests.objects import endpoint_slice
from tests.polling import until
from tests.tls import https_get, self_signed

Obj = dict[str, Any]


SLOW_ARRIVED = [0]  # /slow requests that reached a backend (the test waits for each)


def _slow_arrived(n: int) -> Any:
    return lambda: SLOW_ARRIVED[0] >= n


class Named(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            SLOW_ARRIVED[0] += 1
            time.sleep(1.0)  # spans a reload of nginx
        body = f"{self.server.name} {self.path}".encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def backends() -> Iterator[dict[str, int]]:
    out, servers = {}, []
    for name in ("web-a", "web-b", "api"):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Named)
        srv.name = name  # type: ignore[attr-defined]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        out[name] = srv.server_address[1]
    yield out
    for srv in servers:
        srv.shutdown()


def test_controller_serves_hosts_paths_tls_and_reloads_seamlessly(
    tmp_path: Path, backends: dict[str, int]
) -> None:
    import base64

    http_port, https_port = free_port(), free_port()
    crt, key = self_signed("secure.local", ["secure.local"])

    async def go() -> None:
        api = FakeApi()
        await api.create(
            "ingressclasses",
            {"metadata": {"name": "kubelite"}, "spec": {"controller": "kubelite.io/ingress-nginx"}},
        )
        await api.create(
            "nodes",
            {
                "metadata": {"name": "n1"},
                "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.11"}]},
            },
        )
        for name in ("web", "api"):
            await api.create(
                "services",
                {
                    "metadata": {"name": name, "namespace": "default"},
                    "spec": {"ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
                },
            )
        await api.create("endpointslices", endpoint_slice("web", "127.0.0.1", port=backends["web-a"]))
        await api.create("endpointslices", endpoint_slice("api", "127.0.0.1", port=backends["api"]))
        await api.create(
            "secrets",
            {
                "metadata": {"name": "cert", "namespace": "default"},
                "type": "kubernetes.io/tls",
                "data": {
                    "tls.crt": base64.b64encode(crt).decode(),
                    "tls.key": base64.b64encode(key).decode(),
                },
            },
        )
        web = {"service": {"name": "web", "port": {"number": 80}}}
        api_b = {"service": {"name": "api", "port": {"name": "http"}}}
        await api.create(
            "ingresses",
            {
                "metadata": {
                    "name": "demo",
                    "namespace": "default",
                    "creationTimestamp": "2026-01-01T00:00:00Z",
                },
                "spec": {
                    "ingressClassName": "kubelite",
                    "tls": [{"hosts": ["secure.local"], "secretName": "cert"}],
                    "rules": [
                        {
                            "host": "demo.local",
                            "http": {
                                "paths": [
                                    {"path": "/", "pathType": "Prefix", "backend": web},
                                    {"path": "/api", "pathType": "Prefix", "backend": api_b},
                                    {"path": "/exact", "pathType": "Exact", "backend": api_b},
                                ]
                            },
                        },
                        {
                            "host": "secure.local",
                            "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": api_b}]},
                        },
                    ],
                },
            },
        )
        # another class's Ingress is not served
        await api.create(
            "ingresses",
            {
                "metadata": {"name": "other", "namespace": "default"},
                "spec": {"ingressClassName": "nginx", "rules": [{"host": "other.local"}]},
            },
        )
        factory = InformerFactory(api)
        ctl = IngressController(
            api, factory, tmp_path, min_interval=0.01, http_port=http_port, https_port=https_port
        )
        factory.start()
        task = asyncio.create_task(ctl.run())
        base = f"http://127.0.0.1:{http_port}"
        async with httpx.AsyncClient(timeout=5) as c:

            async def get(path: str, host: str) -> str:
                try:
                    r = await c.get(base + path, headers={"Host": host})
                except httpx.TransportError:
                    return ""
                return f"{r.status_code} {r.text}"

            await until(lambda: ctl.nginx.starts, what="nginx started")
            assert await until_async(lambda: get("/", "demo.local"), "200 web-a /")
            assert await get("/api/v1", "demo.local") == "200 api /api/v1"
            assert (await get("/apix", "demo.local")).startswith(
                "200 web-a"
            )  # element-wise: /apix is not /api
            assert await get("/exact", "demo.local") == "200 api /exact"
            assert (await get("/", "nobody.local")).startswith("404")
            assert (await get("/", "other.local")).startswith("404")
            # TLS from the Secret, by SNI
            _, body = await asyncio.to_thread(https_get, "127.0.0.1", https_port, "secure.local", "/x", crt)
            assert body == b"api /x"
            # status: the node addresses
            ing = await api.get("ingresses", "demo", "default")
            await until(lambda: ctl.applies, what="applied")
            await until_obj(api, "demo", [{"ip": "10.0.0.11"}])
            assert (await api.get("ingresses", "other", "default")).get("status") is None
            # endpoints move back and forth while requests run: reloads drop nothing
            failures: list[str] = []
            stop = asyncio.Event()

            async def hammer() -> int:
                # new clients keep arriving (a connection each, as in the e2e test): none may fail
                n = 0
                async with httpx.AsyncClient(
                    timeout=5, limits=httpx.Limits(max_keepalive_connections=0)
                ) as fresh:
                    while not stop.is_set():
                        try:
                            r = await fresh.get(base + "/", headers={"Host": "demo.local"})
                            got = f"{r.status_code} {r.text}"
                        except httpx.TransportError as e:
                            got = repr(e)
                        n += 1
                        if not got.startswith("200 web-"):
                            failures.append(got)
                return n

            async def slow() -> str:
                # a request in flight when nginx reloads is finished by the old worker
                async with httpx.AsyncClient(timeout=10) as one:
                    r = await one.get(base + "/slow", headers={"Host": "demo.local"})
                    return f"{r.status_code} {r.text.split()[-1]}"

            h = asyncio.create_task(hammer())
            reloads = ctl.nginx.reloads
            in_flight = []
            arrived = SLOW_ARRIVED[0]
            for i in range(6):
                in_flight.append(asyncio.create_task(slow()))
                await until(_slow_arrived(arrived + i + 1), 10, "the slow request at its backend")
                target = backends["web-b"] if i % 2 == 0 else backends["web-a"]
                cur = await api.get("endpointslices", "web-x", "default")
                cur["ports"][0]["port"] = target
                await api.update("endpointslices", cur, "default")
                want = "web-b" if i % 2 == 0 else "web-a"
                await until_async(lambda: get("/", "demo.local"), f"200 {want} /")
            assert await asyncio.gather(*in_flight) == ["200 /slow"] * 6
            stop.set()
            count = await h
            assert ctl.nginx.reloads >= reloads + 6
            assert failures == [] and count > 20, (failures, count)
            del ing
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await factory.stop()
        ctl.stop()

    asyncio.run(go())
    left = subprocess.run(["pgrep", "-f", f"nginx.*{tmp_path}"], capture_output=True, text=True).stdout
    assert left == "", f"nginx left running: {left}"


async def until_async(fetch: Any, want: str, timeout: float = 15.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    last = ""
    while asyncio.get_running_loop().time() < deadline:
        last = await fetch()
        if last == want:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"wanted {want!r}, last {last!r}")


async def until_obj(api: FakeApi, name: str, want: list[Obj], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    got = None
    while asyncio.get_running_loop().time() < deadline:
        got = (
            ((await api.get("ingresses", name, "default")).get("status") or {})
            .get("loadBalancer", {})
            .get("ingress")
        )
        if got == want:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"status {got!r}")
