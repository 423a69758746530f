"""One API watch per kind (and namespace) for every open page; each viewer admitted by the API.

Every page shows the same kinds: with a watch per page, each change was sent, read and relayed
N times (measured with 5 pages: 0.83x the creates/s of a server nobody views). So a `Feed` lists
and watches a kind once with the dashboard's own credential, keeps the current rows (as an
informer's cache does), and hands each change's frame to every viewer subscribed to it.

What a viewer may see is still decided by the API with the viewer's own token, never here: to
subscribe to a kind it must list it (`limit=1`: the API's 403 comes back as it was) and be
allowed to watch it (a SelfSubjectAccessReview made with its token), and both are asked again
every RECHECK_SECONDS; a refusal clears that kind from the page. A right taken away therefore
stops the rows within that period (kube-apiserver itself never ends a watch already open).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator

from api import jsonutil
from api import requests as rq
from api.errors import ApiError
from dashboard import relay

log = logging.getLogger("kubelite.dashboard")

RETRY_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
RECHECK_SECONDS = 60.0
BATCH_SECONDS = 0.05  # a frame waits this long for others: one write per burst, not one per row
WATCH_TIMEOUT = 300  # seconds: the API ends a watch then and the feed resumes from its last version
FIRST_LIST_WAIT = 30.0
MAX_BACKLOG = 20_000  # frames a viewer may fall behind by before its stream is ended (it reconnects)
ACCESS_REVIEW = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


class Viewer:
    """One page's stream: a queue every feed it subscribed to puts frames into."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.overflowed = False

    def put(self, frame: bytes) -> None:
        if self.queue.qsize() > MAX_BACKLOG:
            self.overflowed = True  # a page that stopped reading: end its stream, not the server's memory
        else:
            self.queue.put_nowait(frame)


class Feed:
    """List, then watch from the list's version, one kind in one namespace (None: all), resumed
    after a dropped stream and relisted after 410 Gone; rows kept, frames fanned out."""

    def __init__(self, upstream: relay.Upstream, token: str, kind: str, namespace: str | None) -> None:
        self.upstream, self.token, self.kind = upstream, token, kind
        self.res = relay.resource_of(kind)
        self.namespace = namespace if self.res.namespaced else None
        self.rows: dict[str, bytes] = {}
        self.viewers: set[Viewer] = set()
        self.resource_version = ""
        self.listed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def _send(self, frames: list[bytes]) -> None:
        for viewer in self.viewers:
            for frame in frames:
                viewer.put(frame)

    def snapshot(self) -> list[bytes]:
        return [relay.reset_frame(self.kind), *self.rows.values()]

    async def _list(self) -> None:
        listed = await self.upstream.call(self.token, rq.list_(self.res, self.namespace))
        self.resource_version = (listed.get("metadata") or {}).get("resourceVersion") or ""
        self.rows = relay.listed_rows(self.kind, listed)
        if self.listed.is_set():  # a relist: the pages forget what they had
            self._send(self.snapshot())
        self.listed.set()

    async def run(self) -> None:
        stale = True  # the rows need a list first (and again after 410 Gone)
        while True:
            try:
                if stale:
                    await self._list()
                    stale = False
                req = rq.watch(self.res, self.namespace, self.resource_version, timeout_seconds=WATCH_TIMEOUT)
                async for line in self.upstream.stream(self.token, req):
                    step = relay.on_watch_line(self.kind, jsonutil.loads(line), self.resource_version)
                    self.resource_version = step.resource_version
                    if step.key is not None:
                        if step.frame is None:
                            self.rows.pop(step.key, None)
                        else:
                            self.rows[step.key] = step.frame
                    self._send(step.frames)
                    if step.relist:
                        stale = True
                        break
                continue  # the API ended the watch (its timeout): resume from the last version
            except asyncio.CancelledError:
                raise
            except ApiError as e:
                if e.code == 410:
                    stale = True
                    continue
                message = e.message
            except (OSError, ConnectionError, ValueError) as e:
                message = str(e) or type(e).__name__
            log.warning("dashboard watch of %s: %s", self.kind, message)
            self._send([relay.sse("problem", {"kind": self.kind, "message": message})])
            await asyncio.sleep(RETRY_SECONDS)


