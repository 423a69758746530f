"""Storage bench: durable creates through the Store vs raw sqlite3 with the same durability.

Prints creates/s and p50/p99 through `Store.create` at a given concurrency (default 5000 pods,
~1.5 KB each, 32 concurrent), LIST of all of them and GET latency, and — in the same run, on
the same disk — the raw stdlib sqlite3 insert rate of the same JSON bytes with WAL +
synchronous=FULL, one row per transaction and in batches of 100. Read the ratios: group commit
should beat one-row-per-transaction by a wide margin and approach the batched rate.

`raw_sqlite_rates(n, payload)` is importable (bench/api.py uses it for its own ratios).

    python bench/storage.py [-n 5000] [-c 32] [--datastore URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import jsonutil
from apiserver.storage import open_store
from bench._stats import percentile, summary_ms, table


def sample_pod(i: int) -> dict[str, Any]:
    """A pod as the API server stores it (~1.5 KB serialised)."""
    name = f"bench-{i:06d}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"6a1f0c2e-0000-4000-8000-{i:012d}",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "generation": 1,
            "labels": {"app": "bench", "tier": "backend", "release": "stable", "shard": str(i % 16)},
            "annotations": {"kubelite.io/note": "x" * 200},
            "managedFields": [
                {
                    "manager": "bench",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": "2026-01-01T00:00:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
                }
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "docker.io/library/busybox:1.36",
                    "command": ["sh", "-c", "while true; do echo hello; sleep 10; done"],
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [{"name": f"VAR_{k}", "value": f"value-{k}"} for k in range(6)],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "64Mi"},
                        "limits": {"cpu": "500m", "memory": "128Mi"},
                    },
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "schedulerName": "default-scheduler",
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
            ],
            "priority": 0,
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    }


def _raw_db(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
    return conn


def raw_sqlite_rates(
    n: int, payload: bytes, batch: int = 100, single_n: int | None = None
) -> dict[str, float]:
    """Rows/s of plain stdlib sqlite3 inserts of `payload` (WAL, synchronous=FULL), on a temp
    file next to the working directory's disk: one row per transaction (`single_per_s`, over
    `single_n` rows, default min(n, 2000) as each costs an fsync) and `batch` rows per
    transaction (`batch_per_s`, over n rows)."""
    single_n = min(n, 2000) if single_n is None else single_n
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=os.getcwd(), prefix=".bench-raw-") as d:
        conn = _raw_db(os.path.join(d, "single.db"))
        t0 = time.perf_counter()
        for i in range(single_n):
            conn.execute("BEGIN")
            conn.execute("INSERT INTO kv VALUES (?, ?)", (f"/registry/pods/default/p{i}", payload))
            conn.execute("COMMIT")
        out["single_per_s"] = single_n / (time.perf_counter() - t0)
        conn.close()
        conn = _raw_db(os.path.join(d, "batch.db"))
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO kv VALUES (?, ?)",
                [(f"/registry/pods/default/p{i}", payload) for i in range(start, min(n, start + batch))],
            )
            conn.execute("COMMIT")
        out["batch_per_s"] = n / (time.perf_counter() - t0)
        conn.close()
    return out


async def store_rates(url: str, n: int, concurrency: int) -> dict[str, Any]:
    store = open_store(url, compact_interval=0)
    await store.start()
    pods = [sample_pod(i) for i in range(n)]
    latencies: list[float] = []
    next_i = 0

    async def worker() -> None:
        nonlocal next_i
        while next_i < n:
            i = next_i
            next_i += 1
            t = time.perf_counter()
            await store.create(f"/registry/pods/default/{pods[i]['metadata']['name']}", pods[i])
            latencies.append(time.perf_counter() - t)

    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
        stats = store.stats
        list_times = []
        for _ in range(3):
            t = time.perf_counter()
            _, items = await store.list("/registry/pods/")
            list_times.append(time.perf_counter() - t)
        get_lat = []
        for i in range(0, n, max(1, n // 500)):
            t = time.perf_counter()
            await store.get(f"/registry/pods/default/{pods[i]['metadata']['name']}")
            get_lat.append(time.perf_counter() - t)
        return {
            "rate": n / elapsed,
            "latencies": latencies,
            "transactions": stats.transactions,
            "writes": stats.writes,
            "list_s": min(list_times),
            "list_n": len(items),
            "list_bytes": sum(len(kv.value) for kv in items),
            "get_latencies": get_lat,
        }
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("-c", "--concurrency", type=int, default=32)
    ap.add_argument("--datastore", default=None, help="default: a SQLite file in a temp dir")
    args = ap.parse_args(argv)
    payload = jsonutil.dumps(sample_pod(0))
    with tempfile.TemporaryDirectory(dir=os.getcwd(), prefix=".bench-store-") as d:
        url = args.datastore or f"sqlite:///{d}/state.db"
        s = asyncio.run(store_rates(url, args.n, args.concurrency))
    raw = raw_sqlite_rates(args.n, payload)
    print(
        f"storage bench: {args.n} pods of {len(payload)} B, concurrency {args.concurrency}, "
        f"{url.split(':')[0]}" + (" (WAL, synchronous=FULL)" if url.startswith("sqlite") else "")
    )
    print(
        table(
            [
                ["Store.create (group commit)", f"{s['rate']:.0f}", "1.00"],
                [
                    "raw sqlite3, 1 row/txn",
                    f"{raw['single_per_s']:.0f}",
                    f"{s['rate'] / raw['single_per_s']:.2f}",
                ],
                [
                    "raw sqlite3, 100 rows/txn",
                    f"{raw['batch_per_s']:.0f}",
                    f"{s['rate'] / raw['batch_per_s']:.2f}",
                ],
            ],
            ["writer", "rows/s", "Store / this"],
        )
    )
    print(f"create latency: {summary_ms(s['latencies'])}")
    print(
        f"transactions: {s['transactions']} for {s['writes']} writes "
        f"({s['writes'] / max(1, s['transactions']):.1f} per commit)"
    )
    print(f"list {s['list_n']} pods: {s['list_s'] * 1000:.1f} ms, {s['list_bytes'] / 1e6:.1f} MB")
    print(f"get latency: {summary_ms(s['get_latencies'])}")
    print(
        f"targets: store creates/s well over 5000 -> {'ok' if s['rate'] >= 5000 else 'MISSED'}; "
        f"list 5000 in tens of ms -> {'ok' if s['list_s'] < 0.1 else 'MISSED'}; "
        f"p99 create {percentile(s['latencies'], 99) * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
