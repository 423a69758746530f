"""The Kubernetes guestbook (redis leader, 2 followers, 3 PHP frontends) on a real 2-node cluster.

The manifests are the docs' (manifests/guestbook: image names changed to the images that
`make install` builds from Debian packages, and the frontend service a NodePort), applied with the
real kubectl. Through the NodePort on each node's address: the page is served, a message set
through guestbook.php is written to the leader, and read back through the redis-follower service
once replication has brought it to the followers. Runs under the shared lock:
`flock /tmp/kl-real.lock pytest tests/e2e/test_guestbook.py`.
"""

from __future__ import annotations

import functools
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

from runtime.images import ImageStore
from tests.e2e.conftest import MANIFESTS, Cluster
from tests.polling import wait_for

GUESTBOOK = MANIFESTS / "guestbook"
NODE_PORT = 30088
IMAGE_ROOT = "/var/lib/kubelite/runtime"  # kubelite up's default --image-root, where make install builds
IMAGES = ("redis:7.0", "kubelite/gb-redis-follower:v2", "kubelite/gb-frontend:v5")
DEPLOYMENTS = {"redis-leader": 1, "redis-follower": 2, "frontend": 3}


def node_ip(c: Cluster, node: int) -> str:
    out = c.in_node(node, "ip", "-4", "-o", "addr", "show", "eth0").stdout
    return out.split()[3].split("/")[0]


def wget(c: Cluster, node: int, url: str, post: str | None = None) -> str | None:
    """The body, or None on any failure (busybox wget, bounded from outside: its -T segfaults)."""
    cmd = ["busybox", "wget", "-qO-", *(["--post-data", post] if post is not None else []), url]
    try:
        r = c.in_node(node, *cmd, timeout=5)
    except subprocess.TimeoutExpired:
        return None
    return r.stdout if r.returncode == 0 else None


def ready(c: Cluster) -> dict[str, int]:
    out = json.loads(c.kubectl("get", "deployments", "-o", "json").stdout)
    got = {d["metadata"]["name"]: d.get("status", {}).get("readyReplicas", 0) for d in out["items"]}
    return {name: got.get(name, 0) for name in DEPLOYMENTS}


def pods(c: Cluster, selector: str) -> list[dict[str, Any]]:
    items = json.loads(c.kubectl("get", "pods", "-l", selector, "-o", "json").stdout)["items"]
    return [p for p in items if p["status"].get("phase") == "Running"]


def redis_cli(c: Cluster, pod: str, *args: str) -> str:
    return c.kubectl("exec", pod, "--", "redis-cli", *args).stdout


def test_guestbook_serves_its_page_and_keeps_messages(cluster: Cluster) -> None:
    c = cluster
    store = ImageStore(Path(IMAGE_ROOT))
    for image in IMAGES:
        assert store.resolve(image), f"{image} is not built: run `make install` (scripts/install-images.sh)"
    c.kubectl("apply", "-f", str(GUESTBOOK), real=True)
    try:
        wait_for(lambda: ready(c) == DEPLOYMENTS, 180, interval=1, what=f"ready replicas {DEPLOYMENTS}")
        ips = [node_ip(c, 0), node_ip(c, 1)]

        # the page, through the NodePort of either node, from the other node
        for node, ip in ((1, ips[0]), (0, ips[1])):
            page = wait_for(
                functools.partial(wget, c, node, f"http://{ip}:{NODE_PORT}/"),
                60,
                interval=0.5,
                what=f"the guestbook page on {ip}:{NODE_PORT}",
            )
            assert "<title>Guestbook</title>" in page and "guestbook.js" in page
        script = wget(c, 0, f"http://{ips[0]}:{NODE_PORT}/guestbook.js")
        assert script is not None and "guestbook.php" in script

        # set through the leader (POST, as the page does), read back through the followers
        message = f"hello from kubelite {uuid.uuid4().hex[:8]}"
        api = f"http://{ips[0]}:{NODE_PORT}/guestbook.php"
        answer = wait_for(
            lambda: wget(c, 0, api, post=f"cmd=set&key=messages&value={message.replace(' ', '+')}"),
            60,
            interval=0.5,
            what="a set through guestbook.php",
        )
        assert json.loads(answer) == {"message": "Updated"}

        def read_back() -> bool:
            body = wget(c, 1, f"http://{ips[1]}:{NODE_PORT}/guestbook.php?cmd=get&key=messages")
            return body is not None and json.loads(body) == {"data": message}

        wait_for(read_back, 60, interval=0.5, what="the message read back through redis-follower")

        # the followers hold it by replication from the leader (they are not written to)
        leader = pods(c, "role=leader")[0]["metadata"]["name"]
        wait_for(  # the second follower may still be syncing when the first answered
            lambda: "connected_slaves:2" in redis_cli(c, leader, "info", "replication"),
            60,
            interval=0.5,
            what="both followers replicating from the leader",
        )
        for follower in pods(c, "role=follower"):
            name = follower["metadata"]["name"]
            info = redis_cli(c, name, "info", "replication")
            assert "role:slave" in info and "master_link_status:up" in info, info
            assert redis_cli(c, name, "get", "messages").strip() == message
    finally:
        c.kubectl("delete", "-f", str(GUESTBOOK), "--wait=false", real=True, check=False)
