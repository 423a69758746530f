"""Port-forward on a real cluster: the real kubectl (1.33: SPDY tunnelled in a WebSocket; 1.27 and
1.30: a plain HTTP upgrade to SPDY/3.1), ours (v4.channel.k8s.io) and the official Python client,
through the API server and the kubelet into the pod's network namespace. `svc/NAME` is resolved by each kubectl itself (a pod of the
selector, the service port's named target port looked up in that pod)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.apiserver.conftest import free_port
from tests.e2e.conftest import KUBELITE, Cluster
from tests.objects import manifest, service, web_rc
from tests.polling import wait_for

APP = manifest(
    web_rc("pf-web", 1, serve="echo pf-page > /www/index.html; seq 1 100000 > /www/big", grace=1),
    service("pf-web", {"port": 80, "targetPort": "http"}),
)
BIG = "".join(f"{i}\n" for i in range(1, 100001)).encode()


@pytest.fixture(scope="module")
def web(cluster: Cluster) -> Iterator[str]:
    """The name of the running, ready pf-web pod."""
    cluster.kubectl("apply", "-f", "-", input=APP)

    def ready_pod() -> str:
        items = json.loads(cluster.kubectl("get", "pods", "-l", "app=pf-web", "-o", "json").stdout)["items"]
        ready = [
            p["metadata"]["name"]
            for p in items
            if p["status"].get("phase") == "Running"
            and all(cs.get("ready") for cs in p["status"].get("containerStatuses") or [])
        ]
        return ready[0] if ready else ""

    yield wait_for(ready_pod, 90, "a ready pf-web pod")
    cluster.kubectl("delete", "rc/pf-web", "svc/pf-web", "--wait=false", check=False)


class Forward:
    """A `kubectl port-forward` process, read until it says it listens; stopped on exit."""

    def __init__(self, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_listening(self, line: str) -> None:
        wait_for(lambda: line in self.text() or self.proc.poll() is not None, 30, f"'{line}'")
        assert line in self.text(), self.text()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def forward(cluster: Cluster, tmp_path: Path, version: str, *args: str) -> Forward:
    """`port-forward ARGS` by the real kubectl 1.VERSION, or ours when VERSION is "ours"."""
    kubectl = (
        [*KUBELITE, "kubectl"]
        if version == "ours"
        else [
            f"/usr/lib/google-cloud-sdk/bin/kubectl.1.{version}",
            "--cache-dir",
            str(cluster.data_dir / "kubectl-cache"),
        ]
    )
    return Forward([*kubectl, "port-forward", *args], cluster.env(), tmp_path / "port-forward.log")


@pytest.mark.parametrize("version", ["33", "30", "27", "ours"])
def test_port_forward_a_service(cluster: Cluster, web: str, tmp_path: Path, version: str) -> None:
    port = free_port()
    fwd = forward(cluster, tmp_path, version, "svc/pf-web", f"{port}:80")
    try:
        fwd.wait_listening(f"Forwarding from 127.0.0.1:{port} -> 8080")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            assert http.get("/").text == "pf-page\n"
            assert http.get("/big").content == BIG  # ~600 KB: many frames each way
            assert http.get("/").text == "pf-page\n"  # a second connection on the same forward
        assert f"Handling connection for {port}" in fwd.text()
    finally:
        fwd.stop()


@pytest.mark.parametrize("version", ["33", "27", "ours"])
def test_port_forward_to_a_closed_port_reports_the_kubelets_error(
    cluster: Cluster, web: str, tmp_path: Path, version: str
) -> None:
    port = free_port()
    fwd = forward(cluster, tmp_path, version, f"pod/{web}", f"{port}:9999")
    try:
        fwd.wait_listening(f"Forwarding from 127.0.0.1:{port} -> 9999")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            assert s.recv(100) == b""  # closed without data
        wait_for(lambda: "an error occurred forwarding" in fwd.text(), 10, "the forwarding error")
        assert f"error forwarding port 9999 to pod {web}, uid " in fwd.text()
        assert "connect: connection refused" in fwd.text()
    finally:
        fwd.stop()


def test_python_client_port_forward(cluster: Cluster, web: str) -> None:
    script = f"""
import sys
from kubernetes import client, config
from kubernetes.stream import portforward
config.load_kube_config({str(cluster.kubeconfig)!r})
pf = portforward(client.CoreV1Api().connect_get_namespaced_pod_portforward, {web!r}, "default", ports="8080,9999")
s = pf.socket(8080)
s.setblocking(True)
s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
print(data.split(b"\\r\\n\\r\\n", 1)[1].decode(), end="")
print("error 8080:", pf.error(8080))
s2 = pf.socket(9999)
s2.setblocking(True)
s2.recv(10)
print("error 9999:", pf.error(9999))
pf.close()
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "pf-page" and lines[1] == "error 8080: None", r.stdout
    assert lines[2].startswith(f"error 9999: error forwarding port 9999 to pod {web}, uid "), r.stdout
