"""Node-side helpers (routes, ip_forward), run inside a throwaway netns so the machine is untouched."""

from __future__ import annotations

import subprocess
import sys

from runtime.network import netns
from tests.runtime.network.conftest import in_netns, new_sandbox_id

_SCRIPT = """
from runtime.network import NetworkError
from runtime.network.host import add_route, enable_ip_forward, remove_route
import subprocess, sys
def routes():
    return subprocess.run(["ip", "route"], capture_output=True, text=True).stdout
subprocess.run(["ip", "link", "add", "d0", "type", "bridge"], check=True)
subprocess.run(["ip", "addr", "add", "192.168.77.1/24", "dev", "d0"], check=True)
subprocess.run(["ip", "link", "set", "d0", "up"], check=True)
enable_ip_forward()
assert open("/proc/sys/net/ipv4/ip_forward").read().strip() == "1"
add_route("10.244.1.0/24", "192.168.77.2")
assert "10.244.1.0/24 via 192.168.77.2 dev d0" in routes(), routes()
add_route("10.244.1.0/24", "192.168.77.3")  # replaces
assert "10.244.1.0/24 via 192.168.77.3 dev d0" in routes() and "77.2" not in routes(), routes()
remove_route("10.244.1.0/24")
assert "10.244.1.0" not in routes(), routes()
remove_route("10.244.1.0/24")  # idempotent
try:
    add_route("10.244.2.0/24", "172.31.255.9")  # no route to that gateway
except NetworkError as exc:
    assert "cannot add route" in str(exc), exc
else:
    sys.exit("an unreachable gateway was accepted")
print("ok")
"""


def test_routes_and_ip_forward_in_the_callers_netns() -> None:
    node = new_sandbox_id()
    netns.create(node).close()
    try:
        result = in_netns(node, sys.executable, "-c", _SCRIPT)
        assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
        machine = subprocess.run(["ip", "route"], capture_output=True, text=True).stdout
        assert "10.244.1.0/24 via 192.168.77" not in machine
    finally:
        netns.remove(node)
