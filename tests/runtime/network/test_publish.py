"""Published ports: nft DNAT from a host port to busybox httpd inside a real sandbox."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.network import (
    BridgeNetwork,
    NetworkError,
    PortMapping,
    SandboxNet,
    SandboxNotFoundError,
    nft,
    portmap,
)
from tests.runtime.network.conftest import free_port, new_sandbox_id, wait_for


def http_get(host: str, port: int) -> str:
    """One HTTP/1.0 GET; '' when the connection fails or the answer is not 200."""
    try:
        with socket.create_connection((host, port), timeout=1) as conn:
            conn.sendall(b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    except OSError:
        return ""
    answer = b"".join(chunks).decode(errors="replace")
    return answer if answer.split("\r\n", 1)[0].split(" ")[1:2] == ["200"] else ""


@pytest.fixture
def web(network: BridgeNetwork, tmp_path: Path) -> Iterator[SandboxNet]:
    """A bridge sandbox running busybox httpd on port 80 that serves a known page."""
    sandbox = network.setup(new_sandbox_id())
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text(f"hello from {sandbox.sandbox_id}\n")
    server = subprocess.Popen(
        ["ip", "netns", "exec", sandbox.netns_name, "busybox", "httpd", "-f", "-p", "80", "-h", str(www)]
    )
    try:
        wait_for(lambda: "hello" in http_get(sandbox.ip, 80), what="httpd in the sandbox")
        yield sandbox
    finally:
        server.kill()
        server.wait()


def test_published_port_reaches_the_pod_via_loopback_and_the_gateway(
    network: BridgeNetwork, web: SandboxNet
) -> None:
    port = free_port()
    network.publish(web.sandbox_id, [PortMapping(port, 80)])
    assert nft.table_exists(portmap.FAMILY, portmap.table_name(web.sandbox_id))
    wait_for(lambda: web.sandbox_id in http_get("127.0.0.1", port), what="127.0.0.1 DNAT")
    wait_for(lambda: web.sandbox_id in http_get(web.gateway, port), what="bridge address DNAT")
    assert network.get(web.sandbox_id).ports == [PortMapping(port, 80)]  # type: ignore[union-attr]


def test_unpublish_and_teardown_remove_the_table(network: BridgeNetwork, web: SandboxNet) -> None:
    port = free_port()
    network.publish(web.sandbox_id, [PortMapping(port, 80)])
    wait_for(lambda: bool(http_get("127.0.0.1", port)), what="published port")
    network.publish(web.sandbox_id, [])
    assert not nft.table_exists(portmap.FAMILY, portmap.table_name(web.sandbox_id))
    assert http_get("127.0.0.1", port) == ""
    network.publish(web.sandbox_id, [PortMapping(port, 80)])
    network.teardown(web.sandbox_id)
    assert not nft.table_exists(portmap.FAMILY, portmap.table_name(web.sandbox_id))


def test_host_ip_limits_the_published_address(network: BridgeNetwork, web: SandboxNet) -> None:
    port = free_port()
    network.publish(web.sandbox_id, [PortMapping(port, 80, host_ip=web.gateway)])
    wait_for(lambda: bool(http_get(web.gateway, port)), what="published on the gateway")
    assert http_get("127.0.0.1", port) == ""


def test_conflicts_and_bad_requests_are_refused(network: BridgeNetwork) -> None:
    a = network.setup(new_sandbox_id())
    b = network.setup(new_sandbox_id())
    none = network.setup(new_sandbox_id(), mode="none")
    port = free_port()
    network.publish(a.sandbox_id, [PortMapping(port, 80)])
    with pytest.raises(NetworkError, match=f"{port}/tcp is already published by sandbox {a.sandbox_id}"):
        network.publish(b.sandbox_id, [PortMapping(port, 8080)])
    network.publish(b.sandbox_id, [PortMapping(port, 8080, "udp")])  # another protocol is free
    with pytest.raises(NetworkError, match="none mode"):
        network.publish(none.sandbox_id, [PortMapping(port + 1, 80)])
    with pytest.raises(SandboxNotFoundError):
        network.publish(new_sandbox_id(), [PortMapping(port + 2, 80)])
    assert network.get(b.sandbox_id).ports == [PortMapping(port, 8080, "udp")]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("8080:80", PortMapping(8080, 80)),
        ("53:5353/udp", PortMapping(53, 5353, "udp")),
        ("127.0.0.1:8080:80/tcp", PortMapping(8080, 80, "tcp", "127.0.0.1")),
    ],
)
def test_port_mapping_parse(spec: str, expected: PortMapping) -> None:
    assert PortMapping.parse(spec) == expected


@pytest.mark.parametrize(
    "spec", ["80", "a:b", "0:80", "8080:70000", "8080:80/sctp", "1.2.3:8080:80", "1:2:3:4"]
)
def test_port_mapping_parse_refuses_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError, match=r"port|protocol|host ip"):
        PortMapping.parse(spec)
