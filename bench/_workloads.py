"""Deployment vs replication controller, side by side on one control plane (bench/control_plane.py
--workload deployment).

Two figures each, same server, same hollow nodes, same pod count, one after the other:
- scale-up: RC 0 -> N pods Running; Deployment 0 -> N pods Running and status Available;
- replacement of every pod: for the RC path a new RC scaled 0 -> N while the old one goes N -> 0
  (what `kubectl rolling-update` amounts to, without its client-side pacing); for the Deployment
  `set image`-style template change rolled out (maxSurge 25%, maxUnavailable 25%) until the
  Deployment is complete and no old pod is left.
Pods are followed with one watch; the Deployment's own status is read when its pods are there.
Target: the Deployment within 1.3x of the RC's time for both.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from api.client import Client
from bench._stats import table
from tests import objects

Obj = dict[str, Any]
BUSYBOX = "busybox:1.35"


class PodWatch:
    """Live pods by name (app label, image, phase) from one watch, resumed across its timeouts."""

    def __init__(self, c: Client) -> None:
        self.c = c
        self.rv = c.list("pods", "default", limit=1)["metadata"]["resourceVersion"]
        self.pods: dict[str, tuple[str, str, str]] = {}

    def until(self, done: Callable[[dict[str, tuple[str, str, str]]], bool], limit: float = 600) -> float:
        t0 = time.monotonic()
        while not done(self.pods):
            if time.monotonic() - t0 > limit:
                raise TimeoutError("workload did not converge")
            for ev in self.c.watch("pods", "default", resource_version=self.rv, timeout_seconds=5):
                obj = ev["object"]
                self.rv = obj["metadata"]["resourceVersion"]
                if ev["type"] == "BOOKMARK":
                    continue
                name = obj["metadata"]["name"]
                if ev["type"] == "DELETED" or obj["metadata"].get("deletionTimestamp"):
                    self.pods.pop(name, None)
                else:
                    self.pods[name] = (
                        (obj["metadata"].get("labels") or {}).get("app", ""),
                        obj["spec"]["containers"][0]["image"],
                        (obj.get("status") or {}).get("phase", ""),
                    )
                if done(self.pods):
                    break
        return time.monotonic() - t0


def running(app: str, n: int, image: str = BUSYBOX) -> Callable[[dict[str, tuple[str, str, str]]], bool]:
    """Exactly n live pods of `app`, all Running `image`."""

    def done(pods: dict[str, tuple[str, str, str]]) -> bool:
        mine = [p for p in pods.values() if p[0] == app]
        return len(mine) == n and all(p[1] == image and p[2] == "Running" for p in mine)

    return done


def rc_body(name: str, app: str, replicas: int, image: str = BUSYBOX) -> Obj:
    """An RC of `app` whose selector also names the RC (so two RCs of one app do not fight)."""
    return objects.rc_body(name, replicas, {"app": app, "v": name}, image=image)


def wait_deployment_complete(c: Client, name: str, n: int, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while True:
        d = c.get("deployments", name, "default")
        st = d.get("status") or {}
        if (
            st.get("observedGeneration", 0) >= d["metadata"].get("generation", 0)
            and st.get("updatedReplicas") == n
            and st.get("availableReplicas") == n
            and st.get("replicas") == n
        ):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"deployment not complete: {st}")
        time.sleep(0.05)


def rc_phases(c: Client, w: PodWatch, n: int) -> dict[str, float]:
    figures = {}
    print("RC: scaling up", file=sys.stderr, flush=True)
    c.create("replicationcontrollers", rc_body("rc-a", "rc", 0), "default")
    t0 = time.monotonic()
    c.patch("replicationcontrollers", "rc-a", {"spec": {"replicas": n}}, namespace="default")
    w.until(running("rc", n))
    figures["rc_up"] = time.monotonic() - t0
    print("RC: replacing every pod", file=sys.stderr, flush=True)
    c.create("replicationcontrollers", rc_body("rc-b", "rc", 0, "busybox:latest"), "default")
    t0 = time.monotonic()
    c.patch("replicationcontrollers", "rc-b", {"spec": {"replicas": n}}, namespace="default")
    c.patch("replicationcontrollers", "rc-a", {"spec": {"replicas": 0}}, namespace="default")
    w.until(running("rc", n, "busybox:latest"))
    figures["rc_replace"] = time.monotonic() - t0
    c.patch("replicationcontrollers", "rc-b", {"spec": {"replicas": 0}}, namespace="default")
    w.until(lambda pods: not any(p[0] == "rc" for p in pods.values()))
    return figures


def deployment_phases(c: Client, w: PodWatch, n: int) -> dict[str, float]:
    figures = {}
    print("Deployment: scaling up", file=sys.stderr, flush=True)
    c.create("deployments", objects.apps_body("Deployment", "dep", 0, BUSYBOX), "default")
    wait_deployment_complete(c, "dep", 0)
    t0 = time.monotonic()
    c.patch("deployments", "dep", {"spec": {"replicas": n}}, namespace="default")
    w.until(running("dep", n))
    figures["dep_running"] = time.monotonic() - t0
    wait_deployment_complete(c, "dep", n)
    figures["dep_up"] = time.monotonic() - t0
    print("Deployment: rolling update", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    c.patch(
        "deployments",
        "dep",
        {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:latest"}]}}}},
        "application/strategic-merge-patch+json",
        "default",
    )
    w.until(running("dep", n, "busybox:latest"))
    wait_deployment_complete(c, "dep", n)
    figures["dep_roll"] = time.monotonic() - t0

    c.patch("deployments", "dep", {"spec": {"replicas": 0}}, namespace="default")
    w.until(lambda pods: not any(p[0] == "dep" for p in pods.values()))
    return figures


def side_by_side(c: Client, n: int, deployment_first: bool = False) -> None:
    """Both workloads, one after the other (`deployment_first` swaps the order: the later one runs on
    a store that has seen the earlier one's churn)."""
    w = PodWatch(c)
    figures: dict[str, float] = {}
    for phase in (deployment_phases, rc_phases) if deployment_first else (rc_phases, deployment_phases):
        figures.update(phase(c, w, n))
    rc_up, rc_replace = figures["rc_up"], figures["rc_replace"]
    dep_running, dep_up, dep_roll = figures["dep_running"], figures["dep_up"], figures["dep_roll"]
    order = "Deployment first" if deployment_first else "RC first"
    print(f"Deployment vs RC: {n} pods over the same hollow nodes ({order})")
    print(
        table(
            [
                [
                    "0 -> N pods Running",
                    f"{n / dep_running:.0f} pods/s ({dep_running:.1f} s)",
                    f"{n / rc_up:.0f} pods/s ({rc_up:.1f} s)",
                    f"{dep_running / rc_up:.2f}x",
                ],
                ["0 -> N Available (status)", f"{dep_up:.1f} s", "", f"{dep_up / rc_up:.2f}x"],
                [
                    "replace every pod",
                    f"{dep_roll:.1f} s (rolling update, 25%/25%)",
                    f"{rc_replace:.1f} s (new RC up, old RC down)",
                    f"{dep_roll / rc_replace:.2f}x",
                ],
            ],
            ["what", "Deployment", "RC path (same run)", "ratio (target <= 1.3x)"],
        )
    )
