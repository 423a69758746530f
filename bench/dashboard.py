"""What open dashboards cost the API: durable creates/s of a `kubelite server` with N dashboard
viewers attached (each an event stream of every kind, as a browser's page holds) against a
server with none, in the same run.

    .venv/bin/python bench/dashboard.py [-n 1000] [--viewers 5] [--concurrency 32] [--rounds 6]

Both servers run at once and are measured in alternated turns, so the machine's drift falls on
both. A viewer is what a browser's EventSource is to the server: one HTTPS stream of
`/dashboard/api/stream`, read as it comes (rows counted, nothing parsed), so every create on the
viewed server is relayed N times during its turn. The target (issue 12): >= 0.95x of the
server nobody views. Server CPU per create is read from /proc beside the rates.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._servers import MeasuredServer
from bench._stats import table

ROW = b"event: row\n"


class Viewer:
    """One dashboard page's event stream, counting the pod rows it is sent."""

    def __init__(self) -> None:
        self.rows = 0
        self.task: asyncio.Task[None] | None = None

    async def open(self, port: int, ctx: ssl.SSLContext, token: str) -> None:
        r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, limit=1 << 22)
        w.write(
            f"GET /dashboard/api/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        status = await r.readline()
        assert b" 200 " in status, status
        self.task = asyncio.create_task(self._read(r, w))

    async def _read(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        tail = b""
        try:
            while data := await r.read(1 << 16):
                buf = tail + data
                self.rows += buf.count(ROW)
                tail = buf[-(len(ROW) - 1) :]  # a row split between reads is counted once
        finally:
            w.close()

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


class _Server(MeasuredServer):
    """One `kubelite server` with or without viewers; a turn ends when its viewers have caught up."""

    def __init__(self, viewers: int) -> None:
        super().__init__("kubelite-bench-dashboard-")
        self.viewers = [Viewer() for _ in range(viewers)]

    async def open(self, concurrency: int) -> None:
        await super().open(concurrency)
        for v in self.viewers:
            await v.open(self.port, self.ctx, self.token)

    async def settle(self) -> None:
        await self.caught_up()

    async def caught_up(self, timeout: float = 120) -> None:
        """Every viewer has been sent a row per pod created (so none lags into the next turn)."""
        deadline = time.monotonic() + timeout
        while any(v.rows < self.created for v in self.viewers):
            if time.monotonic() > deadline:
                raise SystemExit(f"viewers behind: {[v.rows for v in self.viewers]} of {self.created}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        for v in self.viewers:
            await v.close()
        for c in self.conns:
            c.close()


async def _run(
    servers: dict[bool, _Server], n: int, rounds: int, concurrency: int
) -> dict[bool, list[tuple[float, float]]]:
    for srv in servers.values():
        await srv.open(concurrency)
        await srv.creates(200)  # warm-up (imports, caches, the dashboard's first build): not counted
    out: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for r in range(rounds):
        order = (False, True) if r % 2 == 0 else (True, False)  # alternated: drift falls on both sides
        for viewed in order:
            out[viewed].append(await servers[viewed].creates(n))
    for srv in servers.values():
        await srv.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--viewers", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    servers: dict[bool, _Server] = {}
    try:
        servers[False] = _Server(0)
        servers[True] = _Server(args.viewers)
        runs = asyncio.run(_run(servers, args.n, args.rounds, args.concurrency))
    finally:
        for srv in servers.values():
            srv.stop()
    med = {
        v: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
        for v, rs in runs.items()
    }
    print(
        f"API server with {args.viewers} dashboard viewers attached and with none: {args.rounds} rounds of "
        f"{args.n} creates on each of two servers up at once, in alternated turns; medians"
    )
    for v in (False, True):
        print(
            f"  {'viewed' if v else 'unviewed'}: creates/s {[round(r[0]) for r in runs[v]]}, "
            f"CPU ms/create {[round(r[1], 3) for r in runs[v]]}"
        )
    rows = [
        [
            f"durable creates/s, concurrency {args.concurrency}",
            f"{med[False][0]:.0f}",
            f"{med[True][0]:.0f}",
            f"{med[True][0] / med[False][0]:.2f}x",
        ],
        [
            "server CPU per create (ms)",
            f"{med[False][1]:.3f}",
            f"{med[True][1]:.3f}",
            f"{med[False][1] / med[True][1]:.2f}x",
        ],
    ]
    print(table(rows, ["what", "no viewer", f"{args.viewers} viewers", "viewed / not (target >= 0.95x)"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
