"""API server figures through HTTPS: durable creates/s and latency at concurrency 32, LIST of all
pods, GET latency, create latency at a steady 200/s, next to the raw SQLite limits.

    .venv/bin/python bench/api.py [-n 5000] [--concurrency 32] [--datastore URL] [--etcd]

With --etcd a second column benches the same server on a real 3-member etcd cluster on
loopback, and the same run measures etcd itself (`etcdctl put`, raw create txns: bench/_etcd.py).

The server is a real `kubelite server` subprocess (tmp data dir, SQLite with synchronous=FULL, so
every 201 is on disk). The client is deliberately lean so that it is not the bottleneck on a
2-core machine: one asyncio process, keep-alive HTTP/1.1 connections (one per in-flight request)
over TLS, requests written as bytes and responses parsed by hand (Content-Length bodies only).
Raw SQLite rates come from `bench.storage.raw_sqlite_rates(n, payload)` when it exists.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._stats import percentile, summary_ms, table

REPO = Path(__file__).resolve().parents[1]


class Conn:
    """One keep-alive HTTP/1.1 connection; requests are sequential on it."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: bytes, token: bytes
    ) -> None:
        self.r, self.w = reader, writer
        self.prefix = b"Host: " + host + b"\r\nAuthorization: Bearer " + token + b"\r\n"

    @classmethod
    async def open(cls, host: str, port: int, ctx: ssl.SSLContext, token: str) -> Conn:
        r, w = await asyncio.open_connection(host, port, ssl=ctx, limit=64 * 1024 * 1024)
        w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(r, w, f"{host}:{port}".encode(), token.encode())

    async def request(self, method: bytes, path: bytes, body: bytes = b"") -> tuple[int, bytes]:
        head = method + b" " + path + b" HTTP/1.1\r\n" + self.prefix
        if body:
            head += b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
        self.w.write(head + b"\r\n" + body)
        line = await self.r.readline()
        status = int(line.split(b" ", 2)[1])
        length = 0
        while True:
            h = await self.r.readline()
            if h in (b"\r\n", b""):
                break
            k, _, v = h.partition(b":")
            if k.lower() == b"content-length":
                length = int(v)
        return status, await self.r.readexactly(length)

    def close(self) -> None:
        self.w.close()


def pod_body(name: str) -> bytes:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "image": "busybox:1.36",
                        "command": ["sleep", "3600"],
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                    }
                ]
            },
        },
        separators=(",", ":"),
    ).encode()


def start_server(data: Path, port: int, datastore: str | None) -> subprocess.Popen[bytes]:
    cmd = [
        str(REPO / ".venv/bin/kubelite"),
        "server",
        "--data-dir",
        str(data),
        "--listen",
        f"127.0.0.1:{port}",
        "--no-controllers",
        "--no-scheduler",
    ]
    if datastore:
        cmd += ["--datastore", datastore]
    data.parent.mkdir(parents=True, exist_ok=True)
    with open(data.parent / "server.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    ctx = ssl._create_unverified_context()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {(data.parent / 'server.log').read_text()[-2000:]}")
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=1)
            conn.request("GET", "/readyz")
            if conn.getresponse().read() == b"ok" and (data / "kubeconfig.yaml").exists():
                return proc
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("server not ready in 30s")


async def creates(conns: list[Conn], names: list[str]) -> tuple[float, list[float]]:
    queue = list(reversed(names))
    lat: list[float] = []

    async def worker(c: Conn) -> None:
        while queue:
            name = queue.pop()
            t = time.perf_counter()
            st, body = await c.request(b"POST", b"/api/v1/namespaces/default/pods", pod_body(name))
            lat.append(time.perf_counter() - t)
            if st != 201:
                raise RuntimeError(f"create {name}: {st} {body[:200]!r}")

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    return time.perf_counter() - t0, lat


async def steady(conns: list[Conn], rate: float, seconds: float, prefix: str) -> list[float]:
    """Open loop: a create is due every 1/rate s; latency counts from when it was due."""
    free = list(conns)
    lat: list[float] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    n = int(rate * seconds)
    tasks = []
    ready = asyncio.Condition()

    async def one(i: int, due: float) -> None:
        async with ready:
            await ready.wait_for(lambda: bool(free))
            c = free.pop()
        st, body = await c.request(b"POST", b"/api/v1/namespaces/default/pods", pod_body(f"{prefix}{i}"))
        lat.append(loop.time() - due)
        async with ready:
            free.append(c)
            ready.notify()
        if st != 201:
            raise RuntimeError(f"create: {st} {body[:200]!r}")

    for i in range(n):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    return lat


