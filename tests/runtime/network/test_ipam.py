"""On-disk IPAM: no double allocation across processes, restart safety, reserved addresses."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from runtime.network import AddressesExhaustedError, NetworkError
from runtime.network.ipam import Ipam


def _allocate_many(state_dir: str, subnet: str, worker: int, count: int) -> list[str]:
    ipam = Ipam(Path(state_dir), subnet)
    return [ipam.allocate(f"w{worker}-{i}") for i in range(count)]


def test_concurrent_processes_never_share_an_address(tmp_path: Path) -> None:
    workers, each = 4, 25
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        results = pool.starmap(
            _allocate_many, [(str(tmp_path), "10.199.0.0/24", w, each) for w in range(workers)]
        )
    ips = [ip for chunk in results for ip in chunk]
    assert len(ips) == workers * each
    assert len(set(ips)) == len(ips), "an address was handed out twice"
    on_disk = Ipam(tmp_path, "10.199.0.0/24").allocations()
    assert sorted(on_disk) == sorted(ips)
    assert {on_disk[ip] for ip in ips} == {f"w{w}-{i}" for w in range(workers) for i in range(each)}


def test_gateway_network_and_broadcast_are_never_handed_out(tmp_path: Path) -> None:
    ipam = Ipam(tmp_path, "10.199.1.0/29")  # .0 network, .1 gateway, .7 broadcast
    got = [ipam.allocate(f"s{i}") for i in range(5)]
    assert sorted(got) == [f"10.199.1.{i}" for i in range(2, 7)]
    with pytest.raises(AddressesExhaustedError, match=r"10.199.1.0/29"):
        ipam.allocate("one-too-many")
    assert ipam.release("10.199.1.4", "s2")
    assert ipam.allocate("again") == "10.199.1.4"


def test_restart_sees_allocations_and_walks_forward(tmp_path: Path) -> None:
    first = Ipam(tmp_path, "10.199.2.0/24")
    a = first.allocate("a")
    b = first.allocate("b")
    assert first.release(a, "a")
    restarted = Ipam(tmp_path, "10.199.2.0/24")
    assert restarted.allocations() == {b: "b"}
    c = restarted.allocate("c")
    assert c not in (a, b), "a just-freed address is not reused at once"


def test_release_checks_the_owner(tmp_path: Path) -> None:
    ipam = Ipam(tmp_path, "10.199.3.0/24")
    ip = ipam.allocate("mine")
    assert not ipam.release(ip, "someone-else")
    assert ipam.allocations() == {ip: "mine"}
    assert ipam.release_owner("mine") == [ip]
    assert not ipam.release(ip)


@pytest.mark.parametrize("bad", ["10.199.0.1/24", "nonsense", "10.199.0.0/31", "fd00::/64"])
def test_bad_subnets_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(NetworkError, match="subnet"):
        Ipam(tmp_path, bad)
