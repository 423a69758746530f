"""The official Python client's own end-to-end expectations that need running containers
(kubernetes-client/python `kubernetes/e2e_test/test_client.py`, test_utils.py's metrics test),
checked on the real 2-node cluster with the client's own stream machinery.

- exec (`kubernetes.stream.stream`): stdout as text and as bytes (a gzip stream intact), GET and
  POST, an interactive shell with stdin, stdout and stderr kept apart and the error channel's
  Success Status when it exits, closing stdin alone over v5.channel.k8s.io (cat then exits 0), the
  exit codes the client reads from the error channel, and a terminal (tty, resize);
- port-forward (`kubernetes.stream.portforward`): two ports of one pod at once, several rounds
  with several connections, a third port nobody listens on (EOF, and an error for that port
  only), the forward disconnected once every socket is closed; and an HTTP request to nginx
  made through `socket.create_connection` patched onto a forward, as theirs does;
- pod logs followed as they are written; attach to a container's own stdin and stdout;
- nodes carry labels; metrics.k8s.io through `kubernetes.utils` (nodes, pods, a label selector,
  several namespaces).

Images: busybox, python:3 and nginx:1.22 (Debian's nginx, whose default page says "Welcome to
nginx!"); nothing is pulled from outside.
"""

from __future__ import annotations

import gzip
import json
import select
import socket
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, utils, watch
from kubernetes.stream import portforward, stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, RESIZE_CHANNEL

from tests.e2e.conftest import Cluster
from tests.polling import wait_for

NS = "default"
# theirs say "busybox", whose :latest is pulled Always; pods here have no route to a registry
BUSYBOX = "busybox:1.35"