async def run(args: argparse.Namespace, port: int, token: str, ca: Path) -> dict[str, Any]:
    ctx = ssl.create_default_context(cafile=str(ca))
    conns = [await Conn.open("127.0.0.1", port, ctx, token) for _ in range(args.concurrency)]
    out: dict[str, Any] = {}
    # warm-up (imports, caches): not counted
    await creates(conns, [f"warm-{i}" for i in range(200)])
    for i in range(200):
        await conns[0].request(b"DELETE", f"/api/v1/namespaces/default/pods/warm-{i}".encode())
    cpu0 = time.process_time()
    wall, lat = await creates(conns, [f"p-{i}" for i in range(args.n)])
    out["creates"] = (args.n / wall, lat)
    out["client_cpu"] = (time.process_time() - cpu0) / wall  # share of one core the client used
    list_times, size = [], 0
    for _ in range(5):
        t = time.perf_counter()
        st, body = await conns[0].request(b"GET", b"/api/v1/pods")
        list_times.append(time.perf_counter() - t)
        size = len(body)
        assert st == 200
    out["list"] = (statistics.median(list_times), size, body.count(b'"kind":"Pod"'))
    get_lat = []
    for i in range(min(args.n, 2000)):
        t = time.perf_counter()
        st, stored = await conns[0].request(b"GET", f"/api/v1/namespaces/default/pods/p-{i}".encode())
        get_lat.append(time.perf_counter() - t)
        assert st == 200
    out["get"] = get_lat
    out["stored"] = stored  # a pod as the server stores it: the raw SQLite reference writes these bytes
    out["steady"] = await steady(conns, args.rate, args.seconds, "s-")
    for c in conns:
        c.close()
    return out


def bench_server(args: argparse.Namespace, datastore: str | None) -> dict[str, Any]:
    """One `kubelite server` on `datastore`, benched and stopped."""
    tmp = Path(tempfile.mkdtemp(prefix="kubelite-bench-api-"))
    data = tmp / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start_server(data, port, datastore)
    try:
        token = (data / "admin-token").read_text().strip()
        return asyncio.run(run(args, port, token, data / "tls" / "ca.crt"))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


def column(res: dict[str, Any]) -> list[str]:
    rate, lat = res["creates"]
    list_s, list_bytes, items = res["list"]
    return [
        f"{rate:.0f}/s  {summary_ms(lat)}",
        f"{list_s * 1000:.0f} ms, {list_bytes / 1e6:.1f} MB ({items})",
        summary_ms(res["get"]),
        f"p99 {percentile(res['steady'], 99) * 1000:.1f} ms  {summary_ms(res['steady'])}",
        f"{res['client_cpu'] * 100:.0f}% of a core",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--datastore", default=None)
    ap.add_argument(
        "--etcd",
        action="store_true",
        help="also bench on a 3-member etcd cluster on loopback, next to etcdctl's put rate",
    )
    args = ap.parse_args()
    names = [args.datastore or "sqlite (synchronous=FULL)"]
    results = [bench_server(args, args.datastore)]
    raw_etcd: dict[str, float] = {}
    if args.etcd:
        from bench._etcd import etcdctl_put_rate, raw_create_rate
        from tests.storage.etcd_cluster import etcd_cluster

        with etcd_cluster(3) as cluster:
            names.append("etcd 3.4, 3 members")
            results.append(bench_server(args, cluster.datastore_url()))
            raw_etcd["etcdctl put, 8 processes"] = etcdctl_put_rate(
                cluster, min(args.n, 1000), pod_body("x" * 8)
            )
            raw_etcd[f"raw create txns, {args.concurrency} in flight"] = raw_create_rate(
                cluster, args.n, pod_body("x" * 8), args.concurrency
            )
    labels = [
        f"durable creates, concurrency {args.concurrency}",
        "LIST all pods",
        "GET one pod (sequential)",
        f"create at steady {args.rate:.0f}/s",
        "client CPU during the creates",
    ]
    targets = [">= 2000/s", "<= 300 ms", "", "p99 <= 50 ms", "< 90%"]
    cols = [column(r) for r in results]
    rows = [[label, *(c[i] for c in cols), targets[i]] for i, label in enumerate(labels)]
    print(
        f"kubelite API server bench: n={args.n}, client = 1 asyncio process, {args.concurrency} keep-alive "
        f"HTTP/1.1 TLS connections, hand-parsed"
    )
    print(table(rows, ["what", *names, "target"]))
    for label, value in raw_etcd.items():
        print(
            f"etcd itself, same run and payload: {label}: {value:.0f}/s  "
            f"(API on etcd / this = {results[-1]['creates'][0] / value:.2f})"
        )
    try:
        from bench.storage import raw_sqlite_rates  # the storage engineer's reference figures
    except ImportError:
        print("raw SQLite reference: bench.storage.raw_sqlite_rates not available")
    else:
        rate = results[0]["creates"][0]
        # the bytes the server stored for a pod (defaults, uid, timestamps, managedFields), as read back
        raw = raw_sqlite_rates(args.n, results[0]["stored"])
        print(f"raw SQLite, the same stored bytes ({len(results[0]['stored'])} per pod) and durability:")
        for label, value in raw.items():
            ratio = f"API/raw = {rate / value:.2f}" if isinstance(value, int | float) and value else ""
            print(
                f"  {label}: {value:.0f}/s  {ratio}"
                if isinstance(value, int | float)
                else f"  {label}: {value}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
