"""UDP service flows the proxy clears from conntrack when endpoints change (kube-dns runs over UDP)."""

from __future__ import annotations

import asyncio
from typing import Any

from api.informer import InformerFactory
from kubelet.proxy.conntrack import Flow, conntrack_argv, stale_flows
from kubelet.proxy.proxier import Proxier
from kubelet.proxy.rules import ServicePort
from tests.controller.fakeapi import FakeApi
from tests.polling import until


def dns_port(*endpoints: str, protocol: str = "udp", node_port: int = 0) -> ServicePort:
    return ServicePort(
        "kube-system",
        "kube-dns",
        "dns",
        protocol,
        "10.96.0.10",
        53,
        node_port,
        tuple((ip, 53) for ip in endpoints),
    )


def test_an_endpoint_that_leaves_has_its_flows_cleared() -> None:
    assert stale_flows([dns_port("10.250.0.2", "10.250.0.3")], [dns_port("10.250.0.3")]) == [
        Flow("10.96.0.10", 53, "10.250.0.2")
    ]


def test_a_port_that_gets_its_first_endpoint_has_all_its_flows_cleared() -> None:
    assert stale_flows([dns_port()], [dns_port("10.250.0.2")]) == [Flow("10.96.0.10", 53)]
    assert stale_flows([], [dns_port("10.250.0.2", node_port=30053)]) == [
        Flow("", 30053),
        Flow("10.96.0.10", 53),
    ]


def test_a_deleted_service_has_its_endpoints_flows_cleared() -> None:
    assert stale_flows([dns_port("10.250.0.2")], []) == [Flow("10.96.0.10", 53, "10.250.0.2")]


def test_unchanged_and_tcp_ports_need_nothing() -> None:
    assert stale_flows([dns_port("10.250.0.2")], [dns_port("10.250.0.2")]) == []
    assert stale_flows([dns_port("10.250.0.2", protocol="tcp")], [dns_port(protocol="tcp")]) == []


def test_conntrack_command() -> None:
    assert conntrack_argv(Flow("10.96.0.10", 53, "10.250.0.2")) == [
        "conntrack",
        "-D",
        "-p",
        "udp",
        "--orig-dst",
        "10.96.0.10",
        "--orig-port-dst",
        "53",
        "--dst-nat",
        "10.250.0.2",
    ]
    assert conntrack_argv(Flow("", 30053)) == ["conntrack", "-D", "-p", "udp", "--orig-port-dst", "30053"]


def test_proxier_clears_after_applying() -> None:
    async def go() -> list[list[Flow]]:
        api = FakeApi()
        await api.create(
            "services",
            {
                "metadata": {"name": "kube-dns", "namespace": "kube-system"},
                "spec": {
                    "clusterIP": "10.96.0.10",
                    "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}],
                },
            },
        )

        def endpoints(*ips: str) -> dict[str, Any]:
            return {
                "metadata": {
                    "name": "kube-dns-x",
                    "namespace": "kube-system",
                    "labels": {"kubernetes.io/service-name": "kube-dns"},
                },
                "addressType": "IPv4",
                "endpoints": [{"addresses": [ip]} for ip in ips],
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}],
            }

        await api.create("endpointslices", endpoints("10.250.0.2", "10.250.0.3"))
        applied: list[str] = []
        cleared: list[list[Flow]] = []
        factory = InformerFactory(api)
        proxier = Proxier(
            factory, apply=applied.append, remove=lambda: None, min_interval=0.01, clear_udp=cleared.append
        )
        factory.start()
        task = asyncio.create_task(proxier.run())
        await until(lambda: cleared, what="the first clear")
        await api.update("endpointslices", endpoints("10.250.0.3"), "kube-system")
        await until(lambda: len(cleared) > 1, what="the clear after an endpoint left")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await factory.stop()
        return cleared

    cleared = asyncio.run(go())
    assert cleared == [[Flow("10.96.0.10", 53)], [Flow("10.96.0.10", 53, "10.250.0.2")]]


def test_conntrack_really_forgets_a_dnated_udp_flow() -> None:
    """In a scratch network namespace: a UDP flow to a cluster IP DNATed by nftables shows in conntrack;
    the proxy's command for its endpoint removes it, and the one for another endpoint does not.
    Run under the shared lock (netns, nft)."""
    import subprocess
    import sys

    ns = "kl-dnstest-ct"
    sh = ["ip", "netns", "exec", ns]
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run([*sh, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run([*sh, "ip", "route", "add", "10.96.0.0/16", "dev", "lo"], check=True)
        subprocess.run(
            [*sh, "nft", "-f", "-"],
            check=True,
            text=True,
            input=(
                "table ip t { chain out { type nat hook output priority -100; policy accept;\n"
                "  ip daddr 10.96.0.10 udp dport 53 dnat to 127.0.0.1:5353\n}\n}\n"
            ),
        )
        subprocess.run(
            [
                *sh,
                sys.executable,
                "-c",
                "import socket; s = socket.socket(socket.AF_INET, "
                "socket.SOCK_DGRAM); s.sendto(b'x', ('10.96.0.10', 53))",
            ],
            check=True,
        )

        def flows() -> str:
            return subprocess.run(
                [*sh, "conntrack", "-L", "-p", "udp"], capture_output=True, text=True
            ).stdout

        assert "dst=10.96.0.10" in flows()
        other = conntrack_argv(Flow("10.96.0.10", 53, "127.0.0.2"))
        subprocess.run([*sh, *other], capture_output=True)
        assert "dst=10.96.0.10" in flows()
        subprocess.run([*sh, *conntrack_argv(Flow("10.96.0.10", 53, "127.0.0.1"))], capture_output=True)
        assert "dst=10.96.0.10" not in flows()
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
