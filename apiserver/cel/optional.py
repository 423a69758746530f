"""CEL's optional values for cel-python, with cel-go's semantics (its optional types library).

Kubernetes (1.29+) compiles CRD rules, ValidatingAdmissionPolicies and matchConditions with
cel-go's optional types, and policies rely on them to read fields that may be absent:
`object.spec.containers.all(c, c.?securityContext.?runAsNonRoot.orValue(false))`. `optsyntax`
turns the syntax into calls; this module gives the calls and the library their meaning:

- `x.?f` is `optional.of(x.f)` when `x` is a map with the key `f` (has() semantics), else
  `optional.none()`; `x[?k]` likewise for a map key or a list index in range. An optional
  receiver is unwrapped first, and an empty one stays empty.
- Once a value is optional, plain selections and indexes on it (`x.?a.b`, `x.?a[0]`) keep it
  optional: present only while each step finds something (cel-go's rule for the qualifiers after
  an optional one). `has()` of such a chain is whether its end is present.
- optional.of, optional.ofNonZeroValue, optional.none; hasValue, value (an error on none, in
  cel-go's words), orValue and or (the alternative only matters when the receiver is empty);
  the optMap and optFlatMap macros; optional elements of list and map literals (`[?a]`, `{?k: v}`).

Plain selection on an optional value needs a hook into celpy's evaluation of `.f`; `runner()`
gives an InterpretedRunner whose Evaluator has it, and `expressions` uses it only for an
expression that may meet optional values (`MEETS`). celpy is imported lazily, as elsewhere here.
Not provided (refused when written, by name): `optional.unwrap`/`unwrapOpt` and lists'
`first`/`last` (later versions of cel-go's library).
"""

from __future__ import annotations

import operator
from functools import lru_cache
from typing import Any

from apiserver.cel.library import _celpy, _error

NONE_DEREFERENCE = "optional.none() dereference"
# what an expression that may meet an optional value calls or reads (a policy's `variables` may
# hold one); one doing neither is run by celpy's own runner
MEETS = frozenset(
    {"of", "ofNonZeroValue", "none", "hasValue", "value", "orValue", "or", "optMap", "optFlatMap"}
)
_EMPTY = object()


class OptionalValue:
    """optional.of(value), or optional.none() when built without a value."""

    __slots__ = ("value",)

    def __init__(self, value: Any = _EMPTY) -> None:
        self.value = value

    @property
    def has_value(self) -> bool:
        return self.value is not _EMPTY

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OptionalValue) and (
            other.value == self.value
            if self.has_value and other.has_value
            else other.has_value == self.has_value
        )

    def __hash__(self) -> int:
        return hash(self.value) if self.has_value else 0

    def __repr__(self) -> str:
        return f"optional.of({self.value!r})" if self.has_value else "optional.none()"


NONE = OptionalValue()


class OptionalNamespace:
    """What the name `optional` is in `optional.of(...)`."""


OPTIONAL_NAMESPACE = OptionalNamespace()


class _Element:
    """An optional element of a list or map literal (`[?x]`, `{?k: x}`), before the literal drops it."""

    __slots__ = ("optional",)

    def __init__(self, optional: OptionalValue) -> None:
        self.optional = optional


def _opt(value: Any) -> OptionalValue:
    if not isinstance(value, OptionalValue):
        raise TypeError("no such overload")
    return value


def _namespace(value: Any) -> None:
    if not isinstance(value, OptionalNamespace):
        raise TypeError("no such overload")


def of(namespace: Any, value: Any) -> Any:
    _namespace(namespace)
    return OptionalValue(value)


def _is_zero(value: Any) -> bool:
    t = _celpy().celtypes
    if value is None or isinstance(value, (t.BoolType, t.IntType, t.UintType, t.DoubleType)):
        return not value
    if isinstance(value, (t.StringType, t.BytesType, t.ListType, t.MapType)):
        return len(value) == 0
    return isinstance(value, t.DurationType) and value.total_seconds() == 0


def of_non_zero_value(namespace: Any, value: Any) -> Any:
    _namespace(namespace)
    return NONE if _is_zero(value) else OptionalValue(value)


def none(namespace: Any) -> Any:
    _namespace(namespace)
    return NONE


def has_value(opt: Any) -> Any:
    return _celpy().celtypes.BoolType(_opt(opt).has_value)


def value(opt: Any) -> Any:
    o = _opt(opt)
    return o.value if o.has_value else _error(NONE_DEREFERENCE)


def or_value(opt: Any, alternative: Any) -> Any:
    o = _opt(opt)
    return o.value if o.has_value else alternative


def or_(opt: Any, alternative: Any) -> Any:
    return opt if _opt(opt).has_value else alternative


def select(target: Any, name: Any) -> Any:
    """`target.?name`, and `.name` on an optional `target`."""
    if isinstance(target, OptionalValue):
        if not target.has_value:
            return target
        target = target.value
    if isinstance(target, _celpy().CELEvalError):
        return target
    if not isinstance(target, _celpy().celtypes.MapType):
        raise TypeError("no such overload")
    key = _celpy().celtypes.StringType(name)
    return OptionalValue(target[key]) if key in target else NONE


