"""kill -9 of an etcd member and of the leading API server during a Deployment rollout.

Two `kubelite server` processes on one 3-member etcd cluster, joined by a token, each running
controllers and a scheduler under leader election; a hollow agent runs three nodes against
both servers. While a Deployment scales up to 60 replicas and a writer thread creates numbered
ConfigMaps through both servers, the etcd member the servers talk to (made raft leader first,
the worst case) and the server holding the controller-manager Lease are killed -9 together.
Afterwards: the rollout completes as seen by the survivor, the nodes stayed Ready, every
ConfigMap whose create was acknowledged (201) is there with its data and uid, no create was
answered 409 on its first try (a client replaying a create that had landed), and the survivor
took the controller-manager and scheduler Leases within their duration (plus a margin for a
loaded machine).
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.client import Client, ConnectionFailed
from api.config import ClientConfig
from api.errors import ApiError
from controller.options import ControllerOptions, coerce
from tests.apiserver.conftest import Server
from tests.apiserver.test_multi_server import hollow_agent, server
from tests.polling import wait_for
from tests.storage.etcd_cluster import EtcdCluster, etcd_cluster

REPLICAS = 60
NODES = 3
ELECTED = ("kube-controller-manager", "kube-scheduler")
MARGIN = 15.0  # seconds past a Lease's duration for the takeover, on a loaded 2-core machine


@pytest.fixture
def etcd_servers(tmp_path: Path) -> Iterator[tuple[EtcdCluster, list[Server]]]:
    """A 3-member etcd cluster and two servers on it (all three member URLs), stopped after."""
    with etcd_cluster(3) as etcd:
        url = etcd.datastore_url("/kubelite")
        servers = [server(tmp_path, name, url) for name in ("a", "b")]
        try:
            for s in servers:
                s.start(60)
            yield etcd, servers
        finally:
            for s in reversed(servers):
                s.stop()


def make_raft_leader(etcd: EtcdCluster, member: int) -> None:
    """Move etcd's raft leadership to `member` (asked of the current leader, as etcdctl must)."""

    def status() -> list[dict[str, Any]]:
        r = etcd.etcdctl("endpoint", "status", "-w", "json")
        return list(json.loads(r.stdout)) if r.returncode == 0 else []

    def moved() -> bool:
        rows = status()
        if len(rows) != len(etcd.client_urls):
            return False
        by_url = {row["Endpoint"]: row["Status"] for row in rows}
        target = by_url[etcd.endpoints.split(",")[member]]
        leader = target["leader"]
        if target["header"]["member_id"] == leader:
            return True
        host = next(u for u, s in by_url.items() if s["header"]["member_id"] == leader)
        etcd.etcdctl(f"--endpoints={host}", "move-leader", format(target["header"]["member_id"], "x"))
        return False

    wait_for(moved, 30, f"etcd member {member} raft leader")


@dataclass
class Writer:
    """Creates ConfigMaps w-0, w-1 ... in turn through each server (each client failing over to the
    other), retrying one name until it is answered, and records what was acknowledged."""

    servers: list[Server]
    namespace: str
    acknowledged: dict[str, str] = field(default_factory=dict)  # name -> uid of the 201
    replayed: list[str] = field(default_factory=list)  # 409 on a name's first try
    failures: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        clients = [
            Client(
                ClientConfig(
                    server=s.url,
                    fallback_servers=tuple(o.url for o in self.servers if o is not s),
                    token=s.token,
                    ca_data=s.ca_file.read_bytes(),
                    timeout=20,
                )
            )
            for s in self.servers
        ]
        n = 0
        while not self.stop.is_set():
            name = f"w-{n}"
            cm = {"metadata": {"name": name}, "data": {"n": str(n)}}
            client = clients[n % len(clients)]
            for attempt in range(1000):
                try:
                    created = client.create("configmaps", cm, self.namespace)
                    self.acknowledged[name] = created["metadata"]["uid"]
                    break
                except ApiError as e:
                    if e.code == 409:  # a try that failed on the way back had landed
                        if attempt == 0:
                            self.replayed.append(name)
                        break
                    self.failures += 1  # a 5xx while etcd elects a leader: try again
                except ConnectionFailed:
                    self.failures += 1  # the server died under the request: try again
                if self.stop.wait(0.05):
                    break
            n += 1
        for c in clients:
            c.close()


def node_ready(node: dict[str, Any]) -> bool:
    conds = node.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def ready_since(c: httpx.Client, names: list[str]) -> dict[str, str]:
    """Each Ready node's Ready lastTransitionTime: unchanged means it never left Ready meanwhile."""
    nodes = c.get("/api/v1/nodes").json()["items"]
    return {
        n["metadata"]["name"]: cond.get("lastTransitionTime", "")
        for n in nodes
        if n["metadata"]["name"] in names
        for cond in n.get("status", {}).get("conditions") or []
        if cond["type"] == "Ready" and cond["status"] == "True"
    }


