"""One policy evaluated for one request and one parameter object: kube's validator
(k8s.io/apiserver/pkg/admission/plugin/policy/validating/validator.go). Pure but for CEL.

- matchConditions first (with params; namespaceObject null, as kube binds them): any false and the
  policy says nothing; an evaluation error is a failure.
- Each validation whose expression is not true is a failure with the validation's reason (Invalid
  by default) and message: messageExpression's string when it gives one (trimmed, one line, at
  most 5 KiB), else `message`, else `failed expression: <expression>`.
- An expression that cannot be evaluated is a failure under failurePolicy Fail (with its error as
  the message and no reason, so Invalid) and nothing under Ignore. The bindings' validationActions
  decide what a failure does (`dispatch`).
- auditAnnotations: each valueExpression gives a string (recorded as `<policy>/<key>`, trimmed),
  null or empty (skipped); another type or an error refuses the request under Fail whatever the
  actions, as kube's dispatcher does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from apiserver.cel import admission as cel
from apiserver.cel.expressions import is_true, message_of
from apiserver.policies.configs import Policy, Validation

log = logging.getLogger(__name__)
Obj = dict[str, Any]


@dataclass(frozen=True)
class Decision:
    """A failure of the policy for the request: what the binding's actions apply to."""

    message: str
    reason: str = ""  # Invalid, Forbidden, RequestEntityTooLarge; "" for an error (Invalid)
    index: int = 0  # the validation's index (the Audit annotation's expressionIndex)
    always_deny: bool = False  # an audit annotation's error: refused whatever the actions


@dataclass(frozen=True)
class Result:
    decisions: tuple[Decision, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()  # (key, value) kube adds to the audit event


def _message(v: Validation, act: dict[str, Any]) -> str:
    message = ""
    if v.message_expression:
        try:
            value = cel.run(v.message_expression, act)
        except cel.ExpressionError as e:
            log.info("messageExpression failed, message used: %s", e)
            value = None
        message = message_of(value) or ""
    if not message and v.message:
        message = v.message.strip()
    return message or f"failed expression: {v.expression.strip()}"


def _annotation(
    policy: Policy, key: str, text: str, act: dict[str, Any]
) -> tuple[str | None, Decision | None]:
    try:
        value = cel.run(text, act)
    except cel.ExpressionError as e:
        return None, Decision(str(e), always_deny=True) if policy.fail_closed else None
    if value is None:
        return None, None
    if isinstance(value, str):
        return (value.strip()[: 10 * 1024] or None), None
    why = (
        f"valueExpression '{text}' resulted in unsupported return type: {type(value).__name__.removesuffix('Type').lower()}. "
        "Return type must be either string or null."
    )
    return None, Decision(why, always_deny=True)


def validate(policy: Policy, base: dict[str, Any], params: Obj | None) -> Result:
    """The policy's failures for a request whose variables are `base` (`cel.activation`)."""
    act = cel.with_params(base, params, policy.variables)
    if policy.conditions:
        try:
            if not cel.matches(policy.conditions, {**act, "namespaceObject": None}):
                return Result()
        except cel.ExpressionError as e:
            return Result((Decision(str(e)),) if policy.fail_closed else ())
    decisions: list[Decision] = []
    for i, v in enumerate(policy.validations):
        try:
            passed = is_true(cel.run(v.expression, act))
        except cel.ExpressionError as e:
            if policy.fail_closed:
                decisions.append(Decision(str(e), index=i))
            continue
        if not passed:
            decisions.append(Decision(_message(v, act), v.reason or "Invalid", i))
    annotations: list[tuple[str, str]] = []
    for key, text in policy.audit_annotations:
        value, failed = _annotation(policy, key, text, act)
        if failed is not None:
            decisions.append(failed)
        elif value is not None:
            annotations.append((key, value))
    return Result(tuple(decisions), tuple(annotations))
