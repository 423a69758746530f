"""A node's one-object lists and watches of ConfigMaps and Secrets (the kubelet's Watch strategy)
against the real server: the node authorizer allows them only by `metadata.name=<a name its pods
use>`, the watch fan-out indexes them by name, and a kubelet (fake runtime, node credential) gets
its pods' files from them without a GET, an update reaching the files."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any, cast

import httpx
import orjson

from api.aclient import AsyncClient
from api.config import ClientConfig, from_kubeconfig
from api.protocol import ApiClient
from api.resources import by_plural
from api.selectors import parse_field_selector
from apiserver.handlers.watch import object_name, pod_node_name, watch_trigger
from apiserver.storage.hub import QueueWatcher, WatchHub
from apiserver.storage.interface import Event
from kubelet.kubelet import Kubelet, KubeletOptions
from kubelet.node import NodeAgent, node_object, read_machine
from kubelet.podfiles import MemoryFiles
from runtime.fake import FakeRuntime
from tests.apiserver.conftest import Server
from tests.polling import until

NODE_HEADER = "X-Kubelite-Node-Name"
CM = "configmaps"


def node_http(server: Server, node: str) -> httpx.Client:
    c = server.client(token=(server.data_dir / "node-token").read_text().strip())
    c.headers[NODE_HEADER] = node
    return c


def bound_pod(name: str, node: str, configmap: str, secret: str | None = None) -> dict[str, Any]:
    volumes: list[dict[str, Any]] = [
        {"name": "cfg", "configMap": {"name": configmap}},
        {"name": "all", "projected": {"sources": [{"configMap": {"name": configmap}}]}},
    ]
    if secret:
        volumes.append({"name": "sec", "secret": {"secretName": secret}})
    return {
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "c", "image": "busybox:1.35"}],
            "volumes": volumes,
        },
    }


def test_a_node_lists_and_watches_only_one_name_its_pods_use(
    server: Server, http: httpx.Client, ns: str
) -> None:
    for plural, name in (("configmaps", "used"), ("configmaps", "unused"), ("secrets", "sec")):
        http.post(f"/api/v1/namespaces/{ns}/{plural}", json={"metadata": {"name": name}}).raise_for_status()
    http.post(f"/api/v1/namespaces/{ns}/pods", json=bound_pod("p", "nw1", "used", "sec")).raise_for_status()
    base = f"/api/v1/namespaces/{ns}"
    with node_http(server, "nw1") as node:
        r = node.get(f"{base}/configmaps", params={"fieldSelector": "metadata.name=used"})
        assert r.status_code == 200 and [i["metadata"]["name"] for i in r.json()["items"]] == ["used"]
        r = node.get(f"{base}/secrets", params={"fieldSelector": "metadata.name=sec"})
        assert r.status_code == 200 and len(r.json()["items"]) == 1
        watch = {"fieldSelector": "metadata.name=used", "watch": "true", "timeoutSeconds": "1"}
        with node.stream("GET", f"{base}/configmaps", params=watch) as w:
            assert w.status_code == 200
            first = json.loads(next(w.iter_lines()))
            assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "used")
        r = node.get(f"{base}/configmaps", params={"fieldSelector": "metadata.name=unused"})
        assert r.status_code == 403 and "no relationship found between node 'nw1'" in r.json()["message"]
        assert 'cannot list resource "configmaps"' in r.json()["message"]
        r = node.get(f"{base}/configmaps", params={"fieldSelector": "metadata.name=unused", "watch": "1"})
        assert r.status_code == 403 and 'cannot watch resource "configmaps"' in r.json()["message"]
        r = node.get(f"{base}/configmaps")  # the whole namespace: never
        assert r.status_code == 403 and "No Object name found" in r.json()["message"]
        r = node.get(f"{base}/secrets", params={"fieldSelector": "type=Opaque"})
        assert r.status_code == 403
        r = node.get("/api/v1/configmaps", params={"fieldSelector": "metadata.name=used"})  # all namespaces
        assert r.status_code == 403 and "namespaced" in r.json()["message"]
        r = node.get(f"{base}/persistentvolumeclaims", params={"fieldSelector": "metadata.name=used"})
        assert r.status_code == 403  # claims stay get-only
        assert node.get(f"{base}/configmaps/used").status_code == 200  # the GET as before
    with node_http(server, "nw2") as other:
        r = other.get(f"{base}/configmaps", params={"fieldSelector": "metadata.name=used"})
        assert r.status_code == 403  # its pods do not use it


def _cm_event(rev: int, name: str, typ: str = "MODIFIED") -> Event:
    value = orjson.dumps({"metadata": {"name": name, "namespace": "ns"}})
    return Event(typ, f"/registry/configmaps/ns/{name}", rev, value, None if typ == "ADDED" else value)


def test_one_name_watches_are_indexed_by_name() -> None:
    configmaps, pods = by_plural("", "configmaps"), by_plural("", "pods")
    assert configmaps is not None and pods is not None
    assert watch_trigger(configmaps, parse_field_selector("metadata.name=a")) == (object_name, "a")
    assert watch_trigger(configmaps, parse_field_selector("metadata.name!=a")) is None
    assert watch_trigger(pods, parse_field_selector("spec.nodeName=n1")) == (pod_node_name, "n1")
    assert watch_trigger(pods, parse_field_selector("metadata.name=p")) == (object_name, "p")

    async def go() -> None:
        hub = WatchHub(revision=0, ring_capacity=100)

        async def _no_log(after: int, limit: int, prefix: str = "") -> tuple[int, list[Event]]:
            return 0, []

        trigger = watch_trigger(configmaps, parse_field_selector("metadata.name=a"))
        a = hub.register("/registry/configmaps/ns/", 0, _no_log, trigger)
        hub.publish(
            [
                _cm_event(1, "a", "ADDED"),
                _cm_event(2, "b", "ADDED"),
                _cm_event(3, "b"),
                _cm_event(4, "a"),
                _cm_event(5, "b", "DELETED"),
                _cm_event(6, "a", "DELETED"),
            ]
        )

        async def seen(w: QueueWatcher) -> list[tuple[str, int]]:
            out = []
            while w._buf or w._replay:
                ev = await w.__anext__()
                out.append((ev.type, ev.revision))
            return out

        assert await seen(a) == [("ADDED", 1), ("MODIFIED", 4), ("DELETED", 6)]  # never b's
        await a.close()
        assert hub.watcher_count() == 0

    asyncio.run(go())


def test_a_one_name_watch_sees_only_that_object_and_its_deletion(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    start = http.get(base).json()["metadata"]["resourceVersion"]
    http.post(base, json={"metadata": {"name": "a"}}).raise_for_status()
    http.post(base, json={"metadata": {"name": "b"}}).raise_for_status()
    http.patch(
        f"{base}/b", content=b'{"data":{"k":"v"}}', headers={"Content-Type": "application/merge-patch+json"}
    ).raise_for_status()
    http.delete(f"{base}/b").raise_for_status()
    http.delete(f"{base}/a").raise_for_status()
    seen = []
    params = {
        "watch": "1",
        "resourceVersion": start,
        "fieldSelector": "metadata.name=a",
        "timeoutSeconds": "2",
    }
    with http.stream("GET", base, params=params) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line:
                ev = json.loads(line)
                seen.append((ev["type"], ev["object"]["metadata"]["name"]))
            if len(seen) == 2:
                break
    assert seen == [("ADDED", "a"), ("DELETED", "a")]  # none of b's events, a's deletion too


class CountingClient:
    """The kubelet's client, counting its requests by (verb, resource)."""

    def __init__(self, inner: AsyncClient) -> None:
        self.inner = inner
        self.calls: Counter[tuple[str, str]] = Counter()

    async def get(
        self, r: Any, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> Any:
        self.calls["get", str(r)] += 1
        return await self.inner.get(r, name, namespace, subresource)

    async def list(self, r: Any, namespace: str | None = None, **kw: Any) -> Any:
        self.calls["list", str(r)] += 1
        return await self.inner.list(r, namespace, **kw)

    def watch(self, r: Any, namespace: str | None = None, **kw: Any) -> Any:
        self.calls["watch", str(r)] += 1
        return self.inner.watch(r, namespace, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_kubelet_reads_its_pods_configmap_from_one_watch(server: Server, ns: str, tmp_path: Path) -> None:
    node = f"nw-{ns}"[:60]

    async def go() -> None:
        admin = AsyncClient(from_kubeconfig([server.kubeconfig]))
        cfg = ClientConfig(
            server.url,
            token=(server.data_dir / "node-token").read_text().strip(),
            ca_data=server.ca_file.read_bytes(),
            extra_headers={NODE_HEADER: node},
        )
        counting = CountingClient(AsyncClient(cfg))
        client = cast(ApiClient, counting)
        await admin.create("configmaps", {"metadata": {"name": "cfg"}, "data": {"greeting": "hi"}}, ns)
        agent = NodeAgent(client, node_object(node, "192.0.2.20", read_machine(), "fake://1", 10250))
        k = Kubelet(
            client, FakeRuntime(), agent, KubeletOptions(node, "192.0.2.20", tmp_path, files_in_memory=True)
        )
        # a first list slower than the read's deadline would be a GET: not what this test is about
        k.syncer.objects.watches.sync_timeout = 60.0
        files = k.syncer.ctx.files
        assert isinstance(files, MemoryFiles)
        fetches = [0]
        fetch = k.syncer.objects.fetch

        async def counted_fetch(pod: dict[str, Any]) -> Any:
            fetches[0] += 1
            return await fetch(pod)

        k.syncer.objects.fetch = counted_fetch  # type: ignore[method-assign]
        task = asyncio.create_task(k.run())
        try:
            names = [f"web-{i}" for i in range(3)]
            for name in names:
                await admin.create("pods", bound_pod(name, node, "cfg"), ns)
            uids = [(await admin.get("pods", n, ns))["metadata"]["uid"] for n in names]

            def showing(text: bytes) -> bool:
                return all(
                    files.pods.get(u, {}).get(f"volumes/{v}") == {"greeting": (text, 0o644)}
                    for u in uids
                    for v in ("cfg", "all")
                )

            await until(lambda: showing(b"hi"), 30, "the pods' configMap and projected files")
            # each object the pods use (the service-account admission added kube-root-ca.crt) is
            # listed once and watched, whatever the number of pods
            watching = k.syncer.objects.watches.watching()
            assert watching == {(CM, ns, "cfg"): set(uids), (CM, ns, "kube-root-ca.crt"): set(uids)}
            assert counting.calls["list", CM] == 2 and counting.calls["get", CM] == 0

            # N syncs of the pods that use it: no request for the ConfigMap at all
            for n in range(1, 6):
                before = fetches[0]
                k._wake_all(set(uids))
                await until(lambda b=before: fetches[0] >= b + len(uids), 30, f"sync round {n}")  # type: ignore[misc]
            assert counting.calls["get", CM] == 0 and counting.calls["list", CM] == 2

            await admin.patch("configmaps", "cfg", {"data": {"greeting": "hello"}}, namespace=ns)
            await until(lambda: showing(b"hello"), 30, "the update in the files")
            assert counting.calls["get", "configmaps"] == 0

            for name in names:
                await admin.delete("pods", name, ns, grace_period_seconds=0)
            await until(lambda: k.syncer.objects.watches.watching() == {}, 30, "the watch released")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await counting.inner.aclose()
            await admin.aclose()

    asyncio.run(go())
