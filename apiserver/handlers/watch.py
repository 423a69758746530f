"""The watch stream: store events -> chunked JSON lines, filtered, bookmarked, timed out.

One line per event, `{"type":..,"object":..}`, flushed as it happens (events that arrive
together go out in one write). Without selectors the stored bytes are spliced into the line
as they are; with selectors each event is parsed once (the store caches the parse across
watchers) and an object that stops matching is a DELETED, one that starts matching an ADDED,
as kube's watch cache does. `resourceVersion` "" or "0" first sends ADDED for what exists.
A compacted start revision, a watcher the store dropped, or a client that reads too slowly
gets a 410 Expired ERROR event and the end of the stream; a quiet watch gets BOOKMARKs when
asked; the stream ends at `timeoutSeconds` (or kube's 30-60 min default) or server shutdown.
The custom resources of a CRD whose conversion is a webhook are converted by it one event at a
time, in this stream's own task (a slow webhook holds back this watcher only; the store buffers
its events meanwhile); an event already in the version watched is not sent. A conversion that
fails ends the stream with an ERROR event (500 InternalError), as kube's watch ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from typing import Any

from api import jsonutil
from api.errors import bad_request, gone
from api.resources import Resource
from api.selectors import FieldSelector, LabelSelector
from apiserver import logic
from apiserver.crd.conversion import ConversionFailed
from apiserver.handlers import prefilter
from apiserver.handlers.http import JSON, State
from apiserver.storage.interface import CompactedError, Event, KeyValue, WatcherDroppedError

_COALESCE = 256
_DISCONNECT, _STOP = object(), object()


class WatchParams:
    def __init__(self, query: dict[str, str], default_bookmark_interval: float) -> None:
        rv = query.get("resourceVersion", "")
        if rv not in ("", "0") and not rv.isdigit():
            raise bad_request(f'invalid resource version "{rv}"')
        self.resource_version = rv
        t = query.get("timeoutSeconds")
        if t is not None:
            try:
                self.timeout = max(0.0, float(t))
            except ValueError:
                raise bad_request(f"invalid timeoutSeconds {t!r}") from None
        else:
            self.timeout = 1800.0 * (1 + random.random())
        self.bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        self.bookmark_interval = default_bookmark_interval
        # WatchList (client-go's streaming list): the current state as ADDED events first, then
        # a BOOKMARK annotated k8s.io/initial-events-end, then changes
        self.initial_events = query.get("sendInitialEvents") in ("true", "1")


def _matcher(labels: LabelSelector, fields: FieldSelector) -> Callable[[dict[str, Any]], bool] | None:
    if labels.empty() and fields.empty():
        return None

    def match(obj: dict[str, Any]) -> bool:
        return labels.matches((obj.get("metadata") or {}).get("labels")) and fields.matches(obj)

    return match


def pod_node_name(obj: dict[str, Any]) -> str:
    """The index of pod watches (kube's watch cache indexes pods by node the same way)."""
    return str((obj.get("spec") or {}).get("nodeName") or "")


def object_name(obj: dict[str, Any]) -> str:
    """The index of one-object watches (`metadata.name=X`): a name never changes, so an object's
    events, its DELETED too, reach only the watchers of its name."""
    return str((obj.get("metadata") or {}).get("name") or "")


def single_name(res: Resource, namespace: str | None, fields: FieldSelector) -> str | None:
    """The one name a list or watch can only match (kube's MatchesSingle), when its store key is
    known: a field selector requiring `metadata.name=X`, within a namespace where the kind has
    one. Such a list reads that one key."""
    name = fields.value_of("metadata.name")
    if name is None or (res.namespaced and not namespace):
        return None
    return name


def watch_trigger(res: Resource, fields: FieldSelector) -> tuple[Callable[[dict[str, Any]], str], str] | None:
    """A kubelet's (or scheduler's) `spec.nodeName=X` pod watch is indexed by X in the store; a watch of
    one object by `metadata.name=X` (each kubelet's watch of a ConfigMap or Secret its pods use,
    `kubectl get NAME -w`) by X, whatever the resource."""
    if res.plural == "pods" and not res.group:
        node = fields.value_of("spec.nodeName")
        if node is not None:
            return pod_node_name, node
    name = fields.value_of("metadata.name")
    return None if name is None else (object_name, name)


def classify(
    ev: Event,
    match: Callable[[dict[str, Any]], bool] | None,
    may: Callable[[bytes], bool] | None = None,
    visible: set[str] | None = None,
) -> str | None:
    """The event type this watcher sees, or None when the change is invisible to its selectors.

    `may` is the byte pre-test: when neither the new nor the previous bytes pass it, nothing
    is parsed. `visible` (kept up to date here) holds the keys whose last event this watcher
    saw matched: their previous state is known to match without parsing it again."""
    if match is None:
        return ev.type
    if may is not None and not may(ev.value) and (ev.prev_value is None or not may(ev.prev_value)):
        if visible is not None:
            visible.discard(ev.key)
        return None
    if ev.type == "DELETED":
        if visible is not None:
            visible.discard(ev.key)
        return "DELETED" if match(ev.obj) else None
    now = match(ev.obj)
    if visible is not None:
        was_visible = ev.key in visible
        if now:
            visible.add(ev.key)
        else:
            visible.discard(ev.key)
    else:
        was_visible = False
    if ev.type == "ADDED" or ev.prev_value is None:
        return ev.type if now else None
    before = was_visible or match(ev.prev_obj or {})
    if now and before:
        return "MODIFIED"
    if now:
        return "ADDED"
    return "DELETED" if before else None


def expired_line(message: str) -> bytes:
    return jsonutil.dumps({"type": "ERROR", "object": gone(message).status}) + b"\n"


def failed_line(e: ConversionFailed) -> bytes:
    return jsonutil.dumps({"type": "ERROR", "object": e.for_watch().status}) + b"\n"


async def serve_watch(
    state: State,
    send: Any,
    receive: Any,
    res: Resource,
    namespace: str | None,
    labels: LabelSelector,
    fields: FieldSelector,
    params: WatchParams,
    table: bool,
    include_object: str,
) -> None:
    match = _matcher(labels, fields)
    may = prefilter.may_match(labels, fields)
    served = logic.served_bytes(res)  # None: sent as stored
    convert = logic.webhook_converter(res)  # a CRD's conversion webhook: events converted by it
    initial: list[KeyValue] = []
    failed: ConversionFailed | None = None
    start = 0
    if params.resource_version in ("", "0") or params.initial_events:
        # what matches, in the shape asked for; one key when the selector names one object
        keep = None if match is None else lambda kv: (may is None or may(kv.value)) and match(kv.obj)
        try:
            start, initial = await state.registry.list(
                res, namespace, single_name(res, namespace, fields), keep
            )
        except ConversionFailed as e:
            failed = e
    else:
        start = int(params.resource_version)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", JSON), (b"cache-control", b"no-cache, private")],
        }
    )
    if failed is not None:
        await _end(send, failed_line(failed))
        return
    try:
        watcher = await state.registry.watch(res, namespace, start, watch_trigger(res, fields))
    except CompactedError as e:
        await _end(send, expired_line(f"too old resource version: {e.requested} ({e.compacted})"))
        return

    def line(
        kind: str, value: bytes, obj: dict[str, Any] | None, revision: int, converted: bool = False
    ) -> bytes:
        """One event's line; `value` as stored unless `converted`, `obj` its parse when made."""
        if served is not None and not converted:  # in the shape watched (a view, a CR's version)
            value, obj = served(value), None
        if table:
            t = logic.to_table(
                res, [obj if obj is not None else jsonutil.loads(value)], str(revision), include_object
            )
            return b'{"type":"' + kind.encode() + b'","object":' + jsonutil.dumps(t) + b"}\n"
        return b'{"type":"' + kind.encode() + b'","object":' + value + b"}\n"

    async def converted_line(kind: str, ev: Event) -> bytes:
        """The line of an event of a CRD's resources in another version than watched, converted by
        its webhook (ConversionFailed when that fails)."""
        assert convert is not None
        [value] = await convert.convert(res.api_version, [ev.value])
        return line(kind, value, None, ev.revision, converted=True)

    def bookmark(revision: int, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": res.kind, "apiVersion": res.api_version, "metadata": meta}
        return jsonutil.dumps({"type": "BOOKMARK", "object": obj}) + b"\n"

    # The stream awaits the store's watcher itself: no pump task and queue between them, so an
    # event is written in the loop turn its publish wakes. A client that reads too slowly
    # fills the watcher's bounded buffer and is dropped there (410). A disconnect or the server's
    # shutdown closes the watcher, which ends the wait; `ended` says which.
    ended: list[object] = []

    def end_with(why: object) -> None:
        ended.append(why)
        watcher.close_nowait()

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        end_with(_DISCONNECT)

    async def stopping() -> None:
        await state.stopping.wait()
        end_with(_STOP)

    tasks = [asyncio.create_task(disconnected()), asyncio.create_task(stopping())]
    events = aiter(watcher)
    loop = asyncio.get_running_loop()
    last = start
    visible: set[str] = set()  # keys whose newest event matched, see classify
    try:
        out = []
        for kv in initial:
            out.append(line("ADDED", kv.value, None, kv.revision, converted=True))
            if match is not None:
                visible.add(kv.key)
        if params.initial_events and params.bookmarks:
            out.append(bookmark(start, initial_end=True))
        if out:
            await send({"type": "http.response.body", "body": b"".join(out), "more_body": True})
        deadline = loop.time() + params.timeout
        next_bookmark = loop.time() + params.bookmark_interval
        while True:
            now = loop.time()
            if now >= deadline:
                break
            wake = min(deadline, next_bookmark) if params.bookmarks else deadline
            # asyncio.timeout, not wait_for: wait_for runs each wait as a task of its own, one more
            # turn of a busy loop (and a task made) between an event's arrival and its write. A timed-
            # out wait loses nothing: the watcher is a class, not a generator, and takes an event only
            # when it returns it (tests/storage/test_watcher_cancel.py)
            try:
                async with asyncio.timeout(max(0.0, wake - now)):
                    first = await anext(events)
            except TimeoutError:
                if params.bookmarks and loop.time() >= next_bookmark:
                    # events the store left out for this watcher count as seen
                    last = max(last, watcher.caught_up())
                    await send({"type": "http.response.body", "body": bookmark(last), "more_body": True})
                    next_bookmark = loop.time() + params.bookmark_interval
                continue
            except StopAsyncIteration:
                if ended and ended[0] is _DISCONNECT:
                    return
                break
            except (WatcherDroppedError, CompactedError):
                await _end(send, expired_line("The resourceVersion for the provided watch is too old."))
                return
            out = []
            try:
                for ev in [first, *watcher.take_ready(_COALESCE - 1)]:
                    kind = classify(ev, match, may, visible)
                    if kind is None:
                        pass
                    elif convert is None or ev.obj.get("apiVersion") == res.api_version:
                        out.append(line(kind, ev.value, ev.obj if match is not None else None, ev.revision))
                    else:
                        out.append(await converted_line(kind, ev))
                    last = ev.revision
            except ConversionFailed as e:  # kube's watch ends on it, with an ERROR event
                await _end(send, b"".join(out) + failed_line(e))
                return
            if out:
                await send({"type": "http.response.body", "body": b"".join(out), "more_body": True})
            if ended and ended[0] is _DISCONNECT:
                return
        await _end(send, bookmark(last) if params.bookmarks else b"")
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t
        await watcher.close()


async def _end(send: Any, body: bytes) -> None:
    with contextlib.suppress(Exception):
        await send({"type": "http.response.body", "body": body, "more_body": False})
