"""`/openapi/v2` as gnostic's `openapi_v2.Document` protobuf, for kubectl.

Why: client-go's `OpenAPISchema()` asks `/openapi/v2` for
`application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and decodes the body with
`proto.Unmarshal`, so a JSON answer fails there. kubectl builds its v2 models from it
(kube-openapi's `proto.NewOpenAPIData`): `explain --output=plaintext-openapiv2`, the patch
metadata of client-side `apply` in the versions that read v2 (`x-kubernetes-patch-strategy`,
`x-kubernetes-patch-merge-key`), and kubectl 1.27's check that the server validates writes (a
`fieldValidation` query parameter on the kind's patch operation). A kind is found through the
`x-kubernetes-group-version-kind` extension of its definition.

`encode_document(doc)` turns the Swagger 2.0 document `apiserver.openapi.v2_document()` builds
into that message, field for field; the field numbers are gnostic's `openapiv2/OpenAPIv2.proto`.
What it assumes of the document and how it maps it:

- A `$ref` carries its own `description` and extensions as siblings (kube's v2 shape: the proto
  parser reads `_ref` and ignores `allOf`); a `$ref` never has a `type` (the parser rejects it).
- Vendor extensions (`x-...`) become `NamedAny`s whose `Any.yaml` is the value written as YAML
  (`_yaml`); `default`, `example` and `enum` values are `Any`s the same way.
- Schema keys gnostic has no field for (OpenAPI v3's `nullable`, `anyOf`, `oneOf`, `not`) are
  left out; the document has none anyway (a CRD's schema is converted for v2 as kube converts it).
- proto3 does not write zero values (`minimum: 0`, `readOnly: false`), as Go's encoder does not;
  a `properties` map is written even when empty (the parser tells a struct by its presence).

Pure functions of the document; the caller caches the bytes.
"""

from __future__ import annotations

import json
import re
import struct
from typing import Any

OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

# --- wire format ---------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # a negative int64 is its two's complement, ten bytes
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _str_field(number: int, text: str) -> bytes:
    return _bytes_field(number, text.encode()) if text else b""


def _bool_field(number: int, value: bool) -> bytes:
    return _varint(number << 3) + b"\x01" if value else b""


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""


def _double_field(number: int, value: float) -> bytes:
    return _varint(number << 3 | 1) + struct.pack("<d", value) if value else b""


def _any(value: Any) -> bytes:
    """gnostic's `Any`: the value as YAML in field 2 (`yaml`)."""
    return _str_field(2, _yaml(value))


def _named_any(name: str, value: Any) -> bytes:
    return _str_field(1, name) + _bytes_field(2, _any(value))


def _extensions(number: int, obj: dict[str, Any]) -> bytes:
    return b"".join(_bytes_field(number, _named_any(k, v)) for k, v in obj.items() if k.startswith("x-"))


# --- YAML of extension values --------------------------------------------------------------------

# words YAML 1.1 (Go's yaml.v2) would read as something other than a string
_YAML_WORDS = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"])
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*\Z")


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _yaml_lines(value: Any, pad: str) -> list[str]:
    """Block YAML of a non-empty map or list, each line indented by `pad`."""
    lines: list[str] = []
    items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
    for key, v in items:
        head = f"{pad}{_yaml_scalar(key)}:" if key is not None else f"{pad}-"
        if isinstance(v, dict | list) and v:
            if key is not None:
                lines.append(head)
                lines.extend(_yaml_lines(v, pad + "  "))
            else:  # `- a: 1` then `  b: 2`: the item's first line shares the dash's line
                inner = _yaml_lines(v, pad + "  ")
                lines.append(head + " " + inner[0][len(pad) + 2 :])
                lines.extend(inner[1:])
        else:
            empty = "{}" if isinstance(v, dict) else "[]" if isinstance(v, list) else None
            lines.append(f"{head} {empty if empty is not None else _yaml_scalar(v)}")
    return lines


