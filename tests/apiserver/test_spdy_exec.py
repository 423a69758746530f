"""`kubectl exec` over SPDY/3.1 end to end: the real kubectl 1.27 and 1.29 (which exec only over
SPDY; 1.29 offers v5.channel.k8s.io first, the kubelet picks v4) against a real `kubelite server`
subprocess, which tunnels the upgrade to the kubelet HTTPS server of test_log_exec_proxy.py
(host-process runtime double, mutual TLS), whose SPDY exec session runs the command: stdout and
stderr on their own streams, the exit code from the v4 Status on the error stream, stdin to its
end, a terminal and its size (`-it`), and a refusal worded as kube's."""

from __future__ import annotations

import httpx
import pytest

from tests.apiserver.conftest import Server
from tests.apiserver.test_log_exec_proxy import ExecPod, exec_in_terminal, exec_pod, kubelet, node  # noqa: F401 (fixtures)
from tests.kubectls import kubectl

SPDY_ONLY = ("1.27", "1.29")  # WebSocket exec came (behind a gate) in 1.29, on by default in 1.30


@pytest.fixture(params=SPDY_ONLY)
def spdy_kubectl(request: pytest.FixtureRequest) -> str:
    """A kubectl that execs over SPDY. (1.30+ ignore KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false: they
    fall back to SPDY only after a failed WebSocket upgrade, see test_log_exec_proxy's refusals.)"""
    return kubectl(request.param)


def test_kubectl_exec_over_spdy(server: Server, exec_pod: ExecPod, ns: str, spdy_kubectl: str) -> None:  # noqa: F811
    binary = spdy_kubectl
    exec_pod(ns, "box")
    r = server.kubectl(
        "exec", "-n", ns, "box", "--", "sh", "-c", "echo out; echo err >&2; exit 3", binary=binary
    )
    assert (r.returncode, r.stdout) == (3, "out\n"), r.stderr
    assert r.stderr.startswith("err\n"), r.stderr
    r = server.kubectl("exec", "-i", "-n", ns, "box", "--", "cat", input="hi\n", binary=binary)
    assert (r.returncode, r.stdout, r.stderr) == (0, "hi\n", "")
    r = server.kubectl("exec", "-n", ns, "box", "-c", "c", "--", "true", binary=binary)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    exec_pod(ns, "stopped", state="exited")
    r = server.kubectl("exec", "-n", ns, "stopped", "--", "true", binary=binary)
    assert r.returncode == 1
    assert 'Error from server (BadRequest): container "c" in pod "stopped" is not running' in r.stderr


def test_kubectl_exec_it_over_spdy(server: Server, exec_pod: ExecPod, ns: str, spdy_kubectl: str) -> None:  # noqa: F811
    exec_pod(ns, "term")
    keys = b"stty size; echo $((6*7)) >&2; exit 7\n"  # stderr: a terminal has one output stream
    code, out = exec_in_terminal(server, spdy_kubectl, ns, "term", keys)
    assert code == 7, out
    assert b"37 111" in out and b"42" in out


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_attach_reaches_the_containers_own_process(
    server: Server,
    http: httpx.Client,
    exec_pod: ExecPod,  # noqa: F811
    ns: str,
    version: str,
) -> None:
    """kubectl attach -i (SPDY in 1.27, WebSocket in 1.33) through the API server to the kubelet's
    attach: what it types reaches the container's process and its output comes back; a plain
    POST is told it needs an upgrade, and a completed pod is refused in kube's words."""
    pod = "att-" + version.replace(".", "-")
    exec_pod(ns, pod)
    r = server.kubectl("attach", "-i", "-n", ns, pod, "-c", "c", input="hello\n", binary=kubectl(version))
    assert (r.returncode, r.stdout) == (0, "hello\n"), r.stderr
    direct = http.post(f"/api/v1/namespaces/{ns}/pods/{pod}/attach?container=c&stdout=true")
    assert direct.status_code == 400 and "attach needs an upgrade" in direct.json()["message"], direct.text
