"""kubectl's JSONPath templates (`-o jsonpath=`, `custom-columns`, `--sort-by`).

The dialect of k8s.io/client-go/util/jsonpath: text with `{...}` actions; an action is a path
(`.items[*].metadata.name`, `['a.b/c']`, `[0]`, `[-1]`, `[1:3]`, `..name`, `[?(@.type=="Ready")]`),
a quoted literal (`{"\\n"}`), or `range PATH` ... `end`. Several results of one action print
space-separated; maps and lists print as JSON; missing keys print nothing (kubectl's default
`--allow-missing-template-keys=true`).
"""

from __future__ import annotations

import re
from typing import Any

from api import jsonutil


class JSONPathError(Exception):
    pass


_MISSING = object()


def _split_path(path: str) -> list[tuple[str, Any]]:
    """Steps of a path: ("key", name), ("recurse", name), ("all", None), ("index", i),
    ("slice", (a, b)), ("filter", (lhs_path, op, rhs))."""
    steps: list[tuple[str, Any]] = []
    i, n = 0, len(path)
    if path.startswith("$"):
        i = 1
    while i < n:
        c = path[i]
        if c == ".":
            recurse = path.startswith("..", i)
            i += 2 if recurse else 1
            j = i
            name = []
            while j < n and path[j] not in ".[":
                if path[j] == "\\" and j + 1 < n:
                    j += 1
                name.append(path[j])
                j += 1
            key = "".join(name)
            if key == "*":
                steps.append(("all", None))
            elif key:
                steps.append(("recurse" if recurse else "key", key))
            i = j
        elif c == "[":
            j = _closing(path, i)
            inner = path[i + 1 : j].strip()
            i = j + 1
            if inner == "*":
                steps.append(("all", None))
            elif inner.startswith("?(") and inner.endswith(")"):
                steps.append(("filter", _parse_filter(inner[2:-1])))
            elif inner[:1] in "'\"":
                steps.append(("key", inner[1:-1]))
            elif ":" in inner:
                a, _, b = inner.partition(":")
                steps.append(
                    ("slice", (int(a) if a.strip() else None, int(b.split(":")[0]) if b.strip() else None))
                )
            else:
                try:
                    steps.append(("index", int(inner)))
                except ValueError:
                    raise JSONPathError(f"invalid array index {inner}") from None
        else:
            # a bare first key: `metadata.name`
            j = i
            while j < n and path[j] not in ".[":
                j += 1
            steps.append(("key", path[i:j]))
            i = j
    return steps


def _closing(path: str, i: int) -> int:
    j = _matching(path, i, "[]", escapes=False)
    if j < 0:
        raise JSONPathError(f"unclosed [ in {path}")
    return j


def _matching(text: str, i: int, pair: str, escapes: bool) -> int:
    """The index of the closer of `pair` (`"[]"`, `"{}"`) matching the opener at `i`, quoted text
    skipped (with `escapes`, a backslash in quotes takes the next character with it); -1 if none."""
    opener, closer = pair[0], pair[1]
    depth, quote, k = 0, "", i
    while k < len(text):
        ch = text[k]
        if quote:
            if escapes and ch == "\\":
                k += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return k
        k += 1
    return -1


_FILTER = re.compile(r"^\s*(@[^=!<>\s]*)\s*(==|!=|<=|>=|<|>)?\s*(.*?)\s*$")


def _parse_filter(expr: str) -> tuple[list[tuple[str, Any]], str, Any]:
    m = _FILTER.match(expr)
    if not m:
        raise JSONPathError(f"unrecognized filter {expr}")
    lhs, op, rhs = m.group(1)[1:], m.group(2) or "", m.group(3)
    value: Any = None
    if op:
        if rhs[:1] in "'\"":
            value = rhs[1:-1]
        else:
            try:
                value = jsonutil.loads(rhs)
            except jsonutil.JSONDecodeError:
                value = rhs
    return _split_path(lhs), op, value


def _recurse(v: Any, key: str, out: list[Any]) -> None:
    if isinstance(v, dict):
        if key in v:
            out.append(v[key])
        for x in v.values():
            _recurse(x, key, out)
    elif isinstance(v, list):
        for x in v:
            _recurse(x, key, out)


