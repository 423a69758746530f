"""The dashboard's HTTP side (FastAPI): the page, login by token, and the viewer's streams.

Routes, all under /dashboard (the prefix `kubelite server` mounts it at):
- `/dashboard/` the page (plain HTML and a small script from `static/`, no build step)
- `POST api/login` {token}: checked by the API (a SelfSubjectReview made with it), then kept in
  an HttpOnly cookie, since a browser's EventSource cannot send an Authorization header
- `GET api/whoami`, `POST api/logout`
- `GET api/stream?kinds=&namespace=`: server-sent events relaying the API's watches (hub.py)
- `GET api/logs/{namespace}/{pod}?container=`: a followed log, one event per line
- `GET api/usage?namespace=`: metrics.k8s.io summed for the charts (usage.py)

Read-only: no route writes to the cluster. A viewer's requests reach the API with its token
(cookie or `Authorization: Bearer`), so the API's authentication and RBAC decide; its Status
errors (401, 403, 404) are answered as they came. Only the watches shared by every page
(hub.py) use the dashboard's own credential, for kinds the viewer was admitted to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Cookie, FastAPI, Header, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel

from api import jsonutil
from api import requests as rq
from api.errors import ApiError
from dashboard import hub, relay, usage

PREFIX = "/dashboard"
COOKIE = "kubelite-dashboard-token"
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"app.js": "text/javascript", "style.css": "text/css"}
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
FIRST_LOG_WAIT = 2.0  # seconds to wait for a log's first line, so a refusal keeps its status code
SELF_REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
METRICS = "/apis/metrics.k8s.io/v1beta1"


Auth = Annotated[str | None, Header()]  # module level: FastAPI resolves the (string) annotations here
Token = Annotated[str | None, Cookie(alias=COOKIE)]


class Login(BaseModel):
    token: str


def _status(code: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse(ApiError(code, reason, message).status, status_code=code)


def _token(authorization: str | None, cookie: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return cookie or None


async def _whoami(up: relay.Upstream, token: str) -> dict[str, Any]:
    body = jsonutil.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    review = await up.call(token, rq.Request("POST", SELF_REVIEW, body=body, content_type=rq.JSON))
    info = (review.get("status") or {}).get("userInfo") or {}
    return {"username": info.get("username", ""), "groups": info.get("groups") or []}


async def _primed(lines: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`lines` with the first one awaited up to FIRST_LOG_WAIT here, so the API's refusal (403,
    404) becomes this answer's status instead of an event in a 200 stream."""
    it = aiter(lines)
    first = asyncio.ensure_future(anext(it))
    done, _ = await asyncio.wait([first], timeout=FIRST_LOG_WAIT)
    if done and isinstance(err := first.exception(), ApiError):
        raise err

    async def rest() -> AsyncIterator[bytes]:
        try:
            try:
                yield await first
            except StopAsyncIteration:
                return
            async for line in it:
                yield line
        finally:
            first.cancel()

    return rest()


def create_app(upstream: relay.Upstream, service_token: str) -> FastAPI:
    """The app over `upstream`; `service_token` is the dashboard's own credential, used only for
    the shared watches of kinds each viewer was admitted to with its own token (hub.py)."""
    feeds = hub.Hub(upstream, service_token)
    app = FastAPI(title="kubelite dashboard", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, err: ApiError) -> JSONResponse:
        return JSONResponse(err.status, status_code=err.code or 500)

    def viewer(authorization: str | None, cookie: str | None) -> str:
        token = _token(authorization, cookie)
        if token is None:
            raise ApiError(401, "Unauthorized", "Unauthorized: log in with a bearer token")
        return token

    @app.get(PREFIX)
    async def bare() -> RedirectResponse:
        return RedirectResponse(PREFIX + "/")

    @app.get(PREFIX + "/")
    async def page() -> FileResponse:
        return FileResponse(
            STATIC / "index.html", media_type="text/html", headers={"cache-control": "no-cache"}
        )

    @app.get(PREFIX + "/static/{name}")
    async def static(name: str) -> Response:
        if name not in STATIC_FILES:
            return _status(404, "NotFound", f"no static file {name!r}")
        return FileResponse(
            STATIC / name, media_type=STATIC_FILES[name], headers={"cache-control": "no-cache"}
        )

    @app.post(PREFIX + "/api/login")
    async def login(body: Login, request: Request) -> JSONResponse:
        token = body.token.strip()
        if not token:
            return _status(401, "Unauthorized", "Unauthorized: empty token")
        who = await _whoami(upstream, token)  # the API refuses a bad token with 401
        out = JSONResponse(who)
        out.set_cookie(
            COOKIE,
            token,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return out

    @app.post(PREFIX + "/api/logout")
    async def logout() -> JSONResponse:
        out = JSONResponse({})
        out.delete_cookie(COOKIE, path=PREFIX)
        return out

    @app.get(PREFIX + "/api/whoami")
    async def whoami(authorization: Auth = None, token: Token = None) -> dict[str, Any]:
        return await _whoami(upstream, viewer(authorization, token))

    @app.get(PREFIX + "/api/stream")
    async def stream(
        kinds: str = "", namespace: str = "", authorization: Auth = None, token: Token = None
    ) -> Response:
        user = viewer(authorization, token)
        try:
            wanted = relay.parse_kinds(kinds)
        except ValueError as e:
            return _status(400, "BadRequest", str(e))
        ns = namespace or None
        allowed, refused = await hub.admit_all(upstream, user, wanted, ns)
        if not allowed:  # nothing this viewer may see: the API's answer, as it came
            raise next(iter(refused.values()))
        frames = hub.stream(feeds, user, wanted, refused, ns)
        return StreamingResponse(frames, media_type="text/event-stream", headers=SSE_HEADERS)

    @app.get(PREFIX + "/api/logs/{namespace}/{pod}")
    async def logs(
        namespace: str,
        pod: str,
        container: str = "",
        tail: int = 500,
        authorization: Auth = None,
        token: Token = None,
    ) -> StreamingResponse:
        user = viewer(authorization, token)
        req = rq.log(pod, namespace, container or None, follow=True, tail_lines=max(0, tail))
        lines = await _primed(upstream.stream(user, req))

        async def frames() -> AsyncIterator[bytes]:
            try:
                async for line in lines:
                    yield relay.sse("line", line.decode(errors="replace"))
            except ApiError as e:
                yield relay.sse("problem", {"code": e.code, "message": e.message})
            yield relay.sse("end", {})

        return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)

    @app.get(PREFIX + "/api/usage")
    async def usage_(namespace: str = "", authorization: Auth = None, token: Token = None) -> dict[str, Any]:
        user = viewer(authorization, token)
        pods_path = f"{METRICS}/namespaces/{namespace}/pods" if namespace else f"{METRICS}/pods"
        answers: tuple[Any, ...] = await asyncio.gather(
            upstream.call(user, rq.Request("GET", f"{METRICS}/nodes")),
            upstream.call(user, rq.Request("GET", pods_path)),
            return_exceptions=True,
        )
        nodes, pods = answers
        out: dict[str, Any] = {}
        refused: list[ApiError] = []
        for key, answer, summarize in (("nodes", nodes, usage.node_usage), ("pods", pods, usage.pod_usage)):
            if isinstance(answer, ApiError):  # e.g. a namespace's viewer may not read node metrics
                refused.append(answer)
                out[key], out[key + "Error"] = None, {"code": answer.code, "message": answer.message}
            elif isinstance(answer, BaseException):
                raise answer
            else:
                out[key] = summarize(answer)
        if len(refused) == 2:
            raise refused[-1]
        return out

    return app
