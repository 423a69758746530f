"""Ingress figures, side by side in one run on a real cluster (`kubelite up --nodes 1`):
requests/s and latency through the agent's nginx (Host-routed Ingress on the node's port 80)
next to hitting one pod directly, and through the service's cluster IP (the nftables proxy);
with `--haproxy`, the same routing done by Debian's HAProxy on another port of the node, which
is how the proxy was chosen.

Load comes from Debian's `wrk`, run inside the node's network namespace (as a client on the
node would), `--connections` open connections for `--seconds` each. The pods run busybox
httpd serving a small page; every path ends at the same pods, so the differences are the
proxies. Run under the real-cluster lock: `flock /tmp/kl-real.lock .venv/bin/python bench/ingress.py`.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._cluster import KUBELITE, real_cluster
from bench._stats import table
from tests.objects import manifest, service, web_rc

NETNS = "/run/netns/kl-node-0"
INGRESS = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bench}
spec:
  rules:
  - host: bench.local
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: bench, port: {name: web}}}}
"""


def app(replicas: int) -> str:
    """`replicas` web pods, their Service and the Ingress routing bench.local to them."""
    web = manifest(
        web_rc("bench", replicas), service("bench", {"name": "web", "port": 80, "targetPort": "http"})
    )
    return f"{web}\n---{INGRESS}"


HAPROXY = """global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend web
    bind :%(port)d
    acl bench hdr(host) -i bench.local
    use_backend bench if bench
backend bench
    balance roundrobin
%(servers)s
"""


def kubectl(data: Path, *args: str, input: str | None = None) -> str:
    r = subprocess.run(
        [*KUBELITE, "kubectl", *args],
        capture_output=True,
        text=True,
        input=input,
        env={"KUBECONFIG": str(data / "server" / "kubeconfig.yaml"), "PATH": "/usr/bin:/bin"},
    )
    if r.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {r.stderr}")
    return r.stdout


def wait(cond: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.2)
    raise TimeoutError(what)


def in_node(*cmd: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nsenter", f"--net={NETNS}", *cmd], capture_output=True, text=True, timeout=timeout
    )


def wrk(url: str, seconds: int, connections: int, host: str = "") -> dict[str, float]:
    args = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if host:
        args += ["-H", f"Host: {host}"]
    out = in_node(*args, url, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)

    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    failed = int(errors.group(1)) if errors else 0
    if sock:
        failed += sum(int(x) for x in sock.groups())
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "failed": failed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--haproxy", action="store_true", help="also measure HAProxy doing the same routing")
    args = ap.parse_args()
    with real_cluster("bench-ingress-") as data:
        haproxy = None
        try:
            kubectl(data, "apply", "-f", "-", input=app(args.replicas))

            def ready_pods() -> list[dict[str, Any]]:
                pods = json.loads(kubectl(data, "get", "pods", "-l", "app=bench", "-o", "json"))["items"]
                ok = [
                    p
                    for p in pods
                    if any(
                        c["type"] == "Ready" and c["status"] == "True"
                        for c in p["status"].get("conditions") or []
                    )
                ]
                return ok if len(ok) == args.replicas else []

            try:
                pods = wait(ready_pods, 120, "ready pods")
            except TimeoutError:
                print(
                    kubectl(data, "get", "pods", "-o", "wide"), kubectl(data, "get", "nodes"), file=sys.stderr
                )
                for log in sorted((data / "logs").glob("*.log")):
                    print(f"--- {log.name}", log.read_text()[-2000:], file=sys.stderr)
                raise
            pod_ips = [p["status"]["podIP"] for p in pods]
            node_ip = json.loads(kubectl(data, "get", "nodes", "-o", "json"))["items"][0]["status"][
                "addresses"
            ][0]["address"]
            cluster_ip = json.loads(kubectl(data, "get", "svc", "bench", "-o", "json"))["spec"]["clusterIP"]
            wait(
                lambda: (
                    "bench-"
                    in in_node(
                        "busybox", "wget", "-qO-", "--header", "Host: bench.local", f"http://{node_ip}/"
                    ).stdout
                ),
                60,
                "the ingress answering",
            )
            paths = [
                ("pod directly (one pod)", f"http://{pod_ips[0]}:8080/", ""),
                ("service cluster IP (nftables)", f"http://{cluster_ip}/", ""),
                ("ingress: nginx on the node", f"http://{node_ip}/", "bench.local"),
            ]
            if args.haproxy:
                cfg = data / "haproxy.cfg"
                cfg.write_text(
                    HAPROXY
                    % {
                        "port": 8081,
                        "servers": "\n".join(f"    server p{i} {ip}:8080" for i, ip in enumerate(pod_ips)),
                    }
                )
                haproxy = subprocess.Popen(
                    ["nsenter", f"--net={NETNS}", "haproxy", "-db", "-f", str(cfg)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                wait(
                    lambda: (
                        in_node(
                            "busybox",
                            "wget",
                            "-qO-",
                            "--header",
                            "Host: bench.local",
                            f"http://{node_ip}:8081/",
                        ).returncode
                        == 0
                    ),
                    20,
                    "haproxy answering",
                )
                paths.append(("same routing: HAProxy 2.6", f"http://{node_ip}:8081/", "bench.local"))
            rows = []
            for label, url, host in paths:
                r = wrk(url, args.seconds, args.connections, host)
                rows.append(
                    [label, f"{r['rps']:9.0f}", f"{r['p50']:7.2f}", f"{r['p99']:7.2f}", int(r["failed"])]
                )
            print(
                f"{args.replicas} pods (busybox httpd), wrk -c {args.connections} for {args.seconds} s each, "
                "from the node's network namespace"
            )
            print(table(rows, ["path", "requests/s", "p50 ms", "p99 ms", "failed"]))
        finally:
            if haproxy is not None:
                haproxy.terminate()
                haproxy.wait(10)


if __name__ == "__main__":
    main()
