"""The official client's watch and informer machinery on every kind the API server serves.

One test per listable and watchable resource of the table discovery is built from
(`api.resources.RESOURCES`), so a newly served kind is covered without touching this file; a
second test holds live discovery (`/api/v1`, `/apis/<group>/<version>`) to that table, so a kind
served some other way cannot slip past. For each resource, with the client's own typed functions
(`CoreV1Api.list_config_map_for_all_namespaces`, `AppsV1Api.create_namespaced_deployment` ...):
list (its items deserialize into the kind's model), create, patch and delete one object
(tests/apiserver/kind_samples.py), then `kubernetes.watch.Watch` from the list's
resourceVersion with `allow_watch_bookmarks`: ADDED, MODIFIED, then DELETED (or, for a kind a
finalizer holds, the MODIFIED that marks it deleted), each object deserialized into the kind's
model, and a BOOKMARK at or past the last event (the session server sends one a second).

Also the client's recovery paths: a watch from a compacted resourceVersion raises the 410
`ApiException`, and `kubernetes.informer.SharedInformer` given that stale version re-lists.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from kubernetes import client, config, informer, watch
from kubernetes.client.rest import ApiException
from kubernetes.utils.create_from_yaml import LOWER_OR_NUM_FOLLOWED_BY_UPPER_RE, UPPER_FOLLOWED_BY_LOWER_RE

from api.resources import RESOURCES, Resource
from tests.apiserver.conftest import Server, start_server
from tests.apiserver.kind_samples import sample
from tests.polling import wait_for

WATCHABLE = [r for r in RESOURCES if {"list", "watch"} <= set(r.verbs)]


def _id(r: Resource) -> str:
    return f"{r.api_version}/{r.plural}"


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[client.ApiClient]:
    c = config.new_client_from_config(config_file=str(server.kubeconfig))
    yield c
    c.close()


@pytest.fixture(scope="module")
def namespace(http: httpx.Client) -> Iterator[str]:
    name = f"informers-{os.getpid() % 1000}"
    assert http.post("/api/v1/namespaces", json={"metadata": {"name": name}}).status_code == 201
    yield name
    http.delete(f"/api/v1/namespaces/{name}")
    http.put(
        f"/api/v1/namespaces/{name}/finalize", json={"metadata": {"name": name}, "spec": {"finalizers": []}}
    )


class Typed:
    """The client's functions for one resource: its `<Group><Version>Api` class and the snake-case
    kind its methods are named by, or CustomObjectsApi (dicts) when the client has no such class."""

    def __init__(self, api: client.ApiClient, r: Resource) -> None:
        self.r = r
        self.api_client = api
        group = "core" if not r.group else "".join(r.group.rsplit(".k8s.io", 1))
        cls = "".join(w.capitalize() for w in group.split(".")) + r.version.capitalize() + "Api"
        snake = UPPER_FOLLOWED_BY_LOWER_RE.sub(r"\1_\2", r.kind)
        self.snake = LOWER_OR_NUM_FOLLOWED_BY_UPPER_RE.sub(r"\1_\2", snake).lower()
        self.api = getattr(client, cls)(api) if hasattr(client, cls) else None
        self.custom = client.CustomObjectsApi(api)
        scope = "namespaced_" if r.namespaced else ""
        self.typed = self.api is not None and hasattr(self.api, f"create_{scope}{self.snake}")

    def _fn(self, verb: str) -> Callable[..., Any]:
        scope = "namespaced_" if self.r.namespaced else ""
        return getattr(self.api, f"{verb}_{scope}{self.snake}")

    def _ns(self, namespace: str) -> dict[str, str]:
        return {"namespace": namespace} if self.r.namespaced else {}

    @property
    def list_all(self) -> Callable[..., Any]:
        """The list function across namespaces (a watch source for `Watch.stream`)."""
        if self.typed:
            suffix = "_for_all_namespaces" if self.r.namespaced else ""
            return getattr(self.api, f"list_{self.snake}{suffix}")
        return self._list_custom

    def _list_custom(self, **kw: Any) -> Any:
        return self.custom.list_cluster_custom_object(self.r.group, self.r.version, self.r.plural, **kw)

    def create(self, body: dict[str, Any], namespace: str) -> Any:
        if self.typed:
            return self._fn("create")(body=body, **self._ns(namespace))
        if self.r.namespaced:
            return self.custom.create_namespaced_custom_object(
                self.r.group, self.r.version, namespace, self.r.plural, body
            )
        return self.custom.create_cluster_custom_object(self.r.group, self.r.version, self.r.plural, body)

    def patch(self, name: str, body: dict[str, Any], namespace: str) -> Any:
        if self.typed:
            return self._fn("patch")(name=name, body=body, **self._ns(namespace))
        raise AssertionError(f"no typed client for {_id(self.r)}")

    def delete(self, name: str, namespace: str) -> Any:
        if self.typed:
            return self._fn("delete")(name=name, **self._ns(namespace))
        raise AssertionError(f"no typed client for {_id(self.r)}")


def _name_of(obj: Any) -> str:
    return str(obj.metadata.name if hasattr(obj, "metadata") else obj["metadata"]["name"])


def _assert_model(obj: Any, typed: Typed, raw: Any) -> None:
    """`obj` is the client's model of the kind (V1ConfigMap, CoreV1Event ...), not a dict, when the
    client has one; and the wire form deserializes into that model again without an error."""
    r = typed.r
    if not typed.typed:
        assert isinstance(obj, dict) and obj["kind"] == r.kind and obj["metadata"]["resourceVersion"]
        return
    assert not isinstance(obj, dict), f"{_id(r)}: the client left {obj!r:.200} undeserialized"
    model = type(obj).__name__
    assert model.endswith(r.kind), (model, r.kind)
    assert obj.metadata is not None and obj.metadata.resource_version
    again = typed.api_client.deserialize(json.dumps(_raw(raw)), model, "application/json")
    assert type(again).__name__ == model


def test_discovery_serves_exactly_the_table(http: httpx.Client) -> None:
    """Every listable and watchable built-in resource in live discovery is one this module tests
    (custom resources other tests' CRDs serve meanwhile are theirs)."""
    custom = {
        (f"{crd['spec']['group']}/{v['name']}", crd["spec"]["names"]["plural"])
        for crd in http.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").json()["items"]
        for v in crd["spec"]["versions"]
    }
    served = set()
    versions = [("", "v1")] + [
        (g["name"], v["version"]) for g in http.get("/apis").json()["groups"] for v in g["versions"]
    ]
    for group, version in versions:
        path = f"/apis/{group}/{version}" if group else "/api/v1"
        for res in http.get(path).json()["resources"]:
            if "/" not in res["name"] and {"list", "watch"} <= set(res["verbs"]):
                served.add((f"{group}/{version}" if group else version, res["name"]))
    assert served - custom == {(r.api_version, r.plural) for r in WATCHABLE}


@pytest.mark.parametrize("res", WATCHABLE, ids=_id)
def test_list_write_and_watch_every_kind(
    api: client.ApiClient, http: httpx.Client, namespace: str, res: Resource
) -> None:
    typed = Typed(api, res)
    label = {"informer-e2e": res.plural[:40]}
    selector = f"informer-e2e={label['informer-e2e']}"
    listed = typed.list_all(label_selector=selector)
    rv = listed.metadata.resource_version if typed.typed else listed["metadata"]["resourceVersion"]
    assert rv, f"{_id(res)}: a list without a resourceVersion cannot start a watch"
    if typed.typed:
        assert type(listed).__name__.endswith(res.kind + "List"), type(listed).__name__
        for item in listed.items:
            _assert_model(item, typed, item)

    writes = "create" in res.verbs
    seen: list[tuple[str, Any]] = []  # what a SharedInformer's handlers got meanwhile
    inf = informer.SharedInformer(list_func=typed.list_all, label_selector=selector)
    for kind in (informer.ADDED, informer.MODIFIED, informer.DELETED):
        inf.add_event_handler(kind, lambda obj, kind=kind: seen.append((kind, obj)))
    inf.start()
    try:
        wait_for(lambda: inf._resource_version is not None, 10, f"the informer's list of {_id(res)}")
        if writes:
            _write(typed, namespace, label, http)
            wait_for(lambda: _finished([(t, _raw(o)) for t, o in seen]), 10, "the informer's events")
            assert seen[0][0] == "ADDED", [t for t, _ in seen]
            for _, obj in seen:
                _assert_model(obj, typed, obj)
            gone = inf.cache.get_by_key(_key(seen[-1][1])) is None
            assert gone == (seen[-1][0] == "DELETED"), "the informer's cache disagrees with its last event"
    finally:
        inf.stop()

    events: list[dict[str, Any]] = []
    w = watch.Watch()
    for ev in w.stream(
        typed.list_all,
        label_selector=selector,
        resource_version=rv,
        allow_watch_bookmarks=True,
        timeout_seconds=15,
    ):
        events.append(ev)
        if ev["type"] == "BOOKMARK" and (
            not writes or _finished([(e["type"], e["raw_object"]) for e in events])
        ):
            w.stop()
    types = [e["type"] for e in events]
    assert "BOOKMARK" in types, f"{_id(res)}: no bookmark in 15 s: {types}"
    bookmark = [e for e in events if e["type"] == "BOOKMARK"][-1]["raw_object"]
    assert bookmark["kind"] == res.kind and bookmark["apiVersion"] == res.api_version, bookmark
    if not writes:
        return
    changes = [e for e in events if e["type"] != "BOOKMARK"]
    assert changes and changes[0]["type"] == "ADDED", types
    assert any(
        e["type"] == "MODIFIED" and e["raw_object"]["metadata"]["labels"].get("step") for e in changes
    ), types
    assert _finished([(e["type"], e["raw_object"]) for e in events]), types
    for e in changes:
        assert e["raw_object"]["kind"] == res.kind and e["raw_object"]["apiVersion"] == res.api_version
        _assert_model(e["object"], typed, e["raw_object"])
    last_rv = int(changes[-1]["raw_object"]["metadata"]["resourceVersion"])
    assert int(bookmark["metadata"]["resourceVersion"]) >= last_rv
    assert int(str(w.resource_version)) >= last_rv


def _write(typed: Typed, namespace: str, label: dict[str, str], http: httpx.Client) -> None:
    """Create, patch (a label) and delete one object of the resource."""
    res = typed.r
    body = sample(res, f"inf-{res.plural[:30]}-{os.getpid() % 1000}", namespace, label)
    try:
        created = typed.create(body, namespace)
    except ApiException as e:
        raise AssertionError(
            f"{_id(res)}: creating {body} failed ({e.status} {e.body}); "
            "give the kind a row in tests/apiserver/kind_samples.py"
        ) from e
    _assert_model(created, typed, created)
    name = _raw(created)["metadata"]["name"]
    patched = _raw(typed.patch(name, {"metadata": {"labels": {"step": "patched"}}}, namespace))
    assert patched["metadata"]["labels"]["step"] == "patched"
    typed.delete(name, namespace)
    if res.kind == "Namespace":  # no namespace controller here: finish what it would
        http.put(
            f"/api/v1/namespaces/{name}/finalize",
            json={"metadata": {"name": name}, "spec": {"finalizers": []}},
        )


def _raw(obj: Any) -> dict[str, Any]:
    """The wire form of a model (or the dict itself)."""
    if isinstance(obj, dict):
        return obj
    return client.ApiClient().sanitize_for_serialization(obj)


def _key(obj: Any) -> str:
    meta = _raw(obj)["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else str(meta["name"])


def _finished(events: list[tuple[str, dict[str, Any]]]) -> bool:
    """The object's last change says it is gone: DELETED, or (for a kind a finalizer holds, a
    Namespace without its controller) MODIFIED with a deletionTimestamp."""
    changes = [(t, o) for t, o in events if t != "BOOKMARK"]
    if not changes:
        return False
    kind, obj = changes[-1]
    return kind == "DELETED" or (kind == "MODIFIED" and bool(obj["metadata"].get("deletionTimestamp")))


# --- 410 Gone: the client's own recovery ----------------------------------------------------------
@pytest.fixture(scope="module")
def compacting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("compacting"), "--compact-keep", "0.2s", "--compact-interval", "0.2s"
    )
    yield srv
    srv.stop()


def _compacted_rv(srv: Server) -> str:
    """A resourceVersion of the `default` namespace's configmaps that the server has compacted."""
    with srv.client() as http:
        base = "/api/v1/namespaces/default/configmaps"
        old = str(http.get(base).json()["metadata"]["resourceVersion"])

        def gone() -> bool:
            http.post(base, json={"metadata": {"generateName": "c-"}}).raise_for_status()
            body = http.get(f"{base}?watch=true&resourceVersion={old}&timeoutSeconds=1").content
            return body.startswith(b'{"type":"ERROR"')

        wait_for(gone, 20, "the history to be compacted")
    return old


def test_watch_from_a_compacted_version_raises_410(compacting: Server) -> None:
    old = _compacted_rv(compacting)
    api = config.new_client_from_config(config_file=str(compacting.kubeconfig))
    try:
        v1 = client.CoreV1Api(api)
        with pytest.raises(ApiException) as gone:
            for _ in watch.Watch().stream(
                v1.list_namespaced_config_map, "default", resource_version=old, timeout_seconds=5
            ):
                pass
        assert gone.value.status == 410
        assert str(gone.value.reason).startswith(f"Expired: too old resource version: {old} (")
    finally:
        api.close()


def test_shared_informer_relists_after_410(compacting: Server) -> None:
    old = _compacted_rv(compacting)
    api = config.new_client_from_config(config_file=str(compacting.kubeconfig))
    v1 = client.CoreV1Api(api)
    errors: list[Any] = []
    relisted = threading.Event()
    inf = informer.SharedInformer(list_func=v1.list_namespaced_config_map, namespace="default")
    inf.add_event_handler(informer.ERROR, errors.append)
    inf.add_event_handler(informer.ADDED, lambda _o: relisted.set())
    inf._resource_version = old  # resume from a version the server no longer has, as after a long sleep
    inf.start()
    try:
        assert relisted.wait(20), f"no re-list after the 410 (errors: {errors})"
        assert any(isinstance(e, ApiException) and e.status == 410 for e in errors), errors
        assert int(str(inf._resource_version)) > int(old)
        names = {_name_of(o) for o in inf.cache.list()}
        assert names == {_name_of(c) for c in v1.list_namespaced_config_map("default").items}
    finally:
        inf.stop()
        api.close()
