"""runtime.network.ipv4 reads plain IPv4 text exactly as `ipaddress` does, and declines the rest."""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import pytest

from runtime.network import ipv4
from runtime.network.etcfiles import host_nameservers
from runtime.network.ipam import Ipam


def _address(text: str) -> int | None:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        return None


def _network(text: str) -> tuple[int, int] | None:
    try:
        net = ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        return None
    return int(net.network_address), net.prefixlen


ADDRESSES = ["0.0.0.0", "255.255.255.255", "10.88.0.1", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..3.4",
             " 1.2.3.4", "1.2.3.4\n", "١.2.3.4", "+1.2.3.4", "1.2.3.0x4", "", "1234.1.1.1", "::1"]  # fmt: skip


@pytest.mark.parametrize("text", ADDRESSES)
def test_addresses_as_ipaddress_reads_them(text: str) -> None:
    assert ipv4.parse_address(text) == _address(text)


def test_random_addresses_and_networks() -> None:
    rnd = random.Random(7)
    for _ in range(20000):
        text = "".join(rnd.choice("0123456789./") for _ in range(rnd.randint(1, 16)))
        assert ipv4.parse_address(text) == _address(text), text
        got = ipv4.parse_network(text)
        assert got is None or got == _network(text), text  # None: left to ipaddress, never a wrong answer
    for _ in range(2000):
        value, prefixlen = rnd.getrandbits(32), rnd.randint(0, 32)
        text = f"{ipv4.to_text(value & ~ipv4.host_mask(prefixlen))}/{prefixlen}"
        assert ipv4.to_text(value) == str(ipaddress.IPv4Address(value))
        assert ipv4.parse_network(text) == _network(text) is not None


@pytest.mark.parametrize(
    "text", ["10.88.0.0/16", "10.88.0.1/16", "10.0.0.0/33", "10.0.0.0/024", "10.0.0.0/255.0.0.0", "10.0.0.0"]
)
def test_networks_it_reads_are_read_as_ipaddress_does(text: str) -> None:
    got = ipv4.parse_network(text)
    assert got is None or got == _network(text)


@pytest.mark.parametrize("subnet", ["10.88.0.0/16", "10.88.0.0/255.255.0.0", "192.168.7.0/30"])
def test_ipam_figures_match_ipaddress(tmp_path: Path, subnet: str) -> None:
    ipam = Ipam(str(tmp_path), subnet)
    net = ipaddress.IPv4Network(subnet)
    assert ipam.net == net and ipam.subnet == str(net) and ipam.prefixlen == net.prefixlen
    assert ipam.gateway == net.network_address + 1 and ipam.gateway_ip == str(net.network_address + 1)
    assert ipam.broadcast_ip == str(net.broadcast_address)


def test_loopback_nameservers_dropped_v4_and_v6() -> None:
    text = "nameserver 127.0.0.53\nnameserver 127.1.2.3\nnameserver 10.1.2.3\nnameserver ::1\nnameserver fd00::1\nnameserver bad\n"
    assert host_nameservers(text) == ["10.1.2.3", "fd00::1"]
