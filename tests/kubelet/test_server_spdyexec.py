"""The kubelet server's /exec route over SPDY (kubectl 1.27-1.29's exec, tunnelled in a WebSocket by
the API server), driven through the ASGI app by a SPDY client made of `kubelet.spdy`'s framer, with
the host-process runtime double of test_server.py: streams as kubectl opens them, the command's
stdout and stderr on their streams, stdin's FIN, a terminal resized before the command reads it,
and the v4 Status on the error stream."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from kubelet import spdy, spdyexec
from kubelet.server import PEER_CN, KubeletApp
from tests.kubelet.test_server import HostRuntime

SPDY_V4 = "SPDY/3.1+v4.channel.k8s.io"
OFFERED = [SPDY_V4, "SPDY/3.1+v3.channel.k8s.io", "SPDY/3.1+v2.channel.k8s.io"]


def scope(path: str, query: str) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": path,
        "query_string": query.encode(),
        "subprotocols": OFFERED,
        "state": {PEER_CN: "kube-apiserver-kubelet-client"},
        "headers": [],
    }


class Reply:
    """What came back, per stream: SYN_REPLYs, RSTs, data and whether each stream ended."""

    def __init__(self, sent: list[dict[str, Any]]) -> None:
        assert sent[0] == {"type": "websocket.accept", "subprotocol": SPDY_V4}
        assert sent[-1]["type"] == "websocket.close"
        framer = spdy.Framer()
        frames = framer.feed(b"".join(m["bytes"] for m in sent if m["type"] == "websocket.send"))
        self.replied = [f.stream_id for f in frames if f.kind == spdy.SYN_REPLY]
        self.reset = [f.stream_id for f in frames if f.kind == spdy.RST_STREAM]
        self.data: dict[int, bytes] = {}
        self.ended: set[int] = set()
        for f in frames:
            if f.kind == spdy.DATA:
                self.data[f.stream_id] = self.data.get(f.stream_id, b"") + f.data
                if f.fin:
                    self.ended.add(f.stream_id)

    def status(self, error_stream: int = 1) -> dict[str, Any]:
        assert error_stream in self.ended
        parsed: dict[str, Any] = json.loads(self.data[error_stream])
        return parsed


async def run(app: KubeletApp, path: str, query: str, *client: bytes) -> Reply:
    """Connect, send the client's frames in one message (then nothing: the session ends on its
    own), collect what the kubelet sent."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    queue.put_nowait({"type": "websocket.connect"})
    queue.put_nowait({"type": "websocket.receive", "bytes": b"".join(client)})
    sent: list[dict[str, Any]] = []

    async def send(m: dict[str, Any]) -> None:
        sent.append(m)

    await asyncio.wait_for(app(scope(path, query), queue.get, send), 30)
    return Reply(sent)


def opened(framer: spdy.Framer, *kinds: str) -> list[bytes]:
    """SYN_STREAMs as kubectl sends them: odd ids from 1, header streamType."""
    return [framer.syn_stream(2 * i + 1, {"streamtype": [k]}) for i, k in enumerate(kinds)]


@pytest.fixture
def app(tmp_path: Path) -> tuple[KubeletApp, HostRuntime]:
    rt = HostRuntime(tmp_path / "logs")
    return KubeletApp(rt), rt  # type: ignore[arg-type]


def test_output_on_its_streams_and_the_exit_code_on_the_error_stream(
    app: tuple[KubeletApp, HostRuntime],
) -> None:
    kubelet, rt = app
    rt.add("ns", "box", "c")
    q = "command=sh&command=-c&command=echo+out%3B+echo+err+%3E%262%3B+exit+3&stdout=true&stderr=true"
    reply = asyncio.run(
        run(kubelet, "/exec/ns/box/c", q, *opened(spdy.Framer(), "error", "stdout", "stderr"))
    )
    assert reply.replied == [1, 3, 5] and reply.reset == []
    assert (reply.data[3], reply.data[5]) == (b"out\n", b"err\n")
    assert {1, 3, 5} <= reply.ended
    status = reply.status()
    assert status["status"] == "Failure" and status["reason"] == "NonZeroExitCode"
    assert status["message"].startswith("command terminated with non-zero exit code")
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]


def test_stdin_until_its_fin_and_success(app: tuple[KubeletApp, HostRuntime]) -> None:
    kubelet, rt = app
    rt.add("ns", "cat", "c")
    framer = spdy.Framer()
    streams = opened(framer, "error", "stdin", "stdout", "stderr")
    stdin = [*spdy.data_frames(3, b"hello "), *spdy.data_frames(3, b"world\n", fin=True)]
    q = "command=cat&stdin=true&stdout=true&stderr=true"
    reply = asyncio.run(run(kubelet, "/exec/ns/cat/c", q, *streams, *stdin))
    assert reply.data[5] == b"hello world\n"
    assert reply.status() == {"metadata": {}, "status": "Success"}


def test_terminal_resized_before_the_command_runs(app: tuple[KubeletApp, HostRuntime]) -> None:
    kubelet, rt = app
    rt.add("ns", "term", "c")
    framer = spdy.Framer()
    streams = opened(framer, "error", "stdin", "stdout", "resize")
    # kubectl's json.Encoder: one object per line, here split across two frames
    resize = [*spdy.data_frames(7, b'{"Width":123,'), *spdy.data_frames(7, b'"Height":45}\n')]
    stdin = spdy.data_frames(3, b"stty size; tty >/dev/null && echo T; exit 4\n")
    q = "command=sh&stdin=true&stdout=true&stderr=true&tty=true"  # no stderr stream with a tty
    reply = asyncio.run(run(kubelet, "/exec/ns/term/c", q, *streams, *resize, *stdin))
    assert b"45 123" in reply.data[5] and b"T\r\n" in reply.data[5]
    assert reply.status()["details"]["causes"][0]["message"] == "4"


def test_unexpected_streams_are_reset_and_a_failed_start_is_reported(
    app: tuple[KubeletApp, HostRuntime],
) -> None:
    kubelet, rt = app
    rt.add("ns", "box", "c")

    async def no_exec(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("exec failed: no such file")

    rt.exec = no_exec  # type: ignore[method-assign]
    framer = spdy.Framer()
    frames = opened(framer, "error", "stdout", "stderr", "stdout")  # the second stdout is one too many
    reply = asyncio.run(run(kubelet, "/exec/ns/box/c", "command=true&stdout=1", *frames))
    assert reply.replied == [1, 3] and reply.reset == [5, 7]  # no stderr was asked for
    status = reply.status()
    assert (status["reason"], status["message"]) == ("InternalError", "exec failed: no such file")


def test_a_client_that_never_opens_its_streams_is_dropped(
    app: tuple[KubeletApp, HostRuntime], monkeypatch: pytest.MonkeyPatch
) -> None:
    kubelet, rt = app
    rt.add("ns", "box", "c")
    monkeypatch.setattr(spdyexec, "STREAM_CREATION_TIMEOUT", 0.2)
    reply = asyncio.run(
        run(kubelet, "/exec/ns/box/c", "command=true&stdout=1", *opened(spdy.Framer(), "error"))
    )
    assert reply.replied == [1] and reply.data == {}


def test_resize_stream_parsing() -> None:
    assert spdyexec.split_sizes(b'{"Width":80,"Height":24}\n{"Width":100,') == ([(80, 24)], b'{"Width":100,')
    assert spdyexec.split_sizes(b'{"Width":0,"Height":24}{"Width":1,"Height":2}') == ([(1, 2)], b"")
    assert spdyexec.split_sizes(b"") == ([], b"")
