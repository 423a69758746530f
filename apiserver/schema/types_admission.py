"""Field table of admissionregistration.k8s.io/v1 MutatingWebhookConfiguration and
ValidatingWebhookConfiguration, in the compact notation of `types.py` (k8s.io/api
admissionregistration/v1 as of Kubernetes 1.33).

Required fields as 1.33's OpenAPI marks them: a webhook's name, clientConfig, sideEffects and
admissionReviewVersions; a service reference's namespace and name; a match condition's name and
expression. Webhooks and match conditions merge by name. caBundle is bytes, base64 on the wire.

ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding (GA in 1.30): a validation's
expression, a variable's name and expression, an audit annotation's key and valueExpression, a
type-checking warning's fieldRef and warning are required; a policy's status conditions merge by
type; its other lists are atomic.
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

_RULE = {
    "operations": "[string]",
    "apiGroups": "[string]",
    "apiVersions": "[string]",
    "resources": "[string]",
    "scope": "string",
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
    "RuleWithOperations": dict(_RULE),
    "MatchCondition": {"name!": "string", "expression!": "string"},
    "ValidatingAdmissionPolicy": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "ValidatingAdmissionPolicySpec",
        "status": "ValidatingAdmissionPolicyStatus",
    },
    "ValidatingAdmissionPolicySpec": {
        "paramKind": "ParamKind",
        "matchConstraints": "MatchResources",
        "validations": "[Validation]",
        "failurePolicy": "string",
        "auditAnnotations": "[AuditAnnotation]",
        "matchConditions": "[MatchCondition]@name",
        "variables": "[Variable]",
    },
    "ParamKind": {"apiVersion": "string", "kind": "string"},
    "MatchResources": {
        "namespaceSelector": "LabelSelector",
        "objectSelector": "LabelSelector",
        "resourceRules": "[NamedRuleWithOperations]",
        "excludeResourceRules": "[NamedRuleWithOperations]",
        "matchPolicy": "string",
    },
    "NamedRuleWithOperations": {"resourceNames": "[string]", **_RULE},
    "Validation": {
        "expression!": "string",
        "message": "string",
        "reason": "string",
        "messageExpression": "string",
    },
    "Variable": {"name!": "string", "expression!": "string"},
    "AuditAnnotation": {"key!": "string", "valueExpression!": "string"},
    "ValidatingAdmissionPolicyStatus": {
        "observedGeneration": "integer",
        "typeChecking": "TypeChecking",
        "conditions": "[Condition]@type",
    },
    "TypeChecking": {"expressionWarnings": "[ExpressionWarning]"},
    "ExpressionWarning": {"fieldRef!": "string", "warning!": "string"},
    "ValidatingAdmissionPolicyBinding": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "ValidatingAdmissionPolicyBindingSpec",
    },
    "ValidatingAdmissionPolicyBindingSpec": {
        "policyName": "string",
        "paramRef": "ParamRef",
        "matchResources": "MatchResources",
        "validationActions": "[string]",
    },
    "ParamRef": {
        "name": "string",
        "namespace": "string",
        "selector": "LabelSelector",
        "parameterNotFoundAction": "string",
    },
}

ADMISSIONREGISTRATION_KINDS: dict[str, str] = {
    "MutatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
    "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
    "ValidatingAdmissionPolicy": "admissionregistration.k8s.io/v1",
    "ValidatingAdmissionPolicyBinding": "admissionregistration.k8s.io/v1",
}
ADMISSIONREGISTRATION_LISTED_KINDS = tuple(ADMISSIONREGISTRATION_KINDS)
