"""Where we wrote our own instead of a library: the figures behind each choice, side by side.

1. Import time, cold, each in a fresh interpreter (median of --runs): our sync and async HTTP
   clients (api/client.py, api/aclient.py) vs httpx and http.client; our rtnetlink client
   (runtime/network/rtnl.py) vs pyroute2 (the package, and `IPRoute` alone); the kubelet's
   gRPC health probe (kubelet/grpcprobe.py) vs grpcio with the health stubs.
2. A request loop: N keep-alive GETs of a small JSON body against a local HTTP server, our
   clients vs httpx's Client and AsyncClient (requests/s).
3. An rtnetlink round trip (look up `lo` by name): Rtnl.link_index vs IPRoute.link_lookup.

The README's "Dependencies" section quotes these figures. Run: .venv/bin/python -m bench.deps
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

BODY = b'{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"default"}}'


def import_ms(module: str, runs: int) -> float | None:
    """Median CPU time of `import module` in a fresh interpreter (CPU, not wall: the machine is shared)."""
    code = f"import time; t = time.process_time(); import {module}; print(time.process_time() - t)"
    times = []
    for _ in range(runs):
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if p.returncode != 0:
            return None  # not installed
        times.append(float(p.stdout) * 1000)
    return statistics.median(times)


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(head + BODY)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()


def start_server() -> int:
    """A keep-alive HTTP/1.1 server on 127.0.0.1 in a thread of its own; returns its port."""
    ready: list[int] = []
    loop = asyncio.new_event_loop()

    async def main() -> None:
        server = await asyncio.start_server(_handle, "127.0.0.1", 0)
        ready.append(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True).start()
    while not ready:
        time.sleep(0.01)
    return ready[0]


def rate(fn: Callable[[], object], n: int) -> float:
    fn()  # connect, warm up
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t)


async def arate(fn: Callable[[], object], n: int) -> float:
    await fn()  # type: ignore[misc]
    t = time.perf_counter()
    for _ in range(n):
        await fn()  # type: ignore[misc]
    return n / (time.perf_counter() - t)


def request_loops(port: int, n: int) -> dict[str, float]:
    import httpx

    from api import requests as rq
    from api.aclient import AsyncClient
    from api.client import Client
    from api.config import ClientConfig

    url = f"http://127.0.0.1:{port}"
    cfg = ClientConfig(server=url)
    req = rq.get("pods", "p", "default")
    out: dict[str, float] = {}
    with Client(cfg) as ours, httpx.Client(base_url=url) as theirs:
        out["api.client.Client"] = rate(lambda: ours.call(req), n)
        out["httpx.Client"] = rate(lambda: theirs.get(req.target).json(), n)

    async def run_async() -> None:
        async with AsyncClient(cfg) as ours, httpx.AsyncClient(base_url=url) as theirs:
            out["api.aclient.AsyncClient"] = await arate(lambda: ours.call(req), n)

            async def httpx_get() -> object:
                return (await theirs.get(req.target)).json()

            out["httpx.AsyncClient"] = await arate(httpx_get, n)

    asyncio.run(run_async())
    return out


def rtnl_round_trips(n: int) -> dict[str, float]:
    out: dict[str, float] = {}
    from runtime.network.rtnl import Rtnl

    with Rtnl() as ours:
        out["runtime.network.rtnl.Rtnl"] = rate(lambda: ours.link_index("lo"), n)
    try:
        from pyroute2 import IPRoute
    except ImportError:
        return out
    with IPRoute() as theirs:
        out["pyroute2.IPRoute"] = rate(lambda: theirs.link_lookup(ifname="lo"), n)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="fresh interpreters per import figure")
    ap.add_argument("-n", type=int, default=3000, help="requests per loop")
    args = ap.parse_args()
    print(f"import time, CPU ms (median of {args.runs} fresh interpreters)")
    pairs = [
        ("api.client", "httpx"),
        ("api.client", "http.client"),
        ("api.aclient", "httpx"),
        ("runtime.network.rtnl", "pyroute2"),
        ("runtime.network.rtnl", "pyroute2.iproute.linux"),
        ("kubelet.grpcprobe", "grpc_health.v1.health_pb2_grpc"),
    ]
    for ours, theirs in pairs:
        a, b = import_ms(ours, args.runs), import_ms(theirs, args.runs)
        fmt = lambda v: "not installed" if v is None else f"{v:7.1f}"  # noqa: E731
        print(f"  {ours:<24} {fmt(a)}    {theirs:<24} {fmt(b)}")
    port = start_server()
    print(f"HTTP keep-alive GET loop, requests/s ({args.n} requests, local server)")
    for name, value in request_loops(port, args.n).items():
        print(f"  {name:<28} {value:9.0f}")
    print(f"rtnetlink link lookup by name, round trips/s ({args.n})")
    for name, value in rtnl_round_trips(args.n).items():
        print(f"  {name:<28} {value:9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
