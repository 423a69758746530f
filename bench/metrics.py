"""What the API server's Prometheus metrics cost: durable creates/s and sequential GETs/s of one
`kubelite server` with metrics (the default) against one with `KUBELITE_METRICS=0`, in the same run.

    .venv/bin/python bench/metrics.py [-n 1000] [--concurrency 32] [--rounds 6]

Both servers run at once and are measured in alternated turns, so the machine's drift falls on
both. The target (issue 12): with metrics >= 0.95x of without.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._servers import MeasuredServer
from bench._stats import table


class _Server(MeasuredServer):
    """One `kubelite server` with metrics on or off."""

    def __init__(self, metrics: bool) -> None:
        self.metrics = metrics
        os.environ["KUBELITE_METRICS"] = "1" if metrics else "0"  # read by the server it starts
        super().__init__("kubelite-bench-metrics-")

    async def gets(self, n: int) -> float:
        t = time.perf_counter()
        for i in range(n):
            st, _ = await self.conns[0].request(
                b"GET", f"/api/v1/namespaces/default/pods/p-{i % self.created}".encode()
            )
            assert st == 200
        return n / (time.perf_counter() - t)


async def _run(
    servers: dict[bool, _Server], n: int, rounds: int, concurrency: int
) -> dict[bool, list[tuple[float, float, float]]]:
    for srv in servers.values():
        await srv.open(concurrency)
        await srv.creates(200)  # warm-up (imports, caches): not counted
    out: dict[bool, list[tuple[float, float, float]]] = {True: [], False: []}
    for r in range(rounds):
        order = (False, True) if r % 2 == 0 else (True, False)  # alternated: drift falls on both sides
        for m in order:
            rate, cpu_ms = await servers[m].creates(n)
            out[m].append((rate, await servers[m].gets(min(n, 1000)), cpu_ms))
    st, _ = await servers[True].conns[0].request(b"GET", b"/metrics")
    assert st == 200
    st, _ = await servers[False].conns[0].request(b"GET", b"/metrics")
    assert st == 404
    for srv in servers.values():
        for c in srv.conns:
            c.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    servers: dict[bool, _Server] = {}
    try:
        for m in (False, True):  # both up at once, measured in turns
            servers[m] = _Server(m)
        runs = asyncio.run(_run(servers, args.n, args.rounds, args.concurrency))
    finally:
        for srv in servers.values():
            srv.stop()
    med = {m: tuple(statistics.median(r[i] for r in rs) for i in range(3)) for m, rs in runs.items()}
    rows = [
        [
            f"durable creates/s, concurrency {args.concurrency}",
            f"{med[False][0]:.0f}",
            f"{med[True][0]:.0f}",
            f"{med[True][0] / med[False][0]:.2f}x",
        ],
        [
            "GET one pod/s (sequential)",
            f"{med[False][1]:.0f}",
            f"{med[True][1]:.0f}",
            f"{med[True][1] / med[False][1]:.2f}x",
        ],
        [
            "server CPU per create (ms)",
            f"{med[False][2]:.3f}",
            f"{med[True][2]:.3f}",
            f"{med[False][2] / med[True][2]:.2f}x",
        ],
    ]
    print(
        f"API server with and without /metrics: {args.rounds} rounds of {args.n} creates and 1000 GETs on each of two "
        f"servers up at once, in alternated turns; medians"
    )
    for m in (False, True):
        print(
            f"  metrics {'on ' if m else 'off'}: creates/s {[round(r[0]) for r in runs[m]]}, "
            f"GETs/s {[round(r[1]) for r in runs[m]]}, CPU ms/create {[round(r[2], 3) for r in runs[m]]}"
        )
    print(table(rows, ["what", "KUBELITE_METRICS=0", "metrics on", "on / off (target >= 0.95x)"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
