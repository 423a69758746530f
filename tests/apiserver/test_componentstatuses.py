"""`kubectl get cs`: the control plane's health as kube-apiserver serves v1 ComponentStatus (computed
per request, with its deprecation warning): the scheduler and controller manager from their
leader-election Leases, the datastore from a read; a server with no scheduler says so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx

from apiserver.componentstatuses import datastore_name, lease_health
from tests.apiserver.conftest import Server, free_port, start_server, table_rows
from tests.kubectls import kubectl
from tests.polling import wait_for

NOW = dt.datetime(2026, 12, 5, 8, 0, 0, tzinfo=dt.UTC)


def _lease(holder: str, renewed: str, duration: int = 15) -> dict[str, object]:
    return {"spec": {"holderIdentity": holder, "renewTime": renewed, "leaseDurationSeconds": duration}}


def test_lease_health_decisions() -> None:
    assert lease_health(_lease("a", "2026-12-05T07:59:50.000000Z"), NOW) == (True, "ok")
    healthy, said = lease_health(_lease("a", "2026-12-05T07:59:00.000000Z"), NOW)
    assert not healthy and "last renewed its lease 60s ago" in said
    assert lease_health(None, NOW) == (False, "no leader has been elected")
    assert lease_health({"spec": {}}, NOW)[0] is False
    assert datastore_name("etcds://a:2379,b:2379") == "etcd-0"
    assert datastore_name("postgresql://u@h/db") == "postgres-0"
    assert datastore_name("sqlite:////x/state.db") == "sqlite-0"


def test_get_cs_with_real_kubectl(tmp_path: Path) -> None:
    server = Server(tmp_path / "server", free_port(), [], control_loops=True)
    server.start()
    try:
        with server.client() as http:
            _healthy_control_plane(server, http)
    finally:
        server.stop()


def _healthy_control_plane(server: Server, http: httpx.Client) -> None:
    def answer() -> tuple[httpx.Response, dict[str, str]] | None:
        r = http.get("/api/v1/componentstatuses")
        assert r.status_code == 200, r.text
        healthy = {i["metadata"]["name"]: i["conditions"][0]["status"] for i in r.json()["items"]}
        return (r, healthy) if set(healthy.values()) == {"True"} else None

    # the leases are taken once the control loops start
    r, healthy = wait_for(answer, 30, "a healthy control plane")
    assert healthy == {"scheduler": "True", "controller-manager": "True", "sqlite-0": "True"}
    assert r.json()["kind"] == "ComponentStatusList"
    assert r.headers["warning"] == '299 - "v1 ComponentStatus is deprecated in v1.19+"'
    for version in ("1.27", "1.33"):
        out = server.kubectl("get", "cs", binary=kubectl(version), check=True)
        assert table_rows(out.stdout) == [
            ["NAME", "STATUS", "MESSAGE", "ERROR"],
            ["scheduler", "Healthy", "ok"],
            ["controller-manager", "Healthy", "ok"],
            ["sqlite-0", "Healthy", "ok"],
        ]
        assert "Warning: v1 ComponentStatus is deprecated in v1.19+" in out.stderr
    one = http.get("/api/v1/componentstatuses/scheduler").json()
    assert one["kind"] == "ComponentStatus" and one["conditions"][0]["message"] == "ok"
    assert http.get("/api/v1/componentstatuses/etcd-9").status_code == 404
    assert http.post("/api/v1/componentstatuses", json={"metadata": {"name": "x"}}).status_code == 405


def test_a_server_without_a_scheduler_says_so(tmp_path: Path) -> None:
    srv = start_server(tmp_path, "--no-scheduler")
    try:
        with srv.client() as c:
            items = c.get("/api/v1/componentstatuses").json()["items"]
        scheduler = next(i for i in items if i["metadata"]["name"] == "scheduler")
        assert scheduler["conditions"] == [
            {"type": "Healthy", "status": "False", "error": "no leader has been elected"}
        ]
        out = srv.kubectl("get", "cs", "scheduler", check=True).stdout
        assert table_rows(out)[1] == ["scheduler", "Unhealthy", "no", "leader", "has", "been", "elected"]
    finally:
        srv.stop()
