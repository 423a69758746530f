"""JSON patch (RFC 6902), `application/json-patch+json`, with JSON pointers (RFC 6901).

Operations: add, remove, replace, move, copy, test. A malformed patch (not a list, an unknown
`op`, a missing `path`/`from`/`value`) is the client's syntax error: 400. An operation that does
not apply (missing key, index out of range, failed test) is 422, as kube-apiserver answers.
Works in place on a document the caller already copied; returns the new root.
"""

from __future__ import annotations

import copy
from typing import Any

from api.errors import ApiError, bad_request

_OPS = ("add", "remove", "replace", "move", "copy", "test")


def _unprocessable(message: str) -> ApiError:
    return ApiError(422, "Invalid", message)


def parse_pointer(pointer: Any) -> list[str]:
    if not isinstance(pointer, str):
        raise bad_request(f"invalid JSON pointer: {pointer!r}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise bad_request(f'JSON pointer must be empty or start with a "/": {pointer!r}')
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def check_operations(ops: Any) -> list[dict[str, Any]]:
    """Validate the patch's shape before touching the document (400 on any syntax problem)."""
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    for op in ops:
        if not isinstance(op, dict):
            raise bad_request("json: cannot unmarshal non-object into Go value of type jsonpatch.Operation")
        kind = op.get("op")
        if kind not in _OPS:
            raise bad_request(f"Unexpected kind: {kind}")
        parse_pointer(op.get("path"))
        if kind in ("move", "copy"):
            parse_pointer(op.get("from"))
        if kind in ("add", "replace", "test") and "value" not in op:
            raise bad_request(f'missing value for "{kind}" operation at {op.get("path")}')
    return ops


def _index(token: str, size: int, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return size
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise _unprocessable(f"invalid array index: {token!r}")
    i = int(token)
    if i > size or (i == size and not allow_end):
        raise _unprocessable(f"array index out of bounds: {i}")
    return i


def _parent(doc: Any, tokens: list[str], what: str) -> Any:
    node = doc
    for t in tokens[:-1]:
        if isinstance(node, dict):
            if t not in node:
                raise _unprocessable(f"{what} operation does not apply: doc is missing path: {t!r}")
            node = node[t]
        elif isinstance(node, list):
            node = node[_index(t, len(node), allow_end=False)]
        else:
            raise _unprocessable(f"{what} operation does not apply: {t!r} is not a container")
    return node


def _get(doc: Any, tokens: list[str], what: str) -> Any:
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens, what), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _unprocessable(f"{what} operation does not apply: doc is missing key: {last!r}")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(last, len(parent), allow_end=False)]
    raise _unprocessable(f"{what} operation does not apply: {last!r} is not in a container")


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent, last = _parent(doc, tokens, "add"), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(last, len(parent), allow_end=True), value)
    else:
        raise _unprocessable(f"add operation does not apply: {last!r} is not in a container")
    return doc


def _remove(doc: Any, tokens: list[str], what: str = "remove") -> Any:
    if not tokens:
        raise _unprocessable(f"{what} operation does not apply: cannot remove the document root")
    parent, last = _parent(doc, tokens, what), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _unprocessable(f"{what} operation does not apply: doc is missing key: {last!r}")
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(last, len(parent), allow_end=False)]
    else:
        raise _unprocessable(f"{what} operation does not apply: {last!r} is not in a container")
    return doc


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0 but true != 1, objects unordered, arrays ordered."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def json_patch(doc: Any, ops: Any) -> Any:
    for op in check_operations(ops):
        kind, path = op["op"], parse_pointer(op["path"])
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path, "replace")
            if not path:
                doc = copy.deepcopy(op["value"])
            else:
                doc = _add(_remove(doc, path, "replace"), path, copy.deepcopy(op["value"]))
        elif kind == "move":
            source = parse_pointer(op["from"])
            if path[: len(source)] == source and len(path) > len(source):
                raise _unprocessable("move operation does not apply: cannot move a value into itself")
            value = _get(doc, source, "move")
            doc = _add(_remove(doc, source, "move"), path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, parse_pointer(op["from"]), "copy")))
        elif not json_equal(_get(doc, path, "test"), op["value"]):
            raise _unprocessable(f"testing value {op['path']} failed: test failed")
    return doc