# an echo server on each port given (ours: the same behaviour theirs relies on)
ECHO_SERVER = """
import socket, sys, threading
def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen()
    while True:
        conn, _ = s.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()
def echo(conn):
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)
threads = [threading.Thread(target=serve, args=(int(p),), daemon=True) for p in sys.argv[1:]]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


@pytest.fixture(scope="module")
def v1(cluster: Cluster) -> Iterator[client.CoreV1Api]:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield client.CoreV1Api(api)
    api.close()


def _running(v1: client.CoreV1Api, name: str, ready: bool = False) -> bool:
    pod = v1.read_namespaced_pod(name, NS)
    statuses = pod.status.container_statuses or []
    return pod.status.phase == "Running" and (not ready or all(s.ready for s in statuses))


def _make_pod(v1: client.CoreV1Api, body: dict[str, Any], ready: bool = False) -> str:
    name = body["metadata"]["name"]
    created = v1.create_namespaced_pod(body=body, namespace=NS)
    assert created.metadata.name == name and created.status.phase
    wait_for(lambda: _running(v1, name, ready), 120, f"pod {name} running")
    return str(name)


def _delete_pod(v1: client.CoreV1Api, name: str) -> None:
    v1.delete_namespaced_pod(name=name, namespace=NS, body={}, grace_period_seconds=0)


@pytest.fixture(scope="module")
def busy(v1: client.CoreV1Api) -> Iterator[str]:
    """A running busybox pod (`while true; do date; sleep 5; done`), once the default service
    account exists (theirs waits for it too)."""
    wait_for(lambda: v1.read_namespaced_service_account("default", NS).metadata.name == "default", 30, "sa")
    name = _make_pod(
        v1,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "pyc-busybox"},
            "spec": {
                "containers": [
                    {
                        "image": BUSYBOX,
                        "name": "sleep",
                        "args": ["/bin/sh", "-c", "while true;do date;sleep 5; done"],
                    }
                ]
            },
        },
    )
    assert len(v1.list_pod_for_all_namespaces().items) > 0
    yield name
    _delete_pod(v1, name)


def _open(v1: client.CoreV1Api, name: str, command: list[str], **kw: Any) -> Any:
    """An exec WebSocket left open (`_preload_content=False`), stderr and stdout requested."""
    args: dict[str, Any] = {"stderr": True, "stdin": False, "stdout": True, "tty": False, **kw}
    return stream(
        v1.connect_post_namespaced_pod_exec, name, NS, command=command, _preload_content=False, **args
    )


def _error_channel(resp: Any) -> dict[str, Any]:
    """The Status the error channel carries once the command is over."""
    line = wait_for(
        lambda: resp.update(timeout=1) or resp.read_channel(ERROR_CHANNEL), 20, "the error channel"
    )
    return json.loads(line)


def test_exec_output_as_text_bytes_and_by_post(v1: client.CoreV1Api, busy: str) -> None:
    out = stream(
        v1.connect_get_namespaced_pod_exec,
        busy,
        NS,
        command=["/bin/sh", "-c", "for i in $(seq 1 3); do date; done"],
        stderr=False,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert isinstance(out, str) and len(out.splitlines()) == 3
    raw = stream(
        v1.connect_get_namespaced_pod_exec,
        busy,
        NS,
        command=["/bin/sh", "-c", 'echo -n "This is a test string" | gzip'],
        stderr=False,
        stdin=False,
        stdout=True,
        tty=False,
        binary=True,
    )
    assert isinstance(raw, bytes) and gzip.decompress(raw).decode() == "This is a test string"
    up = stream(
        v1.connect_post_namespaced_pod_exec,
        busy,
        NS,
        command=["uptime"],
        stderr=False,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert len(up.splitlines()) == 1


@pytest.mark.parametrize("binary", [False, True])
def test_exec_interactive_shell_keeps_stdout_and_stderr_apart(
    v1: client.CoreV1Api, busy: str, binary: bool
) -> None:
    enc: Any = (lambda s: s.encode()) if binary else (lambda s: s)
    resp = _open(v1, busy, ["/bin/sh"], stdin=True, binary=binary)
    try:
        resp.write_stdin(enc("echo test string 1\n"))
        assert resp.readline_stdout(timeout=5) == enc("test string 1")
        assert not resp.peek_stderr()
        resp.write_stdin(enc("echo test string 2 >&2\n"))
        assert resp.readline_stderr(timeout=5) == enc("test string 2")
        assert not resp.peek_stdout()
        resp.write_stdin(enc("exit\n"))
        assert _error_channel(resp)["status"] == "Success"
        resp.update(timeout=5)
        wait_for(lambda: not resp.is_open() or resp.update(timeout=1), 10, "the server to close the stream")
        assert not resp.is_open()
    finally:
        resp.close()


def test_exec_closing_stdin_ends_cat(v1: client.CoreV1Api, busy: str) -> None:
    """v5.channel.k8s.io's close frame for stdin alone: cat sees EOF and exits 0."""
    resp = _open(v1, busy, ["/bin/sh", "-c", "cat"], stdin=True)
    try:
        assert resp.subprotocol == "v5.channel.k8s.io"
        resp.write_stdin("test-close\n")
        assert resp.readline_stdout(timeout=5) == "test-close"
        resp.close_channel(0)
        resp.run_forever(timeout=15)
        assert not resp.is_open()
        assert resp.returncode == 0
    finally:
        resp.close()


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (["false"], 1),
        (["/bin/sh", "-c", "sleep 1; exit 3"], 3),
        (["true"], 0),
        (["/bin/sh", "-c", "ls /"], 0),
    ],
)
def test_exec_exit_code_from_the_error_channel(
    v1: client.CoreV1Api, busy: str, command: list[str], code: int
) -> None:
    resp = stream(
        v1.connect_get_namespaced_pod_exec,
        busy,
        NS,
        command=command,
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    try:
        assert resp.returncode is None
        resp.run_forever(timeout=10)
        assert resp.returncode == code
        assert resp.returncode == code  # read twice, the same
    finally:
        resp.close()


def test_exec_in_a_terminal_with_resize(v1: client.CoreV1Api, busy: str) -> None:
    resp = _open(v1, busy, ["/bin/sh"], stdin=True, tty=True)
    try:
        resp.write_channel(RESIZE_CHANNEL, json.dumps({"Width": 100, "Height": 40}))
        resp.write_stdin("tty; stty size; exit 4\n")
        seen = ""

        def more() -> bool:
            nonlocal seen
            resp.update(timeout=1)
            seen += resp.read_stdout() if resp.peek_stdout() else ""
            return "40 100" in seen

        wait_for(more, 20, "the terminal's size")
        assert "/dev/pts/" in seen
        assert not resp.peek_stderr()  # a terminal has stdout only
        resp.run_forever(timeout=10)
        assert resp.returncode == 4
    finally:
        resp.close()


@pytest.fixture(scope="module")
def echo_pod(v1: client.CoreV1Api) -> Iterator[str]:
    """A python:3 pod echoing on 1234 and 1235 (its script from a ConfigMap volume), ready once
    a TCP startup probe on 1235 passes."""
    name = "pyc-portforward"
    v1.create_namespaced_config_map(
        body={
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name},
            "data": {"echo.py": ECHO_SERVER},
        },
        namespace=NS,
    )
    _make_pod(
        v1,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "containers": [
                    {
                        "name": "echo",
                        "image": "python:3",
                        "command": ["python", "-u", "/opt/echo.py", "1234", "1235"],
                        "volumeMounts": [{"name": "script", "mountPath": "/opt", "readOnly": True}],
                        "startupProbe": {
                            "tcpSocket": {"port": 1235},
                            "periodSeconds": 1,
                            "failureThreshold": 30,
                        },
                    }
                ],
                "restartPolicy": "Never",
                "volumes": [{"name": "script", "configMap": {"name": name}}],
            },
        },
        ready=True,
    )
    yield name
    _delete_pod(v1, name)
    v1.delete_namespaced_config_map(name=name, namespace=NS)


