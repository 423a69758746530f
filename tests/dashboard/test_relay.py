"""The relay's decisions and the hub's shells without a browser or a server: rows with kubectl's
cells; one feed for many viewers, resumed from the last resourceVersion and relisted after 410
Gone; viewers admitted by the API's answer to their own token, and dropped when it changes."""

from __future__ import annotations

import asyncio

import pytest

from api import jsonutil
from api import requests as rq
from api.errors import ApiError
from dashboard import hub, relay
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
    assert (step.resource_version, step.key, step.frame) == ("11", "default/a", None)
    assert frames_of(step.frames[0]) == [("row", relay.row("pods", "DELETED", pod("a", "11")))]
    gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version"}}
    assert relay.on_watch_line("pods", gone, "11").relist
    other = {"type": "ERROR", "object": {"kind": "Status", "code": 500, "message": "boom"}}
    assert frames_of(relay.on_watch_line("pods", other, "11").frames[0]) == [
        ("problem", {"kind": "pods", "message": "boom"})
    ]


def drain(viewer: hub.Viewer) -> list[tuple[str, dict]]:
    return [f for _ in range(viewer.queue.qsize()) for f in frames_of(viewer.queue.get_nowait())]


@anyio
async def test_a_feed_resumes_from_the_last_version_and_relists_after_gone() -> None:
    up = FakeUpstream()
    lists = iter([listed("5", pod("a", "4")), listed("9", pod("b", "8"))])  # the first list, the relist
    up.answers[PODS] = lambda token, req: next(lists)
    up.streams[PODS] = [
        [event("ADDED", pod("b", "6")), event("MODIFIED", pod("a", "7"))],  # then the API ends it
        ApiError(410, "Expired", "too old resource version: 7 (8)"),
    ]
    feed = hub.Feed(up, "dashboard-token", "pods", "default")
    viewer = hub.Viewer()
    feed.viewers.add(viewer)
    task = asyncio.create_task(feed.run())
    try:
        await until(lambda: len([c for c in up.calls if c[2].get("watch")]) == 3, 10, "a third watch")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [(n, d.get("type"), d.get("name")) for n, d in drain(viewer)] == [
        ("row", "ADDED", "b"),
        ("row", "MODIFIED", "a"),
        ("reset", None, None),
        ("row", "ADDED", "b"),
    ]
    assert list(feed.rows) == ["default/b"]
    watches = [q.get("resourceVersion") for _, path, q in up.calls if q.get("watch")]
    assert watches == ["5", "7", "9"]  # from the list, then the last event, then the relist


@anyio
async def test_one_feed_serves_every_viewer_and_stops_with_the_last() -> None:
    up = FakeUpstream()
    up.answers[PODS] = listed("5", pod("a", "4"))
    up.streams[PODS] = [[event("ADDED", pod("b", "6"))]]
    feeds = hub.Hub(up, "dashboard-token")
    one, two = hub.Viewer(), hub.Viewer()
    snapshot = await feeds.subscribe(one, "pods", "default")
    assert frames_of(b"".join(snapshot))[:2] == [
        ("reset", {"kind": "pods"}),
        ("row", relay.row("pods", "ADDED", pod("a", "4"))),
    ]
    feed = feeds.feeds[("pods", "default")]
    await until(lambda: "default/b" in feed.rows, 10, "the watch's event")
    assert ("row", "b") in [(n, d["name"]) for n, d in drain(one)]  # sent to the first viewer
    later = await feeds.subscribe(two, "pods", "default")  # the rows as they are now: no second list
    assert [d.get("name") for n, d in frames_of(b"".join(later)) if n == "row"] == ["a", "b"]
    assert [c[1:] for c in up.calls].count((PODS, {})) == 1  # one list for both
    assert {token for token, _, _ in up.calls} == {"dashboard-token"}
    feeds.unsubscribe(one, "pods", "default")
    assert feed.task is not None and not feed.task.done()
    feeds.unsubscribe(two, "pods", "default")
    await asyncio.gather(feed.task, return_exceptions=True)
    assert feed.task.cancelled() and feeds.feeds == {}


def rights(allowed: dict[str, set[str]]) -> tuple:
    """Answers of a fake API whose RBAC lets each token list and watch the kinds `allowed` names."""

    def lists(plural: str):
        def answer(token: str, req: rq.Request):
            if plural in allowed.get(token, set()):
                return listed("5", pod("a", "4")) if plural == "pods" else listed("5")
            return ApiError(403, "Forbidden", f'{plural} is forbidden: User "{token}" cannot list')

        return answer

    def review(token: str, req: rq.Request):
        attrs = jsonutil.loads(req.body or b"{}")["spec"]["resourceAttributes"]
        assert attrs["verb"] == "watch"
        return {"status": {"allowed": attrs["resource"] in allowed.get(token, set())}}

    return lists, review


@anyio
async def test_viewers_are_admitted_by_the_apis_answer_to_their_own_token() -> None:
    up = FakeUpstream()
    lists, review = rights({"alice": {"pods"}, "bob": set()})
    up.answers[PODS], up.answers["/api/v1/nodes"], up.answers[hub.ACCESS_REVIEW] = (
        lists("pods"),
        lists("nodes"),
        review,
    )
    allowed, refused = await hub.admit_all(up, "alice", ["pods", "nodes"], "default")
    assert allowed == ["pods"] and refused["nodes"].message == 'nodes is forbidden: User "alice" cannot list'
    assert {(token, q.get("limit")) for token, path, q in up.calls if path != hub.ACCESS_REVIEW} == {
        ("alice", "1")
    }
    up.answers["/api/v1/nodes"] = lambda token, req: listed("5")  # may list nodes, yet not watch them
    allowed, refused = await hub.admit_all(up, "alice", ["nodes"], None)
    assert allowed == [] and refused["nodes"].code == 403 and "cannot watch nodes" in refused["nodes"].message


@anyio
async def test_a_stream_follows_changes_and_drops_a_kind_whose_right_was_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub, "RECHECK_SECONDS", 0.2)
    up = FakeUpstream()
    granted = {"alice": {"pods"}, "dashboard-token": {"pods", "nodes"}}
    lists, review = rights(granted)
    up.answers[PODS], up.answers["/api/v1/nodes"], up.answers[hub.ACCESS_REVIEW] = (
        lists("pods"),
        lists("nodes"),
        review,
    )
    change = asyncio.Event()
    up.streams[PODS] = [change, [event("ADDED", pod("b", "6"))]]
    feeds = hub.Hub(up, "dashboard-token")
    _, refused = await hub.admit_all(up, "alice", ["pods", "nodes"], "default")
    stream = hub.stream(feeds, "alice", ["pods", "nodes"], refused, "default")
    first = frames_of(await anext(stream))
    assert [n for n, _ in first] == ["columns", "columns", "denied", "reset", "row"]
    change.set()
    live = frames_of(await asyncio.wait_for(anext(stream), 10))
    assert [(n, d["name"]) for n, d in live] == [("row", "b")]
    granted["alice"] = set()  # the RoleBinding is gone
    rest = [f async for chunk in stream for f in frames_of(chunk)]  # the stream ends by itself
    assert [(n, d["kind"]) for n, d in rest if n != "row"] == [("reset", "pods"), ("denied", "pods")]
    assert feeds.feeds == {}
    watch_tokens = {token for token, path, q in up.calls if q.get("watch")}
    assert watch_tokens == {"dashboard-token"}  # the shared watch; every admission was alice's own
    assert {token for token, path, q in up.calls if not q.get("watch")} == {"alice", "dashboard-token"}
