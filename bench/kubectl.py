"""kubectl wall time, ours vs the real kubectl 1.33, against the same `kubelite server`.

Times `kubectl get pods` over 20 pods and `kubectl apply -f` of a 3-object manifest (an RC, a
service and a pod: the tests' `RC_AND_SERVICE`, alternating two images of the RC so every run
really patches), each command run as
a fresh process, median of N runs. Both clients run with warm caches (the real one caches
discovery and OpenAPI, ours the parsed kubeconfig). Target: ours <= 2x the real one.

    .venv/bin/python bench/kubectl.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._cluster import server
from bench._stats import summary_ms, table
from tests.kubectl.helpers import RC_AND_SERVICE

REPO = Path(__file__).resolve().parents[1]
OURS = [str(REPO / ".venv" / "bin" / "kubectl")]
REAL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"


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
    with server("--no-controllers", "--no-scheduler") as (root, _):
        kubeconfig = root / "kubeconfig.yaml"
        env = dict(os.environ, KUBECONFIG=str(kubeconfig), KUBECACHEDIR=str(root / "ours-cache"))
        real = [REAL, "--cache-dir", str(root / "real-cache")]
        for ns in ("bench", "ours-apply", "real-apply"):
            subprocess.run([*OURS, "create", "namespace", ns], env=env, check=True, stdout=subprocess.DEVNULL)
        for i in range(20):
            subprocess.run(
                [*OURS, "-n", "bench", "run", f"pod-{i}", "--image=busybox"],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        manifests = []
        for v in ("1", "2"):
            path = root / f"app-{v}.yaml"
            path.write_text(RC_AND_SERVICE.replace("image: nginx\n", f"image: nginx:1.2{v}\n"))
            manifests.append(str(path))
        results = []
        for what, ours_cmd, real_cmd in (
            (
                "get pods (20 pods)",
                [*OURS, "-n", "bench", "get", "pods"],
                [*real, "-n", "bench", "get", "pods"],
            ),
            (
                "apply -f (3 objects)",
                [*OURS, "-n", "ours-apply", "apply", "-f"],
                [*real, "-n", "real-apply", "apply", "-f"],
            ),
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
        print(
            table(results, ["command", "ours (median)", "real kubectl 1.33 (median)", "ratio (target <= 2x)"])
        )
        return 0


if __name__ == "__main__":
    sys.exit(main())
