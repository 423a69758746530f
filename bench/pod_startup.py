"""Pod start-up latency through the whole stack, beside `podman kube play` of the same pod.

A one-node cluster (`kubelite up --nodes 1`) on this machine; each round POSTs a 2-container
pod (busybox httpd on 8080 + a sleeping busybox) and measures, from the POST: all containers
running (seen on a watch) and the first HTTP 200 from the pod's IP (the host routes to the
node's pod CIDR). Then the same pod through `podman kube play` to its first HTTP 200, when
podman is installed (configured as RUNTIME-FACTS.md says). Targets: p50 <= 200 ms,
p99 <= 500 ms, <= 0.5x podman.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.client import Client
from api.config import from_kubeconfig
from bench._cluster import KUBELITE, real_cluster
from bench._stats import percentile, summary_ms, table

WEB_IMAGE = "kubelite/web:1.0"
BUSYBOX = "busybox:1.35"


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"bench": "startup"}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {"name": "web", "image": WEB_IMAGE, "ports": [{"containerPort": 8080}]},
                {"name": "sidecar", "image": BUSYBOX, "command": ["sleep", "3600"]},
            ],
        },
    }


def http_200(ip: str, port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection(ip, port, timeout=0.5)
            c.request("GET", "/")
            if c.getresponse().status == 200:
                return True
        except OSError:
            time.sleep(0.002)
    return False


def kubelite_rounds(n: int, data: Path) -> tuple[list[float], list[float]]:
    c = Client(from_kubeconfig([data / "server" / "kubeconfig.yaml"]))
    to_running, to_http = [], []
    for i in range(n):
        name = f"startup-{i}"
        rv = c.list("pods", "default")["metadata"]["resourceVersion"]
        t0 = time.monotonic()
        c.create("pods", pod(name), "default")
        ip = ""
        for ev in c.watch(
            "pods", "default", resource_version=rv, field_selector=f"metadata.name={name}", timeout_seconds=60
        ):
            st = ev["object"].get("status") or {}
            states = [cs.get("state", {}) for cs in st.get("containerStatuses") or []]
            if len(states) == 2 and all("running" in s for s in states) and st.get("podIP"):
                ip = st["podIP"]
                to_running.append(time.monotonic() - t0)
                break
        if ip and http_200(ip, 8080, time.monotonic() + 30):
            to_http.append(time.monotonic() - t0)
        c.delete("pods", name, "default", grace_period_seconds=0)
    return to_running, to_http


PODMAN_CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
"""


def podman_rounds(n: int) -> list[float] | None:
    if shutil.which("podman") is None:
        return None
    with tempfile.TemporaryDirectory(prefix="bench-podman-") as d:
        conf = Path(d) / "containers.conf"
        conf.write_text(PODMAN_CONF)
        env = dict(os.environ, CONTAINERS_CONF=str(conf))
        archive = Path(d) / "images.tar"
        subprocess.run([*KUBELITE, "runtime", "save", "-o", str(archive), WEB_IMAGE, BUSYBOX], check=True)
        subprocess.run(["podman", "load", "-i", str(archive)], check=True, env=env, capture_output=True)
        manifest = Path(d) / "pod.yaml"
        manifest.write_text(json.dumps(pod("podbench")))
        times = []
        subprocess.run(
            ["podman", "kube", "down", str(manifest)], env=env, capture_output=True
        )  # a leftover run
        for _ in range(n):
            t0 = time.monotonic()
            r = subprocess.run(
                ["podman", "kube", "play", str(manifest)], env=env, capture_output=True, text=True
            )
            if r.returncode != 0:
                print("podman kube play failed:", r.stderr.strip()[:300])
                return None
            ip = subprocess.run(
                [
                    "podman",
                    "inspect",
                    "-f",
                    "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                    "podbench-web",
                ],
                env=env,
                capture_output=True,
                text=True,
            ).stdout.strip()
            if ip and http_200(ip, 8080, time.monotonic() + 30):
                times.append(time.monotonic() - t0)
            subprocess.run(["podman", "kube", "down", str(manifest)], env=env, capture_output=True)
        return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--podman-rounds", type=int, default=5)
    args = ap.parse_args()
    with real_cluster("bench-startup-") as data:
        running, to_http = kubelite_rounds(args.rounds, data)
    podman = podman_rounds(args.podman_rounds)
    rows = [
        ["kubelite: POST -> all containers running", summary_ms(running) if running else "-"],
        ["kubelite: POST -> HTTP 200 from pod IP", summary_ms(to_http) if to_http else "-"],
    ]
    if podman:
        rows.append(["podman kube play -> HTTP 200", summary_ms(podman)])
        with contextlib.suppress(ValueError, ZeroDivisionError):
            rows.append(
                [
                    "ratio (p50 HTTP 200, kubelite / podman)",
                    f"{percentile(to_http, 50) / percentile(podman, 50):.2f}x  (target <= 0.5x)",
                ]
            )
    print("pod start-up, 2 containers (targets: p50 <= 200 ms, p99 <= 500 ms)")
    print(table(rows, ["what", "figure"]))


if __name__ == "__main__":
    main()
