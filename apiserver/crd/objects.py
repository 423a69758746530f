"""A custom resource against its version's `openAPIV3Schema`: validation, defaults, pruning (pure).

kube-apiserver decodes a custom resource as unstructured JSON, drops the fields the structural
schema does not declare (pruning; `fieldValidation=Strict` turns them into a 400), fills
`default`s, and validates with kube-openapi, whose errors it words through `field.Error`:

    spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"
    spec.cronSpec: Required value
    spec.size: Unsupported value: "XL": supported values: "S", "M"

The value a type error shows is the JSON type name of what was sent (kube-openapi's `InvalidType`
carries the type, not the value). Paths are dotted, list items `[i]`. The value validations
under anyOf, oneOf, allOf and not are held as kube-openapi holds them, with its messages, which
name no field: `<nil>: Invalid value: "": "spec.source" must validate one and only one schema
(oneOf). Found 2 valid alternatives` (the snapshot controller's VolumeSnapshot source).
Keys kept at the root whatever the schema says: apiVersion, kind, metadata; of metadata, what the
schema says of `name` and `generateName` (the only fields of it a CRD may restrict, e.g.
gatekeeper's `maxLength: 63`) is validated, as kube validates the whole object. A string's
`format` is checked as kube-openapi's registry checks it (`crd.formats`):
`spec.addresses[0].value: Invalid value: "x": spec.addresses[0].value in body must be of type ipv4: "x"`.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any

from api.errors import Cause, field_invalid, field_not_supported, field_required
from api.jsonutil import as_object
from apiserver.crd import listtype
from apiserver.crd.formats import checked, format_error

Schema = dict[str, Any]
_ROOT_KEPT = ("apiVersion", "kind", "metadata")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _go_number(n: Any) -> str:
    return str(int(n)) if isinstance(n, float) and n.is_integer() else str(n)


def _type_ok(want: str, value: Any, int_or_string: bool) -> bool:
    got = _json_type(value)
    if int_or_string:
        return got in ("integer", "string")
    if want == "number":
        return got in ("integer", "number")
    return got == want


def validate(schema: Schema | None, obj: Any) -> list[Cause]:
    """Causes for `obj` against a version's schema (None: anything goes)."""
    out: list[Cause] = []
    if schema:
        body = {k: v for k, v in obj.items() if k not in _ROOT_KEPT} if isinstance(obj, dict) else obj
        _check(schema, body, "", out, root=True)
        if isinstance(obj, dict):
            _check_metadata(schema, as_object(obj.get("metadata")), out)
        out.extend(listtype.violations(schema, body))
    return out


def _check_metadata(schema: Schema, meta: dict[str, Any], out: list[Cause]) -> None:
    restricted = as_object(as_object(as_object(schema.get("properties")).get("metadata")).get("properties"))
    for key in ("name", "generateName"):
        sub = restricted.get(key)
        if isinstance(sub, dict) and key in meta:
            _check(sub, meta[key], f"metadata.{key}", out)


def _check(s: Schema, v: Any, path: str, out: list[Cause], root: bool = False) -> None:
    if v is None:
        if not s.get("nullable") and s.get("type") and not root:
            out.append(_type_cause(s, v, path))
        return
    want = s.get("type")
    int_or_string = bool(s.get("x-kubernetes-int-or-string"))
    if (want or int_or_string) and not _type_ok(want or "", v, int_or_string):
        out.append(_type_cause(s, v, path))
        return
    if "enum" in s and isinstance(s["enum"], list) and v not in s["enum"]:
        out.append(
            field_not_supported(path, v, [e if isinstance(e, str) else _go_json(e) for e in s["enum"]])
        )
    name = path or "body"
    if isinstance(v, bool):
        pass
    elif isinstance(v, (int, float)):
        _check_number(s, v, path, name, out)
    elif isinstance(v, str):
        _check_string(s, v, path, name, out)
    elif isinstance(v, list):
        _check_array(s, v, path, name, out)
    elif isinstance(v, dict):
        _check_object(s, v, path, name, out, root)
    _check_composition(s, v, path, out)


def _branch(sub: Any, v: Any, path: str) -> list[Cause]:
    """The causes of `v` against one alternative of anyOf/oneOf/allOf/not (none: it validates)."""
    found: list[Cause] = []
    if isinstance(sub, dict):
        _check(sub, v, path, found)
    return found


