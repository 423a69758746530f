"""Reference write rates of the etcd cluster itself, for the API bench's etcd column.

Two figures, both with the bench's pod body as the value and on the same cluster in the same
run as the API server's creates:
- `etcdctl put`: the stock client, one process per put with several processes at once (so
  it includes Go process start-up; it is the rate an operator sees from a shell loop);
- raw create txns: kubelite's own etcd client (the one the store uses) at the API bench's
  concurrency, compare-create_revision-then-put exactly as a store create, no API server.
  The API server's creates/s divided by this is the API server's own overhead on etcd.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from apiserver.storage.etcd_client import EtcdClient, b64
from tests.storage.etcd_cluster import ETCDCTL, EtcdCluster


def etcdctl_put_rate(cluster: EtcdCluster, n: int, value: bytes, processes: int = 8) -> float:
    """Puts/s of `etcdctl put` run `n` times, `processes` at a time."""
    env = {"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"}

    def put(i: int) -> None:
        subprocess.run(
            [
                ETCDCTL,
                f"--endpoints={cluster.endpoints}",
                "--command-timeout=10s",
                "put",
                f"/bench/etcdctl/{i}",
            ],
            input=value,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    t = time.perf_counter()
    with ThreadPoolExecutor(processes) as pool:
        list(pool.map(put, range(n)))
    return n / (time.perf_counter() - t)


async def _raw_creates(cluster: EtcdCluster, n: int, value: bytes, concurrency: int) -> float:
    client = EtcdClient(cluster.endpoints.split(","), pool_size=concurrency)
    queue = list(range(n))
    encoded = b64(value)

    async def worker() -> None:
        while queue:
            key = b64(f"/bench/raw/{queue.pop()}")
            resp = await client.call(
                "/v3/kv/txn",
                {
                    "compare": [{"key": key, "target": "CREATE", "create_revision": "0"}],
                    "success": [{"request_put": {"key": key, "value": encoded}}],
                },
            )
            if not resp.get("succeeded"):
                raise RuntimeError("raw create found its key taken")

    try:
        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - t)
    finally:
        await client.close()


def raw_create_rate(cluster: EtcdCluster, n: int, value: bytes, concurrency: int) -> float:
    return asyncio.run(_raw_creates(cluster, n, value, concurrency))
