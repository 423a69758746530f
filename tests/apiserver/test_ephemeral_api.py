"""`pods/<name>/ephemeralcontainers` over HTTPS, as `kubectl debug POD` uses it: GET answers the Pod,
PATCH (strategic merge, JSON merge, JSON patch) and PUT add ephemeral containers and nothing else,
existing ones stay as they are, kube's 422 causes leave the stored pod untouched, and neither a plain
pod update nor a node's credential can write them."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.apiserver.conftest import Server, pod

SMP = {"Content-Type": "application/strategic-merge-patch+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def _debugger(name: str = "debugger", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox:1.35", "stdin": True, "targetContainerName": "c", **fields}


def _path(ns: str, name: str = "web") -> str:
    return f"/api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers"


def _patch(http: httpx.Client, ns: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return http.patch(_path(ns), content=json.dumps(body), headers=headers)


def test_get_and_strategic_merge_patch_add_one(http: httpx.Client, ns: str) -> None:
    http.post(f"/api/v1/namespaces/{ns}/pods", json=pod("web")).raise_for_status()
    got = http.get(_path(ns))
    assert got.status_code == 200 and got.json()["kind"] == "Pod" and got.json()["metadata"]["name"] == "web"
    before = got.json()
    # what kubectl debug sends, with a change to another field the subresource drops
    r = _patch(
        http,
        ns,
        {"spec": {"ephemeralContainers": [_debugger(resources={})], "activeDeadlineSeconds": 5}},
        SMP,
    )
    assert r.status_code == 200, r.text
    after = r.json()
    (ec,) = after["spec"]["ephemeralContainers"]
    assert (ec["name"], ec["targetContainerName"], ec["stdin"]) == ("debugger", "c", True)
    assert ec["terminationMessagePolicy"] == "File" and ec["imagePullPolicy"] == "IfNotPresent"
    assert "activeDeadlineSeconds" not in after["spec"]
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    assert http.get(f"/api/v1/namespaces/{ns}/pods/web").json()["spec"] == after["spec"]
    # a second one merges in beside the first (kube's merge key: name)
    r = _patch(http, ns, {"spec": {"ephemeralContainers": [_debugger("second")]}}, SMP)
    assert [c["name"] for c in r.json()["spec"]["ephemeralContainers"]] == ["debugger", "second"]


def test_put_and_json_patches(http: httpx.Client, ns: str) -> None:
    http.post(f"/api/v1/namespaces/{ns}/pods", json=pod("web")).raise_for_status()
    current = http.get(_path(ns)).json()
    current["spec"]["ephemeralContainers"] = [_debugger("by-put")]
    r = http.put(_path(ns), json=current)
    assert r.status_code == 200, r.text
    assert [c["name"] for c in r.json()["spec"]["ephemeralContainers"]] == ["by-put"]
    op = {"op": "add", "path": "/spec/ephemeralContainers/-", "value": _debugger("by-json-patch")}
    r = _patch(http, ns, [op], JSON_PATCH)
    assert r.status_code == 200, r.text
    assert [c["name"] for c in r.json()["spec"]["ephemeralContainers"]] == ["by-put", "by-json-patch"]


def _refused(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["kind"], body["reason"], body["details"]["kind"]) == ("Status", "Invalid", "Pod")
    return {c["field"]: c["message"] for c in body["details"]["causes"]}


def test_existing_ones_stay_and_errors_store_nothing(http: httpx.Client, ns: str) -> None:
    http.post(f"/api/v1/namespaces/{ns}/pods", json=pod("web")).raise_for_status()
    _patch(http, ns, {"spec": {"ephemeralContainers": [_debugger()]}}, SMP).raise_for_status()
    stored = http.get(_path(ns)).json()
    changed = _refused(
        _patch(http, ns, {"spec": {"ephemeralContainers": [_debugger(image="busybox:1.36")]}}, MERGE)
    )
    assert changed["spec.ephemeralContainers"].startswith(
        'Forbidden: existing ephemeral containers "debugger" may not be changed\n'
    )
    removed = _refused(
        _patch(http, ns, [{"op": "remove", "path": "/spec/ephemeralContainers/0"}], JSON_PATCH)
    )
    assert removed == {
        "spec.ephemeralContainers": 'Forbidden: existing ephemeral containers "debugger" may not be removed\n'
    }
    bad = _refused(
        _patch(
            http,
            ns,
            {
                "spec": {
                    "ephemeralContainers": [
                        _debugger(
                            "probe", readinessProbe={"exec": {"command": ["true"]}}, targetContainerName="x"
                        ),
                        _debugger("c"),
                    ]
                }
            },
            SMP,
        )
    )
    assert bad == {
        "spec.ephemeralContainers[1].targetContainerName": 'Not found: "x"',
        "spec.ephemeralContainers[1].readinessProbe": "Forbidden: cannot be set for an Ephemeral Container",
        "spec.ephemeralContainers[2].name": 'Duplicate value: "c"',
    }
    assert http.get(_path(ns)).json() == stored


def test_plain_pod_writes_cannot_touch_them(http: httpx.Client, ns: str) -> None:
    r = http.post(
        f"/api/v1/namespaces/{ns}/pods",
        json=pod("born")
        | {"spec": {"containers": [{"name": "c", "image": "busybox"}], "ephemeralContainers": [_debugger()]}},
    )
    assert _refused(r) == {"spec.ephemeralContainers": "Forbidden: cannot be set on create"}
    http.post(f"/api/v1/namespaces/{ns}/pods", json=pod("web")).raise_for_status()
    r = http.patch(
        f"/api/v1/namespaces/{ns}/pods/web",
        content=json.dumps({"spec": {"ephemeralContainers": [_debugger()]}}),
        headers=SMP,
    )
    assert list(_refused(r)) == ["spec"]
    assert r.json()["details"]["causes"][0]["message"].startswith(
        "Forbidden: pod updates may not change fields"
    )
    # with one added, the pod's own updates (labels) go on as before
    _patch(http, ns, {"spec": {"ephemeralContainers": [_debugger()]}}, SMP).raise_for_status()
    r = http.patch(
        f"/api/v1/namespaces/{ns}/pods/web", content=b'{"metadata":{"labels":{"a":"b"}}}', headers=MERGE
    )
    assert r.status_code == 200 and len(r.json()["spec"]["ephemeralContainers"]) == 1
    assert http.get(_path(ns, "absent")).status_code == 404


def test_a_node_may_not_write_them(server: Server, http: httpx.Client, ns: str) -> None:
    body = pod("web") | {"spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]}}
    http.post(f"/api/v1/namespaces/{ns}/pods", json=body).raise_for_status()
    token = (server.data_dir / "node-token").read_text().strip()
    with server.client(token=token) as node:
        node.headers["X-Kubelite-Node-Name"] = "n1"
        r = _patch(node, ns, {"spec": {"ephemeralContainers": [_debugger()]}}, SMP)
        assert r.status_code == 403, r.text
        assert 'cannot patch resource "pods/ephemeralcontainers"' in r.json()["message"]
    assert "ephemeralContainers" not in http.get(_path(ns)).json()["spec"]
