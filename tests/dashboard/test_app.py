"""The dashboard's HTTP side over a fake API (httpx's ASGI transport): login and its cookie, the
viewer's token forwarded, the API's 401/403 answered as they came, followed logs, usage sums."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.errors import ApiError
from dashboard.app import COOKIE, SELF_REVIEW, create_app
from tests.dashboard.fakes import FakeUpstream, listed
from tests.dashboard.test_relay import frames_of

anyio = pytest.mark.anyio
LOG = "/api/v1/namespaces/shop/pods/web-1/log"
METRICS = "/apis/metrics.k8s.io/v1beta1"


@pytest.fixture
async def dash() -> AsyncIterator[tuple[httpx.AsyncClient, FakeUpstream]]:
    up = FakeUpstream()
    transport = httpx.ASGITransport(app=create_app(up, service_token="dashboard-token"))
    async with httpx.AsyncClient(transport=transport, base_url="https://dash.test") as client:
        yield client, up


@anyio
async def test_the_page_is_served_and_the_api_needs_a_token(
    dash: tuple[httpx.AsyncClient, FakeUpstream],
) -> None:
    client, up = dash
    page = await client.get("/dashboard/")
    assert page.status_code == 200 and "<title>kubelite dashboard</title>" in page.text
    assert (await client.get("/dashboard")).headers["location"].endswith("/dashboard/")
    assert (await client.get("/dashboard/static/app.js")).status_code == 200
    assert (await client.get("/dashboard/static/../app.py")).status_code == 404
    r = await client.get("/dashboard/api/stream")
    assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"
    assert up.calls == []


@anyio
async def test_login_checks_the_token_with_the_api_and_keeps_it_in_an_httponly_cookie(
    dash: tuple[httpx.AsyncClient, FakeUpstream],
) -> None:
    client, up = dash
    up.answers[SELF_REVIEW] = ApiError(401, "Unauthorized", "Unauthorized")
    r = await client.post("/dashboard/api/login", json={"token": "wrong"})
    assert r.status_code == 401 and "set-cookie" not in r.headers
    up.answers[SELF_REVIEW] = {"status": {"userInfo": {"username": "alice", "groups": ["team-a"]}}}
    r = await client.post("/dashboard/api/login", json={"token": "alice-token"})
    assert r.json() == {"username": "alice", "groups": ["team-a"]}
    cookie = r.headers["set-cookie"].lower()
    for attr in ("httponly", "samesite=strict", "path=/dashboard", "secure"):
        assert attr in cookie
    assert (await client.get("/dashboard/api/whoami")).json()["username"] == "alice"  # by the cookie
    assert [token for token, _, _ in up.calls] == ["wrong", "alice-token", "alice-token"]
    await client.post("/dashboard/api/logout")
    assert COOKIE not in client.cookies
    assert (await client.get("/dashboard/api/whoami")).status_code == 401


@anyio
async def test_a_viewer_the_api_refuses_everything_gets_the_apis_403(
    dash: tuple[httpx.AsyncClient, FakeUpstream],
) -> None:
    client, up = dash
    up.answers["/api/v1/pods"] = ApiError(403, "Forbidden", 'pods is forbidden: User "nobody" cannot list')
    up.answers["/api/v1/nodes"] = ApiError(403, "Forbidden", 'nodes is forbidden: User "nobody" cannot list')
    r = await client.get("/dashboard/api/stream?kinds=pods,nodes", headers={"Authorization": "Bearer nobody"})
    assert r.status_code == 403
    assert r.json()["message"] == 'pods is forbidden: User "nobody" cannot list'
    assert (
        await client.get("/dashboard/api/stream?kinds=secrets", headers={"Authorization": "Bearer x"})
    ).status_code == 400


@anyio
async def test_logs_are_followed_with_the_viewers_token_one_event_per_line(
    dash: tuple[httpx.AsyncClient, FakeUpstream],
) -> None:
    client, up = dash
    up.streams[LOG] = [[b"hello", b"<b>world</b>"]]
    r = await client.get(
        "/dashboard/api/logs/shop/web-1?container=app", headers={"Authorization": "Bearer v"}
    )
    assert r.headers["content-type"].startswith("text/event-stream")
    assert frames_of(r.content) == [("line", "hello"), ("line", "<b>world</b>"), ("end", {})]
    token, path, query = up.calls[0]
    assert (token, path) == ("v", LOG)
    assert query["follow"] == "true" and query["container"] == "app"
    up.streams[LOG] = [ApiError(403, "Forbidden", "pods/log is forbidden")]
    r = await client.get("/dashboard/api/logs/shop/web-1", headers={"Authorization": "Bearer v"})
    assert r.status_code == 403 and r.json()["message"] == "pods/log is forbidden"


@anyio
async def test_usage_sums_containers_and_names_what_the_viewer_may_not_read(
    dash: tuple[httpx.AsyncClient, FakeUpstream],
) -> None:
    client, up = dash
    up.answers[f"{METRICS}/nodes"] = ApiError(403, "Forbidden", "nodes.metrics.k8s.io is forbidden")
    up.answers[f"{METRICS}/namespaces/shop/pods"] = listed(
        "",
        {
            "metadata": {"name": "web-1", "namespace": "shop"},
            "containers": [
                {"name": "a", "usage": {"cpu": "250000000n", "memory": "2048Ki"}},
                {"name": "b", "usage": {"cpu": "5m", "memory": "1Mi"}},
            ],
        },
    )
    r = await client.get("/dashboard/api/usage?namespace=shop", headers={"Authorization": "Bearer v"})
    body = r.json()
    assert body["pods"] == [{"namespace": "shop", "name": "web-1", "cpu": 255.0, "memory": 3.0}]
    assert body["nodes"] is None and body["nodesError"]["code"] == 403
    up.answers[f"{METRICS}/namespaces/shop/pods"] = ApiError(403, "Forbidden", "no")
    assert (
        await client.get("/dashboard/api/usage?namespace=shop", headers={"Authorization": "Bearer v"})
    ).status_code == 403
