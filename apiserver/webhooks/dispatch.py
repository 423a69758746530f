"""The admission webhooks' async shell: what the registry calls around a write.

`mutate` runs the matching mutating webhooks one after another in kube's order, each seeing the
object as the previous one left it (re-defaulted after each patch, as kube re-defaults); a
webhook with reinvocationPolicy IfNeeded that ran before another one changed the object is called
once more after the first round, as kube's reinvocation does (only those, only once).
`validate` calls the matching validating webhooks at once and refuses with the first failure in
their calling order (kube takes whichever failed first; one order keeps answers repeatable).

A webhook is called when its selectors match and then its matchConditions hold (CEL over object,
oldObject and request, `apiserver.cel.admission`): one false condition skips it; a condition
that fails to evaluate refuses the request with kube's 500 `failed calling webhook "NAME": failed
to evaluate match condition: ...` under failurePolicy Fail and skips the webhook under Ignore.

Both return at once, before building anything, when no configuration of their kind exists, and
after one dict lookup when none matches the request's shape (`configs.Configurations.candidates`).
Subresources are offered as the kind they are written as: the object itself (pods/status,
pods/ephemeralcontainers, a CSR's approval, a custom resource's status), or another kind for
pods/binding (a Binding), pods/eviction (an Eviction) and */scale (a Scale: `apiserver.subadmission`
builds their objects, and a patch changes that kind's object, re-defaulted by nothing). A
TokenRequest (serviceaccounts/token, not stored), namespaces/finalize (written apart from the
generic write path) and connections (exec, attach, port-forward, proxy) are not, and a rule that
names one of them or CONNECT is refused with its configuration (`apiserver.validation.admission`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from api.resources import Resource
from apiserver import lifecycle
from apiserver.cel import admission as cel
from apiserver.webhooks import Requester, review, transport
from apiserver.webhooks.configs import Configurations, Hook
from apiserver.webhooks.request import Request, shape
from apiserver.webhooks.review import Attributes, CallError, Verdict

log = logging.getLogger(__name__)
Obj = dict[str, Any]
# what a create keeps whatever a webhook's patch says: the fields kube sets after admission, and
# the name and namespace the object is stored under (an update is held to them by validation)
_SYSTEM_META = ("name", "namespace", "uid", "creationTimestamp", "resourceVersion", "generation")


async def _selects(request: Request, hook: Hook, a: Attributes) -> bool:
    """Whether the webhook is called for the request as it stands (`a.obj` the object so far):
    its selectors, then its matchConditions (false: not called; an error: refused with a 500
    under failurePolicy Fail, not called under Ignore, as kube's dispatchers do)."""
    if not await request.selected(hook.namespace_selector, hook.object_selector, a.obj):
        return False
    if not hook.conditions:
        return True
    act = cel.activation(cel.Inputs(a.obj, a.old, review.request_attributes(a)), namespace=False)
    try:
        return cel.matches(hook.conditions, act)
    except cel.ExpressionError as e:
        if hook.fail_closed:
            raise review.call_failed(hook.name, f"failed to evaluate match condition: {e}") from None
        log.warning("webhook %s skipped, its match conditions failed: %s", hook.name, e)
        return False


async def _call(store: Any, hook: Hook, a: Attributes, mutating: bool) -> Verdict | None:
    """The webhook's verdict; None when it could not be had and its failure policy is Ignore."""
    uid = lifecycle.new_uid()
    try:
        version = hook.review_version
        answer = await transport.post(store, hook, review.request_body(a, uid, version))
        return review.read_response(answer, uid, mutating, version)
    except CallError as e:
        if hook.fail_closed:
            log.warning("failed calling webhook %s, failing closed: %s", hook.name, e)
            raise review.call_failed(hook.name, str(e)) from None
        log.warning("failed calling webhook %s, failing open: %s", hook.name, e)
        return None


def _offered(
    store: Any, configs: Configurations, res: Resource, a: Attributes
) -> tuple[Request, tuple[Hook, ...]] | None:
    """The write as the webhooks see it and those of `configs` its shape could match; None when
    there are none."""
    if not configs.ordered:
        return None
    matched = shape(res, a.subresource, a.operation, a.namespace)
    hooks = configs.candidates(matched) if matched is not None else ()
    return (Request(store, a), hooks) if hooks else None


async def mutate(
    store: Any,
    configs: Configurations,
    by: Requester,
    res: Resource,
    a: Attributes,
    defaults: Callable[[Obj], Obj] = lambda o: o,
) -> Obj | None:
    """The object after the mutating webhooks (the same dict when none changed it); raises the
    Status that refuses the write. `a` is the write (`request.attributes`), `by` who asks it."""
    new, operation = a.obj, a.operation
    offered = _offered(store, configs, res, a)
    if offered is None:
        return new
    request, hooks = offered
    obj = new
    invoked_again_if_needed: list[Hook] = []  # IfNeeded webhooks called in the first round
    again: set[int] = set()  # ids of those to call again
    for round_ in (0, 1):
        for hook in hooks:
            if round_ and id(hook) not in again:
                continue
            a = dataclasses.replace(request.a, obj=obj)
            if not await _selects(request, hook, a):
                continue
            verdict = await _call(store, hook, a, mutating=True)
            if verdict is not None:
                by.warnings.extend(verdict.warnings)
                if not verdict.allowed:
                    raise review.denied(hook.name, a, verdict.status)
                if verdict.patch:
                    patched = defaults(review.apply_patch(hook.name, obj, verdict.patch))
                    if patched != obj:
                        if not round_:  # kube: what ran before a change and asked to, runs again
                            again.update(id(h) for h in invoked_again_if_needed)
                        obj = patched
            if not round_ and hook.reinvoke:
                invoked_again_if_needed.append(hook)
        if not again:
            break
    if obj is not new and obj is not None and operation == "CREATE" and new is not None:
        meta, was = obj.setdefault("metadata", {}), new.get("metadata") or {}
        for key in _SYSTEM_META:
            if key in was:
                meta[key] = was[key]
    return obj


async def validate(store: Any, configs: Configurations, by: Requester, res: Resource, a: Attributes) -> None:
    """Calls the validating webhooks; raises the Status of the first refusal or failure."""
    offered = _offered(store, configs, res, a)
    if offered is None:
        return
    request, hooks = offered
    chosen = [h for h in hooks if await _selects(request, h, request.a)]
    results = await asyncio.gather(
        *(_call(store, h, request.a, mutating=False) for h in chosen), return_exceptions=True
    )
    for result in results:
        if isinstance(result, Verdict):
            by.warnings.extend(result.warnings)
    for hook, result in zip(chosen, results, strict=True):
        if isinstance(result, BaseException):
            raise result
        if result is not None and not result.allowed:
            raise review.denied(hook.name, request.a, result.status)
