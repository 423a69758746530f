"""The etcd gateway client against a scripted member: which failures it asks again, which it reports.

A real cluster only says `leader changed` in the instant a raft leader dies, so the answers are
scripted here: a loopback HTTP server plays etcd's JSON gateway, answering each request with the
next status and body of its script (or hanging up on it, as a member killed under a request does)
and recording what it was asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest

from apiserver.storage import KeyExistsError
from apiserver.storage.etcd import EtcdStore
from apiserver.storage.etcd_client import EtcdClient, EtcdError, b64
from apiserver.storage.etcd_codec import parse_etcd_url

pytestmark = pytest.mark.anyio

LEADER_CHANGED = (
    503,
    {"error": "etcdserver: leader changed", "code": 14, "message": "etcdserver: leader changed"},
)
OK = (200, {"header": {"revision": "7"}, "count": "0"})
Reply = tuple[int, dict[str, Any]]
HANG_UP = None  # read the request, close the connection without a word
Answer = Reply | Callable[[dict[str, Any]], Reply] | None


class ScriptedMember:
    def __init__(self, script: list[Answer]) -> None:
        self.script = script
        self.paths: list[str] = []
        self.requests: list[dict[str, Any]] = []
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
            self.requests.append(orjson.loads(await reader.readexactly(length)))
            answer = self.script.pop(0)
            if answer is HANG_UP:
                return
            status, doc = answer(self.requests[-1]) if callable(answer) else answer
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


def key_taken_by(value: str) -> Callable[[dict[str, Any]], Reply]:
    """A txn's failure answer: the compared key exists, holding `value` (base64) at revision 8."""

    def reply(txn: dict[str, Any]) -> Reply:
        kv = {"key": txn["compare"][0]["key"], "value": value, "mod_revision": "8", "create_revision": "8"}
        return 200, {"header": {"revision": "9"}, "responses": [{"response_range": {"kvs": [kv]}}]}

    return reply


def its_own_put(txn: dict[str, Any]) -> Reply:
    """The txn's failure answer when its own put had landed: the key holds the very bytes it puts."""
    return key_taken_by(txn["success"][0]["request_put"]["value"])(txn)


async def store_on(member: ScriptedMember) -> EtcdStore:
    store = EtcdStore(parse_etcd_url(f"etcd://127.0.0.1:{member.port}/p"))
    store.client = EtcdClient([f"127.0.0.1:{member.port}"])
    await store.client.call("/v3/kv/range", {"key": b64("/p/")})  # a connection to reuse
    return store


async def test_a_create_sent_again_that_finds_its_own_bytes_succeeded(member: ScriptedMember) -> None:
    member.script = [OK, HANG_UP, its_own_put]
    store = await store_on(member)
    try:
        obj = {"metadata": {"name": "a", "uid": "u-1"}}
        kv = await store.create("/pods/default/a", obj)
    finally:
        await store.close()
    assert member.paths == ["/v3/kv/range", "/v3/kv/txn", "/v3/kv/txn"]
    assert member.requests[1] == member.requests[2]
    assert kv.revision == 8 and obj["metadata"]["resourceVersion"] == "8"


async def test_a_create_that_finds_other_bytes_or_was_sent_once_is_a_conflict(
    member: ScriptedMember,
) -> None:
    member.script = [OK, HANG_UP, key_taken_by(b64("another create")), its_own_put]
    store = await store_on(member)
    try:
        with pytest.raises(KeyExistsError):  # sent again, and someone else's object is there
            await store.create("/pods/default/a", {"metadata": {"name": "a", "uid": "u-1"}})
        with pytest.raises(KeyExistsError):  # sent once: identical bytes are another create's
            await store.create("/pods/default/a", {"metadata": {"name": "a", "uid": "u-1"}})
    finally:
        await store.close()
