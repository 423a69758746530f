"""The kubelet's one-object watches of the ConfigMaps and Secrets its pods use (kube's Watch
strategy), on the fake API: counted by pod, read without requests once synced, immutable objects
fetched once, a change wakes the pods that use the object, GET when the watch is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

from api import errors
from api.protocol import ApiClient
from kubelet.objectwatch import ObjectWatches, watched_keys
from kubelet.podfiles import MemoryFiles
from kubelet.podobjects import ObjectSource
from runtime.fake import FakeRuntime
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import NODE, running_kubelet
from tests.polling import until

NS = "default"


def pod(uid: str, *configmaps: str, secret: str | None = None) -> dict[str, Any]:
    volumes: list[dict[str, Any]] = [
        {"name": f"v{i}", "configMap": {"name": name}} for i, name in enumerate(configmaps)
    ]
    if secret:
        volumes.append({"name": "s", "secret": {"secretName": secret}})
    return {
        "metadata": {"name": f"p-{uid}", "namespace": NS, "uid": uid},
        "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "busybox"}], "volumes": volumes},
    }


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": data}


def calls(api: FakeApi, verb: str, plural: str = "configmaps") -> int:
    return sum(1 for v, p, _ in api.calls if v == verb and p == plural)


def test_watched_keys_are_the_pods_configmaps_and_secrets() -> None:
    assert watched_keys(pod("u", "a", "b", secret="s")) == {
        ("configmaps", NS, "a"),
        ("configmaps", NS, "b"),
        ("secrets", NS, "s"),
    }


def test_watches_are_counted_by_pod_and_end_with_the_last_user() -> None:
    async def go() -> None:
        api = FakeApi()
        watches = ObjectWatches(cast(ApiClient, api))
        watches.register(pod("a", "shared", "only-a"))
        watches.register(pod("b", "shared"))
        watches.register(pod("b", "shared"))  # an update that changes nothing: no second watch
        assert watches.watching() == {
            ("configmaps", NS, "shared"): {"a", "b"},
            ("configmaps", NS, "only-a"): {"a"},
        }
        task = watches._objects[("configmaps", NS, "only-a")].task
        watches.unregister("a")
        assert watches.watching() == {("configmaps", NS, "shared"): {"b"}}
        assert task is not None
        await until(task.done, 5, "the released watch ended")
        assert task.cancelled()
        watches.register(pod("b", "other"))  # its references changed: the old one is released
        assert watches.watching() == {("configmaps", NS, "other"): {"b"}}
        watches.unregister("b")
        watches.unregister("never-registered")
        assert watches.watching() == {}
        await watches.close()

    asyncio.run(go())


def test_reads_come_from_the_watch_and_changes_wake_the_users() -> None:
    async def go() -> None:
        api = FakeApi()
        await api.create("configmaps", cm("cfg", k="v1"), NS)
        woken: list[set[str]] = []
        watches = ObjectWatches(cast(ApiClient, api), on_change=woken.append)
        watches.register(pod("a", "cfg", "missing"))
        watches.register(pod("b", "cfg"))
        found, obj = await watches.read("configmaps", NS, "cfg")
        assert found and obj is not None and obj["data"] == {"k": "v1"} and obj["kind"] == "ConfigMap"
        assert await watches.read("configmaps", NS, "missing") == (True, None)  # absent, as a 404 reads
        assert await watches.read("configmaps", NS, "unregistered") == (False, None)
        await until(lambda: calls(api, "watch") == 2, 5, "both watches started")
        assert woken == []  # the first sync is not a change

        await api.patch("configmaps", "cfg", {"data": {"k": "v2"}}, namespace=NS)
        await until(lambda: woken, 5, "the users woken")
        assert woken == [{"a", "b"}]
        assert (await watches.read("configmaps", NS, "cfg"))[1]["data"] == {"k": "v2"}  # type: ignore[index]
        await api.create("configmaps", cm("missing", x="1"), NS)
        await until(lambda: len(woken) == 2, 5, "the new object's user woken")
        assert woken[1] == {"a"} and (await watches.read("configmaps", NS, "missing"))[1] is not None
        await api.delete("configmaps", "cfg", NS)
        await until(lambda: len(woken) == 3, 5, "the deletion seen")
        assert await watches.read("configmaps", NS, "cfg") == (True, None)
        assert calls(api, "get") == 0 and calls(api, "list") == 2
        await watches.close()

    asyncio.run(go())


def test_an_expired_watch_relists_and_a_dropped_one_resumes() -> None:
    async def go() -> None:
        api = FakeApi()
        await api.create("configmaps", cm("cfg", k="v1"), NS)
        watches = ObjectWatches(cast(ApiClient, api), retry_delay=0.01)
        watches.register(pod("a", "cfg"))
        assert (await watches.read("configmaps", NS, "cfg"))[0]
        await until(lambda: calls(api, "watch") == 1, 5, "the watch")
        api.drop_watches()  # the stream ends: resume from the last revision, no list
        await until(lambda: calls(api, "watch") == 2, 5, "the watch resumed")
        assert calls(api, "list") == 1
        await api.create("configmaps", cm("other"), NS)  # a revision this watch never sees
        api.compact()
        api.drop_watches()  # the revision it resumes from is compacted: 410, relist
        await until(lambda: calls(api, "list") == 2, 5, "the relist")
        await api.patch("configmaps", "cfg", {"data": {"k": "v2"}}, namespace=NS)
        await until(
            lambda: (watches._objects[("configmaps", NS, "cfg")].obj or {}).get("data") == {"k": "v2"}
        )
        await watches.close()

    asyncio.run(go())


def test_an_immutable_object_is_fetched_once_and_not_watched() -> None:
    async def go() -> None:
        api = FakeApi()
        await api.create("secrets", {"metadata": {"name": "s"}, "immutable": True, "data": {}}, NS)
        watches = ObjectWatches(cast(ApiClient, api))
        watches.register(pod("a", secret="s"))
        found, obj = await watches.read("secrets", NS, "s")
        assert found and obj is not None and obj["immutable"] is True
        task = watches._objects[("secrets", NS, "s")].task
        await until(lambda: task is not None and task.done(), 5, "the reflector ended")
        assert calls(api, "list", "secrets") == 1 and calls(api, "watch", "secrets") == 0
        assert (await watches.read("secrets", NS, "s"))[1] is obj  # still served while used
        await watches.close()

    asyncio.run(go())


def test_a_refused_watch_falls_back_to_get() -> None:
    async def go() -> None:
        api = FakeApi()
        await api.create("configmaps", cm("cfg", k="v1"), NS)
        api.fail_next["list"] = errors.forbidden("configmaps is forbidden")
        source = ObjectSource(
            cast(ApiClient, api), watches=ObjectWatches(cast(ApiClient, api), retry_delay=5)
        )
        source.watches.register(pod("a", "cfg"))
        got = await source.fetch(pod("a", "cfg"))
        assert got.get("configmaps", "cfg")["data"] == {"k": "v1"}  # type: ignore[index]
        assert calls(api, "list") == 1 and calls(api, "get") == 1
        await source.watches.close()

        # a pod never registered (a sync outside the kubelet's informer) reads by GET too
        plain = ObjectSource(cast(ApiClient, api))
        assert (await plain.fetch(pod("b", "cfg"))).get("configmaps", "cfg") is not None
        assert calls(api, "get") == 2 and plain.watches.watching() == {}

    asyncio.run(go())


def test_a_read_waits_for_the_first_sync_at_most_its_deadline() -> None:
    async def go() -> None:
        api = FakeApi()
        api.latency = 30.0  # a server that does not answer
        watches = ObjectWatches(cast(ApiClient, api), sync_timeout=0.05)
        watches.register(pod("a", "cfg"))
        assert await watches.read("configmaps", NS, "cfg") == (False, None)  # the caller GETs
        await watches.close()

    asyncio.run(go())


def test_the_kubelet_watches_its_pods_objects_and_an_update_reaches_the_files(tmp_path: Path) -> None:
    async def go() -> None:
        api, rt = FakeApi(), FakeRuntime()
        await api.create("configmaps", cm("cfg", greeting="hi"), NS)
        async with running_kubelet(api, rt, tmp_path, files_in_memory=True) as k:
            k.syncer.objects.watches.sync_timeout = 60.0  # never a GET, however loaded the machine
            files = k.syncer.ctx.files
            assert isinstance(files, MemoryFiles)
            for name in ("web-0", "web-1"):
                body = pod("", "cfg")
                body["metadata"] = {"name": name, "namespace": NS}
                body["spec"]["containers"][0]["volumeMounts"] = [{"name": "v0", "mountPath": "/cfg"}]
                await api.create("pods", body)
            uids = [api.objects[("pods", NS, n)]["metadata"]["uid"] for n in ("web-0", "web-1")]

            def volume(uid: str) -> object:
                return files.pods.get(uid, {}).get("volumes/v0")

            await until(lambda: all(volume(u) == {"greeting": (b"hi", 0o644)} for u in uids), 10, "files")
            assert k.syncer.objects.watches.watching() == {("configmaps", NS, "cfg"): set(uids)}
            await api.patch("configmaps", "cfg", {"data": {"greeting": "hello"}}, namespace=NS)
            # the watch wakes both pods: well before their periodic sync (10 s)
            await until(lambda: all(volume(u) == {"greeting": (b"hello", 0o644)} for u in uids), 5, "update")
            assert calls(api, "get") == 0 and calls(api, "list") == 1
            await api.delete("pods", "web-0", NS)
            await until(lambda: k.syncer.objects.watches.watching() == {("configmaps", NS, "cfg"): {uids[1]}})
            await api.delete("pods", "web-1", NS)
            await until(lambda: k.syncer.objects.watches.watching() == {}, 10, "the watch ended")

    asyncio.run(go())
