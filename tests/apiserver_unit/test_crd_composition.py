"""anyOf, oneOf, allOf and not in a custom resource's schema, held as kube-openapi holds them.

The schemas are trimmed from real CRDs: the snapshot controller's VolumeSnapshot (a source is a
PVC or a content, never both), Gateway API's Gateway addresses (an IPAddress value is an ipv4 or
ipv6 address; `not` an IPAddress otherwise), Tekton's int-or-string divisor (`anyOf` of types).
"""

from __future__ import annotations

from typing import Any

from apiserver.crd import objects

SNAPSHOT = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "source": {
                    "type": "object",
                    "properties": {
                        "persistentVolumeClaimName": {"type": "string"},
                        "volumeSnapshotContentName": {"type": "string"},
                    },
                    "oneOf": [
                        {"required": ["persistentVolumeClaimName"]},
                        {"required": ["volumeSnapshotContentName"]},
                    ],
                }
            },
        }
    },
}


def messages(schema: dict[str, Any], spec: Any) -> list[str]:
    return [f"{c['field']}: {c['message']}" for c in objects.validate(schema, {"spec": spec})]


def test_one_of_exactly_one_alternative() -> None:
    assert messages(SNAPSHOT, {"source": {"persistentVolumeClaimName": "pvc"}}) == []
    assert messages(SNAPSHOT, {"source": {"volumeSnapshotContentName": "c"}}) == []
    both = {"source": {"persistentVolumeClaimName": "pvc", "volumeSnapshotContentName": "c"}}
    assert messages(SNAPSHOT, both) == [
        '<nil>: Invalid value: "": "spec.source" must validate one and only one schema (oneOf).'
        " Found 2 valid alternatives"
    ]
    assert messages(SNAPSHOT, {"source": {}}) == [
        '<nil>: Invalid value: "": "spec.source" must validate one and only one schema (oneOf). Found none valid',
        "spec.source.persistentVolumeClaimName: Required value",
    ]


ADDRESSES = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "addresses": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"type": {"type": "string"}, "value": {"type": "string"}},
                        "oneOf": [
                            {"properties": {"type": {"enum": ["IPAddress"]}}},
                            {"properties": {"type": {"not": {"enum": ["IPAddress"]}}}},
                        ],
                    },
                }
            },
        }
    },
}


def test_not_and_enum_alternatives_on_list_items() -> None:
    good = {"addresses": [{"type": "IPAddress", "value": "1.2.3.4"}, {"type": "Hostname", "value": "a.b"}]}
    assert messages(ADDRESSES, good) == []


def test_any_of_types_and_not() -> None:
    divisor = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "divisor": {
                        "x-kubernetes-int-or-string": True,
                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                    },
                    "mode": {"type": "string", "not": {"enum": ["Forbidden"]}},
                },
            }
        },
    }
    assert messages(divisor, {"divisor": "1Mi", "mode": "Allowed"}) == []
    assert messages(divisor, {"divisor": 1}) == []
    assert messages(divisor, {"mode": "Forbidden"}) == [
        '<nil>: Invalid value: "": "spec.mode" must not validate the schema (not)'
    ]


def test_any_of_failing_names_the_closest_alternative() -> None:
    # Cilium's network policy spec: ingress or egress rules, or a default-deny switch
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"ingress": {"type": "array"}, "egress": {"type": "array"}},
                "anyOf": [{"required": ["ingress"]}, {"required": ["egress"]}],
            }
        },
    }
    assert messages(schema, {"ingress": []}) == []
    assert messages(schema, {}) == [
        '<nil>: Invalid value: "": "spec" must validate at least one schema (anyOf)',
        "spec.ingress: Required value",
    ]


def test_all_of_reports_each_branch_and_kubes_summary() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "allOf": [{"required": ["a"]}, {"properties": {"b": {"maxLength": 1}}}],
            }
        },
    }
    assert messages(schema, {"a": "x", "b": "y"}) == []
    assert messages(schema, {"a": "x", "b": "yy"}) == [
        "spec.b: Too long: may not be more than 1 byte",
        '<nil>: Invalid value: "": "spec" must validate all the schemas (allOf)',
    ]
