"""The dashboard mounted by a real `kubelite server`: the event stream follows the API's watches
with the viewer's token, and the API's RBAC decides what each viewer gets (no rights: 403; a
namespace's viewers: that namespace's pods, the cluster-wide kinds refused)."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.apiserver.conftest import Server, pod, start_server
from tests.polling import until

anyio = pytest.mark.anyio


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("dashboard"))
    yield srv
    srv.stop()


class EventReader:
    """Reads a server-sent event stream in a task (cancelled by `close`, so no thread ever reads a
    socket another one closed): `events` fills as they come."""

    def __init__(self, srv: Server, path: str, token: str) -> None:
        ctx = ssl.create_default_context(cafile=str(srv.ca_file))
        self.client = httpx.AsyncClient(
            base_url=srv.url, verify=ctx, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )  # a quiet stream still sends a comment every 15 s
        self.path = path
        self.status = 0
        self.events: list[tuple[str, Any]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        name = ""
        async with self.client.stream("GET", self.path) as r:
            self.status = r.status_code
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    name = line[len("event: ") :]
                elif line.startswith("data: "):
                    self.events.append((name, json.loads(line[len("data: ") :])))

    def rows(self, kind: str) -> dict[str, dict[str, Any]]:
        """The rows the page would hold now (resets and deletions applied)."""
        held: dict[str, dict[str, Any]] = {}
        for name, data in self.events:
            if data.get("kind") != kind:
                continue
            if name == "reset":
                held.clear()
            elif name == "row":
                if data["type"] == "DELETED":
                    held.pop(data["key"], None)
                else:
                    held[data["key"]] = data
        return held

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.client.aclose()


def service_account_token(srv: Server, namespace: str, name: str) -> str:
    with srv.client() as http:
        http.post("/api/v1/namespaces", json={"metadata": {"name": namespace}})
        r = http.post(f"/api/v1/namespaces/{namespace}/serviceaccounts", json={"metadata": {"name": name}})
        assert r.status_code in (201, 409), r.text
        r = http.post(
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["status"]["token"])


@anyio
async def test_a_pod_created_through_the_api_reaches_the_stream(server: Server) -> None:
    reader = EventReader(server, "/dashboard/api/stream?kinds=pods,nodes,namespaces", server.token)
    try:
        await until(lambda: "default" in reader.rows("namespaces"), 30, "the namespaces' snapshot")
        assert reader.status == 200
        with server.client() as http:
            r = http.post("/api/v1/namespaces/default/pods", json=pod("live-one"))
            assert r.status_code == 201, r.text
            row = await until(lambda: reader.rows("pods").get("default/live-one"), 30, "the new pod's row")
            assert row["cells"][:3] == ["live-one", "0/1", "Pending"] and row["containers"] == ["c"]
            http.delete("/api/v1/namespaces/default/pods/live-one", params={"gracePeriodSeconds": "0"})
            await until(lambda: "default/live-one" not in reader.rows("pods"), 30, "the row removed")
    finally:
        await reader.close()


@anyio
async def test_rbac_decides_what_a_viewer_gets(server: Server) -> None:
    nobody = service_account_token(server, "dash-team", "nobody")
    with server.client(nobody) as http:
        r = http.get("/dashboard/api/stream")
        assert r.status_code == 403, r.text
        assert (
            r.json()["reason"] == "Forbidden"
            and "system:serviceaccount:dash-team:nobody" in r.json()["message"]
        )
        assert (
            http.get("/dashboard/api/whoami").json()["username"] == "system:serviceaccount:dash-team:nobody"
        )
    with server.client(nobody[:-4] + "AAAA") as http:
        assert http.get("/dashboard/api/whoami").status_code == 401
    viewer = service_account_token(server, "dash-team", "viewer")
    with server.client() as http:
        binding = {
            "metadata": {"name": "viewer-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "viewer", "namespace": "dash-team"}],
        }
        r = http.post("/apis/rbac.authorization.k8s.io/v1/namespaces/dash-team/rolebindings", json=binding)
        assert r.status_code == 201, r.text
        assert http.post("/api/v1/namespaces/dash-team/pods", json=pod("mine")).status_code == 201
    reader = EventReader(server, "/dashboard/api/stream?kinds=pods,nodes&namespace=dash-team", viewer)
    try:
        await until(lambda: "dash-team/mine" in reader.rows("pods"), 30, "the namespace's pod")
        denied = await until(lambda: [d for n, d in reader.events if n == "denied"], 10, "the nodes refused")
        assert [(d["kind"], d["code"]) for d in denied] == [("nodes", 403)]
    finally:
        await reader.close()


def pod_watchers(srv: Server) -> float | None:
    """The API's own count of open watches of pods (its /metrics)."""
    with srv.client() as http:
        for line in http.get("/metrics").text.splitlines():
            if line.startswith("apiserver_registered_watchers{") and 'kind="Pod"' in line:
                return float(line.rsplit(" ", 1)[1])
    return None


@anyio
async def test_pages_share_one_watch_per_kind_and_release_it(server: Server) -> None:
    pages = [EventReader(server, "/dashboard/api/stream", server.token) for _ in range(3)]
    try:
        await until(lambda: all("default" in p.rows("namespaces") for p in pages), 30, "three pages")
        await until(lambda: pod_watchers(server) == 1.0, 30, "one watch of pods for the three pages")
    finally:
        for p in pages:
            await p.close()
    await until(lambda: pod_watchers(server) == 0.0, 30, "the watch ended with the last page")