def holder(c: httpx.Client, name: str) -> str:
    r = c.get(f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{name}")
    return str(r.json()["spec"].get("holderIdentity") or "") if r.status_code == 200 else ""


def held_by(c: httpx.Client, name: str, identity: str) -> bool:
    return holder(c, name) == identity


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }


def test_rollout_survives_an_etcd_member_and_the_leading_server_killed(
    etcd_servers: tuple[EtcdCluster, list[Server]], tmp_path: Path
) -> None:
    etcd, servers = etcd_servers
    identity = {coerce(ControllerOptions, {"data_dir": str(s.data_dir)}).identity: s for s in servers}
    with hollow_agent(tmp_path, servers, "hollow", NODES), servers[0].client() as first:
        names = [f"hollow-{i}" for i in range(NODES)]
        wait_for(
            lambda: all(
                (r := first.get(f"/api/v1/nodes/{n}")).status_code == 200 and node_ready(r.json())
                for n in names
            ),
            60,
            "the hollow nodes Ready",
        )
        leaders = {n: wait_for(partial(holder, first, n), 60, f"a {n} leader") for n in ELECTED}
        victim = identity[leaders["kube-controller-manager"]]
        survivor = next(s for s in servers if s is not victim)
        assert first.post("/api/v1/namespaces", json={"metadata": {"name": "w"}}).status_code == 201
        make_raft_leader(etcd, 0)  # member 0: the one both servers talk to first

        writer = Writer(servers, "w")
        writing = threading.Thread(target=writer.run, daemon=True)
        writing.start()
        with survivor.client() as c:
            wait_for(lambda: len(writer.acknowledged) >= 20, 60, "the first acknowledged writes")
            r = c.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("web", REPLICAS))
            assert r.status_code == 201, r.text

            def pods() -> list[dict[str, Any]]:
                r = c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")
                assert r.status_code == 200, r.text
                return list(r.json()["items"])

            def running() -> int:
                return sum(p.get("status", {}).get("phase") == "Running" for p in pods())

            wait_for(lambda: running() >= 1, 60, "the rollout under way")
            ready_before = ready_since(c, names)
            assert set(ready_before) == set(names)
            etcd.procs[0].send_signal(signal.SIGKILL)
            assert victim.proc is not None
            victim.proc.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            running_at_kill = running()
            etcd.procs[0].wait(10)
            victim.proc.wait(10)
            victim.proc = None

            # the survivor's controllers and scheduler take over within the Lease's duration
            survivor_id = next(i for i, s in identity.items() if s is survivor)
            for name in ELECTED:
                r = c.get(f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{name}")
                duration = float(r.json()["spec"].get("leaseDurationSeconds") or 15)
                left = duration + MARGIN - (time.monotonic() - killed_at)
                wait_for(partial(held_by, c, name, survivor_id), max(left, 0.1), f"{name} taken over")
            took_over = time.monotonic() - killed_at

            # the rollout completes, as the survivor sees it, and no node left Ready meanwhile
            def complete() -> bool:
                d = c.get("/apis/apps/v1/namespaces/default/deployments/web").json()
                st = d.get("status", {})
                return (
                    st.get("observedGeneration") == d["metadata"]["generation"]
                    and st.get("updatedReplicas") == REPLICAS
                    and st.get("availableReplicas") == REPLICAS
                    and running() == REPLICAS
                    and len(pods()) == REPLICAS
                )

            wait_for(complete, 90, f"{REPLICAS} replicas Running")
            assert ready_since(c, names) == ready_before

            writer.stop.set()
            writing.join(30)
            assert not writing.is_alive()
            # no acknowledged write lost: each is there, the same object (uid), with its data
            stored = {
                cm["metadata"]["name"]: cm for cm in c.get("/api/v1/namespaces/w/configmaps").json()["items"]
            }
            lost = [n for n in writer.acknowledged if n not in stored]
            assert not lost, f"acknowledged writes lost: {lost}"
            for name, uid in writer.acknowledged.items():
                assert stored[name]["metadata"]["uid"] == uid, name
                assert stored[name]["data"] == {"n": name.removeprefix("w-")}, name
            assert not writer.replayed, f"creates answered 409 on their first try: {writer.replayed}"
            print(
                f"{len(writer.acknowledged)} acknowledged writes, {writer.failures} failed tries; "
                f"{running_at_kill}/{REPLICAS} Running at the kill; Leases taken over in {took_over:.1f} s"
            )
