"""An object's lists against their `x-kubernetes-list-type` (pure): kube's listtype validation.

After the schema's own checks, kube refuses an item of a `set` list seen before, or of a `map`
list whose `x-kubernetes-list-map-keys` values were, as a Duplicate at its first repeat:

    spec.vmConfig.env[1]: Duplicate value: map[string]interface {}{"name":"A"}

(Istio's WasmPlugin keys its VM's env by name), the value in Go's %#v as `field.Duplicate` prints
a map; an item of a map list that is no object is Invalid. Atomic lists hold anything.
"""

from __future__ import annotations

import json
from typing import Any

from api.errors import Cause
from api.jsonutil import as_object

Schema = dict[str, Any]


def violations(schema: Schema, body: Any) -> list[Cause]:
    out: list[Cause] = []
    _walk(schema, body, "", out)
    return out


def _walk(s: Schema, v: Any, path: str, out: list[Cause]) -> None:
    if isinstance(v, dict):
        props = as_object(s.get("properties"))
        extra = s.get("additionalProperties")
        for key, value in v.items():
            if key in props:  # a field is a child (`.key`), a map's key a key (`[key]`), as kube paths them
                if isinstance(props[key], dict):
                    _walk(props[key], value, f"{path}.{key}" if path else key, out)
            elif isinstance(extra, dict):
                _walk(extra, value, f"{path}[{key}]", out)
        return
    if not isinstance(v, list):
        return
    list_type = s.get("x-kubernetes-list-type")
    if list_type == "set":
        out.extend(_duplicate(f"{path}[{i}]", v[i]) for i in _repeats(v))
    elif list_type == "map":
        _list_map(s, v, path, out)
    items = s.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(v):
            _walk(items, item, f"{path}[{i}]", out)


def _list_map(s: Schema, v: list[Any], path: str, out: list[Cause]) -> None:
    for i, item in enumerate(v):
        if item is not None and not isinstance(item, dict):
            message = f"Invalid value: {_shown(item)}: must be an object for an array of list-type map"
            out.append({"reason": "FieldValueInvalid", "message": message, "field": f"{path}[{i}]"})
            return
    names = [str(k) for k in s.get("x-kubernetes-list-map-keys") or []]
    keys = [{n: item[n] for n in names if n in item} if isinstance(item, dict) else {} for item in v]
    out.extend(_duplicate(f"{path}[{i}]", keys[i]) for i in _repeats(keys))


def _repeats(values: list[Any]) -> list[int]:
    """The index of each value's first repeat (kube reports a value once however often it repeats;
    1 and true, 1 and "1" are different values)."""
    seen: dict[str, int] = {}
    found: list[int] = []
    for i, value in enumerate(values):
        text = type(value).__name__ + json.dumps(value, separators=(",", ":"), sort_keys=True)
        seen[text] = seen.get(text, 0) + 1
        if seen[text] == 2:
            found.append(i)
    return found


def _duplicate(path: str, value: Any) -> Cause:
    return {"reason": "FieldValueDuplicate", "message": f"Duplicate value: {_shown(value)}", "field": path}


def _shown(value: Any) -> str:
    """A field error's value as kube prints it: null, a number or boolean as is, a string quoted,
    anything else in Go's %#v."""
    return "null" if value is None else _go_syntax(value)


def _go_syntax(v: Any) -> str:
    """Go's %#v of a decoded JSON value (a map's keys sorted, as fmt prints them)."""
    if v is None:
        return "interface {}(nil)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[]interface {}{" + ", ".join(_go_syntax(x) for x in v) + "}"
    if isinstance(v, dict):
        inner = ", ".join(f"{json.dumps(k, ensure_ascii=False)}:{_go_syntax(v[k])}" for k in sorted(v))
        return "map[string]interface {}{" + inner + "}"
    return str(v)
