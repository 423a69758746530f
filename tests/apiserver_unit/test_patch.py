"""The three patch content types: RFC 7386 / RFC 6902 examples and kubectl apply's strategic patches."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from api.errors import ApiError
from apiserver.patch import apply_patch

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
SMP = "application/strategic-merge-patch+json"


def patch(ct: str, current: dict[str, Any], body: Any, kind: str = "Pod") -> dict[str, Any]:
    before = copy.deepcopy(current)
    out = apply_patch(ct, current, orjson.dumps(body), kind)
    assert current == before, "the current object must not be mutated"
    return out


def pod(*containers: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", **meta},
        "spec": {"containers": list(containers)},
    }


# --- RFC 7386 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "body", "result"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_rfc7386_examples(target: dict[str, Any], body: Any, result: dict[str, Any]) -> None:
    assert patch(MERGE, target, body) == result


def test_merge_patch_scale_replicas() -> None:
    rc = {"spec": {"replicas": 1, "selector": {"app": "web"}}}
    assert patch(MERGE, rc, {"spec": {"replicas": 3}}) == {
        "spec": {"replicas": 3, "selector": {"app": "web"}}
    }


def test_merge_patch_non_object_body_is_400() -> None:
    with pytest.raises(ApiError) as e:
        patch(MERGE, {"a": 1}, [1, 2])
    assert e.value.code == 400


def test_malformed_json_is_400_and_unknown_type_415() -> None:
    with pytest.raises(ApiError) as e:
        apply_patch(MERGE, {}, b"{not json", "Pod")
    assert (e.value.code, e.value.reason) == (400, "BadRequest")
    with pytest.raises(ApiError) as e:
        apply_patch("application/xml", {}, b"{}", "Pod")
    assert (e.value.code, e.value.reason) == (415, "UnsupportedMediaType")


# --- RFC 6902 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "ops", "result"),
    [
        ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"foo": "bar", "baz": "qux"}),
        (
            {"foo": ["bar", "baz"]},
            [{"op": "add", "path": "/foo/1", "value": "qux"}],
            {"foo": ["bar", "qux", "baz"]},
        ),
        ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
        ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
        (
            {"baz": "qux", "foo": "bar"},
            [{"op": "replace", "path": "/baz", "value": "boo"}],
            {"baz": "boo", "foo": "bar"},
        ),
        (
            {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
            [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
            {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
        ),
        (
            {"foo": ["all", "grass", "cows", "eat"]},
            [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
            {"foo": ["all", "cows", "eat", "grass"]},
        ),
        (
            {"baz": "qux", "foo": ["a", 2, "c"]},
            [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
            {"baz": "qux", "foo": ["a", 2, "c"]},
        ),
        (
            {"foo": "bar"},
            [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
            {"foo": "bar", "child": {"grandchild": {}}},
        ),
        (
            {"foo": ["bar"]},
            [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
            {"foo": ["bar", ["abc", "def"]]},
        ),
        ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
        ({"foo": 1}, [{"op": "copy", "from": "/foo", "path": "/bar"}], {"foo": 1, "bar": 1}),
    ],
)
def test_json_patch_rfc6902_examples(doc: dict[str, Any], ops: list[Any], result: dict[str, Any]) -> None:
    assert patch(JSON_PATCH, doc, ops) == result


@pytest.mark.parametrize(
    ("doc", "ops"),
    [
        ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),
        ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}]),
        ({"foo": "bar"}, [{"op": "remove", "path": "/nope"}]),
        ({"foo": "bar"}, [{"op": "replace", "path": "/nope", "value": 1}]),
        ({"foo": [1]}, [{"op": "add", "path": "/foo/5", "value": 1}]),
        ({"foo": 1}, [{"op": "test", "path": "/foo", "value": True}]),
    ],
)
def test_json_patch_that_does_not_apply_is_422(doc: dict[str, Any], ops: list[Any]) -> None:
    with pytest.raises(ApiError) as e:
        patch(JSON_PATCH, doc, ops)
    assert (e.value.code, e.value.reason) == (422, "Invalid")


@pytest.mark.parametrize(
    "ops",
    [
        {"op": "add"},
        [{"op": "frobnicate", "path": "/a"}],
        [{"op": "add", "path": "/a"}],
        [{"op": "add", "path": "a", "value": 1}],
    ],
)
def test_malformed_json_patch_is_400(ops: Any) -> None:
    with pytest.raises(ApiError) as e:
        patch(JSON_PATCH, {"a": 1}, ops)
    assert e.value.code == 400


# --- strategic merge ------------------------------------------------------------------------------


def test_kubectl_apply_changes_image_and_keeps_annotation_bytes() -> None:
    last = '{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"p"},  "spec":{}}\n'
    current = pod(
        {"name": "web", "image": "busybox:1", "ports": [{"containerPort": 80}]},
        {"name": "side", "image": "busybox:1"},
        annotations={"a": "1"},
    )
    body = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": last}},
        "spec": {
            "$setElementOrder/containers": [{"name": "web"}, {"name": "side"}],
            "containers": [{"name": "web", "image": "busybox:2"}],
        },
    }
    out = patch(SMP, current, body)
    assert out["metadata"]["annotations"] == {
        "a": "1",
        "kubectl.kubernetes.io/last-applied-configuration": last,
    }
    assert out["spec"]["containers"] == [
        {"name": "web", "image": "busybox:2", "ports": [{"containerPort": 80}]},
        {"name": "side", "image": "busybox:1"},
    ]


def test_strategic_delete_directive_removes_list_element() -> None:
    current = pod({"name": "a", "image": "x"}, {"name": "b", "image": "y"})
    body = {
        "spec": {
            "$setElementOrder/containers": [{"name": "b"}],
            "containers": [{"$patch": "delete", "name": "a"}],
        }
    }
    assert patch(SMP, current, body)["spec"]["containers"] == [{"name": "b", "image": "y"}]


def test_strategic_set_element_order_reorders_and_appends() -> None:
    current = pod({"name": "a", "image": "x"})
    body = {
        "spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "b", "image": "y"}],
        }
    }
    assert [c["name"] for c in patch(SMP, current, body)["spec"]["containers"]] == ["b", "a"]


def test_strategic_merges_ports_by_container_port_and_env_by_name() -> None:
    current = pod(
        {
            "name": "a",
            "image": "x",
            "ports": [{"containerPort": 80, "name": "http"}],
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        }
    )
    body = {
        "spec": {
            "containers": [
                {
                    "name": "a",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}],
                    "env": [{"name": "B", "value": "3"}],
                }
            ]
        }
    }
    c = patch(SMP, current, body)["spec"]["containers"][0]
    assert c["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}, {"containerPort": 443}]
    assert c["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]


def test_strategic_service_ports_merge_by_port() -> None:
    svc = {"kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    out = patch(SMP, svc, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}, kind="Service")
    assert out["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]


def test_strategic_atomic_list_is_replaced() -> None:
    current = pod({"name": "a", "image": "x", "command": ["sh", "-c", "sleep 1"]})
    body = {"spec": {"containers": [{"name": "a", "command": ["true"]}]}}
    assert patch(SMP, current, body)["spec"]["containers"][0]["command"] == ["true"]


def test_strategic_null_deletes_and_patch_replace_replaces_map() -> None:
    current = pod({"name": "a", "image": "x"}, labels={"a": "1", "b": "2"})
    out = patch(SMP, current, {"metadata": {"labels": {"a": None}}})
    assert out["metadata"]["labels"] == {"b": "2"}
    out = patch(SMP, current, {"metadata": {"labels": {"$patch": "replace", "c": "3"}}})
    assert out["metadata"]["labels"] == {"c": "3"}


def test_strategic_list_replace_directive() -> None:
    current = pod({"name": "a", "image": "x"}, {"name": "b", "image": "y"})
    body = {"spec": {"containers": [{"name": "c", "image": "z"}, {"$patch": "replace"}]}}
    assert patch(SMP, current, body)["spec"]["containers"] == [{"name": "c", "image": "z"}]


def test_strategic_retain_keys_and_delete_from_primitive_list() -> None:
    current = {
        "kind": "Pod",
        "metadata": {"finalizers": ["a", "b", "c"]},
        "spec": {"volumes": [{"name": "v", "emptyDir": {}}]},
    }
    body = {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]},
        "spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/x"}}]},
    }
    out = patch(SMP, current, body)
    assert out["metadata"]["finalizers"] == ["a", "c"]
    assert out["spec"]["volumes"] == [{"name": "v", "hostPath": {"path": "/x"}}]


def test_strategic_finalizers_merge_as_set() -> None:
    current = {"kind": "Pod", "metadata": {"finalizers": ["a"]}}
    out = patch(SMP, current, {"metadata": {"finalizers": ["a", "b"]}})
    assert out["metadata"]["finalizers"] == ["a", "b"]


def test_strategic_missing_merge_key_is_400() -> None:
    with pytest.raises(ApiError) as e:
        patch(SMP, pod({"name": "a", "image": "x"}), {"spec": {"containers": [{"image": "y"}]}})
    assert e.value.code == 400


def test_strategic_unknown_fields_merge_like_json_merge() -> None:
    current = {"kind": "Pod", "spec": {"affinity": {"a": {"b": 1}}}}
    out = patch(SMP, current, {"spec": {"affinity": {"a": {"c": 2}}}})
    assert out["spec"]["affinity"] == {"a": {"b": 1, "c": 2}}


def test_set_element_order_keeps_server_only_elements_in_place() -> None:
    current = pod({"name": "a", "image": "x"}, {"name": "srv", "image": "s"}, {"name": "b", "image": "y"})
    body = {
        "spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "b", "image": "y2"}],
        }
    }
    # 'srv' is not named by the patch: it stays before 'b', its server-side successor
    assert [c["name"] for c in patch(SMP, current, body)["spec"]["containers"]] == ["srv", "b", "a"]


def test_set_element_order_on_primitive_list() -> None:
    current = {"kind": "Pod", "metadata": {"finalizers": ["x", "y"]}}
    body = {"metadata": {"$setElementOrder/finalizers": ["y", "x", "z"], "finalizers": ["z"]}}
    assert patch(SMP, current, body)["metadata"]["finalizers"] == ["y", "x", "z"]