def _compare(a: Any, op: str, b: Any) -> bool:
    if not op:
        return a is not _MISSING and a is not None
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    import operator

    try:
        return bool({"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}[op](a, b))
    except TypeError:
        return False


def evaluate(path: str, data: Any) -> list[Any]:
    """All values a path selects in data (missing keys select nothing)."""
    cur = [data]
    for kind, arg in _split_path(path.strip()):
        nxt: list[Any] = []
        for v in cur:
            if kind == "key":
                if isinstance(v, dict) and arg in v:
                    nxt.append(v[arg])
            elif kind == "recurse":
                _recurse(v, arg, nxt)
            elif kind == "all":
                if isinstance(v, list):
                    nxt += v
                elif isinstance(v, dict):
                    nxt += list(v.values())
            elif kind == "index":
                if isinstance(v, list) and -len(v) <= arg < len(v):
                    nxt.append(v[arg])
            elif kind == "slice":
                if isinstance(v, list):
                    nxt += v[arg[0] : arg[1]]
            elif kind == "filter":
                lhs, op, rhs = arg
                for item in v if isinstance(v, list) else [v]:
                    got = _follow(lhs, item)
                    if _compare(got, op, rhs):
                        nxt.append(item)
        cur = nxt
    return cur


def _follow(steps: list[tuple[str, Any]], item: Any) -> Any:
    v = item
    for kind, arg in steps:
        if (kind == "key" and isinstance(v, dict) and arg in v) or (
            kind == "index" and isinstance(v, list) and -len(v) <= arg < len(v)
        ):
            v = v[arg]
        else:
            return _MISSING
    return v


def text_of(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    if isinstance(v, dict | list):
        return jsonutil.dumps(v).decode()
    return str(v)


_LITERAL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def _unquote(s: str) -> str:
    body = s[1:-1]
    return re.sub(r"\\(.)", lambda m: _LITERAL_ESCAPES.get(m.group(1), m.group(1)), body)


def _tokens(template: str) -> list[tuple[str, str]]:
    """("text", t) and ("action", a) pieces of a template."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(template):
        j = template.find("{", i)
        if j < 0:
            out.append(("text", template[i:]))
            break
        if j > i:
            out.append(("text", template[i:j]))
        k = _matching(template, j, "{}", escapes=True)
        if k < 0:
            raise JSONPathError(f"unclosed action in {template!r}")
        out.append(("action", template[j + 1 : k].strip()))
        i = k + 1
    return out


def render(template: str, data: Any) -> str:
    toks = _tokens(template)
    out: list[str] = []
    _run(toks, 0, len(toks), data, out)
    return "".join(out)


def _range_end(toks: list[tuple[str, str]], start: int) -> int:
    depth = 0
    for k in range(start, len(toks)):
        kind, t = toks[k]
        if kind == "action" and t.startswith("range "):
            depth += 1
        elif kind == "action" and t == "end":
            if depth == 0:
                return k
            depth -= 1
    raise JSONPathError("not in range, nothing to end")


def _run(toks: list[tuple[str, str]], start: int, stop: int, data: Any, out: list[str]) -> None:
    i = start
    while i < stop:
        kind, t = toks[i]
        if kind == "text":
            out.append(t)
        elif t.startswith("range "):
            end = _range_end(toks, i + 1)
            for v in evaluate(t[6:], data):
                items = v if isinstance(v, list) else [v]
                for item in items:
                    _run(toks, i + 1, end, item, out)
            i = end
        elif t[:1] in "'\"":
            out.append(_unquote(t))
        elif t == "end":
            raise JSONPathError("not in range, nothing to end")
        else:
            out.append(" ".join(text_of(v) for v in evaluate(t, data)))
        i += 1


def relaxed(expr: str) -> str:
    """RelaxedJSONPathExpression: `{.a.b}`, `.a.b` and `a.b` all mean the path `.a.b`."""
    e = expr.strip()
    if e.startswith("{") and e.endswith("}"):
        e = e[1:-1]
    if e and e[0] not in ".[$":
        e = "." + e
    return e
