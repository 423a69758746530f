"""etcd-only behaviour: several API servers on one cluster, a member lost, TLS, the value codec.

The conformance suite (test_crud, test_watch, test_paging) already runs on etcd; these are the
parts only a clustered store has: other servers' writes arriving through etcd's watch, writes
and watches carrying on when the member the store talks to dies, HTTPS with client certs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from apiserver.config import ServerConfig
from apiserver.storage import ConflictError, KeyExistsError, StorageError, open_store
from apiserver.storage.etcd_codec import decode_value, encode_value, parse_etcd_url
from tests.apiserver.conftest import start_server
from tests.storage.conftest import collect, key, pod, watching
from tests.storage.etcd_cluster import etcd_cluster, make_pki

pytestmark = pytest.mark.anyio


async def test_two_servers_see_each_others_writes_and_conflicts(etcd_url):
    one, two = open_store(etcd_url, compact_interval=0), open_store(etcd_url, compact_interval=0)
    await one.start()
    await two.start()
    try:
        start = await one.current_revision()
        async with watching(two, "/registry/pods/", start) as w:
            a = await one.create(key("a"), pod("a"))
            b = await two.update(key("a"), pod("a", status={"phase": "Running"}), a.revision)
            events = await collect(w, b.revision)
        assert [(e.type, e.revision) for e in events] == [("ADDED", a.revision), ("MODIFIED", b.revision)]
        with pytest.raises(ConflictError) as err:
            await one.update(key("a"), pod("a"), a.revision)  # one's view is stale: two wrote since
        assert err.value.current_revision == b.revision

        async def increment(store) -> None:
            while True:
                cur = await store.get(key("a"))
                obj = cur.obj
                obj.setdefault("data", {"n": 0})["n"] += 1
                try:
                    await store.update(key("a"), obj, cur.revision)
                    return
                except ConflictError:
                    continue

        await asyncio.gather(*(increment(s) for s in (one, two) for _ in range(15)))
        final = await one.get(key("a"))
        assert final is not None and final.obj["data"]["n"] == 30
    finally:
        await one.close()
        await two.close()


async def test_the_store_carries_on_when_its_member_dies():
    with etcd_cluster(3) as cluster:
        store = open_store(cluster.datastore_url("/x"), compact_interval=0)
        await store.start()
        try:
            start = await store.current_revision()
            w = await store.watch("/registry/pods/", start)
            before = await store.create(key("before"), pod("before"))
            cluster.procs[0].terminate()  # the member the store talks to first
            cluster.procs[0].wait(10)

            deadline = asyncio.get_running_loop().time() + 20
            while True:  # a leader election may refuse a write or two
                try:
                    after = await store.create(key("after"), pod("after"))
                    break
                except KeyExistsError:  # an earlier try went through after all
                    got = await store.get(key("after"))
                    assert got is not None
                    after = got
                    break
                except StorageError:
                    assert asyncio.get_running_loop().time() < deadline, "no write got through"
                    await asyncio.sleep(0.1)
            events = await collect(w, after.revision, timeout=20)
            assert [e.key for e in events] == [key("before"), key("after")]
            assert events[0].revision == before.revision
            got = await store.get(key("after"))
            assert got is not None and got.revision == after.revision
            await w.close()
        finally:
            await store.close()


async def test_https_with_client_certificates(tmp_path: Path):
    tls, client_cert, client_key = make_pki(tmp_path / "pki")
    with etcd_cluster(1, tls=tls, health_cert=(client_cert, client_key)) as cluster:
        url = f"etcd://{cluster.endpoints}/s?cacert={tls.ca}&cert={client_cert}&key={client_key}"
        store = open_store(url, compact_interval=0)
        await store.start()
        try:
            kv = await store.create(key("a"), pod("a"))
            got = await store.get(key("a"))
            assert got is not None and got.value == kv.value
            async with watching(store, "/registry/pods/", kv.revision - 1) as w:
                assert [e.revision for e in await collect(w, kv.revision)] == [kv.revision]
        finally:
            await store.close()
        no_cert = open_store(f"etcds://{cluster.endpoints}/s?cacert={tls.ca}", compact_interval=0)
        with pytest.raises(StorageError):  # the member wants a client certificate
            await no_cert.start()
        await no_cert.close()
        # the server's own flags, as etcd's: --etcd-cafile, --etcd-certfile, --etcd-keyfile
        srv = start_server(
            tmp_path / "srv",
            "--datastore",
            f"etcd://{cluster.endpoints}/api",
            "--etcd-cafile",
            str(tls.ca),
            "--etcd-certfile",
            str(client_cert),
            "--etcd-keyfile",
            str(client_key),
        )
        try:
            with srv.client() as http:
                r = http.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "c"}})
                assert r.status_code == 201, r.text
        finally:
            srv.stop()
        store = open_store(url.replace("/s?", "/api?"), compact_interval=0)
        await store.start()
        try:
            got = await store.get("/registry/configmaps/default/c")
            assert got is not None and got.revision == int(r.json()["metadata"]["resourceVersion"])
        finally:
            await store.close()


def test_server_config_carries_the_etcd_tls_files(tmp_path: Path):
    cfg = ServerConfig(
        data_dir=tmp_path,
        datastore="etcd://h1:2379,h2:2379/p",
        etcd_cafile="/pki/ca.crt",
        etcd_certfile="/pki/c.crt",
        etcd_keyfile="/pki/c.key",
    )
    u = parse_etcd_url(cfg.datastore_url)
    assert (u.endpoints, u.prefix, u.tls) == (["h1:2379", "h2:2379"], "/p", True)
    assert (u.cafile, u.certfile, u.keyfile) == ("/pki/ca.crt", "/pki/c.crt", "/pki/c.key")
    with pytest.raises(ValueError):  # TLS files for SQLite make no sense: said at start-up
        _ = ServerConfig(data_dir=tmp_path, etcd_cafile="/pki/ca.crt").datastore_url


def test_stored_values_carry_the_revision_at_read_time():
    obj: dict[str, Any] = {
        "kind": "Event",
        "involvedObject": {"resourceVersion": "7"},
        "metadata": {"name": "e", "resourceVersion": "3"},
        "note": 'a "resourceVersion":"x"',
    }
    stored = encode_value(obj)
    assert obj["metadata"]["resourceVersion"] == "3"  # the caller's dict is left alone
    assert b'"3"' not in stored
    back = orjson.loads(decode_value(stored, 42))
    assert back["metadata"]["resourceVersion"] == "42"
    assert back["involvedObject"] == {"resourceVersion": "7"} and back["note"] == obj["note"]
    assert decode_value(b'{"plain":1}', 5) == b'{"plain":1}'  # written by another tool: as is
    with pytest.raises(StorageError):
        encode_value({"metadata": {}, "bad": {1, 2}})


def test_etcd_urls():
    u = parse_etcd_url("etcd://h1:2379,h2:2379,[::1]:2379/tenant/a/")
    assert u.endpoints == ["h1:2379", "h2:2379", "[::1]:2379"] and u.prefix == "/tenant/a" and not u.tls
    assert parse_etcd_url("etcd://h1:2379").prefix == ""
    t = parse_etcd_url("etcd://h1:2379?cacert=/ca.crt&cert=/c.crt&key=/c.key")
    assert t.tls and (t.cafile, t.certfile, t.keyfile) == ("/ca.crt", "/c.crt", "/c.key")
    assert parse_etcd_url("etcds://h1:2379").tls
    for bad in ("etcd://", "etcd://h1", "etcd://h1:x", "etcd://h1:2379?bogus=1"):
        with pytest.raises(ValueError):
            parse_etcd_url(bad)
