"""The Network Protocol's behaviour, checked on BridgeNetwork (real kernel) and FakeNetwork alike."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable

import pytest

from runtime.network import (
    BridgeNetwork,
    FakeNetwork,
    Network,
    NetworkError,
    PortMapping,
    SandboxExistsError,
    SandboxNet,
    SandboxNotFoundError,
)
from tests.runtime.network.conftest import free_port, new_sandbox_id, new_subnet


@pytest.fixture(params=["bridge", "fake"])
def impl(request: pytest.FixtureRequest, make_network: Callable[..., BridgeNetwork]) -> Network:
    if request.param == "fake":
        return FakeNetwork(subnet=new_subnet())
    return make_network()


def test_bridge_mode_hands_out_distinct_addresses_in_the_subnet(impl: Network) -> None:
    a = impl.setup(new_sandbox_id())
    b = impl.setup(new_sandbox_id())
    net = ipaddress.IPv4Network(f"{a.ip}/{a.prefixlen}", strict=False)
    assert a.ip != b.ip
    assert a.gateway == str(net.network_address + 1)
    for ip in (a.ip, b.ip):
        assert ipaddress.IPv4Address(ip) in net
        assert ip not in (a.gateway, str(net.network_address), str(net.broadcast_address))
    assert a.mode == "bridge" and a.netns_path.endswith(a.sandbox_id)
    assert {s.sandbox_id for s in impl.list()} == {a.sandbox_id, b.sandbox_id}
    assert impl.get(a.sandbox_id) == a


def test_on_netns_hands_over_the_namespace_before_the_links_are_done(impl: Network) -> None:
    seen: list[SandboxNet] = []

    def on_netns(early: SandboxNet) -> None:
        if isinstance(impl, BridgeNetwork):
            assert os.path.ismount(early.netns_path)  # runc may join it from here on
        seen.append(early)

    net = impl.setup(new_sandbox_id(), on_netns=on_netns)
    assert len(seen) == 1
    assert (seen[0].sandbox_id, seen[0].netns_path, seen[0].ip, seen[0].mode) == (
        net.sandbox_id,
        net.netns_path,
        net.ip,
        "bridge",
    )
    none = impl.setup(new_sandbox_id(), "none", on_netns=on_netns)
    assert len(seen) == 2 and seen[1].netns_path == none.netns_path and seen[1].ip == ""
    impl.setup(new_sandbox_id(), "host", on_netns=on_netns)
    assert len(seen) == 2  # host mode makes no namespace


def test_modes_and_teardown(impl: Network) -> None:
    none = impl.setup(new_sandbox_id(), "none")
    host = impl.setup(new_sandbox_id(), "host")
    assert (none.ip, none.mode) == ("", "none") and none.netns_path
    assert (host.ip, host.netns_path, host.mode) == ("", "", "host")
    for sandbox in (none, host):
        impl.teardown(sandbox.sandbox_id)
        impl.teardown(sandbox.sandbox_id)
        assert impl.get(sandbox.sandbox_id) is None
    assert impl.list() == []
    impl.teardown(new_sandbox_id())  # never set up: fine


def test_refusals(impl: Network) -> None:
    a = impl.setup(new_sandbox_id())
    with pytest.raises(SandboxExistsError):
        impl.setup(a.sandbox_id)
    with pytest.raises(NetworkError, match="invalid network mode"):
        impl.setup(new_sandbox_id(), "container:x")
    with pytest.raises(NetworkError, match="invalid sandbox id"):
        impl.setup("../etc")
    with pytest.raises(SandboxNotFoundError):
        impl.publish(new_sandbox_id(), [])
    with pytest.raises(NetworkError, match="invalid"):
        impl.add_route("10.1.0.0/33", "10.0.0.1")


def test_publish_records_ports_and_refuses_conflicts(impl: Network) -> None:
    a = impl.setup(new_sandbox_id())
    b = impl.setup(new_sandbox_id())
    port = free_port()
    impl.publish(a.sandbox_id, [PortMapping(port, 80)])
    with pytest.raises(NetworkError, match="already published"):
        impl.publish(b.sandbox_id, [PortMapping(port, 80)])
    assert impl.get(a.sandbox_id).ports == [PortMapping(port, 80)]  # type: ignore[union-attr]
    impl.publish(a.sandbox_id, [])
    assert impl.get(a.sandbox_id).ports == []  # type: ignore[union-attr]
    impl.publish(b.sandbox_id, [PortMapping(port, 80)])


def test_fake_records_calls_and_reuses_addresses_only_after_teardown() -> None:
    fake = FakeNetwork(subnet="10.199.9.0/29")
    ids = [new_sandbox_id() for _ in range(5)]
    ips = [fake.setup(i).ip for i in ids]
    assert sorted(ips) == [f"10.199.9.{n}" for n in range(2, 7)]
    with pytest.raises(NetworkError, match="no free address"):
        fake.setup(new_sandbox_id())
    fake.teardown(ids[1])
    assert fake.setup(new_sandbox_id()).ip == ips[1]
    fake.add_route("10.200.0.0/24", "192.168.5.2")
    fake.enable_ip_forward()
    fake.remove_route("10.200.0.0/24")
    assert fake.routes == {} and fake.ip_forward
    assert fake.calls[0] == ("setup", (ids[0], "bridge"))
    assert [c[0] for c in fake.calls[-3:]] == ["add_route", "enable_ip_forward", "remove_route"]
