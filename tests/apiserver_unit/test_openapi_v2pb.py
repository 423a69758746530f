"""`/openapi/v2` as protobuf, read back with the protobuf library through a descriptor of
gnostic's `openapiv2/OpenAPIv2.proto` messages (field numbers and types as there), and compared
with the JSON document it encodes: every definition, property, `$ref`, `required` and extension."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from apiserver import openapi, openapi_v2pb

pb = pytest.importorskip("google.protobuf")
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # noqa: E402

F = descriptor_pb2.FieldDescriptorProto
STR, BOOL, DOUBLE, INT64, MSG = F.TYPE_STRING, F.TYPE_BOOL, F.TYPE_DOUBLE, F.TYPE_INT64, F.TYPE_MESSAGE
REP = "repeated"

# message -> (field name, number, type, repeated?, message type); gnostic's numbers
_GNOSTIC: dict[str, list[tuple[str, int, int, str, str]]] = {
    "Any": [("yaml", 2, STR, "", "")],
    "NamedAny": [("name", 1, STR, "", ""), ("value", 2, MSG, "", "Any")],
    "TypeItem": [("value", 1, STR, REP, "")],
    "ItemsItem": [("schema", 1, MSG, REP, "Schema")],
    "AdditionalPropertiesItem": [("schema", 1, MSG, "", "Schema"), ("boolean", 2, BOOL, "", "")],
    "NamedSchema": [("name", 1, STR, "", ""), ("value", 2, MSG, "", "Schema")],
    "Properties": [("additional_properties", 1, MSG, REP, "NamedSchema")],
    "Definitions": [("additional_properties", 1, MSG, REP, "NamedSchema")],
    "Schema": [
        ("_ref", 1, STR, "", ""),
        ("format", 2, STR, "", ""),
        ("title", 3, STR, "", ""),
        ("description", 4, STR, "", ""),
        ("default", 5, MSG, "", "Any"),
        ("multiple_of", 6, DOUBLE, "", ""),
        ("maximum", 7, DOUBLE, "", ""),
        ("exclusive_maximum", 8, BOOL, "", ""),
        ("minimum", 9, DOUBLE, "", ""),
        ("exclusive_minimum", 10, BOOL, "", ""),
        ("max_length", 11, INT64, "", ""),
        ("min_length", 12, INT64, "", ""),
        ("pattern", 13, STR, "", ""),
        ("max_items", 14, INT64, "", ""),
        ("min_items", 15, INT64, "", ""),
        ("unique_items", 16, BOOL, "", ""),
        ("max_properties", 17, INT64, "", ""),
        ("min_properties", 18, INT64, "", ""),
        ("required", 19, STR, REP, ""),
        ("enum", 20, MSG, REP, "Any"),
        ("additional_properties", 21, MSG, "", "AdditionalPropertiesItem"),
        ("type", 22, MSG, "", "TypeItem"),
        ("items", 23, MSG, "", "ItemsItem"),
        ("all_of", 24, MSG, REP, "Schema"),
        ("properties", 25, MSG, "", "Properties"),
        ("read_only", 27, BOOL, "", ""),
        ("example", 30, MSG, "", "Any"),
        ("vendor_extension", 31, MSG, REP, "NamedAny"),
    ],
    "Info": [("title", 1, STR, "", ""), ("version", 2, STR, "", "")],
    "Document": [
        ("swagger", 1, STR, "", ""),
        ("info", 2, MSG, "", "Info"),
        ("definitions", 9, MSG, "", "Definitions"),
    ],
}


def _document_class() -> Any:
    file = descriptor_pb2.FileDescriptorProto(
        name="openapiv2_test.proto", package="openapi.v2", syntax="proto3"
    )
    for name, fields in _GNOSTIC.items():
        msg = file.message_type.add(name=name)
        oneof = name == "AdditionalPropertiesItem"
        if oneof:
            msg.oneof_decl.add(name="oneof")
        for fname, number, ftype, label, type_name in fields:
            f = msg.field.add(name=fname, number=number, type=ftype)
            f.label = F.LABEL_REPEATED if label else F.LABEL_OPTIONAL
            if type_name:
                f.type_name = ".openapi.v2." + type_name
            if oneof:
                f.oneof_index = 0
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("openapi.v2.Document"))


_INTS = {
    "max_length": "maxLength",
    "min_length": "minLength",
    "max_items": "maxItems",
    "min_items": "minItems",
    "max_properties": "maxProperties",
    "min_properties": "minProperties",
}
_SCALARS = {
    "_ref": "$ref",
    "format": "format",
    "title": "title",
    "description": "description",
    "pattern": "pattern",
    "multiple_of": "multipleOf",
    "maximum": "maximum",
    "minimum": "minimum",
    "exclusive_maximum": "exclusiveMaximum",
    "exclusive_minimum": "exclusiveMinimum",
    "unique_items": "uniqueItems",
    "read_only": "readOnly",
    **_INTS,
}


def _json_of(s: Any) -> dict[str, Any]:
    """A decoded gnostic Schema back as JSON schema (what the encoder was given, less what
    proto3 does not write)."""
    out: dict[str, Any] = {}
    for field, key in _SCALARS.items():
        if getattr(s, field):
            out[key] = getattr(s, field)
    if s.HasField("default"):
        out["default"] = yaml.safe_load(s.default.yaml)
    if s.HasField("example"):
        out["example"] = yaml.safe_load(s.example.yaml)
    if s.required:
        out["required"] = list(s.required)
    if s.enum:
        out["enum"] = [yaml.safe_load(e.yaml) for e in s.enum]
    if s.HasField("additional_properties"):
        ap = s.additional_properties
        out["additionalProperties"] = _json_of(ap.schema) if ap.HasField("schema") else ap.boolean
    if s.HasField("type"):
        out["type"] = s.type.value[0] if len(s.type.value) == 1 else list(s.type.value)
    if s.HasField("items"):
        out["items"] = _json_of(s.items.schema[0])
    if s.all_of:
        out["allOf"] = [_json_of(a) for a in s.all_of]
    if s.HasField("properties"):
        out["properties"] = {p.name: _json_of(p.value) for p in s.properties.additional_properties}
    for ext in s.vendor_extension:
        out[ext.name] = yaml.safe_load(ext.value.yaml)
    return out


_NO_FIELD = {"nullable", "anyOf", "oneOf", "not"}  # OpenAPI v3 keys gnostic's v2 Schema has no field for


def _expected(s: dict[str, Any]) -> dict[str, Any]:
    """What survives the encoding: zero scalars and v3-only keys drop out."""
    out: dict[str, Any] = {}
    for k, v in s.items():
        if k in _NO_FIELD or (
            v in (0, False, "") and k not in ("default", "example", "additionalProperties")
        ):
            continue
        if k in ("items", "additionalProperties") and isinstance(v, dict):
            v = _expected(v)
        elif k == "allOf":
            v = [_expected(a) for a in v]
        elif k == "properties":
            v = {n: _expected(p) for n, p in v.items()}
        elif isinstance(v, float) and v.is_integer() and k in _SCALARS.values():
            v = int(v)
        out[k] = v
    return out


def _decoded() -> Any:
    return _document_class().FromString(openapi.v2_document_protobuf())


def test_every_definition_round_trips() -> None:
    doc = _decoded()
    definitions = openapi.v2_document()["definitions"]
    assert doc.swagger == "2.0" and doc.info.title == "Kubernetes"
    got = {d.name: _json_of(d.value) for d in doc.definitions.additional_properties}
    assert list(got) == list(definitions)
    for name, body in definitions.items():
        assert got[name] == _expected(body), name


def test_what_kubectl_reads_of_a_pod() -> None:
    got = {d.name: d.value for d in _decoded().definitions.additional_properties}
    pod = got["io.k8s.api.core.v1.Pod"]
    assert [t for t in pod.type.value] == ["object"]
    gvk = {e.name: yaml.safe_load(e.value.yaml) for e in pod.vendor_extension}[
        "x-kubernetes-group-version-kind"
    ]
    assert gvk == [{"group": "", "kind": "Pod", "version": "v1"}]
    props = {p.name: p.value for p in pod.properties.additional_properties}
    assert props["spec"]._ref == "#/definitions/io.k8s.api.core.v1.PodSpec"
    assert props["spec"].description and not props["spec"].type.value  # kube-openapi rejects $ref + type
    spec = {p.name: p.value for p in got["io.k8s.api.core.v1.PodSpec"].properties.additional_properties}
    containers = spec["containers"]
    assert containers.items.schema[0]._ref == "#/definitions/io.k8s.api.core.v1.Container"
    ext = {e.name: yaml.safe_load(e.value.yaml) for e in containers.vendor_extension}
    assert ext["x-kubernetes-patch-merge-key"] == "name"
    assert ext["x-kubernetes-patch-strategy"] == "merge"
    assert ext["x-kubernetes-list-map-keys"] == ["name"]
    assert "containers" in got["io.k8s.api.core.v1.PodSpec"].required
    deployment_spec = got["io.k8s.api.apps.v1.DeploymentSpec"].properties.additional_properties
    strategy = {p.name: p.value for p in deployment_spec}["strategy"]
    assert strategy._ref.endswith(".DeploymentStrategy")
    assert {e.name: e.value.yaml for e in strategy.vendor_extension} == {
        "x-kubernetes-patch-strategy": "retainKeys\n"
    }


def test_every_ref_names_a_definition() -> None:
    """kube-openapi's parser fails the whole document on a dangling reference."""
    doc = _decoded()
    names = {d.name for d in doc.definitions.additional_properties}

    def refs(s: Any) -> list[str]:
        out = [s._ref] if s._ref else []
        for p in s.properties.additional_properties:
            out += refs(p.value)
        for i in s.items.schema:
            out += refs(i)
        if s.additional_properties.HasField("schema"):
            out += refs(s.additional_properties.schema)
        return out

    for d in doc.definitions.additional_properties:
        for ref in refs(d.value):
            assert ref.removeprefix("#/definitions/") in names, (d.name, ref)


