"""What the HTTP layer costs the API server per request, beside what the whole request costs.

    .venv/bin/python bench/http_layer.py [-n 20000] [--concurrency 32]

The same client (bench/api.py's: keep-alive HTTP/1.1 over TLS, 32 connections, Events POSTed one
after another on each) drives three servers in turn, and each server process's own CPU time is
divided by the requests it answered:

- uvicorn, as the API server runs it (uvloop, httptools, TLS), in front of an ASGI app that reads
  the body and answers a fixed 201: the floor of the HTTP layer kubelite uses;
- a bare asyncio protocol on httptools' parser, same loop and TLS, answering the same bytes: the
  floor of any HTTP/1.1 layer in Python, the most a rewrite of the layer could save;
- `kubelite server` (SQLite, durable) creating the Events for real.

The point is the split: when the whole request costs several times the floor, the API server's
time is in its own path (authentication, routing, validation, the store, the watch fan-out), not in
uvicorn, and a leaner HTTP layer would not move the control plane much.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apiserver.certs import TLSFiles, ensure_certs
from bench._cluster import cpu_seconds, free_port, stop
from bench._stats import machine_speed_ms, table
from bench.api import Conn, start_server

PATH = b"/api/v1/namespaces/default/events"
# what the floor servers answer: about the size of a created Event's body
FIXED = json.dumps(
    {"kind": "Event", "apiVersion": "v1", "metadata": {"name": "x" * 40}, "message": "m" * 600}
).encode()

# the floor servers, run as `python bench/http_layer.py --serve MODE PORT CERT KEY`
_RAW_ANSWER = (
    b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(FIXED)).encode()
    + b"\r\n\r\n"
    + FIXED
)


async def fixed_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(FIXED)).encode())]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": FIXED})


class BareProtocol(asyncio.Protocol):
    """httptools' parser and a write per answer: nothing else a request could cost less than."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        import httptools

        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.transport.write(_RAW_ANSWER)  # type: ignore[attr-defined]


def serve(mode: str, port: int, cert: str, key: str) -> None:
    import uvloop

    if mode == "uvicorn":
        import uvicorn

        uvicorn.run(
            fixed_app,
            host="127.0.0.1",
            port=port,
            loop="uvloop",
            http="httptools",
            ssl_certfile=cert,
            ssl_keyfile=key,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        return
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(BareProtocol, "127.0.0.1", port, ssl=ctx)
        await server.serve_forever()

    uvloop.run(main())


def event(i: int) -> bytes:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"pod-{i}.1800a1b2c3d4e5f6", "namespace": "default"},
            "involvedObject": {
                "kind": "Pod",
                "namespace": "default",
                "name": f"pod-{i}",
                "uid": "5f0e8c5e-1",
            },
            "reason": "Started",
            "message": "Started container c",
            "source": {"component": "kubelet", "host": "hollow-1"},
            "firstTimestamp": "2026-12-04T21:00:00Z",
            "lastTimestamp": "2026-12-04T21:00:00Z",
            "count": 1,
            "type": "Normal",
        },
        separators=(",", ":"),
    ).encode()


async def drive(port: int, ca: Path, token: str, pid: int, n: int, concurrency: int) -> tuple[float, float]:
    """(requests/s, server CPU ms per request) for n Event POSTs after a warm-up of n/10."""
    ctx = ssl.create_default_context(cafile=str(ca))
    conns = [await Conn.open("127.0.0.1", port, ctx, token) for _ in range(concurrency)]
    try:

        async def post(numbers: list[int]) -> None:
            async def worker(c: Conn) -> None:
                while numbers:
                    status, body = await c.request(b"POST", PATH, event(numbers.pop()))
                    if status != 201:
                        raise SystemExit(f"POST answered {status}: {body[:300]!r}")

            await asyncio.gather(*(worker(c) for c in conns))

        await post(list(range(n, n + n // 10)))
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        await post(list(range(n)))
        wall = time.perf_counter() - t0
        return n / wall, 1000 * (cpu_seconds(pid) - cpu0) / n
    finally:
        for c in conns:
            c.close()


def floor(mode: str, tls: TLSFiles, n: int, concurrency: int) -> tuple[float, float]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve",
            mode,
            str(port),
            str(tls.server_cert),
            str(tls.server_key),
        ]
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"the {mode} floor server did not listen") from None
                time.sleep(0.05)
        return asyncio.run(drive(port, tls.ca_cert, "t", proc.pid, n, concurrency))
    finally:
        proc.kill()
        proc.wait()


def kubelite(tmp: Path, n: int, concurrency: int) -> tuple[float, float]:
    data, port = tmp / "data", free_port()
    proc = start_server(data, port, None)
    try:
        token = (data / "admin-token").read_text().strip()
        return asyncio.run(drive(port, data / "tls" / "ca.crt", token, proc.pid, n, concurrency))
    finally:
        stop(proc, 30)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kubelite-bench-http-"))
    try:
        tls = ensure_certs(
            tmp / "floor", ["127.0.0.1"]
        )  # a CA and serving pair made as the server makes its own
        speed = machine_speed_ms()
        results = {
            "uvicorn + httptools + TLS, a fixed 201 (the layer kubelite uses)": floor(
                "uvicorn", tls, args.n, args.concurrency
            ),
            "a bare httptools protocol + TLS, the same bytes (the floor of any layer)": floor(
                "bare", tls, args.n, args.concurrency
            ),
            "kubelite server: the Event created (SQLite, durable)": kubelite(
                tmp, args.n // 4, args.concurrency
            ),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    whole = results["kubelite server: the Event created (SQLite, durable)"][1]
    rows = [
        [what, f"{rate:,.0f}/s", f"{ms:.3f} ms", f"{100 * ms / whole:.0f}%"]
        for what, (rate, ms) in results.items()
    ]
    print(
        f"POST an Event, {args.concurrency} keep-alive TLS connections, one client process "
        f"(machine: pure-Python loop {speed:.0f} ms)"
    )
    print(table(rows, ["server", "requests", "server CPU per request", "of kubelite's"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
