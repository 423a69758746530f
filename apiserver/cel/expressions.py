"""CEL expressions compiled by cel-python, with what they refer to, and evaluated with short errors.

kube-apiserver compiles every expression when the object carrying it is written and refuses
one that does not parse or that refers to something not declared (`undeclared reference to
'x'`), and evaluates the compiled program at each request. cel-python (`celpy`) provides CEL's
standard functions and macros (has, all, exists, exists_one, map, filter, size, contains,
startsWith, endsWith, matches, the conversions, timestamps and durations); kube adds libraries of
its own, of which `apiserver.cel.library` gives the strings, lists and regex functions and the
IP/CIDR predicates, and `kubetypes` and `netobjects` the quantity(), url(), ip() and cidr() objects
(`ip.isCanonical` through a namespace object bound to the name `ip`). cel-go's optional types are
`optional`'s: their syntax (`x.?f`, `x[?k]`, `[?e]`, `{?k: v}`) is rewritten by `optsyntax` into
calls before celpy parses (positions mapped back to the user's text), and an expression making
optional values runs in `optional.runner()`. One calling any other (strings' format/quote/reverse,
format.named, optional.unwrap/unwrapOpt, lists' first/last, authorizer) is refused when written,
naming it, rather than failing at every request; so are `has(x.?f)` and `x.?f()`, as in cel-go.
A messageExpression's value is taken as kube takes it (`message_of`).

`compiled(text)` parses once per distinct text (cached) and records the functions called, the
free names read (names bound by a macro, `k` in `m.all(k, ...)`, are not free) and the
`variables.<name>` references, each with its position, so callers check them against what
their context declares (`undeclared`). `evaluate` runs a program over an activation and raises
`EvalError` with the error's own words; a program's result is returned as celpy's value.
celpy is imported on the first `compiled` or `to_cel` call (~60 ms), never at import.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from apiserver.cel import kubetypes, library, netobjects, optional, optsyntax

# CEL's standard macros and functions, as cel-python provides them, and the Kubernetes library
# functions `library` adds
SUPPORTED_FUNCTIONS = frozenset(
    {
        *("has", "all", "exists", "exists_one", "map", "filter", "size", "contains", "startsWith"),
        *("endsWith", "matches", "bool", "bytes", "double", "duration", "int", "uint", "string"),
        *("timestamp", "type", "dyn", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear"),
        *("getFullYear", "getMonth", "getHours", "getMilliseconds", "getMinutes", "getSeconds"),
        *library.FUNCTIONS,
        *kubetypes.FUNCTIONS,
        *netobjects.FUNCTIONS,
        *optional.FUNCTIONS,
        *optional.MACROS,
    }
)
FUNCTIONS: dict[str, Any] = {
    **library.FUNCTIONS,
    **kubetypes.FUNCTIONS,
    **netobjects.FUNCTIONS,
    **optional.FUNCTIONS,
}
# `ip.isCanonical(...)`, `optional.of(...)`: names cel-python must resolve
NAMESPACES: dict[str, Any] = {"ip": netobjects.IP_NAMESPACE, "optional": optional.OPTIONAL_NAMESPACE}
MACROS = frozenset({"all", "exists", "exists_one", "map", "filter", *optional.MACROS})
LIBRARIES_UNSUPPORTED = "Kubernetes' CEL libraries are not supported by this server"


class CompileError(Exception):
    """An expression that does not parse; the message is kube's `ERROR: <input>:L:C: ...` text."""


class EvalError(Exception):
    """An expression whose evaluation failed; the message says why, in one line."""


@dataclass(frozen=True)
class Reference:
    """A name an expression reads, where it first appears (1-based line and column)."""

    name: str
    line: int
    column: int


