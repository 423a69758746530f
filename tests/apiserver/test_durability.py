"""Restart with nothing lost (SQLite), and two API servers on one PostgreSQL serving the same objects."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.apiserver.conftest import pod, start_server, two_servers
from tests.objects import rc_body
from tests.polling import wait_for
from tests.storage.conftest import pg_engine, pg_url  # noqa: F401 - fixtures


def test_restart_loses_nothing(tmp_path: Path) -> None:
    srv = start_server(tmp_path)
    try:
        with srv.client() as http:
            made = [http.post("/api/v1/namespaces/default/pods", json=pod(f"r{i}")).json() for i in range(20)]
            svc = http.post(
                "/api/v1/namespaces/default/services",
                json={"metadata": {"name": "keep"}, "spec": {"ports": [{"port": 80}]}},
            ).json()
            before = http.get("/api/v1/pods").json()
        ca, token = srv.ca_file.read_bytes(), srv.token
        assert srv.stop() == 0  # SIGTERM is a clean shutdown
        srv.start()
        assert (
            srv.ca_file.read_bytes() == ca and srv.token == token
        )  # same identity, old kubeconfigs still work
        with srv.client() as http:
            after = http.get("/api/v1/pods").json()
            assert after["items"] == before["items"]
            assert int(after["metadata"]["resourceVersion"]) >= int(before["metadata"]["resourceVersion"])
            by_name = sorted(made, key=lambda p: p["metadata"]["name"])  # a list is in key order
            assert [p["metadata"]["uid"] for p in after["items"]] == [p["metadata"]["uid"] for p in by_name]
            # the allocation survived too: the same IP is not handed out again
            r = http.post(
                "/api/v1/namespaces/default/services",
                json={
                    "metadata": {"name": "again"},
                    "spec": {"clusterIP": svc["spec"]["clusterIP"], "ports": [{"port": 80}]},
                },
            )
            assert r.status_code == 422
        assert srv.kubectl("get", "pods", "-o", "name", check=True).stdout.split() == sorted(
            f"pod/r{i}" for i in range(20)
        )
    finally:
        srv.stop()


def test_two_servers_on_one_postgresql(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    with two_servers(tmp_path, pg_url) as (ha, hb):
        base = "/api/v1/namespaces/default/pods"
        rv = hb.get(base).json()["metadata"]["resourceVersion"]
        with hb.stream("GET", f"{base}?watch=true&resourceVersion={rv}&timeoutSeconds=20") as stream:
            t0 = time.monotonic()
            made = ha.post(base, json=pod("shared")).json()
            line = next(stream.iter_lines())
            ev = json.loads(line)
            assert ev["type"] == "ADDED" and ev["object"]["metadata"]["uid"] == made["metadata"]["uid"]
            assert (
                time.monotonic() - t0 < 5.0
            )  # seen by the other server's watcher (well within a second when idle)
        assert hb.get(f"{base}/shared").json()["metadata"]["uid"] == made["metadata"]["uid"]
        ips = set()
        for i in range(10):
            side = ha if i % 2 else hb
            r = side.post(
                "/api/v1/namespaces/default/services",
                json={"metadata": {"name": f"s{i}"}, "spec": {"ports": [{"port": 80}]}},
            )
            assert r.status_code == 201, r.text
            ips.add(r.json()["spec"]["clusterIP"])
        assert len(ips) == 10
        got = hb.get("/api/v1/namespaces/default/services/s1").json()["spec"]["clusterIP"]
        r = hb.post(
            "/api/v1/namespaces/default/services",
            json={"metadata": {"name": "clash"}, "spec": {"clusterIP": got, "ports": [{"port": 80}]}},
        )
        assert r.status_code == 422
        # a stale write through one server conflicts with a newer one made through the other
        p = ha.get(f"{base}/shared").json()
        p2 = dict(p, metadata={**p["metadata"], "labels": {"v": "b"}})
        hb.put(f"{base}/shared", json=p2).raise_for_status()
        p["metadata"]["labels"] = {"v": "a"}
        assert ha.put(f"{base}/shared", json=p).status_code == 409


def test_sigterm_ends_watches_and_exits_cleanly(tmp_path: Path) -> None:
    srv = start_server(tmp_path)
    try:
        with srv.client() as http, http.stream("GET", "/api/v1/pods?watch=true&resourceVersion=0") as stream:
            t0 = time.monotonic()
            assert srv.proc is not None
            srv.proc.terminate()
            lines = list(stream.iter_lines())  # ends when the server ends the stream
            assert time.monotonic() - t0 < 10
            assert lines == []
        assert srv.stop() == 0
        assert "kubelite server: stopped" in (srv.log.read_text() if srv.log else "")
    finally:
        srv.stop()


def test_controllers_run_in_process(loops_http: httpx.Client) -> None:
    """Without --no-controllers the controller manager runs inside the server: an RC gets its pods."""
    rc = rc_body("rc", 2, image="busybox")
    loops_http.post("/api/v1/namespaces/default/replicationcontrollers", json=rc).raise_for_status()
    pods = "/api/v1/namespaces/default/pods?labelSelector=app%3Drc"
    wait_for(
        lambda: len(loops_http.get(pods).json()["items"]) >= 2, 20, what="the replication controller's pods"
    )
