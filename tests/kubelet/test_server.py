"""The kubelet's HTTPS server end to end over real TLS: client-certificate authentication, logs
(plain, tail, timestamps, previous, follow) and exec over WebSocket (stdout/stderr, exit codes,
stdin with v5's close frame, v4, a TTY with resize).

The runtime is `HostRuntime`, a test double of the `Runtime` Protocol (the real one is not on
main yet): its "containers" are CRI log files the test writes and its exec runs the command as a
host process (pipes, or a real pty for `tty`), so the server's I/O paths are real. It is also
used by tests/apiserver/test_log_exec_proxy.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import ssl
import struct
import termios
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from apiserver import certs
from apiserver.kubeletproxy import client_ssl_context, ensure_kubelet_client_cert
from kubelet.containerconfig import CONTAINER_NAME, POD_NAME, POD_NAMESPACE, POD_UID, RESTART_COUNT
from kubelet.serving import FixedCertificate, KubeletServer
from runtime.interface import ContainerInfo, Runtime
from tests.apiserver.conftest import free_port
from tests.tls import issued


# --- the runtime double ------------------------------------------------------------------
class HostExecSession:
    """An exec that runs on the host: pipes, or a pty when `tty` (resize is a real TIOCSWINSZ)."""

    def __init__(self, proc: asyncio.subprocess.Process, master: int | None) -> None:
        self.proc = proc
        self.master = master

    @classmethod
    async def start(cls, cmd: list[str], tty: bool, stdin: bool) -> HostExecSession:
        if tty:
            master, slave = pty.openpty()
            proc = await asyncio.create_subprocess_exec(
                *cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
            )
            os.close(slave)
            return cls(proc, master)
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc, None)

    async def write_stdin(self, data: bytes) -> None:
        if self.master is not None:
            os.write(self.master, data)
        elif self.proc.stdin is not None:
            self.proc.stdin.write(data)
            await self.proc.stdin.drain()

    async def close_stdin(self) -> None:
        if self.master is not None:
            os.write(self.master, b"\x04")
        elif self.proc.stdin is not None:
            self.proc.stdin.close()

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        if self.master is not None:
            while True:
                try:
                    data = await asyncio.to_thread(os.read, self.master, 4096)
                except OSError:  # EIO: the terminal's other side is closed
                    data = b""
                if not data:
                    os.close(self.master)
                    return
                yield 1, data
        queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()

        async def pump(stream: int, reader: asyncio.StreamReader) -> None:
            while data := await reader.read(4096):
                await queue.put((stream, data))

        assert self.proc.stdout is not None and self.proc.stderr is not None
        pumps = asyncio.gather(pump(1, self.proc.stdout), pump(2, self.proc.stderr))
        while not (pumps.done() and queue.empty()):
            getter = asyncio.ensure_future(queue.get())
            waiting: list[asyncio.Future[Any]] = [getter, pumps]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield getter.result()
            else:
                getter.cancel()

    async def resize(self, cols: int, rows: int) -> None:
        if self.master is not None:
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    async def wait(self) -> int:
        return await self.proc.wait()


class HostRuntime:
    """The parts of `Runtime` the kubelet server uses; containers are log files the test writes."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.containers: dict[str, ContainerInfo] = {}

    def add(
        self, ns: str, pod: str, name: str, restarts: int = 0, state: str = "running", uid: str = ""
    ) -> ContainerInfo:
        uid = uid or f"{ns}.{pod}"
        cid = f"{uid}-{name}-{restarts}"
        labels = {
            POD_UID: uid,
            POD_NAME: pod,
            POD_NAMESPACE: ns,
            CONTAINER_NAME: name,
            RESTART_COUNT: str(restarts),
        }
        info = ContainerInfo(
            id=cid,
            sandbox_id="sb",
            name=name,
            image="busybox",
            image_id="sha256:x",
            labels=labels,
            state=state,
            created_at=time.time(),
            log_path=str(self.log_dir / f"{cid}.log"),
        )
        Path(info.log_path).touch()
        self.containers[cid] = info
        return info

    @staticmethod
    def write(info: ContainerInfo, *lines: str, stream: str = "stdout", partial: bool = False) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000+00:00")
        with open(info.log_path, "a") as f:
            for line in lines:
                f.write(f"{stamp} {stream} {'P' if partial else 'F'} {line}\n")

    async def list_containers(self, labels: Mapping[str, str] | None = None) -> list[ContainerInfo]:
        return [
            c
            for c in self.containers.values()
            if all(c.labels.get(k) == v for k, v in (labels or {}).items())
        ]

    async def container_status(self, container_id: str) -> ContainerInfo:
        return self.containers[container_id]

    async def exec(
        self, container_id: str, cmd: list[str], tty: bool = False, stdin: bool = False
    ) -> HostExecSession:
        return await HostExecSession.start(cmd, tty, stdin)

    async def attach(self, container_id: str) -> HostExecSession:
        """The container's own process, as far as an attach sees it: one copying stdin to stdout."""
        self.containers[container_id]  # KeyError for an unknown one, as a runtime's NotFound
        return await HostExecSession.start(["cat"], False, True)