class Hub:
    """The feeds, by (kind, namespace), started by their first viewer and stopped by their last."""

    def __init__(self, upstream: relay.Upstream, token: str) -> None:
        self.upstream, self.token = upstream, token
        self.feeds: dict[tuple[str, str | None], Feed] = {}

    @staticmethod
    def _key(kind: str, namespace: str | None) -> tuple[str, str | None]:
        """Pages of different namespaces share the feed of a cluster-scoped kind."""
        return (kind, namespace if relay.resource_of(kind).namespaced else None)

    async def subscribe(self, viewer: Viewer, kind: str, namespace: str | None) -> list[bytes]:
        """Add `viewer` to the kind's feed; the rows it holds now (after its first list)."""
        key = self._key(kind, namespace)
        feed = self.feeds.get(key)
        if feed is None:
            feed = self.feeds[key] = Feed(self.upstream, self.token, kind, namespace)
            feed.task = asyncio.create_task(feed.run())
        feed.viewers.add(viewer)
        try:
            await asyncio.wait_for(feed.listed.wait(), FIRST_LIST_WAIT)
        except TimeoutError:  # the API does not answer: the page says so, the feed keeps trying
            return [relay.sse("problem", {"kind": kind, "message": "no answer from the API yet"})]
        return feed.snapshot()

    def unsubscribe(self, viewer: Viewer, kind: str, namespace: str | None) -> None:
        key = self._key(kind, namespace)
        feed = self.feeds.get(key)
        if feed is None:
            return
        feed.viewers.discard(viewer)
        if not feed.viewers:
            del self.feeds[key]
            if feed.task is not None:
                feed.task.cancel()


async def admitted(upstream: relay.Upstream, token: str, kind: str, namespace: str | None) -> ApiError | None:
    """None if the API lets `token` list and watch `kind` there, else the API's refusal."""
    res = relay.resource_of(kind)
    ns = namespace if res.namespaced else None
    try:
        await upstream.call(token, rq.list_(res, ns, limit=1))
        attrs = {"verb": "watch", "group": res.group, "resource": res.plural, "namespace": ns or ""}
        body = jsonutil.dumps(
            {
                "kind": "SelfSubjectAccessReview",
                "apiVersion": "authorization.k8s.io/v1",
                "spec": {"resourceAttributes": attrs},
            }
        )
        review = await upstream.call(
            token, rq.Request("POST", ACCESS_REVIEW, body=body, content_type=rq.JSON)
        )
    except ApiError as e:
        return e
    if not (review.get("status") or {}).get("allowed"):
        where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
        return ApiError(403, "Forbidden", f"{res.plural} is forbidden: cannot watch {res.plural}{where}")
    return None


async def admit_all(
    upstream: relay.Upstream, token: str, kinds: list[str], namespace: str | None
) -> tuple[list[str], dict[str, ApiError]]:
    """The kinds `token` may see, and the API's refusal of each other one."""
    answers = await asyncio.gather(*(admitted(upstream, token, k, namespace) for k in kinds))
    refused = {k: e for k, e in zip(kinds, answers, strict=True) if e is not None}
    return [k for k in kinds if k not in refused], refused


async def stream(
    hub: Hub, token: str, kinds: list[str], refused: dict[str, ApiError], namespace: str | None
) -> AsyncGenerator[bytes, None]:
    """One page's event stream: columns, refusals and snapshots, then every change of its kinds,
    a burst in one write (a comment line on quiet stretches, so a dead connection is noticed)."""
    viewer = Viewer()
    allowed = [k for k in kinds if k not in refused]
    try:
        first = [relay.columns_frame(k) for k in kinds]
        first += [relay.denied_frame(k, e) for k, e in refused.items()]
        for kind in allowed:
            first += await hub.subscribe(viewer, kind, namespace)
        yield b"".join(first)
        loop = asyncio.get_running_loop()
        recheck = loop.time() + RECHECK_SECONDS
        while allowed and not viewer.overflowed:
            try:
                frame = await asyncio.wait_for(viewer.queue.get(), min(HEARTBEAT_SECONDS, RECHECK_SECONDS))
            except TimeoutError:
                frame = b": quiet\n\n"
            if loop.time() >= recheck:  # rights can be taken away: ask the API again
                recheck = loop.time() + RECHECK_SECONDS
                _, lost = await admit_all(hub.upstream, token, allowed, namespace)
                for kind, err in lost.items():
                    hub.unsubscribe(viewer, kind, namespace)
                    allowed.remove(kind)
                    viewer.put(relay.reset_frame(kind))
                    viewer.put(relay.denied_frame(kind, err))
            await asyncio.sleep(BATCH_SECONDS)
            frames = [frame]
            while not viewer.queue.empty():
                frames.append(viewer.queue.get_nowait())
            yield b"".join(frames)
        if not viewer.queue.empty():  # the last kind was refused: say so before the stream ends
            yield b"".join(viewer.queue.get_nowait() for _ in range(viewer.queue.qsize()))
    finally:
        for kind in allowed:
            hub.unsubscribe(viewer, kind, namespace)
