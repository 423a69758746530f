"""Custom resources beyond one plain server: a CRD created through one API server is served by the
other (both on one PostgreSQL, each following the CRDs with a watch), and a deleted namespace
takes its custom resources with it (the in-process namespace controller)."""

from __future__ import annotations

import copy
from pathlib import Path

import httpx

from tests.apiserver.conftest import start_server, two_servers
from tests.apiserver.test_crd import CRDS, CRONTAB, GROUP, crontab
from tests.polling import wait_for
from tests.storage.conftest import pg_engine, pg_url  # noqa: F401 - fixtures


def _served(h: httpx.Client, path: str) -> bool:
    return h.get(path).status_code == 200


def test_a_crd_made_through_one_server_is_served_by_the_other(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    with two_servers(tmp_path, pg_url) as (ha, hb):
        assert ha.post(CRDS, json=CRONTAB).status_code == 201
        on_b = f"/apis/{GROUP}/v1/namespaces/default/crontabs"
        wait_for(lambda: _served(hb, on_b), timeout=15, what="crontabs served by the other server")
        bad = hb.post(on_b, json=crontab("x", replicas="many"))
        assert bad.status_code == 422 and bad.json()["details"]["causes"][0]["field"] == "spec.replicas"
        made = hb.post(on_b, json=crontab("x"))
        assert made.status_code == 201 and made.json()["spec"]["replicas"] == 1  # b applies the schema
        assert ha.get(f"{on_b}/x").json()["metadata"]["uid"] == made.json()["metadata"]["uid"]
        assert any(g["name"] == GROUP for g in hb.get("/apis").json()["groups"])
        assert hb.delete(f"{CRDS}/{CRONTAB['metadata']['name']}").status_code == 200
        wait_for(
            lambda: ha.get(on_b).status_code == 404 and hb.get(on_b).status_code == 404,
            timeout=15,
            what="neither server serves crontabs",
        )
        assert not any(g["name"] == GROUP for g in ha.get("/apis").json()["groups"])


def test_deleting_a_namespace_deletes_its_custom_resources(loops_http: httpx.Client) -> None:
    crd = copy.deepcopy(CRONTAB)
    assert loops_http.post(CRDS, json=crd).status_code == 201
    loops_http.post("/api/v1/namespaces", json={"metadata": {"name": "doomed"}}).raise_for_status()
    coll = f"/apis/{GROUP}/v1/namespaces/doomed/crontabs"
    wait_for(lambda: _served(loops_http, coll), timeout=15, what="crontabs served")
    assert loops_http.post(coll, json=crontab("c1")).status_code == 201
    assert loops_http.delete("/api/v1/namespaces/doomed").status_code == 200
    wait_for(
        lambda: loops_http.get("/api/v1/namespaces/doomed").status_code == 404,
        timeout=30,
        what="namespace gone",
    )
    assert loops_http.get(f"/apis/{GROUP}/v1/crontabs").json()["items"] == []


def test_custom_resources_are_served_again_after_a_restart(tmp_path: Path) -> None:
    srv = start_server(tmp_path)
    try:
        with srv.client() as h:
            assert h.post(CRDS, json=CRONTAB).status_code == 201
            coll = f"/apis/{GROUP}/v1/namespaces/default/crontabs"
            wait_for(lambda: _served(h, coll), timeout=15, what="crontabs served")
            assert h.post(coll, json=crontab("kept")).status_code == 201
        srv.stop()
        srv.start()
        with srv.client() as h:
            assert h.get(f"{coll}/kept").json()["spec"]["replicas"] == 1  # served from the first request on
            assert h.post(coll, json=crontab("bad", replicas="x")).status_code == 422
    finally:
        srv.stop()
