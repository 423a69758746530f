"""Cluster DNS figures, side by side in one run: kubelite's DNS server vs dnsmasq on loopback.

Both serve the same 1,000 service names (`svc-N.default.svc.cluster.local A 10.96.x.y`):
kubelite from informer caches filled with 1,000 Services (the server runs in its own
process on uvloop, as in the agent), dnsmasq (Debian's dnsmasq-base) from `host-record`
lines, no upstream. Measured for each:
1. latency of one query at a time from a small UDP client (p50, p99), the round trip on
   loopback: each name asked the first time (for kubelite: parsed, looked up and rendered
   by dnspython), then `--queries` random ones (kubelite: from its answer cache); kubelite
   also with the cache off;
2. throughput: Debian's `dnsperf` for a few seconds, 100 queries outstanding, over the names
   in random order (queries/s, its average latency, lost queries).
Target (issue H): answers well under a millisecond on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# run as a script, this file's own directory comes first on the path and `import dns` would find
# this very module instead of dnspython: put the repository there instead
sys.path[:] = [str(Path(__file__).resolve().parent.parent)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]

from bench._stats import percentile, table  # noqa: E402 - after the path fix above

NAMES = 1000
ZONE = "cluster.local"


def service_ip(i: int) -> str:
    return f"10.96.{(i + 100) // 250}.{(i + 100) % 250 + 1}"


def name(i: int) -> str:
    return f"svc-{i}.default.svc.{ZONE}"


def serve(port: int, cache: bool) -> None:
    """The server process: informer caches with NAMES services, kubelite's DnsServer on 127.0.0.1:port."""
    import uvloop

    from api.informer import Informer
    from kubelet.dns import server as server_mod
    from kubelet.dns.server import DnsServer
    from kubelet.dns.view import InformerView

    if not cache:
        server_mod.CACHE_SIZE = 0
    services, endpoints = Informer(None, "services"), Informer(None, "endpoints")  # type: ignore[arg-type]
    for i in range(NAMES):
        svc = {
            "metadata": {"name": f"svc-{i}", "namespace": "default"},
            "spec": {"clusterIP": service_ip(i), "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
        }
        services._apply("ADDED", f"default/svc-{i}", svc)

    async def main() -> None:
        s = DnsServer(InformerView(services, endpoints), ZONE, host="127.0.0.1", port=port)
        await s.start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    uvloop.run(main())


def query(i: int, qid: int) -> bytes:
    """A minimal A query in wire format (header, one question), without a DNS library in the client."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name(i).split(".")) + b"\x00"
    return qid.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + labels + b"\x00\x01\x00\x01"


def latencies(port: int, n: int, order: list[int] | None = None) -> list[float]:
    """Round trips of `n` queries one at a time (names in `order`, else random)."""
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("127.0.0.1", port))
        s.settimeout(2)
        for k in range(n):
            q = query(order[k] if order else random.randrange(NAMES), k & 0xFFFF)
            t = time.perf_counter()
            s.send(q)
            reply = s.recv(4096)
            out.append(time.perf_counter() - t)
            if reply[:2] != q[:2] or reply[3] & 0x0F or reply[6:8] == b"\x00\x00":
                raise SystemExit(f"bad answer from port {port}: {reply!r}")
    return out


def dnsperf(port: int, seconds: float, data: Path) -> tuple[float, float, str]:
    r = subprocess.run(
        [
            "dnsperf",
            "-s",
            "127.0.0.1",
            "-p",
            str(port),
            "-d",
            str(data),
            "-l",
            str(seconds),
            "-q",
            "100",
            "-c",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    qps = re.search(r"Queries per second:\s+([\d.]+)", r.stdout)
    avg = re.search(r"Average Latency \(s\):\s+([\d.]+)", r.stdout)
    lost = re.search(r"Queries lost:\s+(\d+ \([\d.]+%\))", r.stdout)
    if not qps or not avg:
        raise SystemExit(f"dnsperf: {r.stdout}{r.stderr}")
    return float(qps.group(1)), float(avg.group(1)), lost.group(1) if lost else "?"


def wait_answering(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            latencies(port, 1)
            return
        except (OSError, SystemExit):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queries", type=int, default=3000, help="sequential queries for the latency figures")
    p.add_argument("--seconds", type=float, default=5.0, help="dnsperf run length per server")
    p.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    p.add_argument("--no-cache", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args.serve, cache=not args.no_cache)
        return 0
    for tool in ("dnsperf", "dnsmasq"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is missing: `make install` (Debian packages dnsperf, dnsmasq-base)")
    tmp = Path(tempfile.mkdtemp(prefix="kl-bench-dns-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        data = tmp / "queries.txt"
        order = list(range(NAMES))
        random.shuffle(order)
        data.write_text("".join(f"{name(i)} A\n" for i in order))
        conf = tmp / "dnsmasq.conf"
        conf.write_text("".join(f"host-record={name(i)},{service_ip(i)}\n" for i in range(NAMES)))
        rows = []
        for label, cache in (
            ("kubelite (answer cache)", True),
            ("kubelite (no cache)", False),
            ("dnsmasq", None),
        ):
            port = free_udp_port()
            if cache is None:
                argv = [
                    "/usr/sbin/dnsmasq",
                    "--keep-in-foreground",
                    "--no-resolv",
                    "--no-hosts",
                    "--no-daemon",
                    f"--port={port}",
                    "--listen-address=127.0.0.1",
                    "--bind-interfaces",
                    f"--conf-file={conf}",
                    "--cache-size=10000",
                    "--user=root",
                    "--pid-file=",
                ]
            else:
                argv = [sys.executable, __file__, "--serve", str(port), *([] if cache else ["--no-cache"])]
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent)),
            )
            procs.append(proc)
            wait_answering(port)
            first = latencies(port, NAMES, order)  # every name once: the first ask of each
            lat = latencies(port, args.queries)
            qps, avg, lost = dnsperf(port, args.seconds, data)
            rows.append(
                (
                    label,
                    *(f"{percentile(x, q) * 1e6:.0f} us" for x in (first, lat) for q in (50, 99)),
                    f"{qps:,.0f}",
                    f"{avg * 1e6:.0f} us",
                    lost,
                )
            )
            proc.terminate()
            proc.wait(10)
        print(f"DNS on loopback, {NAMES} service names, this machine ({os.cpu_count()} cores, shared)")
        print(
            table(
                rows,
                [
                    "server",
                    "first ask p50",
                    "p99",
                    "repeated p50",
                    "p99",
                    "dnsperf q/s",
                    "dnsperf avg latency",
                    "lost",
                ],
            )
        )
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
