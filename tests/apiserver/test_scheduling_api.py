"""PriorityClass served as kube-apiserver serves it, and Priority admission of pods, through a real
server (its own: a global default class changes every pod created after it): the system classes
made at start, create/get/list and kube's Table through the real kubectl, a pod's priority from
its class or the global default, and kube's 403 for a class that does not exist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.apiserver.conftest import Server, start_server, table_rows

SCHED = "/apis/scheduling.k8s.io/v1/priorityclasses"


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(Path(tmp_path_factory.mktemp("priority")))
    yield srv
    srv.stop()


@pytest.fixture
def api(own: Server) -> Iterator[httpx.Client]:
    with own.client() as c:
        yield c


def _class(name: str, value: int, **fields: object) -> dict[str, object]:
    return {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": name},
        "value": value,
        **fields,
    }


def _pod(name: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec},
    }


def test_system_classes_exist_at_start(api: httpx.Client) -> None:
    r = api.get(f"{SCHED}/system-node-critical")
    assert r.status_code == 200, r.text
    assert (r.json()["value"], r.json()["preemptionPolicy"]) == (2000001000, "PreemptLowerPriority")
    assert (
        r.json()["description"]
        == "Used for system critical pods that must not be moved from their current node."
    )
    assert api.get(f"{SCHED}/system-cluster-critical").json()["value"] == 2000000000


def test_create_get_list_and_kubectl(own: Server, api: httpx.Client) -> None:
    r = api.post(SCHED, json=_class("high", 1000, description="for the important ones"))
    assert r.status_code == 201, r.text
    assert r.json()["preemptionPolicy"] == "PreemptLowerPriority"
    assert api.get(f"{SCHED}/high").json()["value"] == 1000
    names = {i["metadata"]["name"] for i in api.get(SCHED).json()["items"]}
    assert {"high", "system-node-critical", "system-cluster-critical"} <= names
    r = api.post(SCHED, json=_class("huge", 1_000_000_001))
    assert r.status_code == 422
    assert r.json()["message"] == (
        'PriorityClass.scheduling.k8s.io "huge" is invalid: value: Forbidden: maximum allowed value of a '
        "user defined priority is 1000000000"
    )
    rows = table_rows(own.kubectl("get", "pc", check=True).stdout)
    assert rows[0] == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    high = next(row for row in rows if row[0] == "high")
    assert high[1:3] == ["1000", "false"] and high[4] == "PreemptLowerPriority"


def test_pods_get_their_priority(api: httpx.Client) -> None:
    api.post(SCHED, json=_class("batch-low", 10, preemptionPolicy="Never"))
    r = api.post("/api/v1/namespaces/default/pods", json=_pod("classed", priorityClassName="batch-low"))
    assert r.status_code == 201, r.text
    assert (r.json()["spec"]["priority"], r.json()["spec"]["preemptionPolicy"]) == (10, "Never")
    r = api.post(
        "/api/v1/namespaces/default/pods", json=_pod("critical", priorityClassName="system-node-critical")
    )
    assert r.json()["spec"]["priority"] == 2000001000
    r = api.post("/api/v1/namespaces/default/pods", json=_pod("plain"))
    assert (r.json()["spec"]["priority"], r.json()["spec"]["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    # an update that leaves the priority out keeps it
    cur = api.get("/api/v1/namespaces/default/pods/classed").json()
    del cur["spec"]["priority"], cur["spec"]["preemptionPolicy"]
    cur["metadata"]["labels"] = {"touched": "yes"}
    r = api.put("/api/v1/namespaces/default/pods/classed", json=cur)
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["priority"] == 10


def test_unknown_class_and_contradicting_priority_are_forbidden(api: httpx.Client) -> None:
    r = api.post("/api/v1/namespaces/default/pods", json=_pod("lost", priorityClassName="gold"))
    assert r.status_code == 403
    body = r.json()
    assert (body["kind"], body["reason"]) == ("Status", "Forbidden")
    assert body["message"] == 'pods "lost" is forbidden: no PriorityClass with name gold was found'
    assert api.get("/api/v1/namespaces/default/pods/lost").status_code == 404
    r = api.post("/api/v1/namespaces/default/pods", json=_pod("liar", priority=99))
    assert r.status_code == 403
    assert r.json()["message"] == (
        'pods "liar" is forbidden: the integer value of priority (99) must not be provided in pod spec; '
        "priority admission controller computed 0 from the given PriorityClass name"
    )


def test_global_default_applies_and_only_one_may_exist(api: httpx.Client) -> None:
    r = api.post(SCHED, json=_class("house", 50, globalDefault=True))
    assert r.status_code == 201, r.text
    try:
        r = api.post("/api/v1/namespaces/default/pods", json=_pod("defaulted"))
        assert r.status_code == 201, r.text
        assert (r.json()["spec"]["priorityClassName"], r.json()["spec"]["priority"]) == ("house", 50)
        r = api.post(SCHED, json=_class("second", 60, globalDefault=True))
        assert r.status_code == 403
        assert r.json()["message"] == (
            'priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass house is already marked '
            "as default. Only one default can exist"
        )
        assert api.get(f"{SCHED}/second").status_code == 404
    finally:
        api.delete(f"{SCHED}/house")
    r = api.post("/api/v1/namespaces/default/pods", json=_pod("after"))
    assert r.json()["spec"]["priority"] == 0 and "priorityClassName" not in r.json()["spec"]