def _yaml(value: Any) -> str:
    if isinstance(value, dict | list) and value:
        return "\n".join(_yaml_lines(value, "")) + "\n"
    if isinstance(value, dict):
        return "{}\n"
    if isinstance(value, list):
        return "[]\n"
    return _yaml_scalar(value) + "\n"


# --- Schema --------------------------------------------------------------------------------------

_SCHEMA_STRINGS = {"$ref": 1, "format": 2, "title": 3, "description": 4, "pattern": 13, "discriminator": 26}
_SCHEMA_DOUBLES = {"multipleOf": 6, "maximum": 7, "minimum": 9}
_SCHEMA_BOOLS = {"exclusiveMaximum": 8, "exclusiveMinimum": 10, "uniqueItems": 16, "readOnly": 27}
_SCHEMA_INTS = {
    "maxLength": 11,
    "minLength": 12,
    "maxItems": 14,
    "minItems": 15,
    "maxProperties": 17,
    "minProperties": 18,
}


def schema(s: dict[str, Any]) -> bytes:
    """gnostic's `Schema` of one JSON schema (a definition, a property, an item)."""
    out: list[bytes] = []
    for key, value in s.items():
        if key in _SCHEMA_STRINGS:
            out.append(_str_field(_SCHEMA_STRINGS[key], value))
        elif key in _SCHEMA_DOUBLES:
            out.append(_double_field(_SCHEMA_DOUBLES[key], float(value)))
        elif key in _SCHEMA_BOOLS:
            out.append(_bool_field(_SCHEMA_BOOLS[key], bool(value)))
        elif key in _SCHEMA_INTS:
            out.append(_int_field(_SCHEMA_INTS[key], int(value)))
        elif key == "default":
            out.append(_bytes_field(5, _any(value)))
        elif key == "required":
            out.extend(_str_field(19, name) for name in value)
        elif key == "enum":
            out.extend(_bytes_field(20, _any(v)) for v in value)
        elif key == "additionalProperties":
            out.append(_bytes_field(21, _additional_properties(value)))
        elif key == "type":
            types = value if isinstance(value, list) else [value]
            out.append(_bytes_field(22, b"".join(_str_field(1, t) for t in types)))
        elif key == "items":
            items = value if isinstance(value, list) else [value]
            out.append(_bytes_field(23, b"".join(_bytes_field(1, schema(i)) for i in items)))
        elif key == "allOf":
            out.extend(_bytes_field(24, schema(sub)) for sub in value)
        elif key == "properties":
            out.append(_bytes_field(25, _named_schemas(value)))
        elif key == "xml":
            out.append(_bytes_field(28, _xml(value)))
        elif key == "externalDocs":
            out.append(_bytes_field(29, _external_docs(value)))
        elif key == "example":
            out.append(_bytes_field(30, _any(value)))
    out.append(_extensions(31, s))
    return b"".join(out)


def _additional_properties(value: dict[str, Any] | bool) -> bytes:
    """`AdditionalPropertiesItem`, a oneof: schema 1 or boolean 2 (written even when false)."""
    if isinstance(value, dict):
        return _bytes_field(1, schema(value))
    return _varint(2 << 3) + (b"\x01" if value else b"\x00")


def _named_schemas(schemas: dict[str, Any]) -> bytes:
    """`Properties` or `Definitions`: repeated `NamedSchema{name, value}` in field 1."""
    return b"".join(
        _bytes_field(1, _str_field(1, n) + _bytes_field(2, schema(s))) for n, s in schemas.items()
    )


def _xml(x: dict[str, Any]) -> bytes:
    return (
        _str_field(1, x.get("name", ""))
        + _str_field(2, x.get("namespace", ""))
        + _str_field(3, x.get("prefix", ""))
        + _bool_field(4, bool(x.get("attribute")))
        + _bool_field(5, bool(x.get("wrapped")))
    )


