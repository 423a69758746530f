"""events.k8s.io/v1 Event served over the core Events' storage, as kube-apiserver serves both groups
from one: what is written through either group reads back through both, with kube's field
renames (api.eventsv1), in gets, lists, pages, watches and tables; patches apply to the shape of
the group they are sent to; events.k8s.io creates and updates are held to kube's stricter rules;
field selectors take events.k8s.io's labels; the real kubectl and the official Python client."""

from __future__ import annotations

import datetime
import json
from typing import Any

import httpx
import pytest
from kubernetes import client

from api import eventsv1
from apiserver.validation import events
from tests.apiserver.conftest import Server, table_rows, watch_events

NOW = "2025-01-02T03:04:05.123456Z"


def v1_event(name: str, ns: str, **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "eventTime": NOW,
        "reportingController": "example.com/scheduler",
        "reportingInstance": "scheduler-1",
        "action": "Binding",
        "reason": "Scheduled",
        "type": "Normal",
        "note": f"{name} happened",
        "regarding": {"kind": "Pod", "namespace": ns, "name": "web-0", "apiVersion": "v1"},
        **fields,
    }


def core_event(name: str, ns: str, **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {"kind": "Pod", "namespace": ns, "name": "db-0"},
        "reason": "Pulled",
        "message": "pulled the image",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2025-01-02T03:04:05Z",
        "lastTimestamp": "2025-01-02T03:04:06Z",
        "count": 3,
        "type": "Normal",
        **fields,
    }


def _v1(ns: str) -> str:
    return f"/apis/events.k8s.io/v1/namespaces/{ns}/events"


def _core(ns: str) -> str:
    return f"/api/v1/namespaces/{ns}/events"


def _causes(r: httpx.Response) -> list[tuple[str, str]]:
    assert r.status_code == 422, r.text
    return [(c["field"], c["message"]) for c in r.json()["details"]["causes"]]


# --- pure conversion ------------------------------------------------------------------------------


def test_conversion_renames_kube_fields_both_ways() -> None:
    core = core_event("e", "ns", related={"kind": "Node", "name": "n"}, series={"count": 2})
    v1 = eventsv1.from_core(core)
    assert v1["apiVersion"] == "events.k8s.io/v1"
    assert v1["regarding"] == core["involvedObject"] and v1["note"] == core["message"]
    assert v1["deprecatedSource"] == core["source"] and v1["deprecatedCount"] == 3
    assert v1["deprecatedFirstTimestamp"] == core["firstTimestamp"]
    assert v1["deprecatedLastTimestamp"] == core["lastTimestamp"]
    assert v1["related"] == core["related"] and v1["series"] == core["series"]
    assert not {"involvedObject", "message", "source", "count", "firstTimestamp"} & set(v1)
    assert eventsv1.to_core(v1) == core and list(eventsv1.to_core(v1)) == list(core)  # order kept
    new = v1_event("n", "ns")
    assert eventsv1.to_core(new)["reportingComponent"] == "example.com/scheduler"
    assert eventsv1.from_core(eventsv1.to_core(new)) == new
    assert core["apiVersion"] == "v1" and "note" not in core  # arguments are left alone


def test_update_rules_let_only_the_series_change() -> None:
    old = eventsv1.to_core(v1_event("e", "ns"))
    assert events.strict_update({**old, "series": {"count": 2, "lastObservedTime": NOW}}, old) == []
    assert events.strict_update({**old, "related": {}}, old) == []  # Go's zero values are one value
    bad = {**old, "series": {"count": 1}, "reportingComponent": "other", "type": "Warning"}
    assert [c["field"] for c in events.strict_update(bad, old)] == [
        "series.count",
        "series.lastObservedTime",
        "type",
        "reportingController",
    ]


# --- the API --------------------------------------------------------------------------------------