def _check_composition(s: Schema, v: Any, path: str, out: list[Cause]) -> None:
    """anyOf, oneOf, allOf and not, in kube-openapi's order and words. Its messages name no
    field (kube words them `<nil>: Invalid value: "": "spec.x" must validate ...`); a failed
    anyOf or oneOf brings the causes of its closest alternative (`_closest`), a failed allOf
    those of every branch."""
    where = f'"{path}"'
    any_of = [b for b in s.get("anyOf") or [] if isinstance(b, dict)]
    if any_of:
        results = [_branch(b, v, path) for b in any_of]
        if all(results):
            out.append(_composition_cause(f"{where} must validate at least one schema (anyOf)"))
            out += _closest(any_of, results, v)
    one_of = [b for b in s.get("oneOf") or [] if isinstance(b, dict)]
    if one_of:
        results = [_branch(b, v, path) for b in one_of]
        valid = sum(1 for r in results if not r)
        if valid != 1:
            found = "Found none valid" if valid == 0 else f"Found {valid} valid alternatives"
            out.append(_composition_cause(f"{where} must validate one and only one schema (oneOf). {found}"))
            if valid == 0:
                out += _closest(one_of, results, v)
    all_of = [b for b in s.get("allOf") or [] if isinstance(b, dict)]
    if all_of:
        results = [_branch(b, v, path) for b in all_of]
        for r in results:
            out += r
        valid = sum(1 for r in results if not r)
        if valid != len(all_of):
            none = ". None validated" if valid == 0 else ""
            out.append(_composition_cause(f"{where} must validate all the schemas (allOf){none}"))
    not_ = s.get("not")
    if isinstance(not_, dict) and not _branch(not_, v, path):
        out.append(_composition_cause(f"{where} must not validate the schema (not)"))


def _closest(branches: list[Schema], results: list[list[Cause]], v: Any) -> list[Cause]:
    """The causes of the alternative kube-openapi reports: the one with the most properties of
    `v` it validates (its MatchCount), the first of those tied (Gateway's `anyOf` of ipv4 and ipv6
    formats reports ipv4)."""

    def matched(branch: Schema) -> int:
        props = as_object(branch.get("properties"))
        if not isinstance(v, dict):
            return 0
        return sum(
            1 for k, sub in props.items() if k in v and isinstance(sub, dict) and not _branch(sub, v[k], "")
        )

    best = max(range(len(results)), key=lambda i: (matched(branches[i]), -i))
    return results[best]


def _composition_cause(message: str) -> Cause:
    return field_invalid("<nil>", "", message)


def _type_cause(s: Schema, v: Any, path: str) -> Cause:
    want = "integer,string" if s.get("x-kubernetes-int-or-string") else str(s.get("type"))
    got = _json_type(v)
    return {
        "reason": "FieldValueTypeInvalid",
        "field": path,
        "message": f'Invalid value: "{got}": {path or "body"} in body must be of type {want}: "{got}"',
    }


def _go_json(v: Any) -> str:
    import json

    return json.dumps(v, separators=(",", ":"))


def _check_number(s: Schema, v: float, path: str, name: str, out: list[Cause]) -> None:
    hi, lo = s.get("maximum"), s.get("minimum")
    if isinstance(hi, (int, float)):
        if s.get("exclusiveMaximum") and v >= hi:
            out.append(field_invalid(path, v, f"{name} in body should be less than {_go_number(hi)}"))
        elif v > hi:
            out.append(
                field_invalid(path, v, f"{name} in body should be less than or equal to {_go_number(hi)}")
            )
    if isinstance(lo, (int, float)):
        if s.get("exclusiveMinimum") and v <= lo:
            out.append(field_invalid(path, v, f"{name} in body should be greater than {_go_number(lo)}"))
        elif v < lo:
            out.append(
                field_invalid(path, v, f"{name} in body should be greater than or equal to {_go_number(lo)}")
            )
    m = s.get("multipleOf")
    if isinstance(m, (int, float)) and m > 0 and (v / m) != int(v / m):
        out.append(field_invalid(path, v, f"{name} in body should be a multiple of {_go_number(m)}"))


def _check_string(s: Schema, v: str, path: str, name: str, out: list[Cause]) -> None:
    hi, lo = s.get("maxLength"), s.get("minLength")
    if isinstance(hi, int) and len(v) > hi:
        unit = "byte" if hi == 1 else "bytes"
        out.append(
            {
                "reason": "FieldValueTooLong",
                "field": path,
                "message": f"Too long: may not be more than {hi} {unit}",
            }
        )
    if isinstance(lo, int) and len(v) < lo:
        out.append(field_invalid(path, v, f"{name} in body should be at least {lo} chars long"))
    pattern = s.get("pattern")
    if isinstance(pattern, str):
        rx = _regex(pattern)
        if rx is not None and rx.search(v) is None:
            out.append(field_invalid(path, v, f"{name} in body should match '{pattern}'"))
    fmt = s.get("format")
    problem = format_error(fmt, v, path) if isinstance(fmt, str) and checked(s.get("type"), fmt) else None
    if problem:
        out.append(field_invalid(path, v, problem))


