"""Published ports: nft DNAT from a host port to busybox httpd inside a real sandbox."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.network import (
    BridgeNetwork,
    NetworkError,
    PortMapping,
    SandboxNet,
    SandboxNotFoundError,
    netns,
    nft,
    portmap,
)
from runtime.network.rtnl import Rtnl
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


_NODE_SCRIPT = """
import json, subprocess, sys, time, urllib.request
from pathlib import Path
from runtime.network import BridgeNetwork, NetworkConfig, PortMapping
from runtime.network import nft, portmap
cfg = json.loads(sys.argv[1])
net = BridgeNetwork(NetworkConfig(state_dir=Path(cfg["state"]), bridge="kl0", subnet="10.88.0.0/16"))
net.enable_ip_forward()  # the pod-to-published-port hairpin is routed through the node
a, b = net.setup(cfg["a"]), net.setup(cfg["b"])
Path(cfg["www"], "index.html").write_text("hello from a")
httpd = subprocess.Popen(["nsenter", f"--net={a.netns_path}", "busybox", "httpd", "-f", "-p", "80", "-h", cfg["www"]])
try:
    net.publish(a.sandbox_id, [PortMapping(8080, 80)])
    results = {"tables": [t.name for t in nft.list_tables()], "want": portmap.table_name(a.sandbox_id)}
    def fetch(*cmd):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:  # (busybox wget -T segfaults: bound it from outside)
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=2).stdout
            except subprocess.TimeoutExpired:
                out = ""
            if "hello" in out:
                return out
            time.sleep(0.05)
        return ""
    url = f"http://{b.gateway}:8080/index.html"
    results["from_pod_b"] = fetch("nsenter", f"--net={b.netns_path}", "busybox", "wget", "-q", "-O-", url)
    results["from_node_loopback"] = fetch("busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/index.html")
finally:
    httpd.kill()
    httpd.wait()
    net.teardown(a.sandbox_id)
    net.teardown(b.sandbox_id)
    net.delete_bridge()
print(json.dumps(results))
"""


def test_published_port_inside_a_node_netns_from_another_pod_and_the_node(tmp_path: Path) -> None:
    """Each node is its own netns with its own kl0 and nft tables; a pod reaches another pod's
    published port via the bridge address (hairpin, masqueraded) and the node via 127.0.0.1."""
    node = new_sandbox_id()
    with Rtnl(netns.create(node)) as inside:
        inside.set_up(1)  # the node's lo
    try:
        www = tmp_path / "www"
        www.mkdir()
        cfg = {
            "state": str(tmp_path / "state"),
            "www": str(www),
            "a": new_sandbox_id(),
            "b": new_sandbox_id(),
        }
        proc = subprocess.run(
            ["nsenter", f"--net=/run/netns/{node}", sys.executable, "-c", _NODE_SCRIPT, json.dumps(cfg)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        results = json.loads(proc.stdout)
        assert results["want"] in results["tables"]
        assert not nft.table_exists(portmap.FAMILY, results["want"]), "the table belongs to the node's netns"
        assert "hello from a" in results["from_pod_b"]
        assert "hello from a" in results["from_node_loopback"]
    finally:
        netns.remove(node)
