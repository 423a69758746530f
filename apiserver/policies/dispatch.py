"""The ValidatingAdmissionPolicies' async shell: what the registry calls after a write's mutation,
validation and built-in admission, before the validating webhooks (kube's plugin order):
kube's dispatcher (k8s.io/apiserver/pkg/admission/plugin/policy/validating/dispatcher.go).

For each bound policy (in name order) whose matchConstraints match the request (rules, then the
selectors), and each of its bindings (in name order) whose matchResources match too: the
parameter objects are collected (`params`), the policy is evaluated once per object (`evaluate`),
and each failure goes where the binding's validationActions send it:

- Deny: the request is refused with the first failure, as kube words it: `<resource> "<name>" is
  forbidden: ValidatingAdmissionPolicy '<p>' with binding '<b>' denied request: <message>`, the
  status code and reason the validation's reason gives (Invalid 422 by default, Forbidden 403,
  RequestEntityTooLarge 413), the message repeated as the Status's one cause.
- Warn: a Warning header `Validation failed for ValidatingAdmissionPolicy '<p>' with binding
  '<b>': <message>`.
- Audit: kube adds the `validation.policy.admission.k8s.io/validation_failure` annotation to the
  request's audit event; kubelite has no audit log, so the annotation is written to the server's
  log (INFO), as are the policies' auditAnnotations.

A misconfigured policy or binding (an unknown paramKind, a missing parameter under Deny) refuses
the request under failurePolicy Fail (`failed to configure policy|binding: ...`), whatever the
actions, and is skipped under Ignore. Returns at once when no binding exists, and after one dict
lookup when no bound policy's rules could match the request's shape. The admissionregistration
kinds themselves are never subject to policies, as in kube.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from api.errors import ApiError, admission_forbidden
from api.resources import Resource
from apiserver.cel import admission as cel
from apiserver.policies import evaluate, matching, params
from apiserver.policies.configs import Binding, Match, Policy, PolicyConfigs
from apiserver.policies.evaluate import Decision
from apiserver.webhooks import Requester, review
from apiserver.webhooks.request import Request, Shape, shape
from apiserver.webhooks.review import Attributes

log = logging.getLogger(__name__)
Obj = dict[str, Any]
CODES = {"Forbidden": 403, "Invalid": 422, "RequestEntityTooLarge": 413}
Failure = tuple[Policy, Binding | None, Decision]


def refusal(policy: Policy, binding: Binding | None, decision: Decision, a: Attributes) -> ApiError:
    """kube's error for the first denied decision."""
    by = f"ValidatingAdmissionPolicy '{policy.name}'" + (f" with binding '{binding.name}'" if binding else "")
    message = f"{by} denied request: {decision.message}"
    err = admission_forbidden(a.resource, a.group, a.name, message)
    err.reason = decision.reason or "Invalid"
    err.code = CODES.get(err.reason, 422)
    err.details = {**(err.details or {}), "causes": [{"message": message}]}
    return err


def warning(policy: Policy, binding: Binding, decision: Decision) -> str:
    return f"Validation failed for ValidatingAdmissionPolicy '{policy.name}' with binding '{binding.name}': {decision.message}"


def audit_annotation(policy: Policy, binding: Binding, decision: Decision) -> str:
    """The value of kube's validation_failure audit annotation."""
    failure = {
        "message": decision.message,
        "policy": policy.name,
        "binding": binding.name,
        "expressionIndex": decision.index,
        "validationActions": list(binding.actions),
    }
    return json.dumps([failure], separators=(",", ":"))


async def _matched(request: Request, match: Match, matched_shape: Shape, obj: Obj | None) -> bool:
    if not matching.resources_match(match, matched_shape, request.a.name):
        return False
    return await request.selected(match.namespace_selector, match.object_selector, obj)


class _Evaluation:
    """The variables of one request, built when a policy first needs them."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self._base: dict[str, Any] | None = None

    async def base(self) -> dict[str, Any]:
        if self._base is None:
            a = self.request.a
            own = a.group == "" and a.resource == "namespaces"  # kube gives a Namespace no namespaceObject
            namespace = await self.request.namespace() if a.namespace and not own else None
            self._base = cel.activation(cel.Inputs(a.obj, a.old, review.request_attributes(a), namespace))
        return self._base


async def _bindings(
    request: Request,
    ev: _Evaluation,
    policy: Policy,
    bindings: tuple[Binding, ...],
    matched_shape: Shape,
    by: Requester,
) -> list[Failure]:
    a, denied = request.a, list[Failure]()
    try:
        params.param_resource(policy)
    except params.ConfigError as e:  # kube: the policy's configuration error, before any binding
        return [(policy, None, Decision(f"failed to configure policy: {e}"))] if policy.fail_closed else []
    for binding in bindings:
        if binding.match is not None and not await _matched(request, binding.match, matched_shape, a.obj):
            continue
        try:
            objects = await params.collect(request.store, policy, binding, a.namespace)
        except params.ConfigError as e:
            if policy.fail_closed:
                denied.append((policy, binding, Decision(f"failed to configure binding: {e}")))
            continue
        base = await ev.base() if objects else {}
        for obj in objects:
            result = evaluate.validate(policy, base, obj)
            for decision in result.decisions:
                if decision.always_deny:
                    denied.append((policy, binding, decision))
                    continue
                for action in binding.actions:
                    if action == "Deny":
                        denied.append((policy, binding, decision))
                    elif action == "Warn":
                        by.warnings.append(warning(policy, binding, decision))
                    elif action == "Audit":
                        log.info(
                            "audit annotation validation.policy.admission.k8s.io/validation_failure=%s",
                            audit_annotation(policy, binding, decision),
                        )
            for key, value in result.annotations:
                log.info("audit annotation %s/%s=%s", policy.name, key, value)
    return denied


async def validate(store: Any, configs: PolicyConfigs, by: Requester, res: Resource, a: Attributes) -> None:
    """Evaluates the bound policies matching the write `a` (of `res`, by `by`); raises the refusal of
    the first denial. The caller checks `configs.pairs` first: without a binding there is nothing."""
    matched_shape = shape(res, a.subresource, a.operation, a.namespace)
    pairs = configs.candidates(matched_shape) if matched_shape is not None else ()
    if not pairs or matched_shape is None:
        return
    request = Request(store, a)
    ev = _Evaluation(request)
    denied: list[Failure] = []
    for policy, bindings in pairs:
        if await _matched(request, policy.match, matched_shape, a.obj):
            denied += await _bindings(request, ev, policy, bindings, matched_shape, by)
    if denied:
        raise refusal(*denied[0], a)
