"""The cost of authorization: durable creates/s through HTTPS by a ServiceAccount token that RBAC
must judge, with 1,000 RoleBindings in the cluster, side by side with the admin (system:masters,
which RBAC does not consult) in the same run against the same server.

    .venv/bin/python bench/rbac.py [-n 3000] [--concurrency 32] [--bindings 1000]

What the token's requests pay on top of the admin's: JWT verification (ES256), the bound
ServiceAccount's existence check, and the RBAC decision (the bindings that name the account,
its groups and `system:authenticated`, from an index: the other bindings cost nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._cluster import server
from bench._stats import summary_ms, table
from bench.api import Conn, creates


def setup(data: Path, bindings: int) -> str:
    """1,000 RoleBindings over 20 namespaces (one of them grants `edit` to the bench account); returns
    the account's token."""
    from api.client import Client
    from api.config import from_kubeconfig

    with Client(from_kubeconfig([data / "kubeconfig.yaml"])) as c:
        for i in range(20):
            c.create("namespaces", {"metadata": {"name": f"team-{i}"}})
        c.create("serviceaccounts", {"metadata": {"name": "bench"}}, "default")
        grant = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}
        c.create(
            "rolebindings",
            {
                "metadata": {"name": "bench-edit"},
                "roleRef": grant,
                "subjects": [{"kind": "ServiceAccount", "name": "bench", "namespace": "default"}],
            },
            "default",
        )
        for i in range(bindings - 1):
            ns = f"team-{i % 20}"
            c.create(
                "rolebindings",
                {
                    "metadata": {"name": f"rb-{i}"},
                    "roleRef": grant,
                    "subjects": [
                        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": f"user-{i}"},
                        {"kind": "ServiceAccount", "name": f"sa-{i}", "namespace": ns},
                    ],
                },
                ns,
            )
        answer = c.create(
            "serviceaccounts",
            {"spec": {"expirationSeconds": 7200}},
            "default",
            subresource="token",
            name="bench",
        )
        return str(answer["status"]["token"])


async def measure(
    port: int, ca: Path, token: str, n: int, concurrency: int, prefix: str
) -> tuple[float, list[float]]:
    ctx = ssl.create_default_context(cafile=str(ca))
    conns = [await Conn.open("127.0.0.1", port, ctx, token) for _ in range(concurrency)]
    await creates(conns, [f"{prefix}warm-{i}" for i in range(200)])
    wall, lat = await creates(conns, [f"{prefix}{i}" for i in range(n)])
    for c in conns:
        c.close()
    return n / wall, lat


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("-n", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--bindings", type=int, default=1000)
    args = p.parse_args()
    with server("--no-controllers", "--no-scheduler") as (data, _proc):
        port = int((data / "kubeconfig.yaml").read_text().split("127.0.0.1:")[1].split()[0])
        token = setup(data, args.bindings)
        admin = (data / "admin-token").read_text().strip()
        ca = data / "tls" / "ca.crt"
        rows: list[list[str]] = []
        results = {}
        for who, tok in (
            ("admin (system:masters)", admin),
            (f"ServiceAccount token, {args.bindings} RoleBindings", token),
            ("admin again", admin),
            ("ServiceAccount token again", token),
        ):
            rate, lat = asyncio.run(measure(port, ca, tok, args.n, args.concurrency, f"{len(rows)}-"))
            results[who] = rate
            rows.append([who, f"{rate:,.0f}/s", summary_ms(lat)])
        print(table(rows, [f"creates through HTTPS, concurrency {args.concurrency}", "rate", "latency"]))
        admin_rate = (results["admin (system:masters)"] + results["admin again"]) / 2
        sa_rate = (
            results[f"ServiceAccount token, {args.bindings} RoleBindings"]
            + results["ServiceAccount token again"]
        ) / 2
        print(f"\nauthorized / admin throughput: {sa_rate / admin_rate:.2f}x (target >= 0.90x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
