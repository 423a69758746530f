"""CEL's optional syntax rewritten into calls cel-python's grammar parses, with the way back.

Kubernetes enables cel-go's optional types for CRD rules, policies and matchConditions (1.29+),
and real policies use their syntax: `c.?securityContext.?runAsNonRoot.orValue(false)`,
`object.metadata.?labels[?'app']`. cel-python's lark grammar has neither `.?` nor `[?`, so before
celpy parses an expression this module rewrites each optional form into a call that
`apiserver.cel.optional` gives its meaning:

    x.?f          ->  x._opt_select("f")
    x[?k]         ->  x._opt_index(k)
    [a, ?b]       ->  _opt_list([a, _opt_elem(b)])
    {?k: v, ...}  ->  _opt_map({k: _opt_elem(v), ...})

The rewrite works on a real tokenization of the text (string literals in every form: quotes,
triple quotes, raw and bytes prefixes; and `//` comments are skipped whole), so `'a.?b'` stays a
string. `Rewritten.original` maps an offset in the rewritten text back to the user's text, so a
syntax error or a reference found in celpy's tree is placed where the user wrote it. A text with
no `?` at all is returned as it is, after one substring test.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""(?P<space>\s+|//[^\n]*)
    |(?P<string>(?:[rR][bB]?|[bB][rR])(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"[^"\n]*"|'[^'\n]*')
      |[bB]?(?:\"\"\"(?:\\[\s\S]|[^\\])*?\"\"\"|'''(?:\\[\s\S]|[^\\])*?'''
      |"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
    |(?P<number>0[xX][0-9a-fA-F]+[uU]?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?)
    |(?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
    |(?P<punct>[\s\S])""",
    re.X,
)
_CLOSERS = {")": "(", "]": "[", "}": "{"}
OPT_CALLS = ("_opt_select", "_opt_index")


class OptionalSyntaxError(Exception):
    """Optional syntax cel-go refuses too (`x.?f(...)`); `offset` is where, in the user's text."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    def ends_operand(self) -> bool:
        """Whether a `[` or `{` after this token indexes or builds on it (else it opens a literal)."""
        if self.kind == "ident":
            return self.text != "in"
        return self.kind in ("string", "number") or self.text in _CLOSERS


def tokens(text: str) -> list[Token]:
    """The tokens of `text`, without spaces and comments."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "punct"
        if kind != "space":
            out.append(Token(kind, m.group(), m.start(), m.end()))
    return out


@dataclass
class _Frame:
    """An open bracket; for list and map literals, what the rewrite of their elements needs."""

    opener: str
    kind: str  # "group" (parenthesis, index, message), "optindex", "list", "map"
    start: int = 0
    at_element: bool = True
    optional: bool = False  # an element of this literal is optional
    wrapped: bool = False  # an `_opt_elem(` is open, to close at the element's end
    key: bool = False  # in an optional map entry's key, before its `:`
    ternaries: int = 0  # `?` of conditionals met in that key


