"""Validation of a CustomResourceDefinition, worded as kube-apiserver's (apiextensions validation).

Names (`metadata.name` must be `<plural>.<group>`, a group with a dot, lowercase DNS labels for
plural/singular/short names, a kind that is not its listKind), scope, versions (unique DNS-1035
names, exactly one storage version, at least one served), and for v1 a structural schema per
version: a `type` at the root (object) and on every specified field, unless the field is
`x-kubernetes-int-or-string` or `x-kubernetes-preserve-unknown-fields`. Printer columns and the
scale subresource's JSON paths are checked too, and `spec.conversion` (`crd.conversion`). Pure;
returns Status causes.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from api.errors import Cause, field_duplicate, field_invalid, field_not_supported, field_required
from api.jsonutil import as_object
from apiserver.crd.conversion import conversion_causes
from apiserver.crd.rulecheck import rule_causes

Obj = dict[str, Any]
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_KIND = re.compile(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$")
_COLUMN_TYPES = ["boolean", "date", "integer", "number", "string"]
_SCHEMA_TYPES = {"array", "boolean", "integer", "number", "object", "string"}
# the JSON type of each JSONSchemaProps field (Go's decoding refuses anything else)
_KEYWORD_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(
        (
            "id",
            "$schema",
            "$ref",
            "description",
            "type",
            "format",
            "title",
            "pattern",
            "x-kubernetes-list-type",
            "x-kubernetes-map-type",
        ),
        (str,),
    ),
    **dict.fromkeys(("maximum", "minimum", "multipleOf"), (int, float)),
    **dict.fromkeys(
        (
            "exclusiveMaximum",
            "exclusiveMinimum",
            "uniqueItems",
            "nullable",
            "x-kubernetes-preserve-unknown-fields",
            "x-kubernetes-embedded-resource",
            "x-kubernetes-int-or-string",
        ),
        (bool,),
    ),
    **dict.fromkeys(
        ("maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties"), (int,)
    ),
    **dict.fromkeys(
        (
            "enum",
            "required",
            "allOf",
            "oneOf",
            "anyOf",
            "x-kubernetes-list-map-keys",
            "x-kubernetes-validations",
        ),
        (list,),
    ),
    **dict.fromkeys(
        ("properties", "patternProperties", "definitions", "not", "externalDocs", "dependencies"), (dict,)
    ),
    "items": (dict, list),
    "additionalProperties": (dict, bool),
    "additionalItems": (dict, bool),
}
# JSONSchemaProps' fields (apiextensions/v1): anything else in a schema is an unknown field;
# `default` and `example` take any JSON value, so they have no entry among the typed ones
SCHEMA_KEYWORDS = frozenset(_KEYWORD_TYPES) | {"default", "example"}
_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
_SCHEMA_LISTS = ("allOf", "oneOf", "anyOf")
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


def validate_crd(crd: Obj) -> list[Cause]:
    out: list[Cause] = []
    spec = as_object(crd.get("spec"))
    names = as_object(spec.get("names"))
    group, plural = str(spec.get("group") or ""), str(names.get("plural") or "")
    name = str((crd.get("metadata") or {}).get("name") or "")
    if name != f"{plural}.{group}":
        out.append(field_invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if not group:
        out.append(field_required("spec.group"))
    elif "." not in group:
        out.append(field_invalid("spec.group", group, "should be a domain with at least one dot"))
    elif not _DNS1123_SUBDOMAIN.match(group):
        out.append(
            field_invalid(
                "spec.group",
                group,
                "a lowercase RFC 1123 subdomain must consist of lower case "
                "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
                "character",
            )
        )
    annotations = as_object(as_object(crd.get("metadata")).get("annotations"))
    if _protected(group) and not annotations.get("api-approved.kubernetes.io"):
        out.append(
            field_required(
                "metadata.annotations[api-approved.kubernetes.io]",
                'protected groups must have approval annotation "api-approved.kubernetes.io", '
                "see https://github.com/kubernetes/enhancements/pull/1111",
            )
        )
    scope = spec.get("scope")
    if not scope:
        out.append(field_required("spec.scope"))
    elif scope not in ("Cluster", "Namespaced"):
        out.append(field_not_supported("spec.scope", scope, ["Cluster", "Namespaced"]))
    out += _names(names, "spec.names")
    out += _versions(spec.get("versions"))
    return out + conversion_causes(spec)


def _protected(group: str) -> bool:
    """kube reserves the k8s.io and kubernetes.io groups for approved APIs."""
    return any(group == d or group.endswith("." + d) for d in ("k8s.io", "kubernetes.io"))


def validate_crd_update(new: Obj, old: Obj) -> list[Cause]:
    out: list[Cause] = []
    for path in ("group", "scope"):
        a, b = (new.get("spec") or {}).get(path), (old.get("spec") or {}).get(path)
        if a != b:
            out.append(field_invalid(f"spec.{path}", a, "field is immutable"))
    names = {as_object(v).get("name") for v in as_object(new.get("spec")).get("versions") or []}
    for i, stored in enumerate(as_object(new.get("status")).get("storedVersions") or []):
        if stored not in names:  # objects may still be stored in it
            out.append(field_invalid(f"status.storedVersions[{i}]", stored, "must appear in spec.versions"))
    return out


def _names(names: Obj, path: str) -> list[Cause]:
    out: list[Cause] = []
    plural, kind = names.get("plural"), names.get("kind")
    if not plural:
        out.append(field_required(f"{path}.plural"))
    elif not _DNS1123_LABEL.match(str(plural)):
        out.append(field_invalid(f"{path}.plural", plural, _LABEL_MSG))
    singular = names.get("singular")
    if singular and not _DNS1123_LABEL.match(str(singular)):
        out.append(field_invalid(f"{path}.singular", singular, _LABEL_MSG))
    for i, short in enumerate(names.get("shortNames") or []):
        if not _DNS1123_LABEL.match(str(short)):
            out.append(field_invalid(f"{path}.shortNames[{i}]", short, _LABEL_MSG))
    if not kind:
        out.append(field_required(f"{path}.kind"))
    elif not _KIND.match(str(kind)):
        out.append(
            field_invalid(
                f"{path}.kind",
                kind,
                "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?",
            )
        )
    list_kind = names.get("listKind")
    if kind and list_kind == kind:
        out.append(field_invalid(f"{path}.listKind", list_kind, "kind and listKind cannot be the same"))
    for i, cat in enumerate(names.get("categories") or []):
        if not _DNS1123_LABEL.match(str(cat)):
            out.append(field_invalid(f"{path}.categories[{i}]", cat, _LABEL_MSG))
    return out


def _versions(versions: Any) -> list[Cause]:
    if not isinstance(versions, list) or not versions:
        return [
            field_invalid("spec.versions", "[]", "must have exactly one version marked as storage version")
        ]
    out: list[Cause] = []
    seen: set[str] = set()
    storage = served = 0
    hoisted = _hoisted(versions)
    for i, v in enumerate(versions):
        path = f"spec.versions[{i}]"
        if not isinstance(v, dict):
            continue
        name = str(v.get("name") or "")
        if not name:
            out.append(field_required(f"{path}.name"))
        elif not _DNS1035.match(name):
            out.append(field_invalid(f"{path}.name", name, _1035_MSG))
        elif name in seen:
            out.append(field_duplicate(f"{path}.name", name))
        seen.add(name)
        storage += bool(v.get("storage"))
        served += bool(v.get("served"))
        out += _version(v, path, hoisted)
    if storage != 1:
        out.append(
            field_invalid(
                "spec.versions",
                f"{len(versions)} versions",
                "must have exactly one version marked as storage version",
            )
        )
    if served == 0:
        out.append(
            field_invalid(
                "spec.versions",
                f"{len(versions)} versions",
                "must have at least one version marked as served",
            )
        )
    return out


def _hoisted(versions: list[Any]) -> set[str]:
    """The per-version fields kube's conversion to its internal CRD moves to the spec because every
    version has the same (schema, subresources, additionalPrinterColumns): its errors then
    name `spec.validation.openAPIV3Schema`, `spec.subresources`, `spec.additionalPrinterColumns`."""
    out = set()
    for key in ("schema", "subresources", "additionalPrinterColumns"):
        values = [as_object(v).get(key) for v in versions]
        if all(x is not None and x == values[0] for x in values):
            out.add(key)
    return out


def _version(v: Obj, path: str, hoisted: Collection[str] = ()) -> list[Cause]:
    """One version's errors; what is hoisted is said once, with the first version."""
    out: list[Cause] = []
    said = hoisted if path != "spec.versions[0]" else ()
    schema = (v.get("schema") or {}).get("openAPIV3Schema") if isinstance(v.get("schema"), dict) else None
    spath = "spec.validation.openAPIV3Schema" if "schema" in hoisted else f"{path}.schema.openAPIV3Schema"
    if "schema" in said:
        pass
    elif not isinstance(schema, dict):
        out.append(field_required(spath, "schemas are required"))
    else:
        root_type = schema.get("type")
        if not root_type:
            out.append(field_required(f"{spath}.type", "must not be empty at the root"))
        elif root_type != "object":
            out.append(field_invalid(f"{spath}.type", root_type, "must be object at the root"))
        out += structural(schema, spath, root=True)
        out += rule_causes(schema, spath)
        meta = as_object(schema.get("properties")).get("metadata")
        if isinstance(meta, dict) and set(as_object(meta.get("properties"))) - {"name", "generateName"}:
            out.append(
                {
                    "reason": "FieldValueForbidden",
                    "field": f"{spath}.properties[metadata]",
                    "message": "Forbidden: must not specify anything other than name and generateName, but "
                    "metadata is implicitly specified",
                }
            )
    for i, col in enumerate(
        [] if "additionalPrinterColumns" in said else v.get("additionalPrinterColumns") or []
    ):
        cpath = f"{'spec' if 'additionalPrinterColumns' in hoisted else path}.additionalPrinterColumns[{i}]"
        if not isinstance(col, dict):
            continue
        if not col.get("name"):
            out.append(field_required(f"{cpath}.name"))
        if col.get("type") not in _COLUMN_TYPES:
            out.append(field_not_supported(f"{cpath}.type", col.get("type"), _COLUMN_TYPES))
        if not col.get("jsonPath"):
            out.append(field_required(f"{cpath}.jsonPath"))
    scale = (v.get("subresources") or {}).get("scale") if isinstance(v.get("subresources"), dict) else None
    if isinstance(scale, dict) and "subresources" not in said:
        spath = f"{'spec' if 'subresources' in hoisted else path}.subresources.scale"
        for key, under in (
            ("specReplicasPath", (".spec.",)),
            ("statusReplicasPath", (".status.",)),
            ("labelSelectorPath", (".spec.", ".status.")),
        ):
            p = scale.get(key)
            if not p:
                if key != "labelSelectorPath":
                    out.append(field_required(f"{spath}.{key}"))
            elif not str(p).startswith(under):
                where = " or ".join(u.rstrip(".") for u in under)
                out.append(field_invalid(f"{spath}.{key}", p, f"should be a json path under {where}"))
    return out


