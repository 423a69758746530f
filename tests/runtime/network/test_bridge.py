"""BridgeNetwork against the real kernel: netns, veth, bridge, addresses, routes, teardown."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runtime.network import (
    BridgeNetwork,
    NetworkConfig,
    NetworkError,
    SandboxExistsError,
    host_veth_name,
    netns,
)
from runtime.network.bridge import bridge_mac
from runtime.network.rtnl import Rtnl
from tests.runtime.network.conftest import (
    in_netns,
    link_exists,
    new_bridge,
    new_sandbox_id,
    new_subnet,
    wait_for,
)


def ping(ns: str, ip: str, tries: int = 5) -> bool:
    """One echo answered within a second, allowing a retry or two on a loaded machine."""
    return any(in_netns(ns, "busybox", "ping", "-c1", "-W1", ip).returncode == 0 for _ in range(tries))


def test_two_sandboxes_ping_each_other_and_the_gateway(network: BridgeNetwork) -> None:
    a = network.setup(new_sandbox_id())
    b = network.setup(new_sandbox_id())
    assert a.ip != b.ip
    assert a.gateway == b.gateway == str(network.ipam.gateway)
    assert a.netns_path == f"/run/netns/{a.sandbox_id}" and Path(a.netns_path).exists()
    assert a.sandbox_id in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert ping(a.netns_name, b.ip)
    assert ping(b.netns_name, a.ip)
    assert ping(a.netns_name, a.gateway)
    addrs = in_netns(a.netns_name, "ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout
    assert f"{a.ip}/{a.prefixlen}" in addrs
    assert f"default via {a.gateway} dev eth0" in in_netns(a.netns_name, "ip", "route").stdout
    master = subprocess.run(
        ["ip", "-o", "link", "show", host_veth_name(a.sandbox_id)], capture_output=True, text=True
    )
    assert f"master {network.config.bridge}" in master.stdout


def mac_of(link: str) -> str:
    with Rtnl() as rtnl:
        return rtnl.link(link)[1].hex(":")


def test_bridge_mac_is_the_gateways_and_stays_while_pods_come_and_go(network: BridgeNetwork) -> None:
    """Left to the kernel, the bridge takes the lowest MAC of its ports: when that pod goes, the other
    pods' ARP entry for the gateway names a MAC no port has, and their replies are dropped for
    seconds (kubernetes#30783; a rolling update's probe lost its answer so). It is set instead."""
    assert bridge_mac("10.244.0.1").hex(":") == "0a:58:0a:f4:00:01"
    low = network.setup(new_sandbox_id())
    other = network.setup(new_sandbox_id())
    pinned = bridge_mac(low.gateway).hex(":")
    assert mac_of(network.config.bridge) == pinned
    # the port the kernel would pick: lower than any random veth and than the pinned address
    subprocess.run(
        ["ip", "link", "set", host_veth_name(low.sandbox_id), "address", "02:00:00:00:00:01"], check=True
    )
    assert mac_of(network.config.bridge) == pinned
    assert ping(other.netns_name, other.gateway)  # `other` has the gateway's MAC in its ARP cache now
    network.teardown(low.sandbox_id)
    assert network.wait_released(low.sandbox_id, timeout=5)
    network.setup(new_sandbox_id())
    assert mac_of(network.config.bridge) == pinned
    assert f"lladdr {pinned}" in in_netns(other.netns_name, "ip", "neigh", "show", other.gateway).stdout
    assert ping(other.netns_name, other.gateway)


def test_teardown_removes_netns_veth_and_address(network: BridgeNetwork) -> None:
    sandbox = network.setup(new_sandbox_id())
    assert network.ipam.allocations() == {sandbox.ip: sandbox.sandbox_id}
    network.teardown(sandbox.sandbox_id)
    assert not netns.exists(sandbox.sandbox_id)
    assert network.ipam.allocations() == {}
    assert network.list() == []
    assert network.wait_released(sandbox.sandbox_id)
    assert not link_exists(host_veth_name(sandbox.sandbox_id))
    network.teardown(sandbox.sandbox_id)  # idempotent


def test_same_id_can_be_set_up_again_right_after_teardown(network: BridgeNetwork) -> None:
    sandbox_id = new_sandbox_id()
    for _ in range(3):
        sandbox = network.setup(sandbox_id)
        assert ping(sandbox.netns_name, sandbox.gateway)
        network.teardown(sandbox_id)


def test_half_built_sandbox_teardown_leaves_nothing(
    network: BridgeNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox_id = new_sandbox_id()

    def broken_veth(*args: object, **kwargs: object) -> None:
        raise OSError(95, "simulated failure after netns creation")

    monkeypatch.setattr(Rtnl, "add_veth", broken_veth)
    with pytest.raises(NetworkError, match="create the veth pair"):
        network.setup(sandbox_id)
    assert not netns.exists(sandbox_id)
    assert network.ipam.allocations() == {}
    assert network.get(sandbox_id) is None


def test_teardown_after_a_crash_mid_setup(network: BridgeNetwork) -> None:
    """A process that died after claiming, allocating and creating the netns leaves a record to undo."""
    sandbox = network.setup(new_sandbox_id())
    record = network.records.load(sandbox.sandbox_id)
    assert record is not None
    record.ip = ""  # as if it died before saving the address: teardown must find the IPAM file by owner
    network.records.save(record)
    restarted = BridgeNetwork(network.config)
    restarted.teardown(sandbox.sandbox_id)
    assert not netns.exists(sandbox.sandbox_id)
    assert restarted.ipam.allocations() == {}


def test_none_mode_has_only_lo(network: BridgeNetwork) -> None:
    sandbox = network.setup(new_sandbox_id(), mode="none")
    assert (sandbox.ip, sandbox.gateway, sandbox.mode) == ("", "", "none")
    links = in_netns(sandbox.netns_name, "ip", "-o", "link").stdout.strip().splitlines()
    assert len(links) == 1 and ": lo:" in links[0] and "UP" in links[0]
    assert ping(sandbox.netns_name, "127.0.0.1")
    assert network.ipam.allocations() == {}
    network.teardown(sandbox.sandbox_id)
    assert not netns.exists(sandbox.sandbox_id)


def test_host_mode_creates_nothing_but_is_listed(network: BridgeNetwork) -> None:
    sandbox = network.setup(new_sandbox_id(), mode="host")
    assert (sandbox.netns_path, sandbox.ip) == ("", "")
    assert not netns.exists(sandbox.sandbox_id)
    assert [s.sandbox_id for s in network.list()] == [sandbox.sandbox_id]
    network.teardown(sandbox.sandbox_id)
    assert network.list() == []


def test_restart_reads_state_and_refuses_duplicates(network: BridgeNetwork) -> None:
    first = network.setup(new_sandbox_id())
    restarted = BridgeNetwork(network.config)
    assert restarted.list() == [first]
    with pytest.raises(SandboxExistsError):
        restarted.setup(first.sandbox_id)
    assert ping(first.netns_name, first.gateway)  # the failed duplicate did not tear the first down
    second = restarted.setup(new_sandbox_id())
    assert second.ip != first.ip
    assert {s.sandbox_id for s in network.list()} == {first.sandbox_id, second.sandbox_id}


def test_existing_bridge_with_other_addresses_is_tolerated(
    make_network: Callable[..., BridgeNetwork],
) -> None:
    bridge = new_bridge()
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", "10.198.7.1/24", "dev", bridge], check=True)
    network = make_network(bridge=bridge)
    sandbox = network.setup(new_sandbox_id())
    assert ping(sandbox.netns_name, sandbox.gateway)
    shown = subprocess.run(
        ["ip", "-o", "-4", "addr", "show", "dev", bridge], capture_output=True, text=True
    ).stdout
    assert "10.198.7.1/24" in shown and f"{sandbox.gateway}/24" in shown
    assert mac_of(bridge) == bridge_mac(sandbox.gateway).hex(":")  # the kernel's pick replaced, once


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden", "-x", "x" * 201, "sp ace"])
def test_invalid_sandbox_ids_are_refused(network: BridgeNetwork, bad: str) -> None:
    with pytest.raises(NetworkError, match="invalid sandbox id"):
        network.setup(bad)
    with pytest.raises(NetworkError, match="invalid sandbox id"):
        network.teardown(bad)


def test_invalid_mode_is_refused(network: BridgeNetwork) -> None:
    with pytest.raises(NetworkError, match="invalid network mode"):
        network.setup(new_sandbox_id(), mode="overlay")


_IN_NODE = """
import json, sys, time
from pathlib import Path
from runtime.network import BridgeNetwork, NetworkConfig
cfg = json.loads(sys.argv[1])
net = BridgeNetwork(NetworkConfig(state_dir=Path(cfg["state"]), bridge=cfg["bridge"], subnet=cfg["subnet"]))
start = time.perf_counter()
sandbox = net.setup(cfg["id"])
setup = time.perf_counter() - start
print(json.dumps({"ip": sandbox.ip, "gateway": sandbox.gateway, "setup_ms": setup * 1000}), flush=True)
sys.stdin.readline()
start = time.perf_counter()
net.teardown(cfg["id"])
net.delete_bridge()
print(json.dumps({"teardown_ms": (time.perf_counter() - start) * 1000}), flush=True)
"""


def test_works_inside_a_node_network_namespace(tmp_path: Path) -> None:
    """A kubelite node is a process in its own netns: the bridge and host veth end go there."""
    node = new_sandbox_id()
    netns.create(node).close()
    try:
        cfg = {"state": str(tmp_path), "bridge": new_bridge(), "subnet": new_subnet(), "id": new_sandbox_id()}
        proc = subprocess.Popen(
            # nsenter, not `ip netns exec`: the latter also makes a private mount namespace, so the
            # sandbox's /run/netns mount would not be visible to this test.
            ["nsenter", f"--net=/run/netns/{node}", sys.executable, "-c", _IN_NODE, json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[3],
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            built = json.loads(proc.stdout.readline())
            assert not link_exists(cfg["bridge"]), "the bridge must be in the node's netns, not ours"
            assert in_netns(node, "ip", "link", "show", cfg["bridge"]).returncode == 0
            assert in_netns(node, "ip", "link", "show", host_veth_name(cfg["id"])).returncode == 0
            assert ping(cfg["id"], built["gateway"])
            proc.stdin.write("\n")
            proc.stdin.flush()
            torn = json.loads(proc.stdout.readline())
        finally:
            proc.stdin.close()
            proc.wait(timeout=10)
        assert proc.returncode == 0
        assert not netns.exists(cfg["id"])
        print(f"in-node setup {built['setup_ms']:.1f} ms, teardown {torn['teardown_ms']:.1f} ms")
    finally:
        netns.remove(node)


def test_setup_and_teardown_are_fast(network: BridgeNetwork) -> None:
    network.setup(new_sandbox_id())  # warm: bridge created, modules imported
    timings = []
    for _ in range(10):
        sandbox_id = new_sandbox_id()
        start = time.perf_counter()
        network.setup(sandbox_id)
        network.teardown(sandbox_id)
        timings.append(time.perf_counter() - start)
    median = sorted(timings)[len(timings) // 2] * 1000
    print(f"bridge sandbox setup+teardown median {median:.1f} ms")
    assert median < 50  # generous for a shared 2-core machine; ~3-7 ms measured


def _setup_in_process(config: NetworkConfig, sandbox_ids: list[str]) -> list[str]:
    network = BridgeNetwork(config)
    return [network.setup(sandbox_id).ip for sandbox_id in sandbox_ids]


def test_concurrent_processes_share_a_new_bridge(make_network: Callable[..., BridgeNetwork]) -> None:
    """Several processes racing to create the bridge and allocate addresses all succeed, distinctly."""
    network = make_network()
    batches = [[new_sandbox_id() for _ in range(3)] for _ in range(3)]
    with multiprocessing.get_context("fork").Pool(len(batches)) as pool:
        ips = [
            ip
            for batch in pool.starmap(_setup_in_process, [(network.config, b) for b in batches])
            for ip in batch
        ]
    assert len(set(ips)) == len(ips) == 9
    assert sorted(s.ip for s in network.list()) == sorted(ips)
    first, last = batches[0][0], batches[-1][-1]
    assert ping(first, network.get(last).ip)  # type: ignore[union-attr]


def test_veth_stays_while_a_process_pins_the_netns(network: BridgeNetwork) -> None:
    sandbox = network.setup(new_sandbox_id())
    pinned = subprocess.Popen(["ip", "netns", "exec", sandbox.netns_name, "busybox", "sleep", "30"])
    try:
        inode = os.stat(sandbox.netns_path).st_ino
        wait_for(
            lambda: os.stat(f"/proc/{pinned.pid}/ns/net").st_ino == inode, what="the process inside the netns"
        )
        network.teardown(sandbox.sandbox_id)
        assert not netns.exists(sandbox.sandbox_id)
        assert not network.wait_released(sandbox.sandbox_id, timeout=0.2)
    finally:
        pinned.kill()
        pinned.wait()
    assert network.wait_released(sandbox.sandbox_id, timeout=5)


def test_a_foreign_netns_of_the_same_name_is_left_alone(network: BridgeNetwork) -> None:
    sandbox_id = new_sandbox_id()
    subprocess.run(["ip", "netns", "add", sandbox_id], check=True)
    try:
        with pytest.raises(NetworkError, match="already exists"):
            network.setup(sandbox_id)
        assert netns.exists(sandbox_id)
        assert network.ipam.allocations() == {} and network.list() == []
    finally:
        subprocess.run(["ip", "netns", "delete", sandbox_id], check=True)
