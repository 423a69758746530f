"""Chunked LIST through a real `kubelite server` on each datastore, with the official Python
client and the real kubectl 1.33: limit/continue pages form one consistent snapshot, the
envelope carries `continue` and `remainingItemCount`, a compacted token is kube's 410, a
malformed one a 400.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apiserver.handlers.paging import CONTINUE_EXPIRED
from tests.apiserver.conftest import Server, start_server
from tests.polling import wait_for
from tests.storage.conftest import PG_URL, SCHEMA_PREFIX

BACKENDS = ["sqlite", "postgresql", "etcd"]


def _datastore(request: pytest.FixtureRequest, backend: str) -> Iterator[list[str]]:
    """The server flags for a fresh, empty datastore of `backend`, removed afterwards."""
    if backend == "sqlite":
        yield []
    elif backend == "etcd":
        cluster = request.getfixturevalue("etcd")
        yield ["--datastore", cluster.datastore_url(f"/api-{uuid.uuid4().hex[:10]}")]
    else:
        from sqlalchemy import text

        eng = request.getfixturevalue("pg_engine")
        schema = f"{SCHEMA_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with eng.connect() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        yield ["--datastore", f"{PG_URL}?options=-csearch_path%3D{schema}"]
        with eng.connect() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(scope="module", params=BACKENDS)
def paging_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    gen = _datastore(request, request.param)
    srv = start_server(tmp_path_factory.mktemp(f"paging-{request.param}"), *next(gen))
    yield srv
    srv.stop()
    next(gen, None)


@pytest.fixture(scope="module")
def k8s(paging_server: Server) -> Any:
    from kubernetes import client

    cfg = client.Configuration()
    cfg.host = paging_server.url
    cfg.ssl_ca_cert = str(paging_server.ca_file)
    cfg.api_key = {"authorization": f"Bearer {paging_server.token}"}
    return client.CoreV1Api(client.ApiClient(cfg))


def _pod(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox:1"}]},
    }


def _namespace(k8s: Any, pods: int) -> str:
    ns = f"pg-{uuid.uuid4().hex[:8]}"
    k8s.create_namespace({"metadata": {"name": ns}})
    for i in range(pods):
        k8s.create_namespaced_pod(ns, _pod(f"p{i}", parity=("even", "odd")[i % 2]))
    return ns


def test_python_client_pages_are_one_snapshot(k8s: Any) -> None:
    ns = _namespace(k8s, 7)
    first = k8s.list_namespaced_pod(ns, limit=3)
    assert [p.metadata.name for p in first.items] == ["p0", "p1", "p2"]
    assert first.metadata._continue and first.metadata.remaining_item_count == 4
    # between the pages: a new pod, a deleted one, a changed one
    k8s.create_namespaced_pod(ns, _pod("p3a"))
    k8s.delete_namespaced_pod("p5", ns)
    k8s.patch_namespaced_pod("p4", ns, {"metadata": {"labels": {"changed": "yes"}}})
    second = k8s.list_namespaced_pod(ns, limit=3, _continue=first.metadata._continue)
    assert [p.metadata.name for p in second.items] == ["p3", "p4", "p5"]
    assert second.items[1].metadata.labels == {"parity": "even"}  # as it was at the first page
    assert second.metadata.resource_version == first.metadata.resource_version
    assert second.metadata.remaining_item_count == 1
    last = k8s.list_namespaced_pod(ns, limit=3, _continue=second.metadata._continue)
    assert [p.metadata.name for p in last.items] == ["p6"]
    assert last.metadata._continue is None and last.metadata.remaining_item_count is None
    now = k8s.list_namespaced_pod(ns)
    assert [p.metadata.name for p in now.items] == ["p0", "p1", "p2", "p3", "p3a", "p4", "p6"]
    assert now.metadata._continue is None


def test_selector_pages_fill_up_to_the_limit(k8s: Any) -> None:
    ns = _namespace(k8s, 9)
    names, token, pages = [], None, 0
    while True:
        page = k8s.list_namespaced_pod(ns, limit=2, label_selector="parity=even", _continue=token)
        names += [p.metadata.name for p in page.items]
        assert page.metadata.remaining_item_count is None  # kube leaves it out when filtering
        pages += 1
        token = page.metadata._continue
        if not token:
            break
    assert names == ["p0", "p2", "p4", "p6", "p8"] and pages == 3


def test_real_kubectl_chunked_get_returns_everything(k8s: Any, paging_server: Server) -> None:
    ns = _namespace(k8s, 5)
    r = paging_server.kubectl("get", "pods", "-n", ns, "--chunk-size=2", "-o", "name", "-v=6", check=True)
    assert r.stdout.split() == [f"pod/p{i}" for i in range(5)]
    assert "limit=2" in r.stderr and "continue=" in r.stderr  # it really paged
    table = paging_server.kubectl("get", "pods", "-n", ns, "--chunk-size=2", check=True)
    assert [line.split()[0] for line in table.stdout.splitlines()[1:]] == [f"p{i}" for i in range(5)]


def test_malformed_continue_is_a_400(paging_server: Server) -> None:
    with paging_server.client() as http:
        for token in (
            "%%%not-base64",
            base64.urlsafe_b64encode(b'{"v":"x","rv":1,"start":"a"}').decode(),
            base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":5,"start":"../../secrets/x"}').decode(),
        ):
            r = http.get("/api/v1/pods", params={"limit": "1", "continue": token})
            assert r.status_code == 400, r.text
            assert r.json()["reason"] == "BadRequest" and "invalid continue token" in r.json()["message"]
        r = http.get("/api/v1/pods", params={"limit": "x"})
        assert r.status_code == 400


@pytest.fixture(params=BACKENDS)
def compacting_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server that compacts everything but the newest revision every 0.2 s."""
    gen = _datastore(request, request.param)
    srv = start_server(tmp_path, *next(gen), "--compact-keep", "0", "--compact-interval", "0.2s")
    yield srv
    srv.stop()
    next(gen, None)


def test_compacted_continue_is_kubes_410(compacting_server: Server) -> None:
    with compacting_server.client() as http:
        for i in range(3):
            assert (
                http.post(
                    "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": f"c{i}"}}
                ).status_code
                == 201
            )
        first = http.get("/api/v1/namespaces/default/configmaps", params={"limit": "1"}).json()
        token = first["metadata"]["continue"]
        assert json.loads(base64.urlsafe_b64decode(token + "==="))["rv"] == int(
            first["metadata"]["resourceVersion"]
        )
        for name in ("later", "later2"):  # compaction keeps the newest revision: move two past it
            http.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": name}})

        def expired() -> Any:
            r = http.get("/api/v1/namespaces/default/configmaps", params={"limit": "1", "continue": token})
            return r if r.status_code == 410 else None

        r = wait_for(expired, timeout=10, what="the first page's revision to be compacted")
        body = r.json()
        assert body["reason"] == "Expired" and body["code"] == 410 and body["message"] == CONTINUE_EXPIRED
        r = http.get(
            "/api/v1/namespaces/default/configmaps", params={"continue": body["metadata"]["continue"]}
        )  # the inconsistent rest
        assert r.status_code == 200, r.text
        assert [c["metadata"]["name"] for c in r.json()["items"]] == ["c1", "c2", "later", "later2"]