def test_written_in_either_group_reads_in_both(http: httpx.Client, ns: str) -> None:
    r = http.post(_v1(ns), json=v1_event("new", ns))
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["apiVersion"] == "events.k8s.io/v1" and made["note"] == "new happened"
    as_core = http.get(f"{_core(ns)}/new").json()
    assert as_core["apiVersion"] == "v1"
    assert as_core["involvedObject"]["name"] == "web-0" and as_core["message"] == "new happened"
    assert as_core["reportingComponent"] == "example.com/scheduler" and as_core["action"] == "Binding"
    assert as_core["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]

    http.post(_core(ns), json=core_event("old", ns)).raise_for_status()
    as_v1 = http.get(f"{_v1(ns)}/old").json()
    assert as_v1["regarding"]["name"] == "db-0" and as_v1["note"] == "pulled the image"
    assert as_v1["deprecatedSource"] == {"component": "kubelet", "host": "node-1"}
    assert as_v1["deprecatedCount"] == 3 and as_v1["deprecatedLastTimestamp"] == "2025-01-02T03:04:06Z"
    assert "message" not in as_v1 and "involvedObject" not in as_v1

    listed = http.get(_v1(ns)).json()
    assert listed["kind"] == "EventList" and listed["apiVersion"] == "events.k8s.io/v1"
    assert {i["metadata"]["name"]: "note" in i for i in listed["items"]} == {"new": True, "old": True}
    everywhere = http.get("/apis/events.k8s.io/v1/events").json()["items"]
    assert {"new", "old"} <= {i["metadata"]["name"] for i in everywhere}
    assert all("involvedObject" not in i for i in everywhere)

    gone = http.delete(f"{_v1(ns)}/old")
    assert gone.status_code == 200 and gone.json()["details"]["kind"] == "events"  # kube's Success Status
    assert http.get(f"{_core(ns)}/old").status_code == 404


def test_pages_are_converted(http: httpx.Client, ns: str) -> None:
    for i in range(5):
        http.post(_core(ns), json=core_event(f"e{i}", ns)).raise_for_status()
    names: list[str] = []
    url = f"{_v1(ns)}?limit=2"
    while True:
        page = http.get(url).json()
        assert all(i["apiVersion"] == "events.k8s.io/v1" and "regarding" in i for i in page["items"])
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
        url = f"{_v1(ns)}?limit=2&continue={token}"
    assert names == [f"e{i}" for i in range(5)]
    selected = http.get(f"{_v1(ns)}?limit=1&fieldSelector=regarding.name=db-0").json()
    assert selected["items"][0]["regarding"]["name"] == "db-0"


def test_watch_sends_writes_of_either_group_converted(http: httpx.Client, ns: str) -> None:
    start = http.get(_v1(ns)).json()["metadata"]["resourceVersion"]
    http.post(_core(ns), json=core_event("c", ns)).raise_for_status()
    http.post(_v1(ns), json=v1_event("n", ns)).raise_for_status()
    http.delete(f"{_core(ns)}/c").raise_for_status()
    evs = watch_events(http, f"{_v1(ns)}?watch=true&resourceVersion={start}", 3)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in evs] == [
        ("ADDED", "c"),
        ("ADDED", "n"),
        ("DELETED", "c"),
    ]
    assert all(e["object"]["apiVersion"] == "events.k8s.io/v1" for e in evs)
    assert evs[0]["object"]["note"] == "pulled the image" and "message" not in evs[0]["object"]
    # the core watch sees the events.k8s.io write in the core shape
    core = watch_events(http, f"{_core(ns)}?watch=true&resourceVersion={start}", 2)
    assert core[1]["object"]["message"] == "n happened" and "note" not in core[1]["object"]
    # a field selector on events.k8s.io labels, from the start (ADDED for what exists)
    only = watch_events(http, f"{_v1(ns)}?watch=true&fieldSelector=regarding.name=web-0", 1)
    assert only[0]["object"]["metadata"]["name"] == "n" and only[0]["object"]["regarding"]["name"] == "web-0"
    header = "application/json;as=Table;v=v1;g=meta.k8s.io"
    with http.stream("GET", f"{_v1(ns)}?watch=true&resourceVersion={start}", headers={"Accept": header}) as r:
        line = json.loads(next(li for li in r.iter_lines() if li))
    cells = line["object"]["rows"][0]["cells"]
    assert cells[1:4] == ["Normal", "Pulled", "pod/db-0"] and cells[6] == "pulled the image"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/merge-patch+json", {"series": {"count": 2, "lastObservedTime": NOW}}),
        ("application/strategic-merge-patch+json", {"series": {"count": 2, "lastObservedTime": NOW}}),
        (
            "application/json-patch+json",
            [{"op": "add", "path": "/series", "value": {"count": 2, "lastObservedTime": NOW}}],
        ),
    ],
)
def test_patches_apply_to_the_events_shape(http: httpx.Client, ns: str, content_type: str, body: Any) -> None:
    """client-go's events library counts repeats by patching `series`, the one field an
    events.k8s.io update may change."""
    name = "p-" + content_type.split("/")[1].split("-")[0]  # one Event per patch type
    http.post(_v1(ns), json=v1_event(name, ns)).raise_for_status()
    r = http.patch(f"{_v1(ns)}/{name}", content=json.dumps(body), headers={"Content-Type": content_type})
    assert r.status_code == 200, r.text
    assert r.json()["series"] == {"count": 2, "lastObservedTime": NOW}
    assert http.get(f"{_core(ns)}/{name}").json()["series"]["count"] == 2
    # a patch naming a core field names an unknown field here: dropped (fieldValidation=Warn)
    r = http.patch(
        f"{_v1(ns)}/{name}",
        content=json.dumps({"metadata": {"labels": {"a": "b"}}, "message": "x"}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and "message" not in r.json()
    assert http.get(f"{_core(ns)}/{name}").json()["message"] == f"{name} happened"
    # anything else of the Event is immutable through events.k8s.io ...
    r = http.patch(
        f"{_v1(ns)}/{name}",
        content=json.dumps({"note": "changed"}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert _causes(r) == [("message", 'Invalid value: "changed": field is immutable')]
    # ... not through the core group, which holds an Event to the legacy rules only
    r = http.patch(
        f"{_core(ns)}/{name}",
        content=json.dumps({"message": "changed"}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and http.get(f"{_v1(ns)}/{name}").json()["note"] == "changed"


def test_apply_and_put_in_the_events_shape(http: httpx.Client, ns: str) -> None:
    applied = v1_event("a", ns)
    r = http.patch(
        f"{_v1(ns)}/a?fieldManager=me",
        content=json.dumps(applied),
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert r.status_code == 201, r.text
    assert http.get(f"{_core(ns)}/a").json()["message"] == "a happened"
    got = http.get(f"{_v1(ns)}/a").json()
    got["series"] = {"count": 5, "lastObservedTime": NOW}
    r = http.put(f"{_v1(ns)}/a", json=got)
    assert r.status_code == 200 and r.json()["series"]["count"] == 5
    r = http.put(f"{_v1(ns)}/b", json=v1_event("b", ns))  # AllowCreateOnUpdate, as core Events
    assert r.status_code == 201 and r.json()["regarding"]["name"] == "web-0"


def test_creates_are_held_to_kubes_strict_rules(http: httpx.Client, ns: str) -> None:
    bare = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "bare"}}
    assert _causes(http.post(_v1(ns), json=bare)) == [
        ("involvedObject.namespace", 'Invalid value: "": does not match event.namespace'),
        ("eventTime", "Required value"),
        ("type", 'Invalid value: "": has invalid value: '),
    ]
    timed = {
        **bare,
        "metadata": {"name": "timed"},
        "eventTime": NOW,
        "type": "Normal",
        "regarding": {"namespace": ns},
    }
    fields = [f for f, _ in _causes(http.post(_v1(ns), json=timed))]
    assert fields[0] == "reportingController" and fields[-3:] == ["reportingInstance", "action", "reason"]
    bad = v1_event(
        "bad",
        ns,
        note="x" * 1025,
        type="Info",
        deprecatedCount=2,
        deprecatedSource={"component": "kubelet"},
        deprecatedFirstTimestamp="2025-01-02T03:04:05Z",
        series={"count": 1},
    )
    assert _causes(http.post(_v1(ns), json=bad)) == [
        ("message", 'Invalid value: "": can have at most 1024 characters'),
        ("series.count", 'Invalid value: "": should be at least 2'),
        ("series.lastObservedTime", "Required value"),
        ("type", 'Invalid value: "": has invalid value: Info'),
        ("firstTimestamp", 'Invalid value: "": needs to be unset'),
        ("count", 'Invalid value: "": needs to be unset'),
        ("source", 'Invalid value: "": needs to be unset'),
    ]
    # the same Event without an eventTime is fine through the core group (legacy rules only)
    assert http.post(_core(ns), json=core_event("legacy", ns)).status_code == 201
    r = http.post(f"{_v1(ns)}?fieldValidation=Strict", json={**v1_event("s", ns), "message": "core name"})
    assert r.status_code == 400 and 'unknown field \\"message\\"' in r.text


def test_field_selectors_take_events_labels(http: httpx.Client, ns: str) -> None:
    http.post(_v1(ns), json=v1_event("sched", ns)).raise_for_status()
    http.post(_core(ns), json=core_event("pull", ns, type="Warning")).raise_for_status()

    def names(query: str, base: str | None = None) -> list[str]:
        r = http.get(f"{base or _v1(ns)}?fieldSelector={query}")
        assert r.status_code == 200, r.text
        return [i["metadata"]["name"] for i in r.json()["items"]]

    assert names("regarding.name=web-0") == ["sched"]
    assert names("regarding.kind=Pod,type=Warning") == ["pull"]
    assert names("reportingController=example.com/scheduler") == ["sched"]
    assert names("reason=Pulled") == ["pull"]
    assert names("metadata.name=sched") == ["sched"]
    assert names("involvedObject.name=web-0", _core(ns)) == ["sched"]  # core labels on the core group
    r = http.get(f"{_v1(ns)}?fieldSelector=involvedObject.name=web-0")
    assert r.status_code == 400 and "field label not supported: involvedObject.name" in r.text
    assert http.delete(f"{_v1(ns)}?fieldSelector=regarding.name=db-0").status_code == 200
    assert names("") == ["sched"]


def test_discovery_and_openapi(http: httpx.Client) -> None:
    group = http.get("/apis/events.k8s.io/v1").json()
    (events,) = [r for r in group["resources"] if r["name"] == "events"]
    assert events["kind"] == "Event" and events["namespaced"] and events["shortNames"] == ["ev"]
    doc = http.get("/openapi/v3/apis/events.k8s.io/v1").json()
    schema = doc["components"]["schemas"]["io.k8s.api.events.v1.Event"]
    assert schema["required"] == ["eventTime"]
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "events.k8s.io", "kind": "Event", "version": "v1"}
    ]
    assert "regarding" in schema["properties"] and "involvedObject" not in schema["properties"]


def test_real_kubectl(server: Server, http: httpx.Client, ns: str) -> None:
    http.post(_v1(ns), json=v1_event("sched", ns)).raise_for_status()
    http.post(_core(ns), json=core_event("pull", ns)).raise_for_status()
    out = server.kubectl("-n", ns, "get", "events.events.k8s.io", check=True).stdout
    rows = [r[1:] for r in table_rows(out)[1:]]  # LAST SEEN is an age
    assert table_rows(out)[0] == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert rows == [
        ["Normal", "Pulled", "pod/db-0", "pulled", "the", "image"],
        ["Normal", "Scheduled", "pod/web-0", "sched", "happened"],
    ]
    assert table_rows(server.kubectl("-n", ns, "get", "ev", check=True).stdout)[0] == table_rows(out)[0]
    out = server.kubectl("-n", ns, "get", "events.events.k8s.io", "sched", "-o", "yaml", check=True).stdout
    assert "apiVersion: events.k8s.io/v1" in out and "note: sched happened" in out and "regarding:" in out
    # `ev` stays the core resource, as with kube-apiserver
    out = server.kubectl("-n", ns, "get", "ev", "sched", "-o", "yaml", check=True).stdout
    assert "apiVersion: v1" in out and "message: sched happened" in out
    explained = server.kubectl("explain", "events", "--api-version=events.k8s.io/v1", check=True).stdout
    assert "regarding" in explained and "reportingController" in explained


def test_python_client_round_trip(api_client: Any, ns: str) -> None:
    events: Any = client.EventsV1Api(api_client)
    body = client.EventsV1Event(
        metadata=client.V1ObjectMeta(name="py"),
        event_time=datetime.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
        reporting_controller="example.com/py",
        reporting_instance="py-1",
        action="Testing",
        reason="RoundTrip",
        type="Normal",
        note="from the python client",
        regarding=client.V1ObjectReference(kind="Pod", name="web-0", namespace=ns),
    )
    made = events.create_namespaced_event(ns, body)
    assert made.note == "from the python client" and made.regarding.name == "web-0"
    listed = events.list_namespaced_event(ns).items
    assert [(e.metadata.name, e.reporting_controller) for e in listed] == [("py", "example.com/py")]
    core = client.CoreV1Api(api_client).read_namespaced_event("py", ns)
    assert core.message == "from the python client" and core.reporting_component == "example.com/py"
