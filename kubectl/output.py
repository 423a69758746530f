"""`-o yaml|json|name|jsonpath=|custom-columns=`: objects printed byte-for-byte as kubectl does.

kubectl marshals through Go maps, so keys come out sorted; JSON is indented by 4 spaces with
`<`, `>`, `&` escaped; YAML is go-yaml v2's: sequences flush under their key, strings that would
read as another type double-quoted (`"8080"`, `"2024-01-01T00:00:00Z"`), multi-line strings as
`|` blocks. A small emitter does this without importing PyYAML (start-up time).
"""

from __future__ import annotations

import json
import re
from typing import Any

from kubectl import jsonpath

# --- YAML ------------------------------------------------------------------------------------

_NON_STRING = re.compile(
    r"""^(?:~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE
    |on|On|ON|off|Off|OFF
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+|[-+]?0o[0-7_]+
    |[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
    |\d{4}-\d\d?-\d\d?(?:(?:[Tt]|[ \t]+)\d\d?:\d\d:\d\d(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d\d?(?::\d\d)?))?)?
    |<<|=)$""",
    re.X,
)
_FIRST_INDICATORS = set("#,[]{}&*!|>'\"%@`")


def _plain_ok(s: str) -> bool:
    if not s or s[0] in " \t" or s[-1] in " \t" or s[-1] == ":":
        return False
    if s[0] in _FIRST_INDICATORS:
        return False
    if s[0] in "-?:" and (len(s) == 1 or s[1] in " \t"):
        return False
    if ": " in s or " #" in s or "\t" in s:
        return False
    return all(c.isprintable() for c in s)


def _double(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def yaml_scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else str(int(v))
    s = str(v)
    if not s or _NON_STRING.match(s):  # go-yaml resolves "" as null, so it quotes it: `- ""`
        return _double(s)
    if _plain_ok(s):
        return s
    if all(c.isprintable() for c in s):
        return "'" + s.replace("'", "''") + "'"
    return _double(s)


def _block(s: str, indent: str) -> str:
    chomp = "+" if s.endswith("\n\n") else "" if s.endswith("\n") else "-"
    lines = s.split("\n")
    if s.endswith("\n"):
        lines = lines[:-1]
    body = "".join((indent + line if line else "") + "\n" for line in lines)
    lead = "2" if lines and lines[0].startswith(" ") else ""
    return f"|{lead}{chomp}\n{body}"


def _emit(v: Any, indent: str, out: list[str]) -> None:
    """Emit the body of a map or list at `indent` (the caller wrote the key line)."""
    if isinstance(v, dict):
        for k in sorted(v):
            _emit_entry(f"{indent}{yaml_scalar(k)}:", v[k], indent, out, indent + "  ")
    else:
        for item in v:
            if isinstance(item, dict) and item:
                first = True
                for k in sorted(item):
                    prefix = f"{indent}- " if first else f"{indent}  "
                    _emit_entry(f"{prefix}{yaml_scalar(k)}:", item[k], indent + "  ", out, indent + "    ")
                    first = False
            elif isinstance(item, list) and item:
                sub: list[str] = []
                _emit(item, indent + "  ", sub)
                sub[0] = f"{indent}- " + sub[0][len(indent) + 2 :]
                out += sub
            else:
                _emit_entry(f"{indent}-", item, indent, out, indent + "  ")


def _emit_entry(head: str, value: Any, indent: str, out: list[str], child: str) -> None:
    if isinstance(value, dict) and value:
        out.append(head + "\n")
        _emit(value, child, out)
    elif isinstance(value, list) and value:
        out.append(head + "\n")
        _emit(value, indent, out)  # go-yaml puts a sequence flush under its key
    elif isinstance(value, dict):
        out.append(head + " {}\n")
    elif isinstance(value, list):
        out.append(head + " []\n")
    elif isinstance(value, str) and "\n" in value:
        out.append(head + " " + _block(value, child))
    else:
        out.append(f"{head} {yaml_scalar(value)}\n")


def to_yaml(obj: Any, managed_fields: bool = False) -> str:
    if not managed_fields:
        obj = omit_managed_fields(obj)
    out: list[str] = []
    if isinstance(obj, dict | list) and obj:
        _emit(obj, "", out)
    else:
        out.append(
            ("{}" if isinstance(obj, dict) else "[]" if isinstance(obj, list) else yaml_scalar(obj)) + "\n"
        )
    return "".join(out)


def omit_managed_fields(obj: Any) -> Any:
    """kubectl hides metadata.managedFields in JSON and YAML unless --show-managed-fields."""
    if isinstance(obj, dict):
        if isinstance(obj.get("items"), list):
            return {**obj, "items": [omit_managed_fields(i) for i in obj["items"]]}
        meta = obj.get("metadata")
        if isinstance(meta, dict) and "managedFields" in meta:
            return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    return obj


# --- JSON ------------------------------------------------------------------------------------


def to_json(obj: Any, managed_fields: bool = False, sort_keys: bool = True) -> str:
    """As kubectl prints an object it read unstructured (keys sorted), or a typed one in its given
    (struct field) order with `sort_keys=False`."""
    if not managed_fields:
        obj = omit_managed_fields(obj)
    text = json.dumps(obj, indent=4, sort_keys=sort_keys, ensure_ascii=False)
    # Go's encoding/json escapes these (outside strings they cannot occur)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


# --- name, custom-columns ----------------------------------------------------------------------


def kind_name(obj: dict[str, Any]) -> str:
    """`pod/web`, `replicationcontroller/web` (group-qualified outside the core group)."""
    kind = (obj.get("kind") or "").lower()
    api_version = obj.get("apiVersion") or ""
    if "/" in api_version:
        kind = f"{kind}.{api_version.split('/')[0]}"
    return f"{kind}/{(obj.get('metadata') or {}).get('name', '')}"


def parse_custom_columns(spec: str) -> list[tuple[str, str]]:
    cols = []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        if not sep:
            raise ValueError(f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        cols.append((header, jsonpath.relaxed(path)))
    return cols


def custom_column_cells(cols: list[tuple[str, str]], obj: dict[str, Any]) -> list[str]:
    cells = []
    for _, path in cols:
        values = jsonpath.evaluate(path, obj)
        cells.append(",".join(jsonpath.text_of(v) for v in values) if values else "<none>")
    return cells
