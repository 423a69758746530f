"""kubectl wall time, ours vs the real kubectl 1.33, against the same `kubelite server`.

Times `kubectl get pods` over 20 pods and `kubectl apply -f` of a 3-object manifest (an RC, a
service and a pod; alternating two versions so every run really patches), each command run as
a fresh process, median of N runs. Both clients run with warm caches (the real one caches
discovery and OpenAPI, ours the parsed kubeconfig). Target: ours <= 2x the real one.

    .venv/bin/python bench/kubectl.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stats import summary_ms, table

REPO = Path(__file__).resolve().parents[1]
OURS = [str(REPO / ".venv" / "bin" / "kubectl")]
REAL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"

MANIFEST = """apiVersion: v1
kind: ReplicationController
metadata:
  name: web
spec:
  replicas: 2
  selector:
    app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:VERSION
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: cache
  labels:
    version: "VERSION"
spec:
  containers:
  - name: cache
    image: busybox
    command: ["sleep", "3600"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ready(url: str) -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url + "/readyz", context=ctx, timeout=1) as r:
            return bool(r.read() == b"ok")
    except OSError:
        return False


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.decode()}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-kubectl-"))
    port = free_port()
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen([str(REPO / ".venv" / "bin" / "kubelite"), "server", "--data-dir", str(root / "data"),
                               "--listen", f"127.0.0.1:{port}", "--no-controllers", "--no-scheduler"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        kubeconfig = root / "data" / "kubeconfig.yaml"
        while not (kubeconfig.exists() and ready(f"https://127.0.0.1:{port}")):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("kubelite server did not start: " + (root / "server.log").read_text()[-2000:])
            time.sleep(0.05)
        env = dict(os.environ, KUBECONFIG=str(kubeconfig), KUBECACHEDIR=str(root / "ours-cache"))
        real = [REAL, "--cache-dir", str(root / "real-cache")]
        for ns in ("bench", "ours-apply", "real-apply"):
            subprocess.run([*OURS, "create", "namespace", ns], env=env, check=True, stdout=subprocess.DEVNULL)
        for i in range(20):
            subprocess.run([*OURS, "-n", "bench", "run", f"pod-{i}", "--image=busybox"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        manifests = []
        for v in ("1", "2"):
            path = root / f"app-{v}.yaml"
            path.write_text(MANIFEST.replace("VERSION", v))
            manifests.append(str(path))
        results = []
        for what, ours_cmd, real_cmd in (
            ("get pods (20 pods)", [*OURS, "-n", "bench", "get", "pods"], [*real, "-n", "bench", "get", "pods"]),
            ("apply -f (3 objects)", [*OURS, "-n", "ours-apply", "apply", "-f"],
             [*real, "-n", "real-apply", "apply", "-f"]),
        ):
            samples: dict[str, list[float]] = {"ours": [], "real": []}
            for i in range(args.runs + 1):  # the first run of each warms caches and is not counted
                extra = [manifests[i % 2]] if "apply" in what else []
                o = timed(ours_cmd + extra, env)
                r = timed(real_cmd + extra, env)
                if i:
                    samples["ours"].append(o)
                    samples["real"].append(r)
            mo, mr = statistics.median(samples["ours"]), statistics.median(samples["real"])
            results.append((what, f"{mo * 1000:.1f} ms", f"{mr * 1000:.1f} ms", f"{mo / mr:.2f}x"))
            print(f"{what}: ours {summary_ms(samples['ours'])}")
            print(f"{what}: real {summary_ms(samples['real'])}")
        print()
        print(table(results, ["command", "ours (median)", "real kubectl 1.33 (median)", "ratio (target <= 2x)"]))
        return 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
