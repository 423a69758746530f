"""Field ownership (`metadata.managedFields`, FieldsV1) for server-side apply.

A field set is kept in the wire's FieldsV1 shape: nested dicts whose keys are `f:<field>`,
`k:<json of the merge key>` (an element of a keyed list), `v:<json value>` (an element of a set
list) and `.` (the element itself); leaves are `{}`. Internally sets are flattened to tuples of
those keys (`leaves`), which makes union, difference and conflict checks plain set algebra.

Which fields are owned is read from the object through the schema: keyed lists (containers by
name ...) are owned per element, set lists per value, atomic lists and scalars as a whole.
Identity and bookkeeping fields (kind, apiVersion, metadata.name/namespace/uid/resourceVersion/
generation/creationTimestamp/managedFields, status) are never owned, as in kube-apiserver.
"""

from __future__ import annotations

from typing import Any

from api.jsonutil import dumps, loads
from apiserver.schema import Spec

Path = tuple[str, ...]
_UNOWNED_TOP = frozenset({"kind", "apiVersion", "status"})
# The metadata the server keeps whatever a manager sends (an applied body's copies are dropped).
SERVER_META = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
)
_UNOWNED_META = frozenset({*SERVER_META, "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"})


def child_spec(spec: Spec | None, key: str) -> Spec | None:
    """The schema of field (struct) or value (map) `key` below `spec`; None = unknown."""
    if spec is None:
        return None
    if spec.form == "struct":
        return spec.fields.get(key)
    if spec.form == "map":
        return spec.elem
    return None


def element_key(item: dict[str, Any], spec: Spec) -> str:
    """`k:{"containerPort":53,"protocol":"UDP"}`: a keyed list's element by its identity."""
    return "k:" + dumps(spec.element_id(item)).decode()


def _is_element(x: Any, want: dict[str, Any], spec: Spec | None) -> bool:
    if not isinstance(x, dict):
        return False
    if spec is not None and spec.form == "list" and spec.list_keys:
        ident = spec.element_id(x)  # keys unset in `x` take their defaults
        return all(ident.get(k, x.get(k)) == v for k, v in want.items())
    return all(x.get(k) == v for k, v in want.items())


def value_key(value: Any) -> str:
    return "v:" + dumps(value).decode()


def leaves_of(obj: Any, spec: Spec | None, top: bool = True) -> set[Path]:
    """The leaf paths a manager owns when it sets `obj`."""
    out: set[Path] = set()
    _collect(obj, spec, (), out, top)
    return out


def _collect(value: Any, spec: Spec | None, path: Path, out: set[Path], top: bool = False) -> None:
    if (
        isinstance(value, dict)
        and (spec is None or spec.form in ("struct", "map"))
        and not (spec is not None and spec.free_form)
    ):
        if not value and path:
            out.add(path)
        for k, v in value.items():
            if top and k in _UNOWNED_TOP:
                continue
            if path == ("f:metadata",) and k in _UNOWNED_META:
                continue
            _collect(v, child_spec(spec, k), (*path, f"f:{k}"), out)
        return
    if isinstance(value, list) and spec is not None and spec.form == "list":
        if spec.merge_key and all(isinstance(v, dict) for v in value):
            for item in value:
                at = (*path, element_key(item, spec))
                out.add((*at, "."))
                for k, v in item.items():
                    _collect(v, child_spec(spec.elem, k), (*at, f"f:{k}"), out)
            return
        if spec.set_merge:
            for item in value:
                out.add((*path, value_key(item)))
            return
    if path:
        out.add(path)


def to_fields_v1(leaves: set[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(leaves):
        node = root
        for token in path:
            node = node.setdefault(token, {})
    return root


def from_fields_v1(fields: Any, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    if not isinstance(fields, dict):
        return out
    for k, v in fields.items():
        if isinstance(v, dict) and v:
            out |= from_fields_v1(v, (*prefix, k))
        else:
            out.add((*prefix, k))
    return out


def lookup(obj: Any, path: Path, spec: Spec | None = None) -> tuple[bool, Any]:
    """The value at a field path (`(False, None)` when absent). With the object's `spec`, a list
    element is found by its keys' defaults too (a port sent without `protocol` is the TCP one)."""
    node = obj
    for token in path:
        if token == ".":
            continue
        if token.startswith("f:"):
            if not isinstance(node, dict) or token[2:] not in node:
                return False, None
            node = node[token[2:]]
            spec = child_spec(spec, token[2:])
        elif token.startswith("k:"):
            want = loads(token[2:])
            if not isinstance(node, list):
                return False, None
            node = next((x for x in node if _is_element(x, want, spec)), _MISSING)
            if node is _MISSING:
                return False, None
            spec = spec.elem if spec is not None else None
        elif token.startswith("v:"):
            want = loads(token[2:])
            if not isinstance(node, list) or want not in node:
                return False, None
            node = want
            spec = None
        else:
            return False, None
    return True, node


_MISSING = object()


def _spec_at(spec: Spec | None, path: Path) -> Spec | None:
    for token in path:
        if spec is None:
            return None
        if token.startswith("f:"):
            spec = child_spec(spec, token[2:])
        elif token.startswith("k:"):
            spec = spec.elem if spec.form == "list" else None
        elif token != ".":
            return None
    return spec


def remove(obj: Any, path: Path, spec: Spec | None = None) -> None:
    """Delete the field, list element or set value at `path` (no-op when absent); `spec` as for
    `lookup`."""
    if path and path[-1] == ".":
        path = path[:-1]
    if not path:
        return
    found, parent = lookup(obj, path[:-1], spec)
    if not found:
        return
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith("k:") and isinstance(parent, list):
        want = loads(last[2:])
        list_spec = _spec_at(spec, path[:-1])
        parent[:] = [x for x in parent if not _is_element(x, want, list_spec)]
    elif last.startswith("v:") and isinstance(parent, list):
        value = loads(last[2:])
        parent[:] = [x for x in parent if x != value]


def render(path: Path) -> str:
    """`.spec.containers[name="web"].image`, as conflict messages print field paths."""
    out = ""
    for token in path:
        if token.startswith("f:"):
            out += "." + token[2:]
        elif token.startswith("k:"):
            out += "[" + ",".join(f"{k}={dumps(v).decode()}" for k, v in loads(token[2:]).items()) + "]"
        elif token.startswith("v:"):
            out += f"[={token[2:]}]"
    return out
