"""PriorityClass (apiserver/kinds/scheduling.py) through the server's own create and update steps,
and the Priority admission plugin (apiserver/priorityadmission.py): kube's 422 and 403 words, the
global default, the system classes, a pod's priority set once, and the Table kubectl prints."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from api import jsonutil, tables
from api.errors import ApiError
from apiserver.handlers import protobuf
from apiserver.kinds.scheduling import system_classes
from apiserver.priorityadmission import PriorityClassCache, admit_pod, check_single_default, keep_priority
from tests.apiserver_unit import strategy

Obj = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)
PREFIX = PriorityClassCache.PREFIX


def _res() -> Any:
    return strategy.resource("scheduling.k8s.io", "priorityclasses")


def create(obj: Obj) -> tuple[Obj, dict[str, str]]:
    stored, causes = strategy.create("scheduling.k8s.io", "priorityclasses", obj)
    return stored, strategy.by_field(causes)


def update(new: Obj, old: Obj) -> dict[str, str]:
    return strategy.by_field(strategy.update("scheduling.k8s.io", "priorityclasses", new, old)[1])


def pc(name: str, value: int | None = 1000, **fields: Any) -> Obj:
    body: Obj = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name}}
    if value is not None:
        body["value"] = value
    return {**body, **fields}


def test_served_cluster_scoped_with_short_name() -> None:
    res = _res()
    assert (res.kind, res.namespaced, res.version, res.short_names) == ("PriorityClass", False, "v1", ("pc",))


def test_defaults_and_generation() -> None:
    obj, causes = create(pc("high", None))
    assert causes == {}
    assert obj["value"] == 0 and obj["preemptionPolicy"] == "PreemptLowerPriority"
    assert obj["metadata"]["generation"] == 1
    obj, _ = create(pc("never", 5, preemptionPolicy="Never"))
    assert obj["preemptionPolicy"] == "Never"


def test_validation_in_kube_words() -> None:
    assert create(pc("huge", 1_000_000_001))[1] == {
        "value": "Forbidden: maximum allowed value of a user defined priority is 1000000000"
    }
    assert create(pc("top", 1_000_000_000))[1] == {}
    assert create(pc("system-mine", 5))[1] == {
        "metadata.name": "Forbidden: priority class names with 'system-' prefix are reserved for system use "
        "only. error: system-mine is not a known system priority class"
    }
    assert create(pc("system-node-critical", 7))[1] == {
        "metadata.name": "Forbidden: priority class names with 'system-' prefix are reserved for system use "
        "only. error: value of system-node-critical PriorityClass must be 2000001000"
    }
    assert create(pc("system-cluster-critical", 2_000_000_000, globalDefault=True))[1] == {
        "metadata.name": "Forbidden: priority class names with 'system-' prefix are reserved for system use "
        "only. error: globalDefault of system-cluster-critical PriorityClass must be false"
    }
    assert create(pc("odd", 1, preemptionPolicy="Sometimes"))[1] == {
        "preemptionPolicy": 'Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"'
    }
    assert create(pc("blank", 1, preemptionPolicy=""))[1] == {"preemptionPolicy": "Required value"}


def test_system_classes_are_valid() -> None:
    made = {c["metadata"]["name"]: c for c in system_classes()}
    assert made["system-node-critical"]["value"] == 2000001000
    assert made["system-cluster-critical"]["value"] == 2000000000
    assert made["system-node-critical"]["description"] == (
        "Used for system critical pods that must not be moved from their current node."
    )
    for obj in made.values():
        assert create(obj)[1] == {}


def test_value_and_policy_are_immutable_description_is_not() -> None:
    old, _ = create(pc("high", 1000))
    assert update({**old, "value": 2000}, old) == {"value": "Forbidden: may not be changed in an update."}
    assert update({**old, "preemptionPolicy": "Never"}, old) == {
        "preemptionPolicy": 'Invalid value: "Never": field is immutable'
    }
    assert update({**old, "description": "now described", "globalDefault": True}, old) == {}


def test_only_one_global_default() -> None:
    stored = [create(pc("base", 10, globalDefault=True))[0], create(pc("other", 20))[0]]
    with pytest.raises(ApiError) as e:
        check_single_default(stored, pc("second", 5, globalDefault=True), creating=True)
    assert (e.value.code, e.value.reason) == (403, "Forbidden")
    assert e.value.message == (
        'priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass base is already marked as '
        "default. Only one default can exist"
    )
    with pytest.raises(ApiError):  # marking another class default on update
        check_single_default(stored, pc("other", 20, globalDefault=True), creating=False)
    check_single_default(stored, pc("base", 10, globalDefault=True, description="x"), creating=False)
    check_single_default(stored, pc("plain", 5), creating=True)


class _Store:
    """The store reads the cache may make, counted."""

    def __init__(self, classes: list[Obj]) -> None:
        self.objects = {PREFIX + c["metadata"]["name"]: jsonutil.dumps(c) for c in classes}
        self.reads = 0

    async def get(self, key: str) -> Any:
        self.reads += 1
        value = self.objects.get(key)
        return None if value is None else type("KV", (), {"key": key, "value": value})()

    async def list(self, prefix: str) -> tuple[int, list[Any]]:
        self.reads += 1
        return 1, [type("KV", (), {"key": k, "value": v})() for k, v in self.objects.items()]


def _pod(name: str = "p", **spec: Any) -> Obj:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "x"}], **spec}}


def _synced(classes: list[Obj]) -> tuple[PriorityClassCache, _Store]:
    store = _Store(classes)
    cache = PriorityClassCache(store)  # type: ignore[arg-type]
    for key, value in store.objects.items():
        cache.note(key, value)
    cache.mirror.synced.set()
    store.reads = 0
    return cache, store


def _admit(cache: PriorityClassCache, pod: Obj) -> Obj:
    asyncio.run(admit_pod(cache, pod))
    return pod


def test_named_class_gives_priority_and_policy_without_a_store_read() -> None:
    cache, store = _synced([create(pc("high", 1000, preemptionPolicy="Never"))[0]])
    pod = _admit(cache, _pod(priorityClassName="high"))
    assert (pod["spec"]["priority"], pod["spec"]["preemptionPolicy"]) == (1000, "Never")
    pod = _admit(cache, _pod(priorityClassName="high", priority=1000))  # saying the same is fine
    assert pod["spec"]["priority"] == 1000
    assert store.reads == 0


def test_no_class_and_no_default_is_priority_zero() -> None:
    cache, store = _synced([create(pc("high", 1000))[0]])
    pod = _admit(cache, _pod())
    assert pod["spec"]["priority"] == 0
    assert pod["spec"]["preemptionPolicy"] == "PreemptLowerPriority"
    assert "priorityClassName" not in pod["spec"]
    assert store.reads == 0


def test_global_default_applies_to_a_pod_without_a_class() -> None:
    cache, _ = _synced([create(pc("base", 100, globalDefault=True))[0], create(pc("high", 1000))[0]])
    pod = _admit(cache, _pod())
    assert pod["spec"]["priorityClassName"] == "base"
    assert pod["spec"]["priority"] == 100
    # before the mirror has listed, the default comes from the store
    store = _Store([create(pc("base", 100, globalDefault=True))[0]])
    pod = _admit(PriorityClassCache(store), _pod())  # type: ignore[arg-type]
    assert (pod["spec"]["priorityClassName"], pod["spec"]["priority"], store.reads) == ("base", 100, 1)


def test_unknown_class_is_refused_after_a_store_read() -> None:
    cache, store = _synced([])
    with pytest.raises(ApiError) as e:
        _admit(cache, _pod("web", priorityClassName="gold"))
    assert (e.value.code, e.value.reason) == (403, "Forbidden")
    assert e.value.message == 'pods "web" is forbidden: no PriorityClass with name gold was found'
    assert store.reads == 1
    # another server's class, not yet seen by the watch, is found by that read
    store.objects[PREFIX + "gold"] = jsonutil.dumps(create(pc("gold", 7))[0])
    assert _admit(cache, _pod("web", priorityClassName="gold"))["spec"]["priority"] == 7


def test_a_contradicting_priority_or_policy_is_refused() -> None:
    cache, _ = _synced([create(pc("high", 1000))[0]])
    with pytest.raises(ApiError) as e:
        _admit(cache, _pod("web", priorityClassName="high", priority=5))
    assert e.value.code == 403
    assert e.value.message == (
        'pods "web" is forbidden: the integer value of priority (5) must not be provided in pod spec; '
        "priority admission controller computed 1000 from the given PriorityClass name"
    )
    with pytest.raises(ApiError) as e:
        _admit(cache, _pod("web", priority=3))
    assert "computed 0 from the given PriorityClass name" in e.value.message
    with pytest.raises(ApiError) as e:
        _admit(cache, _pod("web", priorityClassName="high", preemptionPolicy="Never"))
    assert e.value.message == (
        'pods "web" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod '
        "spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name"
    )
    gen = {"metadata": {"generateName": "web-"}, "spec": {"priorityClassName": "nope"}}
    with pytest.raises(ApiError) as e:
        _admit(cache, gen)
    assert e.value.message == 'pods "web-" is forbidden: no PriorityClass with name nope was found'


def test_cache_follows_writes_and_removals() -> None:
    cache, _ = _synced([])
    cache.note(PREFIX + "high", jsonutil.dumps(create(pc("high", 1000))[0]))
    assert asyncio.run(cache.lookup("high")) == (1000, False, "PreemptLowerPriority")
    cache.note(PREFIX + "high", None)
    assert "high" not in cache.items


def test_an_update_keeps_the_priority_given_at_create() -> None:
    old = _pod(priority=1000, preemptionPolicy="Never", priorityClassName="high")
    new = _pod(priorityClassName="high")
    keep_priority(new, old)
    assert (new["spec"]["priority"], new["spec"]["preemptionPolicy"]) == (1000, "Never")


def test_table_as_kubectl_prints_it() -> None:
    obj, _ = create(pc("high", 1000, globalDefault=True))
    t = tables.to_table(_res(), [obj], "1", now=NOW)
    assert [c["name"] for c in t["columnDefinitions"]] == [
        "Name",
        "Value",
        "Global-Default",
        "Age",
        "PreemptionPolicy",
    ]
    assert t["rows"][0]["cells"] == ["high", 1000, True, "10m", "PreemptLowerPriority"]


def test_protobuf_body_of_kubectl_create_priorityclass() -> None:
    meta = b"\x0a\x04high"
    raw = (
        bytes([0x0A, len(meta)])
        + meta
        + b"\x10\xe8\x07"  # value 1000
        + b"\x18\x01"  # globalDefault
        + b"\x22\x02hi"
        + b"\x2a\x05Never"
    )
    tm = b"\x0a\x14scheduling.k8s.io/v1\x12\x0dPriorityClass"
    env = bytes([0x0A, len(tm)]) + tm + bytes([0x12, len(raw)]) + raw
    assert protobuf.decode(protobuf.MAGIC + env) == {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "high"},
        "value": 1000,
        "globalDefault": True,
        "description": "hi",
        "preemptionPolicy": "Never",
    }
