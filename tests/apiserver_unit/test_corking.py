"""A response of known length leaves in one write; a streamed one (a watch) is never held."""

from __future__ import annotations

import asyncio
from typing import Any

from api.asgi import respond
from apiserver.app import _Tracked
from apiserver.corking import CorkableTransport


class Wire:
    """A transport that records each write, and a stand-in for uvicorn's send (one write per message)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"info:{name}"

    def uvicorn_send(self, transport: CorkableTransport) -> Any:
        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                transport.write(b"HTTP/1.1 %d\r\n\r\n" % message["status"])
            else:
                transport.write(message.get("body", b""))

        return send


def test_a_whole_answer_is_one_write() -> None:
    wire = Wire()
    transport = CorkableTransport(wire)
    tracked = _Tracked(wire.uvicorn_send(transport), transport)
    asyncio.run(respond(tracked, 201, b'{"kind":"Pod"}'))
    assert wire.writes == [b'HTTP/1.1 201\r\n\r\n{"kind":"Pod"}']
    assert tracked.started and tracked.status == 201 and not tracked.corked
    transport.write(b"next")  # nothing stays corked after the answer
    assert wire.writes[-1] == b"next"


def test_a_streamed_answer_goes_out_as_written() -> None:
    wire = Wire()
    transport = CorkableTransport(wire)
    tracked = _Tracked(wire.uvicorn_send(transport), transport)

    async def watch() -> None:
        await tracked({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"x")]})
        assert wire.writes == [b"HTTP/1.1 200\r\n\r\n"]  # the headers before any event
        await tracked({"type": "http.response.body", "body": b"event1\n", "more_body": True})
        assert wire.writes[-1] == b"event1\n"

    asyncio.run(watch())


def test_close_sends_what_was_held_first_and_the_rest_is_the_transports() -> None:
    wire = Wire()
    transport = CorkableTransport(wire)
    transport.cork()
    transport.write(b"a")
    transport.write(b"b")
    assert wire.writes == []
    transport.close()
    assert wire.writes == [b"ab"] and wire.closed
    assert transport.get_extra_info("peername") == "info:peername"
