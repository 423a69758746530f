"""What NetworkPolicy enforcement costs a node per rebuild, beside what nft itself takes to apply it.

    .venv/bin/python bench/netpol.py [--pods 1000] [--nodes 10] [--policies 100]

A synthetic cluster (pods spread over nodes and namespaces, labelled by app and tier, a named
port each) and a mix of policies as manifests carry them: deny-all per namespace, allow-from-label
on a named port, namespaceSelector peers, ipBlocks with excepts, egress with a port range. For one
node, the agent's loop (`kubelet.netpol.enforcer`) recomputes the whole table on every relevant
change: measured here is that computation (`rules.pod_addrs` + `rules.ruleset`, median of runs),
and beside it, in the same run, the reference: the real `nft -f` applying the same body in a
scratch network namespace (the kernel's and nft's share, which kubelite cannot make cheaper), and
the service proxy's table for as many services as policies (the other table the agent rebuilds).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stats import machine_speed_ms, table
from kubelet.netpol.rules import TABLE, pod_addrs, ruleset
from kubelet.proxy import rules as proxy_rules

APPS = ("web", "api", "db", "cache", "queue")


def cluster(pods: int, nodes: int, namespaces: int) -> list[dict[str, Any]]:
    out = []
    for i in range(pods):
        out.append(
            {
                "metadata": {
                    "name": f"p{i}",
                    "namespace": f"ns{i % namespaces}",
                    "labels": {"app": APPS[i % len(APPS)], "tier": f"t{i % 3}"},
                },
                "spec": {
                    "nodeName": f"n{i % nodes}",
                    "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8000 + i % 7}]}],
                },
                "status": {"podIP": f"10.42.{i // 250}.{i % 250 + 2}", "phase": "Running"},
            }
        )
    return out


def policies(count: int, namespaces: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        ns, app = f"ns{i % namespaces}", APPS[i % len(APPS)]
        kind = i % 4
        spec: dict[str, Any]
        if kind == 0:
            spec = {"podSelector": {}}
        elif kind == 1:
            spec = {
                "podSelector": {"matchLabels": {"app": app}},
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"tier": "t1"}}}], "ports": [{"port": "http"}]}
                ],
            }
        elif kind == 2:
            spec = {
                "podSelector": {"matchLabels": {"app": app}},
                "ingress": [
                    {
                        "from": [
                            {"namespaceSelector": {"matchLabels": {"team": f"x{i % 3}"}}},
                            {"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]}},
                        ]
                    }
                ],
            }
        else:
            spec = {
                "podSelector": {"matchLabels": {"tier": "t0"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": 5432}]},
                    {"ports": [{"protocol": "UDP", "port": 5000, "endPort": 5100}]},
                ],
            }
        out.append({"metadata": {"name": f"np{i}", "namespace": ns}, "spec": spec})
    return out


def services(count: int, pods: list[dict[str, Any]]) -> list[proxy_rules.ServicePort]:
    ips = [p["status"]["podIP"] for p in pods]
    return [
        proxy_rules.ServicePort(
            "default",
            f"s{i}",
            "",
            "tcp",
            f"10.96.{i // 250}.{i % 250 + 1}",
            80,
            0,
            tuple((ips[(i * 10 + j) % len(ips)], 8080) for j in range(10)),
        )
        for i in range(count)
    ]


def timed(fn: Any, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def nft_apply_ms(body: str, name: str, runs: int) -> float:
    """Median time of `nft -f` replacing the table with `body`, in a scratch network namespace."""
    netns = f"kl-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        script = f"table ip {name}\ndelete table ip {name}\ntable ip {name} {{\n{body}}}\n"

        def apply() -> None:
            subprocess.run(
                ["ip", "netns", "exec", netns, "nft", "-f", "-"], input=script, text=True, check=True
            )

        return timed(apply, runs)
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--nodes", type=int, default=10)
    ap.add_argument("--namespaces", type=int, default=20)
    ap.add_argument("--policies", type=int, default=100)
    ap.add_argument("--runs", type=int, default=15)
    a = ap.parse_args()
    speed = machine_speed_ms()
    pods, pols = cluster(a.pods, a.nodes, a.namespaces), policies(a.policies, a.namespaces)
    ns_labels = {f"ns{i}": {"team": f"x{i % 3}"} for i in range(a.namespaces)}
    body = ruleset(pols, pod_addrs(pods), ns_labels, "n0", "10.96.0.10")
    compute = timed(lambda: ruleset(pols, pod_addrs(pods), ns_labels, "n0", "10.96.0.10"), a.runs)
    ports = services(a.policies, pods)
    proxy_body = proxy_rules.ruleset(ports)
    proxy_compute = timed(lambda: proxy_rules.ruleset(ports), a.runs)
    rows = [
        (
            "kubelite: NetworkPolicy table computed (pods + policies -> body)",
            f"{compute:.1f} ms",
            f"{body.count(chr(10))} lines, {len(body) // 1024} KiB",
        ),
        (
            "reference: nft -f applying that body (scratch netns)",
            f"{nft_apply_ms(body, TABLE, a.runs):.1f} ms",
            "",
        ),
        (
            f"kubelite: service proxy table computed, {a.policies} services x 10 endpoints",
            f"{proxy_compute:.1f} ms",
            f"{proxy_body.count(chr(10))} lines",
        ),
        (
            "reference: nft -f applying the proxy's body",
            f"{nft_apply_ms(proxy_body, 'kl-bench-proxy', a.runs):.1f} ms",
            "",
        ),
    ]
    print(
        f"NetworkPolicy rebuild on one of {a.nodes} nodes: {a.pods} pods in {a.namespaces} namespaces, "
        f"{a.policies} policies (median of {a.runs}; machine speed {speed:.0f} ms)"
    )
    print(table(rows, ("what", "time", "size")))


if __name__ == "__main__":
    main()
