"""The etcd gateway client against a scripted member: which failures it asks again, which it reports.

A real cluster only says `leader changed` in the instant a raft leader dies, so the answers are
scripted here: a loopback HTTP server plays etcd's JSON gateway, answering each request with the
next status and body of its script and recording the paths it was asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from apiserver.storage.etcd_client import EtcdClient, EtcdError

pytestmark = pytest.mark.anyio

LEADER_CHANGED = (
    503,
    {"error": "etcdserver: leader changed", "code": 14, "message": "etcdserver: leader changed"},
)
OK = (200, {"header": {"revision": "7"}, "count": "0"})


class ScriptedMember:
    def __init__(self, script: list[tuple[int, dict[str, Any]]]) -> None:
        self.script = script
        self.paths: list[str] = []
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.answer(reader, writer)
        except asyncio.IncompleteReadError:
            pass  # the client closed its connection
        finally:
            writer.close()

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            lines = head.decode().split("\r\n")
            self.paths.append(lines[0].split()[1])
            length = next(
                int(v) for k, _, v in (h.partition(":") for h in lines[1:]) if k.lower() == "content-length"
            )
            await reader.readexactly(length)
            status, doc = self.script.pop(0)
            body = orjson.dumps(doc)
            writer.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))
            await writer.drain()


@pytest.fixture
async def member() -> AsyncIterator[ScriptedMember]:
    m = ScriptedMember([])
    server = await asyncio.start_server(m.serve, "127.0.0.1", 0)
    m.port = server.sockets[0].getsockname()[1]
    yield m
    server.close()
    await server.wait_closed()


async def test_a_read_refused_while_etcd_elects_a_leader_is_asked_again(member: ScriptedMember) -> None:
    member.script = [LEADER_CHANGED, LEADER_CHANGED, OK]
    client = EtcdClient([f"127.0.0.1:{member.port}"])
    try:
        got = await client.call("/v3/kv/range", {"key": "eA=="})
    finally:
        await client.close()
    assert got["header"]["revision"] == "7"
    assert member.paths == ["/v3/kv/range"] * 3


async def test_a_write_refused_as_unavailable_is_reported_not_replayed(member: ScriptedMember) -> None:
    member.script = [LEADER_CHANGED, OK]
    client = EtcdClient([f"127.0.0.1:{member.port}"])
    try:
        with pytest.raises(EtcdError) as err:
            await client.call("/v3/kv/txn", {"compare": []})
    finally:
        await client.close()
    assert err.value.code == 14 and "leader changed" in str(err.value)
    assert member.paths == ["/v3/kv/txn"]


async def test_a_read_gives_up_at_the_request_timeout(member: ScriptedMember) -> None:
    member.script = [LEADER_CHANGED] * 100
    client = EtcdClient([f"127.0.0.1:{member.port}"], request_timeout=0.3)
    try:
        with pytest.raises(EtcdError, match="leader changed"):
            await client.call("/v3/kv/range", {"key": "eA=="})
    finally:
        await client.close()
    assert 1 < len(member.paths) < 100
