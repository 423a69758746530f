"""The CEL of admission: what webhook matchConditions and ValidatingAdmissionPolicy expressions
see, kube's matchConditions semantics, and the checks of such expressions when they are written
(k8s.io/apiserver/pkg/admission/plugin/cel, webhook/matchconditions, policy/validating).

Variables, as kube binds them:

- `object` (null on DELETE) and `oldObject` (null on CREATE), as the request carries them.
- `request`: the AdmissionRequest's attributes without its objects (kind, resource,
  subResource, requestKind/Resource/SubResource, name, namespace, operation, userInfo, dryRun,
  options).
- `params`: a policy's parameter object (null when the policy has no paramKind or its binding no
  paramRef); declared only in policies that have a paramKind.
- `namespaceObject`: the request's namespace (its metadata without managedFields and owners,
  spec, status); null for cluster-scoped objects, for a Namespace itself, and in matchConditions
  (kube does not bind it there).
- `variables`: a policy's named expressions, each evaluated only when read and at most once per
  request; an expression may read only the variables declared before it.
- `authorizer`: kube's authorization library, which kubelite does not provide: an expression that
  reads it is refused when it is written (422), not accepted and failing later.

matchConditions (`matches`): when any condition is false the request does not match, whatever the
others did; otherwise an evaluation error is returned for the failure policy to decide; otherwise
it matches. Errors are kube's `expression '<text>' resulted in error: <why>`.

When written (`expression_causes`, `match_condition_causes`), an expression must compile over
the names its place declares, with kube's field errors (`compilation failed: ...`); matchConditions
are at most 64, each with a qualified name unique in its list.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from api import names
from api.errors import Cause, field_duplicates, field_invalid, field_required, field_too_many
from api.jsonutil import as_object
from apiserver.cel.expressions import (
    CompileError,
    EvalError,
    compiled,
    evaluate,
    is_false,
    to_cel,
    undeclared,
)

Obj = dict[str, Any]
# the names in scope of each kind of admission expression (`params` added where a paramKind is)
MATCH_CONDITION = ("object", "oldObject", "request", "namespaceObject")
POLICY_EXPRESSION = (*MATCH_CONDITION, "variables")
AUTHORIZER = "authorizer"
MAX_MATCH_CONDITIONS = 64
_NAMESPACE_META = (
    *("name", "generateName", "namespace", "uid", "resourceVersion", "generation"),
    *("creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"),
    *("labels", "annotations", "finalizers"),
)


class ExpressionError(Exception):
    """An expression that could not be evaluated, in kube's words."""


@dataclass(frozen=True)
class Inputs:
    """What one request gives its admission expressions, as JSON."""

    object: Obj | None
    old: Obj | None
    request: Obj
    namespace: Obj | None = None


def namespace_object(namespace: Obj | None) -> Obj | None:
    """kube's CreateNamespaceObject: the namespace as expressions see it."""
    if namespace is None:
        return None
    meta = namespace.get("metadata") or {}
    out: Obj = {"metadata": {k: meta[k] for k in _NAMESPACE_META if k in meta}}
    for part in ("spec", "status"):
        if part in namespace:
            out[part] = namespace[part]
    return out


def activation(inputs: Inputs, *, namespace: bool = True) -> dict[str, Any]:
    """The variables of a request (without params and variables); `namespace=False` for
    matchConditions, where kube leaves namespaceObject null."""
    return {
        "object": to_cel(inputs.object),
        "oldObject": to_cel(inputs.old),
        "request": to_cel(inputs.request),
        "namespaceObject": to_cel(namespace_object(inputs.namespace) if namespace else None),
    }


def with_params(
    base: dict[str, Any], params: Obj | None, variables: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """`base` with `params` and, when a policy declares any, its lazily evaluated `variables`."""
    act = {**base, "params": to_cel(params)}
    if variables:
        act["variables"] = _variables_type()(dict(variables), act)
    return act


@lru_cache(maxsize=1)
def _variables_type() -> type:
    """A CEL map whose entries are evaluated when first read (celpy is loaded by now)."""
    import celpy

    class Variables(celpy.celtypes.MapType):
        def __init__(self, expressions: dict[str, str], act: dict[str, Any]) -> None:
            super().__init__({})
            self._expressions = expressions
            self._activation = act
            self._values: dict[str, Any] = {}

        def __contains__(self, key: object) -> bool:
            return str(key) in self._expressions

        def __getitem__(self, key: Any) -> Any:
            name = str(key)
            if name not in self._expressions:
                raise KeyError(key)
            if name not in self._values:
                try:
                    self._values[name] = run(self._expressions[name], self._activation)
                except ExpressionError as e:  # an error value: what reads it fails with it
                    detail = f'composited variable "{name}" fails to evaluate: {e}'
                    self._values[name] = celpy.evaluation.CELEvalError(detail)
            return self._values[name]

    return Variables


def run(text: str, act: dict[str, Any]) -> Any:
    """The value of an expression; ExpressionError in kube's words when it has none."""
    try:
        return evaluate(compiled(text), act)
    except CompileError as e:
        raise ExpressionError(f"compilation error: {e}") from None
    except EvalError as e:
        raise ExpressionError(f"expression '{text}' resulted in error: {e}") from None


def matches(conditions: Sequence[tuple[str, str]], act: dict[str, Any]) -> bool:
    """kube's matchconditions.Matcher over (name, expression) pairs: False as soon as one is false;
    else ExpressionError when any failed (all failures, aggregated as kube does); else True."""
    errors: list[str] = []
    for _name, text in conditions:
        try:
            if is_false(run(text, act)):
                return False
        except ExpressionError as e:
            errors.append(str(e))
    if errors:
        raise ExpressionError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    return True


def expression_causes(
    path: str, text: str, declared: Collection[str], variables: Collection[str] = ()
) -> list[Cause]:
    """Why an admission expression cannot be compiled here, as kube's field errors say it:
    a syntax error, an undeclared name, or what this server does not provide."""
    try:
        c = compiled(text)
    except CompileError as e:
        return [field_invalid(path, text, f"compilation failed: {e}")]
    if any(ref.name == AUTHORIZER for ref in c.free):
        why = f"undeclared reference to '{AUTHORIZER}' (kube's authorizer library is not supported by this server)"
        return [field_invalid(path, text, f"compilation failed: {why}")]
    problem = undeclared(c, declared, variables)
    return [field_invalid(path, text, f"compilation failed: {problem}")] if problem else []


def match_condition_causes(
    path: str, conditions: list[Any], declared: tuple[str, ...] = MATCH_CONDITION
) -> list[Cause]:
    """kube's validateMatchConditions (webhooks and policies): at most 64, each named (a qualified
    name, unique) with an expression that compiles over `declared`."""
    causes: list[Cause] = []
    if len(conditions) > MAX_MATCH_CONDITIONS:
        causes.append(field_too_many(path, len(conditions), MAX_MATCH_CONDITIONS))
    for i, condition in enumerate(conditions):
        condition, at = as_object(condition), f"{path}[{i}]"
        text = condition.get("expression")
        if not isinstance(text, str) or not text.strip():
            causes.append(field_required(f"{at}.expression"))
        else:
            causes += expression_causes(f"{at}.expression", text.strip(), declared)
        name = condition.get("name")
        if not isinstance(name, str) or not name:
            causes.append(field_required(f"{at}.name"))
        else:
            causes += [field_invalid(f"{at}.name", name, m) for m in names.is_qualified_name(name)]
    names_at = [(f"{path}[{i}].name", as_object(c).get("name")) for i, c in enumerate(conditions)]
    return causes + field_duplicates(names_at)