def structural(s: Obj, path: str, root: bool = False) -> list[Cause]:
    """kube's structural schema rules that matter here: a known `type` on every specified field."""
    out: list[Cause] = []
    for key, value in s.items():
        want = _KEYWORD_TYPES.get(key)
        if (
            want is not None
            and value is not None
            and (not isinstance(value, want) or (isinstance(value, bool) and bool not in want))
        ):
            names = "number" if want == (int, float) else " or ".join(_TYPE_NAMES[t] for t in want)
            out.append(field_invalid(f"{path}.{key}", value, f"must be of type {names}"))
    if out:
        return out
    t = s.get("type")
    if "$ref" in s:
        out.append(
            {
                "reason": "FieldValueForbidden",
                "field": f"{path}.$ref",
                "message": "Forbidden: $ref is not supported",
            }
        )
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        out.append(
            field_invalid(f"{path}.x-kubernetes-preserve-unknown-fields", False, "must be true or undefined")
        )
    if t and t not in _SCHEMA_TYPES:
        out.append(field_not_supported(f"{path}.type", t, sorted(_SCHEMA_TYPES)))
    props = s.get("properties")
    if isinstance(props, dict):
        for key, sub in props.items():
            out += _field(sub, f"{path}.properties[{key}]")
    items = s.get("items")
    if isinstance(items, dict):
        out += _field(items, f"{path}.items")
    elif t == "array":
        out.append(field_required(f"{path}.items", "must be specified"))
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out += _field(extra, f"{path}.additionalProperties")
        if isinstance(props, dict) and props:
            out.append(
                field_invalid(
                    f"{path}.additionalProperties",
                    "...",
                    "additionalProperties and properties are mutual exclusive",
                )
            )
    return out