def _echoed(socks: dict[int, socket.socket], sent: dict[int, bytes]) -> None:
    """Read every socket until it gave back what was sent on it (a close before that fails)."""
    got = dict.fromkeys(socks, b"")
    deadline = time.monotonic() + 30
    while any(got[p] != sent[p] for p in socks):
        assert time.monotonic() < deadline, got
        ready, _, _ = select.select(list(socks.values()), [], [], 1)
        for port, s in socks.items():
            if s in ready:
                data = s.recv(1024)
                assert data, f"port {port} closed early"
                got[port] += data
                assert sent[port].startswith(got[port])


def _ended(pf: Any) -> Any:
    return lambda: not pf.connected


def test_portforward_two_ports_and_a_closed_one(v1: client.CoreV1Api, echo_pod: str) -> None:
    for round_ in range(1, 4):
        pf = portforward(v1.connect_get_namespaced_pod_portforward, echo_pod, NS, ports="1234,1235,1236")
        try:
            assert pf.connected
            socks = {p: pf.socket(p) for p in (1234, 1235)}
            for s in socks.values():
                s.setblocking(True)
            sent = {p: f"Test {round_} port {p} forwarding".encode() for p in socks}
            for p, s in socks.items():
                s.sendall(sent[p])
            _echoed(socks, sent)
            assert pf.connected

            closed = pf.socket(1236)
            closed.setblocking(True)
            assert closed.recv(1024) == b""  # nobody listens: the kubelet ends the stream
            assert pf.error(1236) is not None
            closed.close()

            for p, s in socks.items():  # the other ports carry on
                again = f"Another test {round_} using fileno {s.fileno()}".encode()
                s.sendall(again)
                _echoed({p: s}, {p: again})
                s.close()
            wait_for(_ended(pf), 10, "the forward to end once its sockets are closed")
            assert pf.error(1234) is None and pf.error(1235) is None
        finally:
            pf.close()