def _external_docs(d: dict[str, Any]) -> bytes:
    return _str_field(1, d.get("description", "")) + _str_field(2, d.get("url", "")) + _extensions(3, d)


# --- paths ---------------------------------------------------------------------------------------

_VERBS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _parameter(p: dict[str, Any]) -> bytes:
    """`ParametersItem{parameter: Parameter{body_parameter | non_body_parameter}}`."""
    if p["in"] == "body":
        body = (
            _str_field(1, p.get("description", ""))
            + _str_field(2, p["name"])
            + _str_field(3, "body")
            + _bool_field(4, bool(p.get("required")))
            + (_bytes_field(5, schema(p["schema"])) if "schema" in p else b"")
            + _extensions(6, p)
        )
        return _bytes_field(1, _bytes_field(1, body))
    common = (
        _bool_field(1, bool(p.get("required")))
        + _str_field(2, p["in"])
        + _str_field(3, p.get("description", ""))
        + _str_field(4, p["name"])
    )
    unique = bool(p.get("uniqueItems"))
    if p["in"] == "query":  # QueryParameterSubSchema: type 6, unique_items 20
        sub = _bytes_field(3, common + _str_field(6, p.get("type", "string")) + _bool_field(20, unique))
    else:  # PathParameterSubSchema: type 5, unique_items 19
        sub = _bytes_field(4, common + _str_field(5, p.get("type", "string")) + _bool_field(19, unique))
    return _bytes_field(1, _bytes_field(2, sub))


def _responses(responses: dict[str, Any]) -> bytes:
    """`Responses{response_code: NamedResponseValue{name, ResponseValue{response: Response}}}`;
    a response's schema is a `SchemaItem{schema}`."""
    out = b""
    for code, r in responses.items():
        body = _str_field(1, r.get("description", ""))
        if "schema" in r:
            body += _bytes_field(2, _bytes_field(1, schema(r["schema"])))
        out += _bytes_field(1, _str_field(1, code) + _bytes_field(2, _bytes_field(1, body)))
    return out


def _operation(op: dict[str, Any]) -> bytes:
    return b"".join(
        [
            *(_str_field(1, t) for t in op.get("tags", [])),
            _str_field(2, op.get("summary", "")),
            _str_field(3, op.get("description", "")),
            _str_field(5, op.get("operationId", "")),
            *(_str_field(6, t) for t in op.get("produces", [])),
            *(_str_field(7, t) for t in op.get("consumes", [])),
            *(_bytes_field(8, _parameter(p)) for p in op.get("parameters", [])),
            _bytes_field(9, _responses(op.get("responses", {}))),
            *(_str_field(10, s) for s in op.get("schemes", [])),
            _bool_field(11, bool(op.get("deprecated"))),
            _extensions(13, op),
        ]
    )


def _path_item(item: dict[str, Any]) -> bytes:
    body = b"".join(_bytes_field(n, _operation(item[verb])) for verb, n in _VERBS.items() if verb in item)
    body += b"".join(_bytes_field(9, _parameter(p)) for p in item.get("parameters", []))
    return body + _extensions(10, item)


# --- Document ------------------------------------------------------------------------------------


def encode_document(doc: dict[str, Any]) -> bytes:
    """gnostic's `Document` of a Swagger 2.0 document: swagger 1, info 2, paths 8, definitions 9."""
    info = doc.get("info", {})
    paths = b"".join(
        _bytes_field(2, _str_field(1, path) + _bytes_field(2, _path_item(item)))
        for path, item in doc.get("paths", {}).items()
    )
    return b"".join(
        [
            _str_field(1, doc["swagger"]),
            _bytes_field(2, _str_field(1, info.get("title", "")) + _str_field(2, info.get("version", ""))),
            _bytes_field(8, paths),
            _bytes_field(9, _named_schemas(doc.get("definitions", {}))),
            _extensions(16, doc),
        ]
    )