def _field(s: Any, path: str) -> list[Cause]:
    if not isinstance(s, dict):
        return [field_invalid(path, s, "must be a schema object")]
    out: list[Cause] = []
    if (
        not s.get("type")
        and not s.get("x-kubernetes-int-or-string")
        and not s.get("x-kubernetes-preserve-unknown-fields")
    ):
        out.append(field_required(f"{path}.type", "must not be empty for specified object fields"))
    return out + structural(s, path)


def unknown_schema_fields(crd: Obj) -> list[str]:
    """Dotted paths of the keys in the versions' schemas that JSONSchemaProps does not have (what
    kube's typed decoding of a CRD reports as unknown fields)."""
    out: list[str] = []
    for i, v in enumerate(as_object(crd.get("spec")).get("versions") or []):
        schema = as_object(as_object(as_object(v).get("schema")).get("openAPIV3Schema"))
        _unknown_keywords(schema, f"spec.versions[{i}].schema.openAPIV3Schema", out)
    return out


def _unknown_keywords(s: Obj, path: str, out: list[str]) -> None:
    for key, value in s.items():
        if key not in SCHEMA_KEYWORDS:
            out.append(f"{path}.{key}")
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                if isinstance(sub, dict):
                    _unknown_keywords(sub, f"{path}.{key}.{name}", out)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            for j, sub in enumerate(value):
                if isinstance(sub, dict):
                    _unknown_keywords(sub, f"{path}.{key}[{j}]", out)
        elif key in ("items", "not", "additionalProperties", "additionalItems") and isinstance(value, dict):
            _unknown_keywords(value, f"{path}.{key}", out)