class Compiled:
    """One parsed expression: its program and what it refers to."""

    def __init__(self, text: str) -> None:
        import celpy  # only for requests and writes that meet an expression

        try:  # cel-go's optional syntax, which cel-python's grammar lacks, as calls
            source = optsyntax.rewrite(text)
        except optsyntax.OptionalSyntaxError as e:
            line, column = optsyntax.line_column(text, e.offset)
            raise CompileError(f"ERROR: <input>:{line}:{column}: {e}") from None
        env = celpy.Environment()
        try:
            tree = env.compile(source.text)
        except celpy.CELParseError as e:
            raise CompileError(_syntax_error(source, e)) from None
        self.text = text
        self.functions = frozenset(_called(tree))
        self.unsupported = sorted(self.functions - SUPPORTED_FUNCTIONS)
        bound = _bound(tree)
        back = _back(source)
        self.free = _first(back(r) for r in _idents(tree) if r.name not in bound)
        self.variables = _first(back(r) for r in _members_of(tree, "variables"))
        chains = (back(r) for r in _chains(tree))
        self.selections = tuple(sorted(chains, key=lambda r: r.name.count(".")))
        if source.changed or self.functions & optional.MEETS or any(r.name == "variables" for r in self.free):
            has = optsyntax.optional_has(tree)
            if has is not None:
                line, column = source.position(has.line or 1, has.column or 1)
                raise CompileError(f"ERROR: <input>:{line}:{column}: invalid argument to has() macro")
            env = celpy.Environment(runner_class=optional.runner())
            self.program = env.program(tree, functions={**FUNCTIONS, **optional.PROGRAM_FUNCTIONS})
        else:
            self.program = env.program(tree, functions=FUNCTIONS)
        self.namespaces: dict[str, Any] = {
            r.name: NAMESPACES[r.name] for r in self.free if r.name in NAMESPACES
        }


@lru_cache(maxsize=2048)
def compiled(text: str) -> Compiled:
    """The compiled expression (cached per text); CompileError when it does not parse."""
    return Compiled(text)


def _back(source: optsyntax.Rewritten) -> Any:
    """A reference found in celpy's tree of `source.text`, placed back in the user's text."""
    if not source.changed:
        return lambda ref: ref
    return lambda ref: Reference(ref.name, *source.position(ref.line, ref.column))


def _syntax_error(source: optsyntax.Rewritten, e: Any) -> str:
    line, column = getattr(e, "line", None) or 1, getattr(e, "column", None) or 1
    line, column = source.position(line, column)
    lines = source.user.splitlines() or [""]
    shown = lines[min(line, len(lines)) - 1]
    return (
        f"ERROR: <input>:{line}:{column}: Syntax error: unexpected input\n"
        f" | {shown}\n | {'.' * (column - 1)}^"
    )


def _called(tree: Any) -> Iterator[str]:
    for node in tree.iter_subtrees():
        if node.data == "member_dot_arg":
            yield str(node.children[1])
        elif node.data in ("dot_ident_arg", "ident_arg"):
            yield str(node.children[0])


def _bare_ident(node: Any) -> str | None:
    """The name an expression node is when it is nothing but a name (`k`), else None."""
    while hasattr(node, "data"):
        if node.data == "ident":
            return str(node.children[0])
        if len(node.children) != 1:
            return None
        node = node.children[0]
    return None


def _bound(tree: Any) -> set[str]:
    """The names macros bind (`k` in `m.all(k, ...)`); free anywhere else is rare enough to ignore."""
    names = set()
    for node in tree.iter_subtrees():
        if node.data == "member_dot_arg" and str(node.children[1]) in MACROS and len(node.children) > 2:
            first = node.children[2].children[0] if node.children[2].children else None
            name = _bare_ident(first) if first is not None else None
            if name:
                names.add(name)
    return names


def _idents(tree: Any) -> Iterator[Reference]:
    for node in tree.iter_subtrees_topdown():
        if node.data == "ident":
            token = node.children[0]
            yield Reference(str(token), token.line or 1, token.column or 1)


def _members_of(tree: Any, root: str) -> Iterator[Reference]:
    """`root.<name>` selections, e.g. the `variables.x` an expression reads."""
    for node in tree.iter_subtrees_topdown():
        if node.data == "member_dot" and _bare_ident(node.children[0]) == root:
            token = node.children[1]
            yield Reference(str(token), token.line or 1, token.column or 1)


def _opt_select(node: Any) -> bool:
    """Whether a node is `x.?name` (`optsyntax` wrote it `x._opt_select("name")`)."""
    return bool(node.data == "member_dot_arg" and str(node.children[1]) == "_opt_select")


