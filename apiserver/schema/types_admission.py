"""Field table of admissionregistration.k8s.io/v1 MutatingWebhookConfiguration and
ValidatingWebhookConfiguration, in the compact notation of `types.py` (k8s.io/api
admissionregistration/v1 as of Kubernetes 1.33).

Required fields as 1.33's OpenAPI marks them: a webhook's name, clientConfig, sideEffects and
admissionReviewVersions; a service reference's namespace and name; a match condition's name and
expression. Webhooks and match conditions merge by name. caBundle is bytes, base64 on the wire.
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META

ADMISSIONREGISTRATION = "io.k8s.api.admissionregistration.v1"

_WEBHOOK = {
    "name!": "string",
    "clientConfig!": "WebhookClientConfig",
    "rules": "[RuleWithOperations]",
    "failurePolicy": "string",
    "matchPolicy": "string",
    "namespaceSelector": "LabelSelector",
    "objectSelector": "LabelSelector",
    "sideEffects!": "string",
    "timeoutSeconds": "integer",
    "admissionReviewVersions!": "[string]",
    "matchConditions": "[MatchCondition]@name",
}

ADMISSIONREGISTRATION_TYPES: dict[str, dict[str, str]] = {
    "MutatingWebhookConfiguration": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "webhooks": "[MutatingWebhook]@name",
    },
    "ValidatingWebhookConfiguration": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "webhooks": "[ValidatingWebhook]@name",
    },
    "MutatingWebhook": {**_WEBHOOK, "reinvocationPolicy": "string"},
    "ValidatingWebhook": dict(_WEBHOOK),
    "WebhookClientConfig": {"url": "string", "service": "ServiceReference", "caBundle": "string"},
    "ServiceReference": {"namespace!": "string", "name!": "string", "path": "string", "port": "integer"},
    "RuleWithOperations": {
        "operations": "[string]",
        "apiGroups": "[string]",
        "apiVersions": "[string]",
        "resources": "[string]",
        "scope": "string",
    },
    "MatchCondition": {"name!": "string", "expression!": "string"},
}

ADMISSIONREGISTRATION_KINDS: dict[str, str] = {
    "MutatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
    "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
}
ADMISSIONREGISTRATION_LISTED_KINDS = tuple(ADMISSIONREGISTRATION_KINDS)
