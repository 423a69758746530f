"""CRD validation rules (`x-kubernetes-validations`): CEL expressions over a custom resource.

kube-apiserver compiles each rule when the CRD is written and evaluates it at every write of a
custom resource, at the schema node that carries it: `self` is the value there, `oldSelf` (a
transition rule) the stored value at the same place, and such a rule is evaluated on updates
only, where there is an old value. A rule that is not true gives a field error at that node
(or below it at its `fieldPath`, normalized as kube does), in kube's words:
`spec: Invalid value: "object": <message>`, where the message is the string its
`messageExpression` gives (trimmed; when that fails, gives no string, a blank one, one with line
breaks or one over 5 KiB, kube logs it and carries on as if there were none: `expressions.message_of`,
shared with the ValidatingAdmissionPolicies), else its `message`, else `failed rule: <rule>`; its
`reason` picks Forbidden, Required or Duplicate instead of Invalid.

The expressions are evaluated by cel-python: CEL's standard functions and macros (has, all,
exists, exists_one, map, filter, size, matches, startsWith, contains, int(), string() ...) and,
from kube's own libraries, the strings, lists and regex functions and the IP/CIDR predicates
(`apiserver.cel.library`). What the CRD's rules must be to be written at all is
`crd.rulecheck`'s: a rule that does not compile, reads an undeclared name or field, or calls what
this server lacks is refused with the CRD, not accepted and never enforced. Values reach CEL in the types kube gives them from the schema
(a `number` is a double even when written `3`; `date-time`/`date` strings are timestamps,
`duration` strings durations). `oldSelf` of a list item is the old item with the same keys (a
`map` list) or value (a `set` list); below an atomic list there is none, and a transition
rule there is refused, as kube refuses it. kube's validation ratcheting (an unchanged invalid
value allowed on update) and its cost budget are not applied. A CRD stored before rules were
checked may hold one that cannot be enforced: it is skipped (and logged), not turned into a 500.
Expressions are compiled and evaluated by `apiserver.cel.expressions` (shared with admission); cel-python
is imported on the first CRD or object that has rules: no other request pays for it.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from api.errors import Cause, field_duplicate, field_forbidden, field_invalid, field_required
from apiserver.cel import expressions
from apiserver.crd.rulecheck import RULES, field_path, has_rules

log = logging.getLogger(__name__)

Schema = dict[str, Any]


def _transition(c: expressions.Compiled) -> bool:
    return any(ref.name == "oldSelf" for ref in c.free)


def _to_cel(celpy: Any, s: Any, v: Any) -> Any:
    """A JSON value as kube hands it to CEL: typed by its schema node."""
    t = celpy.celtypes
    s = s if isinstance(s, dict) else {}
    kind, fmt = s.get("type"), s.get("format")
    if isinstance(v, dict):
        props, extra = s.get("properties") or {}, s.get("additionalProperties")
        return t.MapType({t.StringType(k): _to_cel(celpy, props.get(k, extra), x) for k, x in v.items()})
    if isinstance(v, list):
        return t.ListType([_to_cel(celpy, s.get("items"), x) for x in v])
    if kind == "number" and isinstance(v, int) and not isinstance(v, bool):
        return t.DoubleType(float(v))
    if kind == "string" and isinstance(v, str) and fmt in ("date-time", "date", "duration"):
        try:
            return t.DurationType(v) if fmt == "duration" else t.TimestampType(v)
        except Exception:  # not in that format: validation names it; CEL sees the string
            return t.StringType(v)
    return celpy.json_to_cel(v)


def _correlated(s: Schema, item: Any, old: Any) -> Any:
    """The old list item `item` stands for: same keys in a map list, same value in a set list;
    None for an atomic list (kube does not correlate its items)."""
    if not isinstance(old, list):
        return None
    list_type = s.get("x-kubernetes-list-type")
    if list_type == "set":
        return item if item in old else None
    if list_type == "map" and isinstance(item, dict):
        keys = s.get("x-kubernetes-list-map-keys") or []
        want = [item.get(k) for k in keys]
        return next((o for o in old if isinstance(o, dict) and [o.get(k) for k in keys] == want), None)
    return None


@lru_cache(maxsize=1024)
def _enforceable(rule: str) -> expressions.Compiled | None:
    """The compiled rule, or None for one this server cannot enforce (a CRD stored before rules
    were checked): skipped, not a failed write; said once per rule, not per write."""
    try:
        compiled = expressions.compiled(rule)
    except expressions.CompileError as e:
        log.warning("CRD rule %r skipped: %s", rule, expressions.first_line(e))
        return None
    if compiled.unsupported:
        log.warning("CRD rule %r skipped: it calls %s", rule, compiled.unsupported)
        return None
    return compiled


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
    _walk(celpy, schema, _rule_view(obj), _rule_view(old), "", out, transitions_only, root=True)
    return out


def _rule_view(obj: Any) -> Any:
    """The object as a root rule sees it: of its metadata, kube exposes only name and generateName."""
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
        return obj
    meta = {k: obj["metadata"][k] for k in ("name", "generateName") if k in obj["metadata"]}
    return {**obj, "metadata": meta}


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
        compiled = _enforceable(str(rule.get("rule"))) if isinstance(rule, dict) else None
        if compiled is None or _transition(compiled) != transitions:
            continue
        cause = _evaluate(celpy, s, rule, compiled, v, old, path)
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
            _walk(celpy, s["items"], item, _correlated(s, item, old), f"{path}[{i}]", out, transitions)


def _evaluate(
    celpy: Any, s: Schema, rule: dict[str, Any], compiled: expressions.Compiled, v: Any, old: Any, path: str
) -> Cause | None:
    transition = _transition(compiled)
    if transition and old is None:
        return None  # a transition rule on a create, or where nothing was before
    activation = {"self": _to_cel(celpy, s, v)}
    if transition:
        activation["oldSelf"] = _to_cel(celpy, s, old)
    shown = str(s.get("type") or "")
    text = str(rule.get("rule")).strip()
    described = str(rule.get("message") or "").strip() or text  # kube's ruleErrorString
    try:
        result = expressions.evaluate(compiled, activation)
    except expressions.EvalError as e:  # a missing key, a bad type
        if str(e).startswith("no such overload"):
            why = f"'{e}': call arguments did not match a supported operator, function or macro signature for rule: {described}"
            return field_invalid(path, shown, why)
        return field_invalid(path, shown, f"{e} evaluating rule: {described}")
    if not isinstance(result, celpy.celtypes.BoolType):  # kube's compiler refuses such a rule
        return field_invalid(path, shown, f"rule did not evaluate to a bool: {described}")
    if bool(result) is True:
        return None
    where = _at(path, s, rule.get("fieldPath"))
    message = _message(rule.get("messageExpression"), activation)
    if message is None:
        message = str(rule.get("message") or "").strip() or f"failed rule: {text}"
    reason = rule.get("reason")
    if reason == "FieldValueForbidden":
        return field_forbidden(where, message)
    if reason == "FieldValueRequired":
        return field_required(where, message)
    if reason == "FieldValueDuplicate":
        return field_duplicate(where, shown)
    return field_invalid(where, shown, message)


def _at(path: str, s: Schema, fp: Any) -> str:
    """Where a failed rule is reported: its node, or below it at its `fieldPath` (as kube
    normalizes it: `.a['b']` is `a.b`)."""
    if not isinstance(fp, str) or not fp.strip():
        return path
    try:
        child = field_path(fp.strip(), s)
    except ValueError:  # a CRD stored before fieldPaths were checked
        return path
    return f"{path}{child}" if child.startswith("[") else ".".join(p for p in (path, child) if p)


def _message(text: Any, activation: dict[str, Any]) -> str | None:
    """A messageExpression's message; None (the rule's message is used) when there is none, it
    fails, or gives no usable string (kube logs that and falls back)."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        value = expressions.evaluate(expressions.compiled(text), activation)
    except (expressions.CompileError, expressions.EvalError) as e:
        log.info("messageExpression %r failed, message used: %s", text, e)
        return None
    message = expressions.message_of(value)
    if message is None:
        log.info("messageExpression %r gave no usable message (%r), message used", text, value)
    return message