# --- a kubelet server in a thread -------------------------------------------------------------
@dataclass
class Kubelet:
    runtime: HostRuntime
    port: int
    client_ssl: ssl.SSLContext
    ca: certs.TLSFiles
    loop: asyncio.AbstractEventLoop
    task: asyncio.Future[None]
    thread: threading.Thread
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(10)


def start_kubelet(
    tmp: Path,
    runtime: HostRuntime,
    ca: certs.TLSFiles,
    allowed_cn: str | None = None,
    host: str = "127.0.0.1",
    **kw: Any,
) -> Kubelet:
    """A KubeletServer on `host` in its own thread and loop, trusting `ca` for client certificates
    and serving a certificate `ca` issued for `host` (as the kubelet-serving signer issues them),
    which the returned client context verifies; `kw` more of KubeletServer's arguments
    (`node_name`, `api_client`, `pods`, `certificates` ...)."""
    (tmp / "client").mkdir(parents=True, exist_ok=True)
    cert, key = ensure_kubelet_client_cert(tmp / "client", ca.ca_cert, ca.ca_key)
    port = free_port()
    if allowed_cn:
        kw["allowed_cn"] = allowed_cn
    if "certificates" not in kw:
        serving = tmp / "serving"
        serving.mkdir(parents=True, exist_ok=True)
        pem, private = issued(ca.ca_pem(), ca.ca_key.read_bytes(), "system:node:test", ["localhost"], [host])
        (serving / "kubelet.crt").write_bytes(pem)
        (serving / "kubelet.key").write_bytes(private)
        kw["certificates"] = FixedCertificate(serving / "kubelet.crt", serving / "kubelet.key")
    server = KubeletServer(
        cast(Runtime, runtime), SimpleNamespace(ca_data=ca.ca_pem()), host, port, tmp / "kubelet", **kw
    )
    loop = asyncio.new_event_loop()
    task: asyncio.Future[None] = loop.create_task(server.run())
    thread = threading.Thread(target=lambda: loop.run_until_complete(asyncio.wait([task])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a certificate manager may wait for its certificate first
    while not server.started.is_set():
        assert time.monotonic() < deadline and not task.done(), "kubelet server did not start"
        time.sleep(0.01)
    return Kubelet(runtime, port, client_ssl_context(cert, key, ca.ca_cert), ca, loop, task, thread, host)


@pytest.fixture(scope="module")
def kubelet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubelet]:
    tmp = tmp_path_factory.mktemp("kubelet-server")
    ca = certs.ensure_certs(tmp / "ca", [])
    k = start_kubelet(tmp, HostRuntime(tmp / "logs"), ca)
    yield k
    k.stop()


@pytest.fixture
def http(kubelet: Kubelet) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kubelet.url, verify=kubelet.client_ssl, timeout=10) as c:
        yield c


def ws(
    kubelet: Kubelet, path: str, protocols: tuple[str, ...] = ("v5.channel.k8s.io", "v4.channel.k8s.io")
) -> ClientConnection:
    return connect(
        f"wss://{kubelet.host}:{kubelet.port}{path}",
        ssl=kubelet.client_ssl,
        subprotocols=list(protocols),  # type: ignore[arg-type]
        open_timeout=10,
    )


def run_exec(conn: ClientConnection, stdin: list[bytes] | None = None) -> tuple[bytes, bytes, dict[str, Any]]:
    """Send stdin frames, then collect stdout, stderr and the status until the server closes."""
    for frame in stdin or []:
        conn.send(frame)
    out, err, status = b"", b"", {}
    with contextlib.suppress(Exception):
        for msg in conn:
            assert isinstance(msg, bytes)
            if msg[0] == 1:
                out += msg[1:]
            elif msg[0] == 2:
                err += msg[1:]
            elif msg[0] == 3:
                status = json.loads(msg[1:])
    return out, err, status


