"""Rows of MutatingWebhookConfiguration and ValidatingWebhookConfiguration
(admissionregistration.k8s.io/v1): what the API server calls on writes (`apiserver/webhooks`).

Defaulting is kube's v1 SetDefaults_MutatingWebhook / _ValidatingWebhook / _Rule /
_ServiceReference: failurePolicy Fail, matchPolicy Equivalent, namespaceSelector and
objectSelector `{}`, timeoutSeconds 10, reinvocationPolicy Never (mutating only), a rule's scope
`*`, a service's port 443. sideEffects and admissionReviewVersions have no default in v1: they are
required (`validation/admission.py`). No generation: kube's strategies do not count one for these.

The registry's webhook mirror is fed this server's own writes at once (`wrote`), so a request
right after a configuration is created is already held to it, as kube's is within its informer's
lag.
"""

from __future__ import annotations

from typing import Any

from apiserver.kinds import HookContext, Obj, WriteHooks, row
from apiserver.validation.admission import validate_mutating_configuration, validate_validating_configuration


class _Mirrored(WriteHooks):
    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        ctx.webhooks.note(key, value)


def _webhook_defaults(hook: Any, mutating: bool) -> None:
    if not isinstance(hook, dict):
        return  # refused by the type check
    hook.setdefault("failurePolicy", "Fail")
    hook.setdefault("matchPolicy", "Equivalent")
    for selector in ("namespaceSelector", "objectSelector"):
        if hook.get(selector) is None:
            hook[selector] = {}
    if hook.get("timeoutSeconds") is None:
        hook["timeoutSeconds"] = 10
    if mutating and hook.get("reinvocationPolicy") is None:
        hook["reinvocationPolicy"] = "Never"
    for rule in hook.get("rules") or []:
        if isinstance(rule, dict) and rule.get("scope") is None:
            rule["scope"] = "*"
    service = (
        (hook.get("clientConfig") or {}).get("service")
        if isinstance(hook.get("clientConfig"), dict)
        else None
    )
    if isinstance(service, dict) and service.get("port") is None:
        service["port"] = 443


def _mutating_defaults(obj: Obj) -> None:
    for hook in obj.get("webhooks") or []:
        _webhook_defaults(hook, mutating=True)


def _validating_defaults(obj: Obj) -> None:
    for hook in obj.get("webhooks") or []:
        _webhook_defaults(hook, mutating=False)


row(
    "mutatingwebhookconfigurations",
    "admissionregistration.k8s.io",
    defaults=_mutating_defaults,
    validate=validate_mutating_configuration,
    hooks=_Mirrored(),
)
row(
    "validatingwebhookconfigurations",
    "admissionregistration.k8s.io",
    defaults=_validating_defaults,
    validate=validate_validating_configuration,
    hooks=_Mirrored(),
)