def test_custom_resource_schema() -> None:
    crd = {
        "type": "object",
        "description": "A Widget.",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["size", "ratio"],
                "properties": {
                    "size": {"type": "string", "enum": ["S", "yes", "", "on"], "default": "S"},
                    "port": {
                        "x-kubernetes-int-or-string": True,
                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                    },
                    "ratio": {"type": "number", "nullable": True, "minimum": 0.5, "maximum": 10},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "free": {"type": "object", "additionalProperties": False},
                    "parts": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {
                            "type": "object",
                            "properties": {"name": {"type": "string", "maxLength": 8}},
                        },
                    },
                    "template": {
                        "type": "object",
                        "x-kubernetes-embedded-resource": True,
                        "x-kubernetes-preserve-unknown-fields": True,
                        "properties": {"kind": {"type": "string"}},
                    },
                    "checks": {"type": "array", "nullable": True, "items": {"type": "string"}},
                },
            }
        },
    }
    try:
        openapi.set_custom_schemas({("v2pb.example.com", "v1", "Widget"): crd})
        definitions = openapi.v2_document()["definitions"]
        got = {d.name: _json_of(d.value) for d in _decoded().definitions.additional_properties}
        name = "com.example.v2pb.v1.Widget"
        assert got[name] == _expected(definitions[name])
        assert got[name]["x-kubernetes-group-version-kind"] == [
            {"group": "v2pb.example.com", "kind": "Widget", "version": "v1"}
        ]
        spec = got[name]["properties"]["spec"]["properties"]
        assert spec["size"]["enum"] == ["S", "yes", "", "on"] and spec["size"]["default"] == "S"
        # converted as kube's v2 document does (ToStructuralOpenAPIV2): no anyOf; a nullable
        # value untyped and not required; what preserves unknown fields without properties
        assert spec["port"] == {"x-kubernetes-int-or-string": True}
        assert spec["ratio"] == {"minimum": 0.5, "maximum": 10}
        assert spec["checks"] == {}
        assert got[name]["properties"]["spec"]["required"] == ["size"]
        assert spec["free"]["additionalProperties"] is False
        assert spec["template"] == {
            "type": "object",
            "x-kubernetes-embedded-resource": True,
            "x-kubernetes-preserve-unknown-fields": True,
        }
        v3 = openapi.v3_document("api/v1")  # every v3 document has all the schemas
        assert v3 is not None  # and keeps a CRD's as written
        v3_spec = v3["components"]["schemas"][name]["properties"]["spec"]
        assert v3_spec["required"] == ["size", "ratio"] and v3_spec["properties"]["ratio"]["nullable"]
        assert got[name + "List"]["properties"]["metadata"] == {
            "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
        }
    finally:
        openapi.set_custom_schemas({})
    assert "com.example.v2pb.v1.Widget" not in {d.name for d in _decoded().definitions.additional_properties}


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "yes",
        "No",
        "on",
        "null",
        "1.0",
        "0x10",
        "a: b",
        "- x",
        "#c",
        "multi\nline",
        "ünï ✓",
        'q"uote\\',
        "io.k8s.api.core.v1",
        None,
        True,
        0,
        -3,
        2.5,
        [],
        {},
        ["name", "port"],
        [{"group": "", "kind": "Pod", "version": "v1"}],
        {"a": [1, {"b": []}], "c": {"d": {}}},
        [[1, 2], [{"x": "y"}]],
    ],
)
def test_yaml_of_extension_values_reads_back(value: Any) -> None:
    assert yaml.safe_load(openapi_v2pb._yaml(value)) == value
