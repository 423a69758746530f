"""Status bodies byte for byte as kube-apiserver writes them.

kube-apiserver encodes a metav1.Status with Go's json.Encoder: fields in struct order (kind,
apiVersion, metadata, status, message, reason, details, code), empty ones omitted
(`omitempty`), StatusDetails as name, group, kind, uid, causes, HTML characters escaped, and a
trailing newline. Clients that compare bodies (the official Python client's tests, proxies
that cache them) see the same bytes from us.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from api.errors import ApiError, field_required, gone, invalid, status_details
from tests.apiserver.conftest import Server, pod, start_server
from tests.objects import binding

HEAD = b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'


def test_404_not_found_bytes(http: httpx.Client, ns: str) -> None:
    r = http.get(f"/api/v1/namespaces/{ns}/pods/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.content == HEAD + (
        b'"message":"pods \\"nope\\" not found","reason":"NotFound",'
        b'"details":{"name":"nope","kind":"pods"},"code":404}\n'
    )


def test_409_already_exists_bytes(http: httpx.Client, ns: str) -> None:
    assert http.post(f"/api/v1/namespaces/{ns}/pods", json=pod("dup")).status_code == 201
    r = http.post(f"/api/v1/namespaces/{ns}/pods", json=pod("dup"))
    assert r.status_code == 409
    assert r.content == HEAD + (
        b'"message":"pods \\"dup\\" already exists","reason":"AlreadyExists",'
        b'"details":{"name":"dup","kind":"pods"},"code":409}\n'
    )


def test_409_already_exists_in_a_group_names_the_group(http: httpx.Client, ns: str) -> None:
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"}}
    base = f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"
    assert http.post(base, json=lease).status_code == 201
    r = http.post(base, json=lease)
    assert r.content == HEAD + (
        b'"message":"leases.coordination.k8s.io \\"l\\" already exists",'
        b'"reason":"AlreadyExists",'
        b'"details":{"name":"l","group":"coordination.k8s.io","kind":"leases"},"code":409}\n'
    )


def test_422_invalid_with_causes_bytes(http: httpx.Client, ns: str) -> None:
    bad = pod("bad")
    bad["spec"] = {"containers": [{"name": "c"}]}  # no image
    r = http.post(f"/api/v1/namespaces/{ns}/pods", json=bad)
    assert r.status_code == 422
    assert r.content == HEAD + (
        b'"message":"Pod \\"bad\\" is invalid: spec.containers[0].image: Required value","reason":"Invalid",'
        b'"details":{"name":"bad","kind":"Pod","causes":[{"reason":"FieldValueRequired",'
        b'"message":"Required value","field":"spec.containers[0].image"}]},"code":422}\n'
    )


def test_410_expired_watch_event_bytes(tmp_path: Path) -> None:
    """A watch from a compacted revision: one ERROR line whose object is the 410 Status."""
    srv: Server = start_server(tmp_path, "--compact-keep", "0.2s", "--compact-interval", "0.2s")
    try:
        with srv.client() as http:
            base = "/api/v1/namespaces/default/endpoints"
            old = http.post(base, json={"metadata": {"name": "c0"}}).json()["metadata"]["resourceVersion"]
            deadline = time.monotonic() + 20
            while True:  # write until the compactor has passed `old`
                http.post(base, json={"metadata": {"generateName": "c-"}}).raise_for_status()
                body = http.get(f"{base}?watch=true&resourceVersion={old}&timeoutSeconds=1").content
                if body.startswith(b'{"type":"ERROR"'):
                    break
                assert time.monotonic() < deadline, "history never compacted"
            line = body.split(b"\n")[0]
            prefix = (
                b'{"type":"ERROR","object":' + HEAD + b'"message":"too old resource version: ' + old.encode()
            )
            assert line.startswith(prefix), line
            assert line.endswith(b')","reason":"Expired","code":410}}'), line
    finally:
        srv.stop()


# --- the encoder itself (no server) ----------------------------------------------------------
def test_empty_fields_are_omitted_as_go_omitempty() -> None:
    assert (
        ApiError(500, "", "").body()
        == b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","code":500}\n'
    )
    assert gone("too old").body() == HEAD + b'"message":"too old","reason":"Expired","code":410}\n'


def test_404_for_an_unknown_path_has_empty_details(http: httpx.Client) -> None:
    r = http.get("/api/v1/nosuchthings")
    assert r.content == HEAD + (
        b'"message":"the server could not find the requested resource","reason":"NotFound",'
        b'"details":{},"code":404}\n'
    )


def test_details_reordered_and_causes_trimmed() -> None:
    details = {
        "kind": "pods",
        "causes": [{"field": "f", "message": "m", "reason": ""}],
        "name": "x",
        "group": "",
    }
    assert list(status_details(details)) == ["name", "kind", "causes"]
    assert status_details(details)["causes"] == [{"message": "m", "field": "f"}]
    assert status_details({"causes": []}) == {}


def test_html_characters_escaped_as_go_does() -> None:
    e = invalid("Pod", "x", [field_required("spec.a<b>&c")])
    body = e.body()
    assert b"<" not in body and b">" not in body and b"&" not in body
    assert b'"field":"spec.a\\u003cb\\u003e\\u0026c"' in body
    assert ApiError(400, "BadRequest", "line\u2028sep").body().count(b"\\u2028") == 1


def test_201_binding_success_bytes(http: httpx.Client, ns: str) -> None:
    assert http.post(f"/api/v1/namespaces/{ns}/pods", json=pod("tobind")).status_code == 201
    r = http.post(f"/api/v1/namespaces/{ns}/pods/tobind/binding", json=binding("tobind", "n1"))
    assert r.status_code == 201
    assert r.content == b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}\n'


def test_delete_answers_a_success_status_unless_the_kind_returns_the_object(
    http: httpx.Client, ns: str
) -> None:
    """genericregistry's finalizeDelete: a removal answers `status: Success` with details (name,
    group, the plural as kind, uid) and no code, except for the kinds whose registry sets
    ReturnDeletedObject (pods, services, namespaces ...), which answer with the object; a delete
    that only marks the object (a finalizer holds it) answers with the marked object."""
    cm = http.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "c"}}).json()
    r = http.delete(f"/api/v1/namespaces/{ns}/configmaps/c")
    assert r.status_code == 200
    assert r.content == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success",'
        b'"details":{"name":"c","kind":"configmaps","uid":"' + cm["metadata"]["uid"].encode() + b'"}}\n'
    )
    role = http.post(
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles", json={"metadata": {"name": "r"}}
    ).json()
    r = http.delete(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles/r?dryRun=All")
    assert r.json()["details"] == {
        "name": "r",
        "group": "rbac.authorization.k8s.io",
        "kind": "roles",
        "uid": role["metadata"]["uid"],
    }
    held = {"metadata": {"name": "h", "finalizers": ["example.com/hold"]}}
    assert http.post(f"/api/v1/namespaces/{ns}/configmaps", json=held).status_code == 201
    marked = http.delete(f"/api/v1/namespaces/{ns}/configmaps/h").json()
    assert marked["kind"] == "ConfigMap" and marked["metadata"]["deletionTimestamp"]
    http.patch(
        f"/api/v1/namespaces/{ns}/configmaps/h",
        json={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    sa = http.post(f"/api/v1/namespaces/{ns}/serviceaccounts", json={"metadata": {"name": "s"}})
    assert sa.status_code == 201
    assert http.delete(f"/api/v1/namespaces/{ns}/serviceaccounts/s").json()["kind"] == "ServiceAccount"
