"""A CRD's `x-kubernetes-validations` checked when the CRD is written, in kube's words (pure).

kube-apiserver (apiextensions validation) refuses, per rule: an empty `rule` (Required); a
`message` that is blank, longer than 2048 characters or on several lines, or missing when the
rule is on several lines; a blank `messageExpression`; a `reason` other than FieldValueInvalid,
Forbidden, Required or Duplicate (Unsupported value); a `fieldPath` that is blank, on several
lines, or not a path to a declared field (`fieldPath must be a valid path: does not refer to a
valid field`). Then it compiles the rule and the messageExpression over `self` (and `oldSelf`),
type-checked against the schema, and words a failure with the whole rule as the value:

    ...x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.a ==",
    Message:"", ...}: compilation failed: ERROR: <input>:1:10: Syntax error: ...

What is checked here with cel-python: syntax, names other than `self`/`oldSelf` (`undeclared
reference to 'x'`), functions this server lacks (named), and the fields a rule selects from
`self`/`oldSelf` along plain `a.b.c` chains against the schema (`undefined field 'x'`); kube's
full type checking (a rule's result type, argument types, fields below macro variables) is not
done: such a rule fails when it runs instead. `oldSelf` below an atomic list is refused.
`fieldPath` is normalized as kube normalizes it (`field_path`), for the errors of a failing rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from api.errors import Cause, field_forbidden, field_invalid, field_not_supported, field_required
from apiserver.cel import expressions

Schema = dict[str, Any]
RULES = "x-kubernetes-validations"
REASONS = sorted({"FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"})
DECLARED = ("self", "oldSelf")
_NEWLINE = re.compile(r"[\n\r]")
_ROOT_FIELDS = ("apiVersion", "kind", "metadata")
_CEL_RESERVED = {
    *("true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if"),
    *("import", "let", "loop", "package", "namespace", "return", "var", "void", "while"),
}


def rule_causes(schema: Any, path: str) -> list[Cause]:
    """Why the rules under `schema` (at `path`, a CRD's field path) cannot be enforced."""
    out: list[Cause] = []
    for where, node, uncorrelatable in _schema_nodes(schema, path):
        rules = node.get(RULES)
        if not isinstance(rules, list):
            continue
        for i, rule in enumerate(rules):
            at = f"{where}.{RULES}[{i}]"
            if not isinstance(rule, dict):
                out.append(field_invalid(at, rule, "must be an object"))
                continue
            causes = _field_causes(rule, at, node)
            if not causes:
                causes = _compile_causes(rule, at, node, root=where == path)
            if not causes and uncorrelatable is not None and _transition(str(rule["rule"])):
                message = f"oldSelf cannot be used on the uncorrelatable portion of the schema within {uncorrelatable}"
                causes = [field_invalid(f"{at}.rule", rule["rule"], message)]
            out += causes
    return out


def _transition(text: str) -> bool:
    return any(ref.name == "oldSelf" for ref in expressions.compiled(text).free)


def _field_causes(rule: dict[str, Any], at: str, node: Schema) -> list[Cause]:
    """kube's checks of the rule's fields before any compiling."""
    text, message = str(rule.get("rule") or ""), str(rule.get("message") or "")
    out: list[Cause] = []
    if not text.strip():
        out.append(field_required(f"{at}.rule", "rule is not specified"))
    elif message and not message.strip():
        out.append(field_invalid(f"{at}.message", message, "message must be non-empty if specified"))
    elif len(message) > 2048:
        out.append(
            field_invalid(
                f"{at}.message", message[:10] + "...", "message must have a maximum length of 2048 characters"
            )
        )
    elif _NEWLINE.search(message.strip()):
        out.append(field_invalid(f"{at}.message", message, "message must not contain line breaks"))
    elif _NEWLINE.search(text.strip()) and not message.strip():
        out.append(field_required(f"{at}.message", "message must be specified if rule contains line breaks"))
    expression = str(rule.get("messageExpression") or "")
    if expression and not expression.strip():
        out.append(
            field_required(f"{at}.messageExpression", "messageExpression must be non-empty if specified")
        )
    if rule.get("reason") is not None and rule.get("reason") not in REASONS:
        out.append(field_not_supported(f"{at}.reason", rule.get("reason"), REASONS))
    fp = rule.get("fieldPath")
    if isinstance(fp, str) and fp:
        if not fp.strip():
            out.append(field_invalid(f"{at}.fieldPath", fp, "fieldPath must be non-empty if specified"))
        if _NEWLINE.search(fp):
            out.append(field_invalid(f"{at}.fieldPath", fp, "fieldPath must not contain line breaks"))
        try:
            field_path(fp, node)
        except ValueError as e:
            out.append(field_invalid(f"{at}.fieldPath", fp, f"fieldPath must be a valid path: {e}"))
    if rule.get("optionalOldSelf") not in (None, False):
        out.append(
            field_forbidden(f"{at}.optionalOldSelf", "optionalOldSelf is not supported by this server")
        )
    return out


def _compile_causes(rule: dict[str, Any], at: str, node: Schema, root: bool) -> list[Cause]:
    out: list[Cause] = []
    for key, prefix in (
        ("rule", "compilation failed"),
        ("messageExpression", "messageExpression compilation failed"),
    ):
        text = rule.get(key)
        if not isinstance(text, str) or not text.strip():
            continue
        problem = compile_problem(text, node, root)
        if problem:
            out.append(_invalid_rule(f"{at}.{key}", rule, f"{prefix}: {problem}"))
    return out


def compile_problem(text: str, node: Schema, root: bool = False) -> str | None:
    """Why `text` does not compile as a rule at `node`: kube's `ERROR: <input>:L:C: ...`, or None."""
    try:
        c = expressions.compiled(text)
    except expressions.CompileError as e:
        return str(e)
    problem = expressions.undeclared(c, DECLARED)
    if problem:
        return problem
    undefined = [
        (ref.line, ref.column, ref.name.rsplit(".", 1)[1])
        for ref in c.selections
        if ref.name.split(".", 1)[0] in DECLARED and _undefined(node, ref.name.split(".")[1:], root)
    ]
    if undefined:
        line, column, name = min(undefined)
        return f"ERROR: <input>:{line}:{column}: undefined field '{name}'"
    return None


def _unescape(name: str) -> str:
    """A property name as CEL escapes it (`__dash__`, `__dot__`, `__slash__`, `__{keyword}__`)."""
    if name.startswith("__") and name.endswith("__") and name[2:-2] in _CEL_RESERVED:
        return name[2:-2]
    for escaped, raw in (("__underscores__", "__"), ("__dot__", "."), ("__dash__", "-"), ("__slash__", "/")):
        name = name.replace(escaped, raw)
    return name


def _undefined(node: Schema, chain: list[str], root: bool) -> bool:
    """Whether the last name of `chain` is a field `node`'s object types do not declare (the
    names before it declared)."""
    s: Any = node
    for i, name in enumerate(chain):
        if not isinstance(s, dict) or s.get("x-kubernetes-preserve-unknown-fields"):
            return False
        props = s.get("properties")
        if isinstance(s.get("additionalProperties"), dict) or s.get("type") != "object":
            return False  # a map's keys, or not an object (kube's checker words that otherwise)
        props = props if isinstance(props, dict) else {}
        key = name if name in props else _unescape(name)
        if key not in props:
            return i == len(chain) - 1 and not (root and i == 0 and key in _ROOT_FIELDS)
        s = props[key]
    return False


def _invalid_rule(at: str, rule: dict[str, Any], detail: str) -> Cause:
    """field.Invalid with the rule as its value, which kube prints with Go's %#v."""
    reason = rule.get("reason")
    shown = (
        f"apiextensions.ValidationRule{{Rule:{_go(rule.get('rule'))}, Message:{_go(rule.get('message'))}, "
        f"MessageExpression:{_go(rule.get('messageExpression'))}, "
        f"Reason:(*apiextensions.FieldValueErrorReason)({'nil' if reason is None else '0xc000000000'}), "
        f"FieldPath:{_go(rule.get('fieldPath'))}, "
        f"OptionalOldSelf:(*bool)({'nil' if rule.get('optionalOldSelf') is None else '0xc000000000'})}}"
    )
    return {"reason": "FieldValueInvalid", "field": at, "message": f"Invalid value: {shown}: {detail}"}


def _go(value: Any) -> str:
    return json.dumps(str(value or ""), ensure_ascii=False)


def field_path(text: str, node: Schema) -> str:
    """kube's ValidFieldPath: `.a.b` and `['k']` steps through declared properties (or a map's
    keys), normalized as kube prints them (`a.b`, `[k]`); ValueError with kube's reason."""
    tokens = re.findall(r"'(?:[^'\\]|\\.)*'|[.\[\]]|[^.\[\]']+", text)
    out, s, i = "", node, 0
    while i < len(tokens):
        tok = tokens[i]
        if tok not in (".", "["):
            raise ValueError(f"expected [ or . but got: {tok}")
        if i + 1 >= len(tokens):
            raise ValueError("unexpected end of JSON path")
        name = tokens[i + 1]
        if tok == "[":
            if len(name) < 2 or name[0] != "'" or name[-1] != "'":
                raise ValueError(f"expected single quoted string but got {name}")
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
            if i + 2 >= len(tokens) or tokens[i + 2] != "]":
                raise ValueError(
                    "unexpected end of JSON path"
                    if i + 2 >= len(tokens)
                    else f"expected ] but got {tokens[i + 2]}"
                )
            i += 1
        i += 2
        props, extra = s.get("properties"), s.get("additionalProperties")
        if isinstance(props, dict):
            if not isinstance(props.get(name), dict):
                raise ValueError("does not refer to a valid field")
            out, s = (f"{out}.{name}" if out else name), props[name]
        elif isinstance(extra, dict):
            out, s = f"{out}[{name}]", extra
        else:
            raise ValueError("does not refer to a valid field")
    return out


def _schema_nodes(
    s: Any, path: str, uncorrelatable: str | None = None
) -> Iterator[tuple[str, Schema, str | None]]:
    """Each schema node with its path, and the atomic list it lies below (None: correlatable)."""
    if not isinstance(s, dict):
        return
    yield path, s, uncorrelatable
    for name, sub in (s.get("properties") or {}).items():
        yield from _schema_nodes(sub, f"{path}.properties[{name}]", uncorrelatable)
    items = s.get("items")
    if isinstance(items, dict):
        atomic = s.get("x-kubernetes-list-type") not in ("map", "set")
        yield from _schema_nodes(items, f"{path}.items", uncorrelatable or (path if atomic else None))
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _schema_nodes(extra, f"{path}.additionalProperties", uncorrelatable)


def has_rules(schema: Any) -> bool:
    return any(RULES in node for _, node, _ in _schema_nodes(schema, ""))
