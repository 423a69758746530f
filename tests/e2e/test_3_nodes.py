"""Node failures on a real cluster: an agent killed and restarted adopts its running containers;
a node whose link is cut turns NotReady, its pods are replaced on the other node, and when it
comes back its stale pods are torn down. Runs last (test order in this file) as it disturbs nodes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from api.jsonutil import parse_time
from tests.e2e.conftest import Cluster
from tests.polling import wait_for

RC = """
apiVersion: v1
kind: ReplicationController
metadata: {name: sturdy}
spec:
  replicas: 4
  selector: {app: sturdy}
  template:
    metadata: {labels: {app: sturdy}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: "busybox:1.35", command: ["sleep", "36000"]}
"""


def pods(c: Cluster) -> list[dict]:
    return json.loads(c.kubectl("get", "pods", "-l", "app=sturdy", "-o", "json").stdout)["items"]


def node_ready(c: Cluster, name: str) -> str:
    node = json.loads(c.kubectl("get", "node", name, "-o", "json").stdout)
    return next((x["status"] for x in node["status"]["conditions"] if x["type"] == "Ready"), "")


def agent_pid(node: str) -> int:
    out = subprocess.run(
        ["pgrep", "-f", f"kubelite.main agent .*--node-name {node} "], capture_output=True, text=True
    ).stdout.split()
    return int(out[0]) if out else 0


def test_agent_restart_adopts_running_containers(cluster: Cluster) -> None:
    c = cluster
    c.kubectl("apply", "-f", "-", input=RC)
    running = wait_for(
        lambda: (p := [x for x in pods(c) if x["status"].get("phase") == "Running"]) and len(p) == 4 and p,
        90,
        what="4 running pods",
    )
    before = {
        p["metadata"]["name"]: (
            p["status"]["containerStatuses"][0]["containerID"],
            p["status"]["containerStatuses"][0]["restartCount"],
        )
        for p in running
    }
    old = agent_pid("node-0")
    assert old
    api = c.client()
    os.kill(old, signal.SIGKILL)
    killed_at = time.time()
    # observe the restart itself, not the old agent's last report (the node stays Ready through a
    # short outage): a new agent process, the node's Lease renewed after the kill (by the new agent,
    # the old one being dead), and its pod loop live (a pod pinned to the node runs); only then has
    # it adopted, or wrongly restarted, the containers it found
    wait_for(lambda: agent_pid("node-0") not in (0, old), 30, what="the supervisor restarting the agent")
    wait_for(
        lambda: (
            parse_time(api.get("leases", "node-0", "kube-node-lease")["spec"]["renewTime"]).timestamp()
            > killed_at
        ),
        30,
        what="node-0's Lease renewed by the new agent",
    )
    api.create(
        "pods",
        {
            "metadata": {"name": "after-restart"},
            "spec": {
                "nodeName": "node-0",
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "main", "image": "busybox:1.35", "command": ["sleep", "36000"]}],
            },
        },
        "default",
    )
    try:
        wait_for(
            lambda: api.get("pods", "after-restart", "default")["status"].get("phase") == "Running",
            60,
            what="a new pod on node-0 running (the new agent's pod loop is live)",
        )
    finally:
        api.delete("pods", "after-restart", "default")
    assert node_ready(c, "node-0") == "True"
    after = {
        p["metadata"]["name"]: (
            p["status"]["containerStatuses"][0]["containerID"],
            p["status"]["containerStatuses"][0]["restartCount"],
        )
        for p in pods(c)
    }
    assert after == before


def test_cut_node_is_replaced_and_cleaned_on_return(cluster: Cluster) -> None:
    c = cluster
    wait_for(
        lambda: len([x for x in pods(c) if x["status"].get("phase") == "Running"]) == 4, 90, what="4 pods"
    )
    on_1 = {p["metadata"]["name"] for p in pods(c) if p["spec"].get("nodeName") == "node-1"}
    assert on_1, "expected pods on node-1"
    assert c.in_node(1, "ip", "link", "set", "eth0", "down").returncode == 0
    try:
        wait_for(lambda: node_ready(c, "node-1") == "Unknown", 30, what="node-1 Unknown")
        # evicted (Terminating, as the kubelet cannot confirm) and replaced on node-0
        wait_for(
            lambda: (
                len(
                    [
                        p
                        for p in pods(c)
                        if p["spec"].get("nodeName") == "node-0"
                        and p["status"].get("phase") == "Running"
                        and not p["metadata"].get("deletionTimestamp")
                    ]
                )
                == 4
            ),
            90,
            what="4 pods running on node-0",
        )
    finally:
        assert c.in_node(1, "ip", "link", "set", "eth0", "up").returncode == 0
    wait_for(lambda: node_ready(c, "node-1") == "True", 60, what="node-1 Ready again")
    # the kernel dropped node-1's route to node-0's pods with the link; its agent writes it again
    cidr0 = json.loads(c.kubectl("get", "node", "node-0", "-o", "json").stdout)["spec"]["podCIDR"]
    wait_for(lambda: cidr0 in c.in_node(1, "ip", "route").stdout, 30, what=f"node-1's route to {cidr0}")
    wait_for(lambda: not ({p["metadata"]["name"] for p in pods(c)} & on_1), 60, what="stale pods gone")
    c.kubectl("delete", "rc", "sturdy")
    wait_for(lambda: not pods(c), 60, what="all sturdy pods deleted")