# --- authentication -------------------------------------------------------------------------
def test_authentication(kubelet: Kubelet, tmp_path: Path) -> None:
    anonymous = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    anonymous.check_hostname, anonymous.verify_mode = False, ssl.CERT_NONE
    r = httpx.get(kubelet.url + "/healthz", verify=anonymous)
    assert r.status_code == 401
    assert httpx.get(kubelet.url + "/healthz", verify=kubelet.client_ssl).text == "ok"
    # a certificate signed by another CA does not even finish the handshake
    other = certs.ensure_certs(tmp_path / "other-ca", [])
    cert, key = ensure_kubelet_client_cert(tmp_path / "other-ca" / "tls", other.ca_cert, other.ca_key)
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(kubelet.url + "/healthz", verify=client_ssl_context(cert, key, kubelet.ca.ca_cert))
    # a good certificate with a CN this kubelet does not serve: 403, also for a WebSocket
    picky = start_kubelet(tmp_path / "picky", kubelet.runtime, kubelet.ca, allowed_cn="somebody-else")
    try:
        r = httpx.get(picky.url + "/containerLogs/ns/p/c", verify=picky.client_ssl)
        assert r.status_code == 403 and "kube-apiserver-kubelet-client" in r.text
        with pytest.raises(InvalidStatus) as e:
            ws(picky, "/exec/ns/p/c?command=true&stdout=1")
        assert e.value.response.status_code == 403
    finally:
        picky.stop()


# --- logs ------------------------------------------------------------------------------
def test_logs_tail_timestamps_previous(kubelet: Kubelet, http: httpx.Client) -> None:
    rt = kubelet.runtime
    old = rt.add("logs", "web", "c", restarts=0, state="exited")
    rt.write(old, "old 1", "old 2")
    new = rt.add("logs", "web", "c", restarts=1)
    rt.write(new, "new 1")
    rt.write(new, "err 1", stream="stderr")
    rt.write(new, "long ", partial=True)
    rt.write(new, "line")
    r = http.get("/containerLogs/logs/web/c")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == "new 1\nerr 1\nlong line\n"
    assert http.get("/containerLogs/logs/web/c", params={"tailLines": 1}).text == "long line\n"
    assert http.get("/containerLogs/logs/web/c", params={"previous": "true"}).text == "old 1\nold 2\n"
    stamped = http.get("/containerLogs/logs/web/c", params={"timestamps": "true", "tailLines": 1}).text
    stamp, text = stamped.split(" ", 1)
    assert (
        text == "long line\n"
        and stamp.endswith("Z")
        and abs(datetime.fromisoformat(stamp).timestamp() - time.time()) < 60
    )
    assert http.get("/containerLogs/logs/web/c", params={"sinceSeconds": 3600}).text.startswith("new 1\n")
    assert http.get("/containerLogs/logs/web/c", params={"limitBytes": 3}).text == "new"


def test_big_log_is_streamed_in_blocks(kubelet: Kubelet, http: httpx.Client) -> None:
    c = kubelet.runtime.add("logs", "chatty", "c", state="exited")
    lines = [f"line {i:06d} " + "x" * 80 for i in range(20000)]  # ~2 MB of log
    kubelet.runtime.write(c, *lines)
    with http.stream("GET", "/containerLogs/logs/chatty/c") as r:
        chunks = list(r.iter_bytes())
    assert b"".join(chunks) == "".join(f"{ln}\n" for ln in lines).encode()
    assert len(chunks) > 2  # sent as it was read, not built whole in memory first
    cut = http.get("/containerLogs/logs/chatty/c", params={"limitBytes": 300000}).content
    assert len(cut) == 300000 and cut.startswith(b"line 000000 ")


def test_logs_errors(kubelet: Kubelet, http: httpx.Client) -> None:
    only = kubelet.runtime.add("errs", "solo", "c")
    kubelet.runtime.write(only, "x")
    r = http.get("/containerLogs/errs/solo/c", params={"previous": "true"})
    assert (r.status_code, r.text) == (400, 'previous terminated container "c" in pod "solo" not found')
    r = http.get("/containerLogs/errs/solo/nope")
    assert (r.status_code, r.text) == (400, 'container "nope" in pod "solo" is not available')
    r = http.get("/containerLogs/errs/ghost/c")
    assert (r.status_code, r.text) == (404, 'pod "ghost" not found')
    r = http.get("/containerLogs/errs/solo/c", params={"tailLines": "many"})
    assert r.status_code == 400 and "tailLines" in r.text
    assert http.get("/nothing/here").status_code == 404


