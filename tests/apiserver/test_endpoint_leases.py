"""The pure half of the kubernetes-endpoints lease reconciler: who is live, what the endpoints say."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api import jsonutil
from apiserver.endpoint_leases import (
    endpoint_subsets,
    lease_name,
    live_servers,
    parse_holder,
    slice_for,
    stale_leases,
)

NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


def lease(holder: str, renewed_ago: float, duration: int = 15) -> dict[str, Any]:
    return {
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": duration,
            "renewTime": jsonutil.format_micro_time(NOW - dt.timedelta(seconds=renewed_ago)),
        }
    }


def test_expired_and_malformed_leases_are_not_live() -> None:
    leases: list[dict[str, Any]] = [
        lease("10.0.0.2:6443", 1),
        lease("10.0.0.1:6443", 14.9),
        lease("10.0.0.3:6443", 16),
        lease("garbage", 0),
        {"spec": {"holderIdentity": "10.0.0.4:6443"}},
    ]
    assert live_servers(leases, NOW) == [("10.0.0.1", 6443), ("10.0.0.2", 6443)]


def test_subsets_group_addresses_by_port() -> None:
    servers = [("127.0.0.1", 6444), ("127.0.0.1", 6443), ("10.0.0.1", 6443)]
    assert endpoint_subsets(servers) == [
        {
            "addresses": [{"ip": "10.0.0.1"}, {"ip": "127.0.0.1"}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        },
        {"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": 6444, "protocol": "TCP"}]},
    ]
    eps, ports = slice_for(servers)
    assert [e["addresses"] for e in eps] == [["10.0.0.1"], ["127.0.0.1"]]
    assert ports == [{"name": "https", "port": 6443, "protocol": "TCP"}]


def test_holder_and_name() -> None:
    assert parse_holder("[::1]:6443") == ("::1", 6443)
    assert parse_holder("10.0.0.1") is None
    assert lease_name("10.0.0.1", 6443) != lease_name("10.0.0.1", 6444)
    assert lease_name("10.0.0.1", 6443).startswith("kube-apiserver-")


def test_agent_reads_the_servers_from_the_endpoints() -> None:
    from kubelite.agent import endpoint_urls, server_urls

    eps = {"subsets": endpoint_subsets([("10.0.0.1", 6443), ("10.0.0.2", 6443), ("::1", 6444)])}
    assert endpoint_urls(eps) == ["https://10.0.0.1:6443", "https://10.0.0.2:6443", "https://[::1]:6444"]
    assert endpoint_urls({}) == []
    assert server_urls(["https://a:1/", "https://b:1,https://a:1", " https://c:1 "]) == [
        "https://a:1",
        "https://b:1",
        "https://c:1",
    ]


def test_leases_expired_past_the_grace_are_stale() -> None:
    leases = [
        {**lease(h, ago), "metadata": {"name": n}}
        for n, h, ago in [("live", "a:1", 1), ("just-expired", "b:1", 20), ("gone", "c:1", 31)]
    ]
    assert stale_leases(leases, NOW, dt.timedelta(seconds=15)) == ["gone"]