def _chain(node: Any) -> list[str] | None:
    """`a.b.c` of a node that is nothing but field selections from a name, else None."""
    while hasattr(node, "data") and node.data in ("member", "primary") and len(node.children) == 1:
        node = node.children[0]
    if not hasattr(node, "data"):
        return None
    if node.data == "ident":
        return [str(node.children[0])]
    if node.data == "member_dot":
        base = _chain(node.children[0])
        return None if base is None else [*base, str(node.children[1])]
    if _opt_select(node):
        base = _chain(node.children[0])
        name = next(node.children[2].scan_values(lambda v: not hasattr(v, "data")), None)
        return None if base is None or name is None else [*base, str(name).strip('"')]
    return None


def _chains(tree: Any) -> Iterator[Reference]:
    """Each field selection from a name (`self.a`, `self.a.b` ...) as `self.a.b`, placed at its
    last dot (where kube's checker places an undefined field)."""
    for node in tree.iter_subtrees():
        if node.data == "member_dot" or _opt_select(node):
            chain = _chain(node)
            if chain:
                token = node.children[1]
                yield Reference(".".join(chain), token.line or 1, max((token.column or 2) - 1, 1))


def _first(refs: Iterator[Reference]) -> tuple[Reference, ...]:
    seen: dict[str, Reference] = {}
    for r in refs:
        seen.setdefault(r.name, r)
    return tuple(seen.values())


def unsupported_message(names: Collection[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in sorted(names))
    return f"undeclared reference to {shown} ({LIBRARIES_UNSUPPORTED})"


def undeclared(c: Compiled, declared: Collection[str], variables: Collection[str] = ()) -> str | None:
    """Why `c` cannot compile where `declared` are the names in scope (and `variables` the
    variables it may read): kube's undeclared-reference error, or this server's refusal of a
    function it lacks; None when it can."""
    if c.unsupported:
        return unsupported_message(c.unsupported)
    for ref in c.free:
        if ref.name not in declared and ref.name not in NAMESPACES:
            return f"ERROR: <input>:{ref.line}:{ref.column}: undeclared reference to '{ref.name}' (in container '')"
    if "variables" in declared:
        for ref in c.variables:
            if ref.name not in variables:
                return (
                    f"ERROR: <input>:{ref.line}:{ref.column}: undefined field '{ref.name}'"
                    " (the policy declares no such variable before this expression)"
                )
    return None


def error_text(e: BaseException) -> str:
    """A celpy error in one line, without the activation it dumps for an undeclared name."""
    detail = e.args[0] if e.args and isinstance(e.args[0], str) else str(e)
    return (
        detail.split(" (in activation", 1)[0].strip().splitlines()[0] if detail.strip() else type(e).__name__
    )


def first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def evaluate(c: Compiled, activation: dict[str, Any]) -> Any:
    """The program's value over `activation`; EvalError when evaluation fails."""
    try:
        result = c.program.evaluate({**c.namespaces, **activation} if c.namespaces else activation)
    except Exception as e:  # celpy raises CELEvalError (and, for odd inputs, Python errors)
        raise EvalError(error_text(e)) from None
    if isinstance(result, Exception):
        raise EvalError(error_text(result))
    return result


MAX_MESSAGE = 5 * 1024  # kube's MaxEvaluatedMessageExpressionSizeBytes


def message_of(value: Any) -> str | None:
    """A messageExpression's value as kube takes it (CRD rules and policies alike): a string,
    trimmed, not empty, on one line, at most 5 KiB; None otherwise (the caller then words the
    failure as if there were no messageExpression)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text if text and len(text.encode()) <= MAX_MESSAGE and "\n" not in text else None


def to_cel(value: Any) -> Any:
    """A JSON value as CEL sees it (maps, lists, int, double, string, bool, null)."""
    import celpy

    return celpy.json_to_cel(value)


def is_true(value: Any) -> bool:
    import celpy

    return isinstance(value, celpy.celtypes.BoolType) and bool(value)


def is_false(value: Any) -> bool:
    import celpy

    return isinstance(value, celpy.celtypes.BoolType) and not bool(value)
