"""The relay's decisions and shells without a browser or a server: rows with kubectl's cells,
resume from the last resourceVersion, relist after 410 Gone, the API's refusals passed on."""

from __future__ import annotations

import asyncio

import pytest

from api import jsonutil
from api.errors import ApiError
from dashboard import relay
from tests.dashboard.fakes import FakeUpstream, event, listed, pod
from tests.polling import until

PODS = "/api/v1/namespaces/default/pods"
anyio = pytest.mark.anyio


def frames_of(chunk: bytes) -> list[tuple[str, dict]]:
    """(event name, data) of each server-sent event in `chunk`."""
    out = []
    for block in chunk.decode().split("\n\n"):
        if block.startswith("event: "):
            name, data = block.split("\n", 1)
            out.append((name[len("event: ") :], jsonutil.loads(data[len("data: ") :])))
    return out


def test_kinds_asked_for_are_checked() -> None:
    assert relay.parse_kinds("") == list(relay.KINDS)
    assert relay.parse_kinds("pods, nodes,pods") == ["pods", "nodes"]
    with pytest.raises(ValueError, match="unknown kinds: secrets"):
        relay.parse_kinds("pods,secrets")


def test_pod_row_carries_kubectls_cells_and_the_containers() -> None:
    obj = pod("web", "5")
    obj["status"] = {
        "phase": "Running",
        "podIP": "10.244.0.7",
        "containerStatuses": [
            {"name": "app", "ready": True, "restartCount": 2, "state": {"running": {}}},
            {
                "name": "side",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            },
        ],
    }
    obj["spec"]["nodeName"] = "node-1"
    row = relay.row("pods", "MODIFIED", obj)
    name, ready, status, restarts, _age, ip, node = row["cells"]
    assert (name, ready, status, restarts, ip, node) == (
        "web",
        "1/2",
        "CrashLoopBackOff",
        "2",
        "10.244.0.7",
        "node-1",
    )
    assert row["key"] == "default/web" and row["containers"] == ["app", "side"]
    columns = frames_of(relay.columns_frame("pods"))[0][1]["columns"]
    assert columns == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"]


def test_watch_lines_decide_rows_versions_and_relists() -> None:
    step = relay.on_watch_line(
        "pods", {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}}, "5"
    )
    assert (step.frames, step.resource_version, step.relist) == ([], "9", False)
    step = relay.on_watch_line("pods", {"type": "DELETED", "object": pod("a", "11")}, "9")
    assert step.resource_version == "11"
    assert frames_of(step.frames[0]) == [("row", relay.row("pods", "DELETED", pod("a", "11")))]
    gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version"}}
    assert relay.on_watch_line("pods", gone, "11").relist
    other = {"type": "ERROR", "object": {"kind": "Status", "code": 500, "message": "boom"}}
    assert frames_of(relay.on_watch_line("pods", other, "11").frames[0]) == [
        ("problem", {"kind": "pods", "message": "boom"})
    ]


@anyio
async def test_a_watch_resumes_from_the_last_version_and_relists_after_gone() -> None:
    up = FakeUpstream()
    up.answers[PODS] = listed("5", pod("a", "4"))
    up.streams[PODS] = [
        [event("ADDED", pod("b", "6")), event("MODIFIED", pod("a", "7"))],  # then the server ends it
        ApiError(410, "Expired", "too old resource version: 7 (8)"),
    ]
    watch = relay.KindWatch(up, "viewer-token", "pods", "default")
    first = [f for chunk in await watch.list() for f in frames_of(chunk)]
    assert [(n, d.get("name")) for n, d in first] == [("reset", None), ("row", "a")]
    up.answers[PODS] = listed("9", pod("b", "8"))  # what a relist finds
    out: asyncio.Queue[bytes] = asyncio.Queue()
    task = asyncio.create_task(watch.run(out))
    try:
        await until(lambda: len([c for c in up.calls if c[2].get("watch")]) == 3, 10, "a third watch")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    seen = [f for _ in range(out.qsize()) for f in frames_of(out.get_nowait())]
    assert [(n, d.get("type"), d.get("name")) for n, d in seen] == [
        ("row", "ADDED", "b"),
        ("row", "MODIFIED", "a"),
        ("reset", None, None),
        ("row", "ADDED", "b"),
    ]
    watches = [q.get("resourceVersion") for _, path, q in up.calls if q.get("watch")]
    assert watches == ["5", "7", "9"]  # from the list, then the last event, then the relist
    assert {token for token, _, _ in up.calls} == {"viewer-token"}  # never another credential


@anyio
async def test_a_watch_refused_midway_says_so_and_stops() -> None:
    up = FakeUpstream()
    up.answers[PODS] = listed("5")
    up.streams[PODS] = [ApiError(403, "Forbidden", 'pods is forbidden: User "bob" cannot watch')]
    watch = relay.KindWatch(up, "t", "pods", "default")
    await watch.list()
    out: asyncio.Queue[bytes] = asyncio.Queue()
    await asyncio.wait_for(watch.run(out), 10)  # returns: no retry loop against a refusal
    assert frames_of(out.get_nowait()) == [
        ("denied", {"kind": "pods", "code": 403, "message": 'pods is forbidden: User "bob" cannot watch'})
    ]


@anyio
async def test_the_relay_sends_snapshots_then_watch_events_and_denials_per_kind() -> None:
    up = FakeUpstream()
    up.answers[PODS] = listed("5", pod("a", "4"))
    up.answers["/api/v1/nodes"] = ApiError(403, "Forbidden", "nodes is forbidden")
    up.streams[PODS] = [[event("ADDED", pod("b", "6"))]]
    first, watches, refused = await relay.open_watches(up, "t", ["pods", "nodes"], "default")
    assert [w.kind for w in watches] == ["pods"] and [e.code for e in refused] == [403]
    stream = relay.relay(first, watches)
    try:
        snapshot = frames_of(await anext(stream))
        assert ("denied", {"kind": "nodes", "code": 403, "message": "nodes is forbidden"}) in snapshot
        assert [d["name"] for n, d in snapshot if n == "row"] == ["a"]
        live = frames_of(await asyncio.wait_for(anext(stream), 10))
        assert [(n, d["type"], d["name"]) for n, d in live] == [("row", "ADDED", "b")]
    finally:
        await stream.aclose()


def test_viewers_sent_the_same_change_share_its_row() -> None:
    shared = relay.SharedRows(size=2)
    line = event("ADDED", pod("a", "6"))
    first = shared.step("pods", line, "5")
    assert shared.step("pods", bytes(bytearray(line)), "5") is first  # another viewer's copy
    assert frames_of(first.frames[0])[0][1]["name"] == "a" and first.resource_version == "6"
    shared.step("pods", event("ADDED", pod("b", "7")), "6")
    shared.step("pods", event("ADDED", pod("c", "8")), "7")
    assert shared.step("pods", line, "5") is not first  # the oldest was dropped (bounded)
    gone = jsonutil.dumps({"type": "ERROR", "object": {"code": 410}})
    assert shared.step("pods", gone, "8").relist and len(shared._steps) == 2  # errors are not shared