def test_portforward_http_through_create_connection(v1: client.CoreV1Api) -> None:
    name = _make_pod(
        v1,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "pyc-nginx"},
            "spec": {
                "containers": [
                    {
                        "name": "nginx",
                        "image": "nginx:1.22",
                        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1},
                    }
                ]
            },
        },
        ready=True,
    )
    plain = socket.create_connection

    def through_forward(address: Any, *args: Any, **kwargs: Any) -> Any:
        host = address[0].decode() if isinstance(address[0], bytes) else address[0]
        parts = host.split(".")
        if len(parts) != 3 or parts[2] != "kubernetes":
            return plain(address, *args, **kwargs)
        pf = portforward(v1.connect_get_namespaced_pod_portforward, parts[0], parts[1], ports=str(address[1]))
        return pf.socket(address[1])

    try:
        socket.create_connection = through_forward
        with urllib.request.urlopen(f"http://{name}.{NS}.kubernetes/", timeout=30) as r:
            code, html = r.status, r.read().decode()
    finally:
        socket.create_connection = plain
        _delete_pod(v1, name)
    assert code == 200 and "<h1>Welcome to nginx!</h1>" in html


def test_pod_logs_followed_as_they_are_written(v1: client.CoreV1Api) -> None:
    name = _make_pod(
        v1,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "pyc-logs"},
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "image": BUSYBOX,
                        "args": [
                            "/bin/sh",
                            "-c",
                            "for i in 1 2 3 4; do echo line $i; sleep 1; done; sleep 3600",
                        ],
                    }
                ]
            },
        },
    )
    try:
        lines: list[str] = []
        started = time.monotonic()
        w = watch.Watch()
        for line in w.stream(v1.read_namespaced_pod_log, name=name, namespace=NS, follow=True):
            lines.append(line)
            if line == "line 4":
                w.stop()
        assert lines == ["line 1", "line 2", "line 3", "line 4"]
        assert time.monotonic() - started < 30
        assert v1.read_namespaced_pod_log(name=name, namespace=NS, tail_lines=1) == "line 4\n"
    finally:
        _delete_pod(v1, name)


def test_attach_to_the_containers_own_stdin_and_stdout(v1: client.CoreV1Api) -> None:
    name = _make_pod(
        v1,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "pyc-attach"},
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "image": BUSYBOX,
                        "stdin": True,
                        "args": ["/bin/sh", "-c", "while read l; do echo got $l; done"],
                    }
                ]
            },
        },
    )
    resp = stream(
        v1.connect_get_namespaced_pod_attach,
        name,
        NS,
        container="c",
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    try:
        resp.write_stdin("hello\n")
        assert resp.readline_stdout(timeout=10) == "got hello"
        resp.write_stdin("again\n")
        assert resp.readline_stdout(timeout=10) == "got again"
    finally:
        resp.close()
        _delete_pod(v1, name)


def test_nodes_carry_labels(v1: client.CoreV1Api) -> None:
    items = v1.list_node().items
    assert len(items) == 2
    for item in items:
        node = v1.read_node(name=item.metadata.name)
        assert isinstance(node.metadata.labels, dict) and len(node.metadata.labels) > 0
        assert node.metadata.labels["kubernetes.io/hostname"] == item.metadata.name


def test_metrics_utilities(v1: client.CoreV1Api, busy: str) -> None:
    api = v1.api_client
    nodes = wait_for(lambda: utils.get_nodes_metrics(api).get("items"), 60, "node metrics")
    assert "usage" in nodes[0]

    def names(result: dict[str, Any]) -> list[str]:
        return [i["metadata"]["name"] for i in result["items"]]

    wait_for(lambda: busy in names(utils.get_pods_metrics(api, NS)), 60, "the pod's metrics")
    v1.patch_namespaced_pod(busy, NS, {"metadata": {"labels": {"app": "pyc-metrics"}}})
    assert names(utils.get_pods_metrics(api, NS, "app=pyc-metrics")) == [busy]
    both = utils.get_pods_metrics_in_all_namespaces(api, ["kube-system", NS])
    assert set(both) == {"kube-system", NS} and "error" not in both[NS]
