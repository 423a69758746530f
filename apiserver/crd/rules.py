"""CRD validation rules (`x-kubernetes-validations`): CEL expressions over a custom resource.

kube-apiserver compiles each rule when the CRD is written and evaluates it at every write of a
custom resource, at the schema node that carries it: `self` is the value there, `oldSelf` (a
transition rule) the stored value at the same place, and such a rule is evaluated on updates
only, where there is an old value. A rule that is not true gives a field error at that node
(or at its `fieldPath`), in kube's words: `spec: Invalid value: "object": <message>`, where
the message is the rule's `message` or `failed rule: <rule>`, and its `reason` picks Forbidden,
Required or Duplicate instead of Invalid.

The expressions are evaluated by cel-python: CEL's standard functions and macros (has, all,
exists, exists_one, map, filter, size, matches, startsWith, contains, int(), string() ...).
kube adds libraries of its own (strings' lowerAscii/split/indexOf, lists' isSorted/sum, url(),
quantity(), optional types): a rule calling one of them, or using `messageExpression` or
`optionalOldSelf`, is refused when the CRD is written, naming what is not supported, rather
than accepted and never enforced. kube's validation ratcheting (an unchanged invalid value
allowed on update) and its cost budget are not applied. cel-python is imported on the first
CRD or object that has rules: no other request pays for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from api.errors import Cause, field_duplicate, field_forbidden, field_invalid, field_required

Schema = dict[str, Any]
RULES = "x-kubernetes-validations"
# CEL's standard macros and functions, as cel-python provides them (no Kubernetes libraries)
SUPPORTED_FUNCTIONS = frozenset(
    {
        *("has", "all", "exists", "exists_one", "map", "filter", "size", "contains", "startsWith"),
        *("endsWith", "matches", "bool", "bytes", "double", "duration", "int", "uint", "string"),
        *("timestamp", "type", "dyn", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear"),
        *("getFullYear", "getMonth", "getHours", "getMilliseconds", "getMinutes", "getSeconds"),
    }
)
REASONS = {"FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"}


class _Compiled:
    def __init__(self, rule: str) -> None:
        import celpy  # ~60 ms: only for CRDs that carry rules

        env = celpy.Environment()
        tree = env.compile(rule)
        self.functions = _called(tree)
        self.transition = "oldSelf" in _identifiers(tree)
        self.program = env.program(tree)


@lru_cache(maxsize=1024)
def _compile(rule: str) -> _Compiled:
    return _Compiled(rule)


def _called(tree: Any) -> set[str]:
    names = set()
    for node in tree.iter_subtrees():
        if node.data in ("member_dot_arg", "dot_ident_arg"):
            names.add(str(node.children[1] if node.data == "member_dot_arg" else node.children[0]))
        elif node.data == "ident_arg":
            names.add(str(node.children[0]))
    return names


def _identifiers(tree: Any) -> set[str]:
    return {str(node.children[0]) for node in tree.iter_subtrees() if node.data == "ident"}


# --- the CRD's rules, when it is written -------------------------------------------------------


def rule_causes(schema: Any, path: str) -> list[Cause]:
    """Why the rules under `schema` (at `path`, a CRD's field path) cannot be enforced."""
    out: list[Cause] = []
    for where, node in _schema_nodes(schema, path):
        rules = node.get(RULES)
        if not isinstance(rules, list):
            continue
        for i, rule in enumerate(rules):
            at = f"{where}.{RULES}[{i}]"
            if not isinstance(rule, dict):
                out.append(field_invalid(at, rule, "must be an object"))
                continue
            out += _rule_causes(rule, at)
    return out


def _rule_causes(rule: dict[str, Any], at: str) -> list[Cause]:
    text = rule.get("rule")
    if not isinstance(text, str) or not text.strip():
        return [field_required(f"{at}.rule", "rule is not specified")]
    for key in ("messageExpression", "optionalOldSelf"):
        if rule.get(key) not in (None, False, ""):
            return [field_forbidden(f"{at}.{key}", f"{key} is not supported by this server")]
    if rule.get("reason") not in (None, *REASONS):
        return [
            field_invalid(f"{at}.reason", rule.get("reason"), "must be one of " + ", ".join(sorted(REASONS)))
        ]
    try:
        compiled = _compile(text)
    except Exception as e:  # celpy's parse errors
        return [field_invalid(f"{at}.rule", text, f"compilation failed: {_first_line(e)}")]
    unknown = sorted(compiled.functions - SUPPORTED_FUNCTIONS)
    if unknown:
        names = ", ".join(f"'{n}'" for n in unknown)
        return [
            field_invalid(
                f"{at}.rule",
                text,
                f"compilation failed: undeclared reference to {names} (Kubernetes' CEL libraries are not supported by this server)",
            )
        ]
    return []


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _schema_nodes(s: Any, path: str) -> Iterator[tuple[str, Schema]]:
    if not isinstance(s, dict):
        return
    yield path, s
    for name, sub in (s.get("properties") or {}).items():
        yield from _schema_nodes(sub, f"{path}.properties[{name}]")
    items = s.get("items")
    if isinstance(items, dict):
        yield from _schema_nodes(items, f"{path}.items")
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _schema_nodes(extra, f"{path}.additionalProperties")


def has_rules(schema: Any) -> bool:
    return any(RULES in node for _, node in _schema_nodes(schema, ""))


# --- a custom resource's writes -----------------------------------------------------------------


def violations(
    schema: Schema | None, obj: Any, old: Any = None, transitions_only: bool = False
) -> list[Cause]:
    """The field errors of `obj` against the rules: those without `oldSelf`, or with
    `transitions_only` those comparing it with `old` (the stored object, on an update)."""
    if not schema or not has_rules(schema):
        return []
    import celpy

    out: list[Cause] = []
    _walk(celpy, schema, obj, old, "", out, transitions_only, root=True)
    return out


def _walk(
    celpy: Any,
    s: Schema,
    v: Any,
    old: Any,
    path: str,
    out: list[Cause],
    transitions: bool,
    root: bool = False,
) -> None:
    if v is None:
        return
    for rule in s.get(RULES) or []:
        if _compile(str(rule.get("rule"))).transition != transitions:
            continue
        cause = _evaluate(celpy, s, rule, v, old, path)
        if cause is not None:
            out.append(cause)
    if isinstance(v, dict):
        props = s.get("properties") or {}
        extra = s.get("additionalProperties")
        olds = old if isinstance(old, dict) else {}
        for key, value in v.items():
            if root and key in ("apiVersion", "kind", "metadata"):
                continue
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if isinstance(sub, dict):
                child = f"{path}.{key}" if key in props else f"{path}[{key}]"
                _walk(celpy, sub, value, olds.get(key), child.lstrip("."), out, transitions)
    elif isinstance(v, list) and isinstance(s.get("items"), dict):
        for i, item in enumerate(v):
            # kube correlates list items with the old ones only for map and set lists; by index here
            before = old[i] if isinstance(old, list) and i < len(old) else None
            _walk(celpy, s["items"], item, before, f"{path}[{i}]", out, transitions)


def _evaluate(celpy: Any, s: Schema, rule: dict[str, Any], v: Any, old: Any, path: str) -> Cause | None:
    compiled = _compile(str(rule.get("rule")))
    if compiled.transition and old is None:
        return None  # a transition rule on a create, or where nothing was before
    activation = {"self": celpy.json_to_cel(v)}
    if compiled.transition:
        activation["oldSelf"] = celpy.json_to_cel(old)
    where = path + str(rule.get("fieldPath") or "") if rule.get("fieldPath") else path
    where = where.lstrip(".")
    shown = str(s.get("type") or "")
    try:
        result = compiled.program.evaluate(activation)
    except Exception as e:  # celpy raises for an evaluation error (a missing key, a bad type)
        return field_invalid(where, shown, f"{_first_line(e)} evaluating rule: {rule.get('rule')}")
    if isinstance(result, Exception):
        return field_invalid(where, shown, f"{_first_line(result)} evaluating rule: {rule.get('rule')}")
    if bool(result) is True:
        return None
    message = str(rule.get("message") or f"failed rule: {rule.get('rule')}")
    reason = rule.get("reason")
    if reason == "FieldValueForbidden":
        return field_forbidden(where, message)
    if reason == "FieldValueRequired":
        return field_required(where, message)
    if reason == "FieldValueDuplicate":
        return field_duplicate(where, shown)
    return field_invalid(where, shown, message)
