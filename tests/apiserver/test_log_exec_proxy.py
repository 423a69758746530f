"""pods/log and pods/exec end to end: the real kubectl 1.33 and the `kubernetes` Python client against
a real `kubelite server` subprocess, proxying over mutual TLS to a kubelet HTTPS server.

The kubelet server runs in a thread of the test with the host-process runtime double of
tests/kubelet/test_server.py (log files the test writes, exec as host processes); the test
registers a Node pointing at 127.0.0.1:<its port> and pods bound to it, so every hop but the
container runtime is the real one: kubectl -> API server (authn, pod lookup, node lookup, client
certificate) -> kubelet (certificate check, log reader, exec bridge) and back.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from kubernetes import client, config
from kubernetes.stream import stream

from api.errors import ApiError
from apiserver import certs
from apiserver.kubeletproxy import (
    kubelet_endpoint,
    kubelet_error,
    kubelet_target,
    node_name_of,
    pod_container,
)
from tests.apiserver.conftest import KUBECTL, Server, free_port
from tests.kubelet.test_server import HostRuntime, Kubelet, start_kubelet


@pytest.fixture(scope="module")
def kubelet(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubelet]:
    tmp = tmp_path_factory.mktemp("proxied-kubelet")
    tls = server.data_dir / "tls"
    ca = certs.TLSFiles(tls / "ca.crt", tls / "ca.key", tls / "server.crt", tls / "server.key")
    k = start_kubelet(tmp, HostRuntime(tmp / "logs"), ca)
    yield k
    k.stop()


def make_node(http: httpx.Client, name: str, port: int, address: str = "127.0.0.1") -> None:
    r = http.post("/api/v1/nodes", json={"metadata": {"name": name}})
    assert r.status_code in (201, 409), r.text
    status = {
        "addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
    }
    r = http.patch(
        f"/api/v1/nodes/{name}/status",
        json={"status": status},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text


def make_pod(
    http: httpx.Client,
    ns: str,
    name: str,
    node: str | None,
    containers: tuple[str, ...] = ("c1", "c2"),
    phase: str = "Running",
) -> None:
    spec: dict[str, object] = {"containers": [{"name": c, "image": "busybox:1"} for c in containers]}
    if node:
        spec["nodeName"] = node
    r = http.post(f"/api/v1/namespaces/{ns}/pods", json={"metadata": {"name": name}, "spec": spec})
    assert r.status_code == 201, r.text
    r = http.patch(
        f"/api/v1/namespaces/{ns}/pods/{name}/status",
        json={"status": {"phase": phase}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def node(http: httpx.Client, kubelet: Kubelet) -> str:
    make_node(http, "proxied-node", kubelet.port)
    return "proxied-node"


ExecPod = Callable[..., None]


@pytest.fixture
def exec_pod(http: httpx.Client, kubelet: Kubelet, node: str) -> ExecPod:
    """Make pod `name` in `ns`: one container `c` on the proxied node, in the runtime double in
    `state` ("running" unless given), so exec and attach reach it."""

    def make(ns: str, name: str, state: str = "running") -> None:
        make_pod(http, ns, name, node, ("c",))
        kubelet.runtime.add(ns, name, "c", state=state)

    return make


def test_kubectl_logs(server: Server, http: httpx.Client, kubelet: Kubelet, node: str, ns: str) -> None:
    rt = kubelet.runtime
    make_pod(http, ns, "web", node)
    old = rt.add(ns, "web", "c1", restarts=0, state="exited")
    rt.write(old, "crashed once")
    c1 = rt.add(ns, "web", "c1", restarts=1)
    rt.write(c1, "hello from c1", "second line")
    c2 = rt.add(ns, "web", "c2")
    rt.write(c2, "hello from c2")
    r = server.kubectl("logs", "-n", ns, "web", "-c", "c1", check=True)
    assert r.stdout == "hello from c1\nsecond line\n"
    r = server.kubectl("logs", "-n", ns, "web", check=True)  # kubectl picks the first container
    assert r.stdout == "hello from c1\nsecond line\n" and 'Defaulted container "c1"' in r.stderr
    assert server.kubectl("logs", "-n", ns, "pod/web", "-c", "c2", check=True).stdout == "hello from c2\n"
    assert (
        server.kubectl("logs", "-n", ns, "web", "-c", "c1", "--tail=1", check=True).stdout == "second line\n"
    )
    assert server.kubectl("logs", "-n", ns, "web", "-c", "c1", "-p", check=True).stdout == "crashed once\n"
    stamped = server.kubectl(
        "logs", "-n", ns, "web", "-c", "c1", "--timestamps", "--since=1h", check=True
    ).stdout
    assert [ln.split(" ", 1)[1] for ln in stamped.splitlines()] == ["hello from c1", "second line"]
    r = server.kubectl("logs", "-n", ns, "web", "-c", "c2", "--previous")
    assert r.returncode == 1
    assert (
        'Error from server (BadRequest): previous terminated container "c2" in pod "web" not found'
        in r.stderr
    )
    r = server.kubectl("logs", "-n", ns, "web", "-c", "nope")
    assert r.returncode == 1 and "container nope is not valid for pod web" in r.stderr
    resp = http.get(f"/api/v1/namespaces/{ns}/pods/web/log", params={"container": "nope"})
    assert resp.status_code == 400 and resp.json()["reason"] == "BadRequest"


def test_kubectl_logs_follow(
    server: Server, http: httpx.Client, kubelet: Kubelet, node: str, ns: str
) -> None:
    rt = kubelet.runtime
    make_pod(http, ns, "tailed", node, ("c",))
    c = rt.add(ns, "tailed", "c")
    rt.write(c, "line 1")
    cache = server.data_dir.parent / "kubectl-cache"
    proc = subprocess.Popen(
        [
            KUBECTL,
            "--kubeconfig",
            str(server.kubeconfig),
            "--cache-dir",
            str(cache),
            "logs",
            "-f",
            "-n",
            ns,
            "tailed",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "line 1\n"  # before line 2 exists: the proxy streams
        rt.write(c, "line 2")
        assert proc.stdout.readline() == "line 2\n"
        rt.write(c, "last line")
        rt.containers[c.id].state = "exited"
        assert proc.stdout.readline() == "last line\n"
        assert proc.wait(20) == 0  # the kubelet ends the stream, the proxy passes the end on
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kubectl_exec(server: Server, exec_pod: ExecPod, ns: str) -> None:
    exec_pod(ns, "box")
    r = server.kubectl("exec", "-n", ns, "box", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.returncode, r.stdout) == (3, "out\n") and "err\n" in r.stderr
    r = server.kubectl("exec", "-n", ns, "box", "-c", "c", "--", "true")
    assert (r.returncode, r.stdout) == (0, "")
    r = server.kubectl(
        "exec", "-i", "-n", ns, "box", "--", "sh", "-c", "tr a-z A-Z; echo done", input="hello\n"
    )
    assert (r.returncode, r.stdout) == (0, "HELLO\ndone\n")


def test_kubectl_exec_it_through_a_terminal(server: Server, exec_pod: ExecPod, ns: str) -> None:
    """`kubectl exec -it`: a TTY, its size sent as a resize frame, keystrokes in, the exit code out."""
    exec_pod(ns, "term")
    code, out = exec_in_terminal(server, KUBECTL, ns, "term", b"stty size; echo $((6*7)); exit 7\n")
    assert code == 7, out
    assert b"37 111" in out and b"42" in out


def exec_in_terminal(server: Server, binary: str, ns: str, pod: str, keys: bytes) -> tuple[int, bytes]:
    """`kubectl exec -it POD -- sh` in a 111x37 terminal: `keys` typed at the prompt; (exit code, screen)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 37, 111, 0, 0))
    cache = server.data_dir.parent / "kubectl-cache"
    proc = subprocess.Popen(
        [
            binary,
            "--kubeconfig",
            str(server.kubeconfig),
            "--cache-dir",
            str(cache),
            "exec",
            "-it",
            "-n",
            ns,
            pod,
            "--",
            "sh",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    out = b""
    typed = False
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if not typed and b"# " in out:  # at the prompt, so kubectl's resize has been applied
                os.write(master, keys)
                typed = True
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: kubectl exited and closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        return proc.wait(10), out
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_errors_worded_as_kube(
    server: Server, http: httpx.Client, exec_pod: ExecPod, node: str, ns: str
) -> None:
    make_pod(http, ns, "unbound", None, ("c",), phase="Pending")
    r = server.kubectl("logs", "-n", ns, "unbound")  # kube: no node yet, so no logs (an empty stream)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    checked = http.get(f"/api/v1/namespaces/{ns}/pods/unbound/log?container=nope")  # the container still is
    assert (checked.status_code, checked.json()["message"]) == (
        400,
        "container nope is not valid for pod unbound",
    )
    r = server.kubectl("exec", "-n", ns, "unbound", "--", "true")
    assert r.returncode != 0 and "pod unbound does not have a host assigned" in r.stderr
    r = server.kubectl("exec", "-n", ns, "box-nope", "--", "true")
    assert r.returncode == 1 and 'pods "box-nope" not found' in r.stderr
    make_node(http, "gone-node", free_port())  # nobody listens there
    make_pod(http, ns, "stranded", "gone-node", ("c",))
    r = server.kubectl("logs", "-n", ns, "stranded")
    assert r.returncode == 1 and "ServiceUnavailable" in r.stderr and "kubelet at 127.0.0.1:" in r.stderr
    r = server.kubectl("exec", "-n", ns, "stranded", "--", "true")
    assert r.returncode == 1 and "kubelet at 127.0.0.1:" in r.stderr
    exec_pod(ns, "stopped", state="exited")
    r = server.kubectl("exec", "-n", ns, "stopped", "--", "true")  # WebSocket refused, then the SPDY fallback
    assert r.returncode == 1
    assert 'Error from server (BadRequest): container "c" in pod "stopped" is not running' in r.stderr
    make_pod(http, ns, "finished", node, ("c",), phase="Succeeded")
    resp = http.get(
        f"/api/v1/namespaces/{ns}/pods/finished/exec",
        params={"command": "true", "stdout": "true"},
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Protocol": "v5.channel.k8s.io",
        },
    )
    assert (
        resp.status_code == 400
        and "cannot exec into a container in a completed pod" in resp.json()["message"]
    )


def test_python_client(server: Server, http: httpx.Client, kubelet: Kubelet, node: str, ns: str) -> None:
    rt = kubelet.runtime
    make_pod(http, ns, "py", node, ("main", "side"))
    c = rt.add(ns, "py", "main")
    rt.write(c, "from main")
    rt.add(ns, "py", "side")
    api = config.new_client_from_config(config_file=str(server.kubeconfig))
    try:
        v1 = client.CoreV1Api(api)
        with pytest.raises(client.ApiException) as refused:  # two containers and none named: kube's 400
            v1.read_namespaced_pod_log("py", ns)
        assert refused.value.status == 400 and "choose one of: [main side]" in str(refused.value.body)
        assert v1.read_namespaced_pod_log("py", ns, container="main", tail_lines=1) == "from main\n"
        # the client's default (preloaded) call leaves its socket open after the close frame, which holds
        # the server's shutdown for seconds: read the same way, then close
        resp = stream(
            v1.connect_get_namespaced_pod_exec,
            "py",
            ns,
            container="main",
            command=["sh", "-c", "echo hi"],
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        resp.run_forever(timeout=20)
        assert resp.returncode == 0  # before read_all(), which forgets the status channel too
        assert resp.read_all() == "hi\n"
        resp.close()
        resp = stream(
            v1.connect_get_namespaced_pod_exec,
            "py",
            ns,
            container="side",
            command=["sh", "-c", "echo oops >&2; exit 5"],
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        deadline = time.monotonic() + 20
        while resp.is_open() and time.monotonic() < deadline:
            resp.update(timeout=1)
        assert resp.read_stderr() == "oops\n"
        assert resp.returncode == 5
        resp.close()
    finally:
        api.close()


# --- the proxy's decisions (pure) ----------------------------------------------------------------
def test_target_decisions() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "ns a"},
        "spec": {
            "nodeName": "n",
            "initContainers": [{"name": "init"}],
            "containers": [{"name": "a"}, {"name": "b"}],
        },
    }
    # kube's validateContainer: no default among several (kubectl names one itself)
    with pytest.raises(
        ApiError, match=re.escape("choose one of: [a b] or one of the init containers: [init]")
    ):
        pod_container(pod, "")
    assert (
        pod_container({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "only"}]}}, "") == "only"
    )
    assert pod_container(pod, "init") == "init"
    with pytest.raises(ApiError, match="container z is not valid for pod p"):
        pod_container(pod, "z")
    with pytest.raises(ApiError, match="pod q does not have a host assigned"):
        node_name_of({"metadata": {"name": "q"}, "spec": {}})
    node = {
        "metadata": {"name": "n"},
        "status": {
            "addresses": [
                {"type": "Hostname", "address": "host"},
                {"type": "InternalIP", "address": "10.0.0.7"},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 12345}},
        },
    }
    assert kubelet_endpoint(node) == ("10.0.0.7", 12345)
    assert kubelet_endpoint({"status": {"addresses": [{"type": "Hostname", "address": "h"}]}}) == ("h", 10250)
    with pytest.raises(ApiError, match="has no address"):
        kubelet_endpoint({"metadata": {"name": "n"}, "status": {}})
    t = kubelet_target(
        pod, node, "exec", [("command", "sh"), ("command", "-c"), ("container", "b"), ("tty", "true")]
    )
    assert (t.authority, t.path, t.query) == (
        "10.0.0.7:12345",
        "/exec/ns%20a/p/b",
        "command=sh&command=-c&tty=true",
    )
    assert (
        kubelet_target(pod, node, "log", [("follow", "true"), ("container", "a")]).path
        == "/containerLogs/ns%20a/p/a"
    )
    with pytest.raises(ApiError, match="completed pod; current phase is Failed"):
        kubelet_target(
            {**pod, "status": {"phase": "Failed"}}, node, "exec", [("command", "x"), ("container", "a")]
        )
    e = kubelet_error(400, b'previous terminated container "a" in pod "p" not found\n')
    assert (e.code, e.reason, e.message) == (
        400,
        "BadRequest",
        'previous terminated container "a" in pod "p" not found',
    )
    assert kubelet_error(302, b"moved").code == 500
