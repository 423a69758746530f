"""One throwaway `kubelite server` measured beside another in the same run (bench/dashboard.py,
bench/metrics.py): its keep-alive connections, timed creates and the server's own CPU per create.

Each such bench runs two of these at once and measures them in alternated turns, so the machine's
drift falls on both; what differs between the two (viewers, metrics off) lives in the bench.
"""

from __future__ import annotations

import shutil
import signal
import ssl
import tempfile
from pathlib import Path

from bench._cluster import cpu_seconds, free_port
from bench.api import Conn, creates, start_server


class MeasuredServer:
    """A `kubelite server` on a free port in a temporary data dir, and its keep-alive connections."""

    def __init__(self, prefix: str) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix))
        data = self.tmp / "data"
        self.port = free_port()
        self.proc = start_server(data, self.port, None)
        self.token = (data / "admin-token").read_text().strip()
        self.ctx = ssl.create_default_context(cafile=str(data / "tls" / "ca.crt"))
        self.conns: list[Conn] = []
        self.created = 0

    async def open(self, concurrency: int) -> None:
        self.conns = [
            await Conn.open("127.0.0.1", self.port, self.ctx, self.token) for _ in range(concurrency)
        ]

    async def settle(self) -> None:
        """What a turn waits for after its creates, counted in its CPU (nothing by default)."""

    async def creates(self, n: int) -> tuple[float, float]:
        """(creates/s, server CPU ms per create) for n new pods."""
        names = [f"p-{self.created + i}" for i in range(n)]
        self.created += n
        cpu = cpu_seconds(self.proc.pid)
        wall, _ = await creates(self.conns, names)
        await self.settle()
        return n / wall, (cpu_seconds(self.proc.pid) - cpu) * 1000 / n

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        shutil.rmtree(self.tmp, ignore_errors=True)
