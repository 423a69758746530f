"""Hollow nodes against a real `kubelite server` (controllers and scheduler in-process):
the real kubelet code on the fake runtime, several nodes in one agent process."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.client import Client
from api.config import from_kubeconfig
from tests.apiserver.conftest import hollow_cluster
from tests.objects import rc_body
from tests.polling import wait_for


@pytest.fixture
def hollow(tmp_path: Path) -> Iterator[tuple[Client, subprocess.Popen[bytes]]]:
    with hollow_cluster(tmp_path, nodes=3) as (srv, agent):
        yield Client(from_kubeconfig([srv.kubeconfig])), agent


def ready(node: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions") or [])


def test_hollow_nodes_run_an_rc(hollow: tuple[Client, subprocess.Popen[bytes]], tmp_path: Path) -> None:
    c, agent = hollow
    nodes = wait_for(
        lambda: (
            [n for n in c.list("nodes")["items"] if ready(n)]
            if len([n for n in c.list("nodes")["items"] if ready(n)]) == 3
            else None
        ),
        30,
        "3 Ready hollow nodes",
    )
    assert sorted(n["metadata"]["name"] for n in nodes) == ["hollow-0", "hollow-1", "hollow-2"]
    info = nodes[0]["status"]["nodeInfo"]
    assert len(info) == 10 and all(info.values())
    wait_for(
        lambda: all(n["spec"].get("podCIDR") for n in c.list("nodes")["items"]), 10, "podCIDRs (node IPAM)"
    )
    c.create("replicationcontrollers", rc_body("h", 6, image="busybox:1.35"), "default")

    def running() -> list[dict[str, Any]]:
        return [
            p
            for p in c.list("pods", "default", label_selector="app=h")["items"]
            if p["status"].get("phase") == "Running"
        ]

    pods = wait_for(lambda: (r := running()) and len(r) == 6 and r, 30, "6 running pods")
    assert {p["spec"]["nodeName"] for p in pods} == {"hollow-0", "hollow-1", "hollow-2"}
    assert all(p["status"]["podIP"] and p["status"]["containerStatuses"][0]["ready"] for p in pods)

    # the kubelet's events, as a real node records them (the control plane does the same work)
    def kubelet_events() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for e in c.list("events", "default")["items"]:
            if e["source"].get("component") == "kubelet":
                out.setdefault(e["involvedObject"]["name"], []).append(e["reason"])
        return out

    names = {p["metadata"]["name"] for p in pods}
    seen = wait_for(
        lambda: (
            (k := kubelet_events())
            and all({"Pulled", "Created", "Started"} <= set(k.get(n, [])) for n in names)
            and k
        ),
        30,
        "kubelet events",
    )
    assert all(sorted(seen[n]) == ["Created", "Pulled", "Started"] for n in names), seen
    pod0 = pods[0]
    event0 = next(
        e
        for e in c.list("events", "default")["items"]
        if e["involvedObject"]["name"] == pod0["metadata"]["name"] and e["reason"] == "Started"
    )
    assert event0["source"]["host"] == pod0["spec"]["nodeName"] and event0["message"] == "Started container c"
    # graceful deletion goes through the kubelet: the pods disappear only once it confirms
    c.delete("replicationcontrollers", "h", "default")
    wait_for(lambda: not c.list("pods", "default", label_selector="app=h")["items"], 30, "pods deleted")
    wait_for(
        lambda: all("Killing" in v for n, v in kubelet_events().items() if n in names), 30, "Killing events"
    )
    # the agent stops cleanly on SIGTERM
    agent.send_signal(signal.SIGTERM)
    assert agent.wait(20) == 0
    # and its nodes then turn NotReady (Unknown) once the grace period passes
    wait_for(
        lambda: all(
            any(x["type"] == "Ready" and x["status"] == "Unknown" for x in n["status"]["conditions"])
            for n in c.list("nodes")["items"]
        ),
        30,
        "nodes Unknown",
    )
