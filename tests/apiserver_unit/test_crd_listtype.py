"""A custom resource's set and map lists hold no item twice, as kube's listtype validation says."""

from __future__ import annotations

from typing import Any

from apiserver.crd import objects

ENV = {
    "type": "array",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
    "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
}
PORTS = {
    "type": "array",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["number", "protocol"],
    "items": {
        "type": "object",
        "properties": {"number": {"type": "integer"}, "protocol": {"type": "string"}},
    },
}
SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "env": ENV,
                # an atomic list of objects, each with a map list inside (Istio's match[].ports)
                "match": {"type": "array", "items": {"type": "object", "properties": {"ports": PORTS}}},
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "plain": {"type": "array", "items": {"type": "string"}},
                "byName": {"type": "object", "additionalProperties": ENV},
            },
        }
    },
}


def messages(spec: dict[str, Any]) -> list[str]:
    return [f"{c['field']}: {c['message']}" for c in objects.validate(SCHEMA, {"spec": spec})]


def test_a_repeated_map_key_is_a_duplicate_at_its_first_repeat() -> None:
    env = [{"name": "A"}, {"name": "B"}, {"name": "A"}, {"name": "A"}]
    assert messages({"env": env}) == ['spec.env[2]: Duplicate value: map[string]interface {}{"name":"A"}']


def test_nested_map_lists_and_several_keys() -> None:
    spec = {
        "match": [
            {"ports": [{"number": 80}, {"number": 80, "protocol": "TCP"}]},
            {"ports": [{"number": 80, "protocol": "TCP"}, {"protocol": "TCP", "number": 80}]},
        ]
    }
    assert messages(spec) == [
        'spec.match[1].ports[1]: Duplicate value: map[string]interface {}{"number":80, "protocol":"TCP"}'
    ]


def test_sets_maps_under_additional_properties_and_atomic_lists() -> None:
    spec = {
        "tags": ["a", "b", "a"],
        "plain": ["a", "a"],
        "byName": {"x": [{"name": "n"}, {"name": "n"}]},
    }
    assert messages(spec) == [
        'spec.tags[2]: Duplicate value: "a"',
        'spec.byName[x][1]: Duplicate value: map[string]interface {}{"name":"n"}',
    ]


def test_an_item_of_a_map_list_must_be_an_object() -> None:
    loose = {
        "type": "object",
        "properties": {"l": {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"]}},
    }
    causes = objects.validate(loose, {"l": [{"k": 1}, ["k", 1]]})
    assert [c["message"] for c in causes] == [
        'Invalid value: []interface {}{"k", 1}: must be an object for an array of list-type map'
    ]
