"""What an admission webhook costs a write, beside the same writes with none configured.

    .venv/bin/python bench/webhooks.py [-n 2000] [--concurrency 16]

One `kubelite server` (SQLite, durable); ConfigMaps created over keep-alive HTTPS connections
(bench/api.py's client), in three rounds on the same server:
1. no webhook configured (the reference: what the write path costs without the feature);
2. a ValidatingWebhookConfiguration on configmaps that allows everything;
3. a MutatingWebhookConfiguration on configmaps that adds a label by JSONPatch (the validating
   one removed).
The webhook is a real HTTPS server in this process (tests/apiserver/webhook_server.py, a
threaded http.server: its own CPU is not the API server's, but it shares the machine's cores and
answers a few hundred reviews a second, which bounds the webhook rounds' creates/s). The figure
that is kubelite's is the API server's CPU per create. Printed per round: creates/s, that CPU,
the ratios to the first round, and for the mutating round whether the stored objects carry the
label (the round counts only if the webhook ran).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from bench._cluster import cpu_seconds, free_port, stop
from bench._stats import machine_speed_ms, table
from bench.api import Conn, start_server
from tests.apiserver.webhook_server import webhook_server


def configuration(kind: str, path: str, hook: Any) -> bytes:
    return json.dumps(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": kind,
            "metadata": {"name": "bench"},
            "webhooks": [
                {
                    "name": "bench.kubelite.io",
                    "clientConfig": {"url": hook.url(path), "caBundle": hook.ca_bundle},
                    "rules": [
                        {
                            "operations": ["CREATE"],
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "resources": ["configmaps"],
                        }
                    ],
                    "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                    "failurePolicy": "Fail",
                }
            ],
        }
    ).encode()


async def creates(conns: list[Conn], prefix: str, n: int) -> float:
    """Create n ConfigMaps over the connections; wall seconds."""

    async def worker(k: int) -> None:
        for i in range(k, n, len(conns)):
            body = json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"{prefix}-{i}"},
                    "data": {"k": "v"},
                }
            ).encode()
            status, answer = await conns[k].request(b"POST", b"/api/v1/namespaces/default/configmaps", body)
            if status != 201:
                raise SystemExit(f"create failed: {status} {answer[:300]!r}")

    t = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(len(conns))))
    return time.perf_counter() - t


async def run(n: int, concurrency: int, tmp: Path) -> list[tuple[str, ...]]:
    port = free_port()
    proc = start_server(tmp / "data", port, None)
    rows: list[tuple[str, ...]] = []
    try:
        token = yaml.safe_load((tmp / "data" / "kubeconfig.yaml").read_text())["users"][0]["user"]["token"]
        ctx = ssl._create_unverified_context()
        conns = [await Conn.open("127.0.0.1", port, ctx, token) for _ in range(concurrency)]
        with webhook_server(tmp) as hook:
            base: tuple[float, float] | None = None
            rounds = [
                ("no webhook (reference)", None, None),
                ("validating webhook, allows", "validatingwebhookconfigurations", "/allow"),
                ("mutating webhook, adds a label", "mutatingwebhookconfigurations", "/label"),
            ]
            for i, (label, plural, path) in enumerate(rounds):
                configured = []
                if plural is not None:
                    kind = (
                        "ValidatingWebhookConfiguration"
                        if plural.startswith("v")
                        else "MutatingWebhookConfiguration"
                    )
                    url = f"/apis/admissionregistration.k8s.io/v1/{plural}".encode()
                    status, answer = await conns[0].request(
                        b"POST", url, configuration(kind, path or "", hook)
                    )
                    assert status == 201, answer
                    configured.append(url + b"/bench")
                    # the server's mirror follows its watch: wait until a create is offered to the hook
                    before = len(hook.calls)
                    while len(hook.calls) == before:
                        await creates(conns[:1], f"warm{i}-{time.monotonic_ns()}", 1)
                cpu0 = cpu_seconds(proc.pid)
                wall = await creates(conns, f"r{i}", n)
                cpu = (cpu_seconds(proc.pid) - cpu0) / n * 1000
                rate = n / wall
                base = base or (rate, cpu)
                note = f"{rate / base[0]:.2f}x the rate, {cpu / base[1]:.2f}x the CPU"
                if path == "/label":
                    status, answer = await conns[0].request(
                        b"GET", f"/api/v1/namespaces/default/configmaps/r{i}-0".encode()
                    )
                    labelled = (json.loads(answer)["metadata"].get("labels") or {}).get(
                        "mutated-by"
                    ) == "webhook"
                    note += "; stored objects labelled" if labelled else "; LABEL MISSING"
                rows.append((label, f"{rate:,.0f}/s", f"{cpu:.3f} ms", note))
                for url in configured:
                    await conns[0].request(b"DELETE", url)
        for c in conns:
            c.close()
    finally:
        stop(proc)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    a = ap.parse_args()
    speed = machine_speed_ms()
    tmp = Path(tempfile.mkdtemp(prefix="kl-bench-webhooks-"))
    try:
        rows = asyncio.run(run(a.n, a.concurrency, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"admission webhooks: {a.n} ConfigMap creates per round, {a.concurrency} connections (machine speed {speed:.0f} ms)"
    )
    print(table(rows, ("round", "creates", "server CPU per create", "against the reference")))


if __name__ == "__main__":
    main()
