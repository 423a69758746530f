"""PodDisruptionBudget (apiserver/kinds/policy.py) through the server's own create, update and status
steps (kube's 422 words, generation, the zero status), its Table and protobuf body, and the
eviction subresource's decisions (apiserver/eviction.py) against a small in-memory registry."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from typing import Any

import pytest

from api import tables
from api.errors import ApiError
from api.resources import by_plural
from apiserver import eviction, lifecycle, logic
from apiserver.handlers import protobuf
from tests.apiserver_unit import strategy

Obj = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)


def _res() -> Any:
    return strategy.resource("policy", "poddisruptionbudgets")


def create(obj: Obj) -> tuple[Obj, dict[str, str]]:
    stored, causes = strategy.create("policy", "poddisruptionbudgets", obj)
    return stored, strategy.by_field(causes)


def pdb(name: str = "web", **spec: Any) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
    }


def test_served_namespaced_with_short_name_and_status() -> None:
    res = _res()
    assert (res.kind, res.namespaced, res.api_version, res.short_names) == (
        "PodDisruptionBudget",
        True,
        "policy/v1",
        ("pdb",),
    )
    assert [s.name for s in res.subresources] == ["status"]
    pods = by_plural("", "pods")
    assert pods is not None
    sub = next(s for s in pods.subresources if s.name == "eviction")
    assert (sub.kind, sub.group, sub.version, sub.verbs) == ("Eviction", "policy", "v1", ("create",))


def test_create_starts_the_zero_status_and_generation_one() -> None:
    obj, causes = create({**pdb(minAvailable=1), "status": {"disruptionsAllowed": 5}})
    assert causes == {}
    assert obj["metadata"]["generation"] == 1
    assert obj["status"] == {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    }


def test_spec_change_bumps_generation_and_keeps_status() -> None:
    old, _ = create(pdb(minAvailable=1))
    old["status"]["disruptionsAllowed"] = 2
    new = copy.deepcopy(old)
    new["spec"]["minAvailable"] = 2
    new["status"] = {}
    new = lifecycle.prepare_for_update(_res(), new, old, None)
    assert new["metadata"]["generation"] == 2
    assert new["status"]["disruptionsAllowed"] == 2


def test_validation_in_kube_words() -> None:
    _, causes = create(pdb(minAvailable=1, maxUnavailable=1))
    assert causes["spec"].endswith(": minAvailable and maxUnavailable cannot be both set")
    assert causes["spec"].startswith("Invalid value: policy.PodDisruptionBudgetSpec{")
    _, causes = create(pdb(minAvailable="101%"))
    assert causes == {
        "spec.minAvailable": 'Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"101%"}: '
        "must not be greater than 100%"
    }
    _, causes = create(pdb(maxUnavailable=-1))
    assert causes == {"spec.maxUnavailable": "Invalid value: -1: must be greater than or equal to 0"}
    _, causes = create(pdb(maxUnavailable="half"))
    assert (
        "a valid percent string must be a numeric string followed by an ending '%'"
        in (causes["spec.maxUnavailable"])
    )
    _, causes = create(pdb(minAvailable="100%", unhealthyPodEvictionPolicy="Never"))
    assert causes == {
        "spec.unhealthyPodEvictionPolicy": 'Unsupported value: "Never": supported values: '
        '"AlwaysAllow", "IfHealthyBudget"'
    }
    bad = pdb(minAvailable=0)
    bad["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Near"}]}
    _, causes = create(bad)
    assert causes == {
        "spec.selector.matchExpressions[0].operator": 'Invalid value: "Near": not a valid selector operator'
    }
    for fine in (pdb(minAvailable="0%"), pdb(maxUnavailable="100%"), pdb(minAvailable=0), pdb()):
        assert create(fine)[1] == {}


def test_status_counts_may_not_go_negative() -> None:
    old, _ = create(pdb(minAvailable=1))
    new = copy.deepcopy(old)
    new["status"]["disruptionsAllowed"] = -1
    causes = logic.validate_status_update(_res(), new, old)
    assert {c["field"]: c["message"] for c in causes} == {
        "status.disruptionsAllowed": "Invalid value: -1: must be greater than or equal to 0"
    }


def test_table_as_kubectl_prints_it() -> None:
    a, _ = create(pdb("a", minAvailable=2))
    b, _ = create(pdb("b", maxUnavailable="25%"))
    b["status"]["disruptionsAllowed"] = 1
    t = tables.to_table(_res(), [a, b], "1", now=NOW)
    assert [c["name"] for c in t["columnDefinitions"]] == [
        "Name",
        "Min Available",
        "Max Unavailable",
        "Allowed Disruptions",
        "Age",
    ]
    assert [r["cells"] for r in t["rows"]] == [["a", "2", "N/A", 0, "10m"], ["b", "N/A", "25%", 1, "10m"]]


def _intstr(value: int | str) -> bytes:
    if isinstance(value, str):
        s = value.encode()
        return b"\x08\x01" + bytes([0x1A, len(s)]) + s
    return b"\x10" + bytes([value]) if value else b""  # type 0 (Int) and intVal 0 are not written


def test_protobuf_body_of_kubectl_create_poddisruptionbudget() -> None:
    meta = b"\x0a\x03web"
    label = b"\x0a\x03app\x12\x03web"
    selector = bytes([0x0A, len(label)]) + label
    for value, expect in ((0, 0), (2, 2), ("50%", "50%")):
        m = _intstr(value)
        spec = bytes([0x0A, len(m)]) + m + bytes([0x12, len(selector)]) + selector
        raw = bytes([0x0A, len(meta)]) + meta + bytes([0x12, len(spec)]) + spec
        tm = b"\x0a\x09policy/v1\x12\x13PodDisruptionBudget"
        env = bytes([0x0A, len(tm)]) + tm + bytes([0x12, len(raw)]) + raw
        assert protobuf.decode(protobuf.MAGIC + env) == {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web"},
            "spec": {"minAvailable": expect, "selector": {"matchLabels": {"app": "web"}}},
        }


def test_protobuf_eviction_keeps_a_zero_grace_period() -> None:
    meta = b"\x0a\x03web\x1a\x07default"
    opts = b"\x08\x00"
    raw = bytes([0x0A, len(meta)]) + meta + bytes([0x12, len(opts)]) + opts
    tm = b"\x0a\x09policy/v1\x12\x08Eviction"
    env = bytes([0x0A, len(tm)]) + tm + bytes([0x12, len(raw)]) + raw
    assert protobuf.decode(protobuf.MAGIC + env) == {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "web", "namespace": "default"},
        "deleteOptions": {"gracePeriodSeconds": 0},
    }


# --- eviction ---------------------------------------------------------------------------------


def pod(name: str = "web-1", phase: str = "Running", ready: bool = True, **labels: str) -> Obj:
    return {
        "metadata": {"name": name, "namespace": "default", "labels": labels or {"app": "web"}, "uid": "u1"},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def budget(name: str = "web", allowed: int = 1, generation: int = 1, observed: int = 1, **spec: Any) -> Obj:
    obj, _ = create(pdb(name, **spec))
    obj["metadata"]["generation"] = generation
    obj["status"].update(
        observedGeneration=observed,
        disruptionsAllowed=allowed,
        currentHealthy=3,
        desiredHealthy=2,
        expectedPods=3,
    )
    return obj


def test_which_pods_ignore_budgets() -> None:
    assert not eviction.can_ignore_budget(pod())
    for phase in ("Pending", "Succeeded", "Failed"):
        assert eviction.can_ignore_budget(pod(phase=phase))
    deleting = pod()
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert eviction.can_ignore_budget(deleting)


def test_matching_budgets_by_selector_in_the_pods_namespace() -> None:
    other_ns = budget("other")
    other_ns["metadata"]["namespace"] = "elsewhere"
    empty = budget("empty")
    empty["spec"]["selector"] = {}
    nosel = budget("nosel")
    del nosel["spec"]["selector"]
    db = budget("db")
    db["spec"]["selector"] = {"matchLabels": {"app": "db"}}
    names = [
        p["metadata"]["name"]
        for p in eviction.matching_budgets([budget(), other_ns, empty, nosel, db], pod())
    ]
    assert names == ["web"]


def test_decrement_spends_one_and_notes_the_pod() -> None:
    out = eviction.decrement(budget(allowed=2), "web-1", "2026-01-01T00:00:00Z")
    assert out["status"]["disruptionsAllowed"] == 1
    assert out["status"]["disruptedPods"] == {"web-1": "2026-01-01T00:00:00Z"}
    assert "conditions" not in out["status"]
    last = eviction.decrement(out, "web-2", "2026-01-01T00:00:01Z")
    assert last["status"]["disruptionsAllowed"] == 0
    assert set(last["status"]["disruptedPods"]) == {"web-1", "web-2"}
    cond = last["status"]["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == (
        "DisruptionAllowed",
        "False",
        "InsufficientPods",
    )


def test_decrement_refusals_in_kube_words() -> None:
    spent = budget(allowed=0)
    assert (
        eviction.denied_message(spent) == "The disruption budget web does not allow evicting pods currently"
    )
    spent["status"]["currentHealthy"] = 2
    with pytest.raises(ApiError) as e:
        eviction.decrement(spent, "web-1", "t")
    assert (e.value.code, e.value.reason, e.value.message) == (
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
    )
    assert e.value.status["details"] == {
        "causes": [
            {
                "reason": "DisruptionBudget",
                "message": "The disruption budget web needs 2 healthy pods and has 2 currently",
            }
        ]
    }
    with pytest.raises(ApiError) as e:
        eviction.decrement(budget(allowed=1, generation=2, observed=1), "web-1", "t")
    assert e.value.code == 429
    assert e.value.status["details"] == {
        "causes": [
            {
                "reason": "DisruptionBudget",
                "message": "The disruption budget web is still being processed by the server.",
            }
        ],
        "retryAfterSeconds": 10,
    }
    with pytest.raises(ApiError) as e:
        eviction.decrement(budget(allowed=-1), "web-1", "t")
    assert e.value.code == 403
    assert e.value.message.endswith("pdb disruptions allowed is negative")


def test_unready_pods_and_the_unhealthy_policy() -> None:
    assert not eviction.unready_evictable(pod(), budget())
    assert eviction.unready_evictable(pod(ready=False), budget())  # 3 healthy, 2 desired: met
    short = budget()
    short["status"]["currentHealthy"] = 1
    assert not eviction.unready_evictable(pod(ready=False), short)
    short["spec"]["unhealthyPodEvictionPolicy"] = "AlwaysAllow"
    assert eviction.unready_evictable(pod(ready=False), short)


class _KV:
    def __init__(self, obj: Obj) -> None:
        self.obj = obj


class _Registry:
    """Just what `evict` calls: get, list, a status update (mutate once) and delete."""

    def __init__(self, pods: list[Obj], pdbs: list[Obj]) -> None:
        self.pods = {p["metadata"]["name"]: p for p in pods}
        self.pdbs = {p["metadata"]["name"]: p for p in pdbs}
        self.deleted: list[tuple[str, Obj]] = []

    async def get(self, res: Any, ns: str, name: str) -> _KV:
        if name not in self.pods:
            raise ApiError(404, "NotFound", f'pods "{name}" not found')
        return _KV(self.pods[name])

    async def list(self, res: Any, ns: str) -> tuple[int, list[_KV]]:
        return 1, [_KV(p) for p in self.pdbs.values()]

    async def update(self, res: Any, ns: str, name: str, mutate: Any, **kw: Any) -> tuple[_KV, bool]:
        table = self.pdbs if res.plural == "poddisruptionbudgets" else self.pods
        new, _ = mutate(copy.deepcopy(table[name]), None)
        if not kw.get("dry_run"):
            table[name] = new
        return _KV(new), False

    async def delete(self, res: Any, ns: str, name: str, options: Obj, dry_run: bool = False) -> None:
        if not dry_run:
            self.deleted.append((name, options))


def _evict(reg: _Registry, name: str = "web-1", **body: Any) -> None:
    asyncio.run(
        eviction.evict(
            reg,
            "default",
            name,
            {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}, **body},
        )
    )


def test_evict_spends_the_budget_then_deletes_with_the_options() -> None:
    reg = _Registry([pod()], [budget(allowed=1)])
    _evict(reg, deleteOptions={"gracePeriodSeconds": 5})
    assert reg.pdbs["web"]["status"]["disruptionsAllowed"] == 0
    assert list(reg.pdbs["web"]["status"]["disruptedPods"]) == ["web-1"]
    assert reg.deleted == [("web-1", {"gracePeriodSeconds": 5})]
    target = [c for c in reg.pods["web-1"]["status"]["conditions"] if c["type"] == "DisruptionTarget"]
    assert target[0]["reason"] == "EvictionByEvictionAPI"
    with pytest.raises(ApiError) as e:  # none left
        _evict(_Registry([pod()], [reg.pdbs["web"]]))
    assert e.value.code == 429


def test_evict_without_a_budget_or_of_an_ended_pod_just_deletes() -> None:
    reg = _Registry([pod(), pod("done", phase="Succeeded")], [budget(allowed=0)])
    _evict(reg, "done")
    assert [n for n, _ in reg.deleted] == ["done"]
    reg = _Registry([pod(app="other")], [budget(allowed=0)])
    _evict(reg)
    assert [n for n, _ in reg.deleted] == ["web-1"]


def test_evict_refusals() -> None:
    with pytest.raises(ApiError) as e:
        _evict(_Registry([pod()], [budget("a"), budget("b")]))
    assert (e.value.code, e.value.message) == (
        500,
        "Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction "
        "subresource does not support.",
    )
    with pytest.raises(ApiError) as e:
        _evict(_Registry([], []))
    assert e.value.code == 404
    with pytest.raises(ApiError) as e:
        asyncio.run(eviction.evict(_Registry([pod()], []), "default", "web-1", {"metadata": {"name": "x"}}))
    assert (e.value.code, e.value.message) == (400, "name in URL does not match name in Eviction object")


def test_dry_run_spends_and_deletes_nothing() -> None:
    reg = _Registry([pod()], [budget(allowed=1)])
    _evict(reg, deleteOptions={"dryRun": ["All"]})
    assert reg.pdbs["web"]["status"]["disruptionsAllowed"] == 1
    assert reg.deleted == []