def test_logs_follow_streams_until_the_container_exits(kubelet: Kubelet, http: httpx.Client) -> None:
    rt = kubelet.runtime
    c = rt.add("follow", "tailer", "c")
    rt.write(c, "first")
    with http.stream("GET", "/containerLogs/follow/tailer/c", params={"follow": "true"}) as r:
        lines = r.iter_lines()
        assert next(lines) == "first"  # served before anything else is written: it streams
        rt.write(c, "second")
        assert next(lines) == "second"
        rt.write(c, "last words")
        rt.containers[c.id].state = "exited"
        assert list(lines) == ["last words"]  # then the stream ends by itself


def test_logs_follow_ends_when_the_client_goes(kubelet: Kubelet, http: httpx.Client) -> None:
    rt = kubelet.runtime
    c = rt.add("follow", "forever", "c")
    rt.write(c, "hello")
    for _ in range(3):  # the server must not keep a dead follower per request
        with http.stream(
            "GET", "/containerLogs/follow/forever/c", params={"follow": "1", "tailLines": "1"}
        ) as r:
            assert next(r.iter_lines()) == "hello"
    assert http.get("/healthz").text == "ok"


# --- exec ------------------------------------------------------------------------------
def test_exec_output_and_exit_codes(kubelet: Kubelet) -> None:
    kubelet.runtime.add("exec", "box", "c")
    q = "command=sh&command=-c&command=echo+out%3B+echo+err+%3E%262%3B+exit+3&stdout=true&stderr=true"
    with ws(kubelet, f"/exec/exec/box/c?{q}") as conn:
        assert conn.subprotocol == "v5.channel.k8s.io"
        out, err, status = run_exec(conn)
    assert (out, err) == (b"out\n", b"err\n")
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    with ws(kubelet, "/exec/exec/box/c?command=true&stdout=true", protocols=("v4.channel.k8s.io",)) as conn:
        assert conn.subprotocol == "v4.channel.k8s.io"
        assert run_exec(conn) == (b"", b"", {"metadata": {}, "status": "Success"})


def test_exec_stdin_closed_by_v5(kubelet: Kubelet) -> None:
    kubelet.runtime.add("exec", "cat", "c")
    with ws(kubelet, "/exec/exec/cat/c?command=cat&stdin=true&stdout=true&stderr=true") as conn:
        out, _, status = run_exec(conn, [b"\x00hello ", b"\x00world\n", b"\xff\x00"])
    assert out == b"hello world\n" and status["status"] == "Success"


def test_exec_tty_with_resize(kubelet: Kubelet) -> None:
    kubelet.runtime.add("exec", "term", "c")
    with ws(kubelet, "/exec/exec/term/c?command=sh&stdin=true&stdout=true&stderr=true&tty=true") as conn:
        out, _, status = run_exec(
            conn,
            [b'\x04{"Width":123,"Height":45}', b"\x00stty size; tty >/dev/null && echo T\n", b"\x00exit 4\n"],
        )
    assert b"45 123" in out and b"T\r\n" in out
    assert status["details"]["causes"][0]["message"] == "4"


def test_exec_refusals(kubelet: Kubelet) -> None:
    rt = kubelet.runtime
    rt.add("exec", "done", "c", state="exited")
    for path, code, text in [
        ("/exec/exec/done/c?command=true&stdout=1", 400, "is not running"),
        ("/exec/exec/ghost/c?command=true&stdout=1", 404, 'pod "ghost" not found'),
        ("/exec/exec/done/c?stdout=1", 400, "at least 1 command"),
    ]:
        with pytest.raises(InvalidStatus) as e:
            ws(kubelet, path)
        assert e.value.response.status_code == code and text in (e.value.response.body or b"").decode()
    with pytest.raises(InvalidStatus) as e:
        ws(kubelet, "/exec/exec/done/c?command=true&stdout=1", protocols=("channel.k8s.io",))
    assert e.value.response.status_code == 400
    # plain HTTP (a proxy's SPDY fallback asking why): checked as an upgrade would be, nothing runs
    rt.add("exec", "up", "c")
    with httpx.Client(base_url=kubelet.url, verify=kubelet.client_ssl) as http:
        r = http.get("/exec/exec/done/c", params={"command": "true", "stdout": "1"})
        assert (r.status_code, r.text) == (400, 'container "c" in pod "done" is not running')
        r = http.get("/exec/exec/up/c", params={"command": "true", "stdout": "1"})
        assert (r.status_code, r.text) == (400, "Upgrade request required")