def _check_size(
    v: list[Any] | dict[str, Any], hi: Any, lo: Any, unit: str, path: str, name: str, out: list[Cause]
) -> None:
    """maxItems/minItems of an array, maxProperties/minProperties of an object (kube words the
    maximum in items for both)."""
    if isinstance(hi, int) and len(v) > hi:
        out.append(
            {
                "reason": "FieldValueTooMany",
                "field": path,
                "message": f"Too many: {len(v)}: must have at most {hi} items",
            }
        )
    if isinstance(lo, int) and len(v) < lo:
        out.append(field_invalid(path, _go_value(v), f"{name} in body should have at least {lo} {unit}"))


def _check_array(s: Schema, v: list[Any], path: str, name: str, out: list[Cause]) -> None:
    _check_size(v, s.get("maxItems"), s.get("minItems"), "items", path, name, out)
    if s.get("uniqueItems"):
        seen = [_go_json(x) for x in v]
        if len(set(seen)) != len(seen):
            out.append(field_invalid(path, _go_value(v), f"{name} in body shouldn't contain duplicates"))
    items = s.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(v):
            _check(items, item, f"{path}[{i}]", out)


def _check_object(s: Schema, v: dict[str, Any], path: str, name: str, out: list[Cause], root: bool) -> None:
    props = as_object(s.get("properties"))
    for req in s.get("required") or []:
        if req not in v and not (root and req in _ROOT_KEPT):
            out.append(field_required(_join(path, str(req))))
    _check_size(v, s.get("maxProperties"), s.get("minProperties"), "properties", path, name, out)
    extra = s.get("additionalProperties")
    for key, value in v.items():
        sub = props.get(key)
        if isinstance(sub, dict):
            _check(sub, value, _join(path, key), out)
        elif isinstance(extra, dict):
            _check(extra, value, _join(path, key), out)


def _go_value(v: Any) -> str:
    return _go_json(v)


# --- defaults and pruning ------------------------------------------------------------------------


def apply_defaults(schema: Schema | None, obj: dict[str, Any]) -> None:
    """Fill `default`s of absent fields, in place (kube: after pruning, on every write)."""
    if schema:
        _default(schema, obj)


def _default(s: Schema, v: Any) -> None:
    if isinstance(v, dict):
        props = as_object(s.get("properties"))
        for key, sub in props.items():
            if isinstance(sub, dict) and key not in v and "default" in sub:
                v[key] = copy.deepcopy(sub["default"])
        extra = s.get("additionalProperties")
        for key, value in v.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if isinstance(sub, dict) and value is not None:
                _default(sub, value)
    elif isinstance(v, list) and isinstance(s.get("items"), dict):
        for item in v:
            if item is not None:
                _default(s["items"], item)


def unknown_fields(schema: Schema | None, obj: Any) -> list[str]:
    """Dotted paths of the fields the structural schema does not declare (what pruning drops)."""
    out: list[str] = []
    if schema and isinstance(obj, dict):
        _unknown(schema, {k: v for k, v in obj.items() if k not in _ROOT_KEPT}, "", out)
    return out


def _unknown(s: Schema, v: Any, path: str, out: list[str]) -> None:
    if isinstance(v, dict):
        embedded = bool(s.get("x-kubernetes-embedded-resource"))
        props = as_object(s.get("properties"))
        extra = s.get("additionalProperties")
        keep_all = bool(s.get("x-kubernetes-preserve-unknown-fields")) or extra is True
        for key, value in v.items():
            sub = props.get(key)
            if sub is None and isinstance(extra, dict):
                sub = extra
            if sub is None:
                if not keep_all and not (embedded and key in _ROOT_KEPT):
                    out.append(_join(path, key))
            elif value is not None:
                _unknown(sub, value, _join(path, key), out)
    elif isinstance(v, list) and isinstance(s.get("items"), dict):
        for i, item in enumerate(v):
            if item is not None:
                _unknown(s["items"], item, f"{path}[{i}]", out)


def prune(schema: Schema | None, obj: dict[str, Any]) -> None:
    """Drop the undeclared fields, in place."""
    if schema:
        _prune(schema, obj, root=True)


def _prune(s: Schema, v: Any, root: bool = False) -> None:
    if isinstance(v, dict):
        props = as_object(s.get("properties"))
        extra = s.get("additionalProperties")
        keep_all = bool(s.get("x-kubernetes-preserve-unknown-fields")) or extra is True
        for key in list(v):
            if (root or s.get("x-kubernetes-embedded-resource")) and key in _ROOT_KEPT:
                continue
            sub = props.get(key)
            if sub is None and isinstance(extra, dict):
                sub = extra
            if sub is None:
                if not keep_all:
                    del v[key]
            elif v[key] is not None:
                _prune(sub, v[key])
    elif isinstance(v, list) and isinstance(s.get("items"), dict):
        for item in v:
            if item is not None:
                _prune(s["items"], item)
