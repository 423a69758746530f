"""`kubelite controller-manager` as a process: kill -9 mid scale-up, two copies with failover."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.config import from_kubeconfig
from api.errors import ApiError
from api.informer import Informer
from tests.apiserver.conftest import KUBELITE
from tests.controller.cluster import Cluster, active, eventually
from tests.objects import rc_body

pytestmark = pytest.mark.anyio

FAST_ELECTION = [
    "--leader-elect-lease-duration",
    "1s",
    "--leader-elect-renew-deadline",
    "800ms",
    "--leader-elect-retry-period",
    "200ms",
]


class ProcCluster(Cluster):
    procs: list[subprocess.Popen[bytes]]


@pytest.fixture
async def cluster() -> AsyncIterator[ProcCluster]:
    c = ProcCluster()
    c.procs = []
    await c.start()
    try:
        yield c
    finally:
        for p in c.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        await c.close()


def start_manager(c: ProcCluster, identity: str) -> subprocess.Popen[bytes]:
    log = open(c.tmp / f"cm-{identity}.log", "ab")  # noqa: SIM115 - closed with the process
    p = subprocess.Popen(
        [
            str(KUBELITE),
            "controller-manager",
            "--kubeconfig",
            str(c.server.kubeconfig),
            "--identity",
            identity,
            *FAST_ELECTION,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    c.procs.append(p)
    return p


async def holder(c: Cluster) -> str | None:
    try:
        lease = await c.client.get("leases", "kube-controller-manager", "kube-system")
    except Exception:
        return None
    return str(lease["spec"].get("holderIdentity") or "") or None


async def test_kill_9_mid_scale_up_converges_to_exactly_n(cluster: ProcCluster) -> None:
    n = 200
    seen_max = 0
    mid = 0
    pods = Informer(cluster.client, "pods", "default", retry_delay=0.05)
    first = start_manager(cluster, "cm-a")

    def count(*_: Any) -> None:
        nonlocal seen_max, mid
        now = len(active(pods.list()))
        seen_max = max(seen_max, now)
        if now >= 15 and not mid:  # kill it from the watch itself: mid scale-up, not after
            first.send_signal(signal.SIGKILL)
            mid = now

    pods.add_handlers(count, count, count)
    cluster.spawn(pods.run())
    await pods.synced.wait()
    await cluster.client.create("replicationcontrollers", rc_body("big", n), "default")
    await eventually(lambda: _async(first.poll() is not None), what="first manager killed")
    start_manager(cluster, "cm-b")
    await eventually(lambda: _async(len(active(pods.list())) == n), timeout=30, what=f"{n} pods")
    for _ in range(10):  # it stays there
        await asyncio.sleep(0.05)
        assert len(active(pods.list())) == n
    assert seen_max == n, f"peaked at {seen_max} (killed at {mid})"
    assert mid < n, "the kill came after the scale-up finished; the test proved nothing"


async def test_two_managers_one_leader_and_failover(cluster: ProcCluster) -> None:
    procs = {i: start_manager(cluster, i) for i in ("cm-1", "cm-2")}
    leader = await eventually(lambda: holder(cluster), what="a leader")
    rc = await cluster.client.create("replicationcontrollers", rc_body("ha", 2), "default")
    uid = rc["metadata"]["uid"]
    await eventually(lambda: _owned(cluster, uid, 2), what="2 pods")
    procs[leader].send_signal(signal.SIGKILL)
    procs[leader].wait()
    other = "cm-2" if leader == "cm-1" else "cm-1"
    await eventually(lambda: _is(holder(cluster), other), timeout=10, what="failover")
    await cluster.client.patch("replicationcontrollers", "ha", {"spec": {"replicas": 4}}, namespace="default")
    await eventually(lambda: _owned(cluster, uid, 4), what="4 pods after failover")
    assert procs[other].poll() is None and os.path.exists(cluster.server.kubeconfig)


async def _owned(c: Cluster, uid: str, n: int) -> bool:
    return len(active(await c.pods(owner_uid=uid))) == n


async def _async(v: Any) -> Any:
    return v


async def _is(aw: Any, want: str) -> bool:
    return (await aw) == want


async def test_publishes_the_kubeconfigs_ca_as_kube_root_ca(cluster: ProcCluster) -> None:
    """Without --root-ca-file the process publishes its kubeconfig's CA, as kube-controller-manager
    does: pods' projected kube-root-ca.crt volumes need the ConfigMap in every namespace."""
    want = from_kubeconfig([cluster.server.kubeconfig]).ca_data
    assert want, "the test server's kubeconfig carries no CA: nothing to compare"
    start_manager(cluster, "cm-ca")
    await cluster.client.create("namespaces", {"metadata": {"name": "root-ca"}})

    async def published() -> bool:
        try:
            cm = await cluster.client.get("configmaps", "kube-root-ca.crt", "root-ca")
        except ApiError:
            return False
        return bool(cm["data"]["ca.crt"] == want.decode())

    await eventually(published, what="kube-root-ca.crt in the new namespace")
