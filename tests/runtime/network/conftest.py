"""Fixtures for the network tests: real kernel objects with names no one else uses, all cleaned up.

Every BridgeNetwork gets its own bridge `klt<random>` and subnet 10.199.<random>.0/24;
sandbox ids start with `kltest-`. A session fixture asserts at the end that no netns, veth,
bridge or nft table made by these tests is left, removing any it finds (veths are reaped by the kernel shortly
after their netns goes, so that check polls with a deadline).
"""

from __future__ import annotations

import random
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.network import BridgeNetwork, NetworkConfig, host_veth_name, netns, nft, portmap
from runtime.network.rtnl import Rtnl
from tests.polling import wait_for

SANDBOX_PREFIX = "kltest-"
BRIDGE_PREFIX = "klt"

_used_ids: set[str] = set()
_used_bridges: set[str] = set()
_used_subnets: set[int] = set()


def new_sandbox_id() -> str:
    sandbox_id = SANDBOX_PREFIX + uuid.uuid4().hex[:12]
    _used_ids.add(sandbox_id)
    return sandbox_id


def new_subnet() -> str:
    while True:
        third = random.randint(0, 255)
        if third not in _used_subnets:
            _used_subnets.add(third)
            return f"10.199.{third}.0/24"


def new_bridge() -> str:
    name = BRIDGE_PREFIX + uuid.uuid4().hex[:8]
    _used_bridges.add(name)
    return name


def free_port() -> int:
    """A TCP and UDP port no one listens on now, outside the ephemeral range, for a published port."""
    while True:
        port = random.randint(20000, 29999)
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as probe:
                    probe.bind(("0.0.0.0", port))
        except OSError:
            continue
        return port


def link_exists(name: str) -> bool:
    with Rtnl() as rtnl:
        return rtnl.link_exists(name)


def in_netns(name: str, *cmd: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", name, *cmd], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def make_network(tmp_path: Path) -> Iterator[Callable[..., BridgeNetwork]]:
    """Factory of BridgeNetworks on fresh bridges; everything they set up is torn down after."""
    made: list[BridgeNetwork] = []

    def make(
        state_dir: Path | None = None, subnet: str | None = None, bridge: str | None = None
    ) -> BridgeNetwork:
        config = NetworkConfig(
            state_dir=state_dir or tmp_path / f"state{len(made)}",
            bridge=bridge or new_bridge(),
            subnet=subnet or new_subnet(),
        )
        network = BridgeNetwork(config)
        made.append(network)
        return network

    yield make
    for network in made:
        for sandbox in network.list():
            network.teardown(sandbox.sandbox_id)
        network.delete_bridge()


@pytest.fixture
def network(make_network: Callable[..., BridgeNetwork]) -> BridgeNetwork:
    return make_network()


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind() -> Iterator[None]:
    yield
    leftovers: list[str] = []
    for name in netns.names():
        if name.startswith(SANDBOX_PREFIX):
            leftovers.append(f"netns {name}")
            netns.remove(name)

    def veths_left() -> list[str]:
        return [v for v in map(host_veth_name, _used_ids) if link_exists(v)]

    try:
        wait_for(lambda: not veths_left(), timeout=5, what="veths to be reaped")
    except AssertionError:
        leftovers += [f"veth {v}" for v in veths_left()]
    for bridge in [b for b in _used_bridges if link_exists(b)]:
        leftovers.append(f"bridge {bridge}")
        with Rtnl() as rtnl:
            rtnl.delete_link(bridge)
    ours = {portmap.table_name(i) for i in _used_ids}
    for table in nft.list_tables():
        if table.name in ours or table.name.startswith("kltest"):
            leftovers.append(f"nft table {table.name}")
            nft.delete_table(table.family, table.name)
    assert not leftovers, f"the network tests left behind: {leftovers}"