@dataclass(frozen=True)
class Rewritten:
    user: str  # the text as written
    text: str  # as celpy is given it
    changed: bool
    # (offset in text, offset in the original, whether offsets in between map one to one)
    anchors: tuple[tuple[int, int, bool], ...] = field(default=())

    def original(self, offset: int) -> int:
        """The offset in the user's text that `offset` in the rewritten text comes from."""
        if not self.changed:
            return offset
        i = bisect.bisect_right(self.anchors, (offset, float("inf"), True)) - 1
        if i < 0:
            return offset
        at, origin, linear = self.anchors[i]
        return origin + (offset - at) if linear else origin

    def position(self, line: int, column: int) -> tuple[int, int]:
        """The 1-based line and column in the user's text of a line and column in the rewritten one."""
        if not self.changed:
            return line, column
        starts = [0, *(i + 1 for i, ch in enumerate(self.text) if ch == "\n")]
        return line_column(self.user, self.original(starts[min(line, len(starts)) - 1] + column - 1))


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset` in `text`."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def optional_has(tree: Any) -> Any:
    """The `has` token of a `has(x.?f)` in celpy's tree of a rewritten text, which cel-go's parser
    refuses (has() takes a field selection), else None."""
    for node in tree.iter_subtrees():
        if node.data == "ident_arg" and str(node.children[0]) == "has" and len(node.children) > 1:
            inner = node.children[1]
            while hasattr(inner, "data") and inner.data != "member_dot_arg" and len(inner.children) == 1:
                inner = inner.children[0]
            if getattr(inner, "data", None) == "member_dot_arg" and str(inner.children[1]) in OPT_CALLS:
                return node.children[0]
    return None


def rewrite(text: str) -> Rewritten:
    """`text` with its optional forms turned into calls; OptionalSyntaxError for a form cel-go
    refuses as well."""
    if "?" not in text:
        return Rewritten(text, text, False)
    edits = _edits(tokens(text))
    if not edits:
        return Rewritten(text, text, False)
    pieces: list[str] = []
    anchors: list[tuple[int, int, bool]] = []
    out = position = 0
    for start, end, replacement in sorted(edits, key=lambda e: e[0]):  # sort is stable
        if start > position:
            anchors.append((out, position, True))
            pieces.append(text[position:start])
            out += start - position
        anchors.append((out, start, False))
        pieces.append(replacement)
        out += len(replacement)
        position = max(position, end)
    anchors.append((out, position, True))
    pieces.append(text[position:])
    return Rewritten(text, "".join(pieces), True, tuple(anchors))


def _edits(toks: list[Token]) -> list[tuple[int, int, str]]:
    edits: list[tuple[int, int, str]] = []
    stack: list[_Frame] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        top = stack[-1] if stack else None
        if top and top.kind in ("list", "map") and top.at_element:
            top.at_element = False
            if tok.text == "?":
                top.optional = True
                if top.kind == "list":
                    edits.append((tok.start, tok.end, "_opt_elem("))
                    top.wrapped = True
                else:
                    edits.append((tok.start, tok.end, ""))
                    top.key, top.ternaries = True, 0
                i += 1
                continue
        if tok.text == "." and nxt and nxt.text == "?":
            name = toks[i + 2] if i + 2 < len(toks) else None
            if name is not None and name.kind == "ident":
                after = toks[i + 3] if i + 3 < len(toks) else None
                if after is not None and after.text == "(":
                    raise OptionalSyntaxError(nxt.start, "unsupported syntax '.?'")
                edits.append((tok.start, name.end, f'._opt_select("{name.text}")'))
                i += 3
                continue
        elif tok.text == "[":
            if prev is not None and prev.ends_operand():
                if nxt is not None and nxt.text == "?":
                    edits.append((tok.start, nxt.end, "._opt_index("))
                    stack.append(_Frame("[", "optindex"))
                    i += 2
                    continue
                stack.append(_Frame("[", "group"))
            else:
                stack.append(_Frame("[", "list", tok.start))
        elif tok.text == "{":
            literal = prev is None or not prev.ends_operand()
            stack.append(_Frame("{", "map", tok.start) if literal else _Frame("{", "group"))
        elif tok.text == "(":
            stack.append(_Frame("(", "group"))
        elif tok.text == "," and top and top.kind in ("list", "map"):
            _close_element(top, tok.start, edits)
            top.at_element = True
        elif tok.text == "?" and top and top.key:
            top.ternaries += 1
        elif tok.text == ":" and top and top.key:
            if top.ternaries:
                top.ternaries -= 1
            else:
                edits.append((tok.end, tok.end, "_opt_elem("))
                top.key, top.wrapped = False, True
        elif tok.text in _CLOSERS and top and top.opener == _CLOSERS[tok.text]:
            stack.pop()
            if top.kind == "optindex":
                edits.append((tok.start, tok.end, ")"))
            elif top.kind in ("list", "map"):
                _close_element(top, tok.start, edits)
                if top.optional:
                    edits.append((top.start, top.start, "_opt_list(" if top.kind == "list" else "_opt_map("))
                    edits.append((tok.end, tok.end, ")"))
        i += 1
    return edits


def _close_element(frame: _Frame, at: int, edits: list[tuple[int, int, str]]) -> None:
    if frame.wrapped:
        edits.append((at, at, ")"))
        frame.wrapped = False
    frame.key = False