# --- with the real runtime: busybox under runc and conmon ------------------------------------------
@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kubelet, Any, str]]:
    """A kubelet server over RealRuntime and one host-network pod `real/bb` whose container `c`
    echoes to stdout and stderr, then sleeps; everything it made is removed afterwards."""
    from runtime.images import ImageStore
    from runtime.images.base import build_base
    from runtime.real import RealRuntime
    from tests.runtime.containers.conftest import conmons_for

    tmp = tmp_path_factory.mktemp("kubelet-real")
    build_base(ImageStore(tmp / "images"))
    rt = RealRuntime(tmp / "rt", image_root=tmp / "images")
    labels = {
        POD_UID: "real-uid",
        POD_NAME: "bb",
        POD_NAMESPACE: "real",
        CONTAINER_NAME: "c",
        RESTART_COUNT: "0",
    }

    async def make() -> tuple[str, str]:
        from runtime.interface import ContainerConfig, SandboxConfig

        sb = await rt.run_sandbox(
            SandboxConfig(name="bb", namespace="real", uid="real-uid", hostname="bb", host_network=True)
        )
        cid = await rt.create_container(
            sb.id,
            ContainerConfig(
                name="c",
                image="busybox",
                labels=labels,
                command=["sh", "-c", "echo one; echo two >&2; printf 'no newline yet'; sleep 300"],
            ),
        )
        await rt.start_container(cid)
        return sb.id, cid

    async def clean(sandbox_id: str) -> None:
        await rt.stop_sandbox(sandbox_id)
        await rt.remove_sandbox(sandbox_id)

    sandbox_id, cid = asyncio.run(make())
    ca = certs.ensure_certs(tmp / "ca", [])
    k = start_kubelet(tmp, cast(Any, rt), ca)
    try:
        yield k, rt, cid
    finally:
        k.stop()
        asyncio.run(clean(sandbox_id))
        assert conmons_for(tmp / "rt") == []


def test_real_container_logs_and_exec(real: tuple[Kubelet, Any, str]) -> None:
    k = real[0]
    with httpx.Client(base_url=k.url, verify=k.client_ssl, timeout=10) as http:
        deadline = time.monotonic() + 10
        while (text := http.get("/containerLogs/real/bb/c").text) != "one\ntwo\nno newline yet":
            assert time.monotonic() < deadline, text
            time.sleep(0.02)
        assert http.get("/containerLogs/real/bb/c", params={"tailLines": "2"}).text == "two\nno newline yet"
    q = "command=sh&command=-c&command=echo+%24((6*7))%3B+echo+e+%3E%262%3B+exit+2&stdout=true&stderr=true"
    with ws(k, f"/exec/real/bb/c?{q}") as conn:
        out, err, status = run_exec(conn)
    assert (out, err, status["details"]["causes"][0]["message"]) == (b"42\n", b"e\n", "2")
    with ws(k, "/exec/real/bb/c?command=sh&command=-c&command=cat%3B+echo+.&stdin=true&stdout=true") as conn:
        assert run_exec(conn, [b"\x00piped", b"\xff\x00"]) == (
            b"piped.\n",
            b"",
            {"metadata": {}, "status": "Success"},
        )
    with ws(k, "/exec/real/bb/c?command=sh&stdin=true&stdout=true&tty=true") as conn:
        conn.send(b'\x04{"Width":99,"Height":33}')
        seen = b""
        while b"# " not in seen:  # type at the prompt, as a person would
            msg = conn.recv(timeout=10)
            assert isinstance(msg, bytes) and msg[0] == 1, msg
            seen += msg[1:]
        out, _, status = run_exec(conn, [b"\x00stty size; exit 0\n"])
    assert b"33 99" in out and status["status"] == "Success"


def test_real_container_follow_ends_when_it_stops(real: tuple[Kubelet, Any, str]) -> None:
    k, rt, cid = real
    with (
        httpx.Client(base_url=k.url, verify=k.client_ssl, timeout=20) as http,
        http.stream("GET", "/containerLogs/real/bb/c", params={"follow": "true", "timestamps": "true"}) as r,
    ):
        lines = r.iter_lines()
        assert next(lines).endswith("Z one") and next(lines).endswith("Z two")
        asyncio.run(rt.stop_container(cid, 0))
        rest = list(lines)  # the stream ends once the container has stopped
    assert len(rest) == 1 and rest[0].endswith("Z no newline yet")