def index(target: Any, key: Any) -> Any:
    """`target[?key]`, and `[key]` on an optional `target`."""
    t = _celpy().celtypes
    if isinstance(target, OptionalValue):
        if not target.has_value:
            return target
        target = target.value
    if isinstance(target, t.ListType):
        if isinstance(key, t.BoolType) or not isinstance(key, (t.IntType, t.UintType)):
            raise TypeError("no such overload")
        return OptionalValue(target[int(key)]) if 0 <= int(key) < len(target) else NONE
    if isinstance(target, t.MapType):
        return OptionalValue(target[key]) if key in target else NONE
    raise TypeError("no such overload")


def _index_or_plain(target: Any, key: Any) -> Any:
    """`_[_]` of programs that meet optional values: an optional container stays optional."""
    return index(target, key) if isinstance(target, OptionalValue) else operator.getitem(target, key)


def element(opt: Any) -> Any:
    return _Element(_opt(opt))


def _present(items: Any) -> Any:
    for k, v in items:
        if not isinstance(v, _Element):
            yield k, v
        elif v.optional.has_value:
            yield k, v.optional.value


def optional_list(items: Any) -> Any:
    return _celpy().celtypes.ListType([v for _, v in _present(enumerate(items))])


def optional_map(items: Any) -> Any:
    return _celpy().celtypes.MapType(dict(_present(items.items())))


FUNCTIONS: dict[str, Any] = {
    **{"of": of, "ofNonZeroValue": of_non_zero_value, "none": none, "hasValue": has_value},
    **{"value": value, "orValue": or_value, "or": or_, "_opt_select": select, "_opt_index": index},
    **{"_opt_elem": element, "_opt_list": optional_list, "_opt_map": optional_map},
}
# only for the programs `runner()` runs
PROGRAM_FUNCTIONS: dict[str, Any] = {**FUNCTIONS, "_[_]": _index_or_plain}
MACROS = frozenset({"optMap", "optFlatMap"})
_SHORT_CIRCUIT = frozenset({"orValue", "or"})


@lru_cache(maxsize=1)
def runner() -> Any:
    """celpy's InterpretedRunner with field selection, has() and the optMap/optFlatMap macros
    knowing optional values."""
    import celpy
    from celpy import celtypes as t
    from celpy import evaluation

    class OptionalEvaluator(evaluation.Evaluator):
        def sub_evaluator(self, ast: Any) -> Any:
            return OptionalEvaluator(ast, activation=self.activation)

        def member_dot(self, tree: Any) -> Any:
            member_tree, name = tree.children
            member = self.visit(member_tree)
            if isinstance(member, OptionalValue):
                try:
                    return select(member, name.value)
                except TypeError as e:
                    return evaluation.CELEvalError(str(e), TypeError, None, tree=tree)
            return _plain_select(evaluation, t, member, name.value, tree)

        def member_dot_arg(self, tree: Any) -> Any:
            method = tree.children[1].value
            if method not in MACROS and method not in _SHORT_CIRCUIT:
                return super().member_dot_arg(tree)
            target = self.visit(tree.children[0])
            if isinstance(target, evaluation.CELEvalError):
                return target
            if not isinstance(target, OptionalValue) or len(tree.children) != 3:
                return evaluation.CELEvalError("no such overload", TypeError, None, tree=tree)
            if method in _SHORT_CIRCUIT:  # the alternative is not evaluated when not needed
                if target.has_value:
                    return target.value if method == "orValue" else target
                args = self.visit(tree.children[2])
                if isinstance(args, evaluation.CELEvalError):
                    return args
                if len(args) == 1 and (method == "orValue" or isinstance(args[0], OptionalValue)):
                    return args[0]
                return evaluation.CELEvalError("no such overload", TypeError, None, tree=tree)
            if not target.has_value:
                return target
            try:
                result = self.build_macro_eval(tree)(target.value)
            except evaluation.CELEvalError as e:
                return e
            if method == "optMap":
                return OptionalValue(result)
            if not isinstance(result, OptionalValue):
                return evaluation.CELEvalError("no such overload", TypeError, None, tree=tree)
            return result

        def macro_has_eval(self, exprlist: Any) -> Any:
            found = self.visit_children(exprlist)[0]
            if isinstance(found, OptionalValue):
                return t.BoolType(found.has_value)
            return t.BoolType(not isinstance(found, evaluation.CELEvalError))

    class OptionalRunner(celpy.InterpretedRunner):
        def evaluate(self, context: Any) -> Any:
            return OptionalEvaluator(ast=self.ast, activation=self.new_activation()).evaluate(context)

    return OptionalRunner


def _plain_select(evaluation: Any, t: Any, member: Any, name: str, tree: Any) -> Any:
    """celpy's own `.name` (Evaluator.member_dot), for a member already evaluated."""
    if isinstance(member, evaluation.CELEvalError):
        return member
    if isinstance(member, evaluation.NameContainer):
        if name in member:
            return member[name].value
        return evaluation.CELEvalError(
            f"No {name!r} in bindings {sorted(member.keys())}", KeyError, None, tree=tree
        )
    if isinstance(member, t.MessageType):
        return member.get(name)
    if isinstance(member, t.MapType):
        try:
            return member[name]
        except KeyError:
            return evaluation.CELEvalError(f"no such member in mapping: {name!r}", KeyError, None, tree=tree)
    return evaluation.CELEvalError(
        f"{member!r} with type: '{type(member)}' does not support field selection", TypeError, None, tree=tree
    )
