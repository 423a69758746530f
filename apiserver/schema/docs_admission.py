"""Short descriptions of the webhook configurations and their fields, for OpenAPI and `kubectl
explain` (written for kubelite, in the style of `docs.py`)."""

from __future__ import annotations

_HOOK = {
    "name": "The webhook's name, a domain of at least three segments (e.g. pods.policy.example.com), "
    "unique in its configuration; errors and denials name it.",
    "clientConfig": "Where the API server sends the AdmissionReview: a url, or a service in the cluster.",
    "rules": "The operations on resources that call the webhook; a request matching any rule does.",
    "failurePolicy": "Fail (the default) refuses the request when the webhook cannot be called or answers "
    "badly; Ignore goes on without it.",
    "matchPolicy": "Equivalent (the default) or Exact; kubelite serves each built-in resource in one version.",
    "namespaceSelector": "Calls the webhook only for objects in namespaces with matching labels (a Namespace "
    "is matched by its own labels); empty matches all.",
    "objectSelector": "Calls the webhook only when the new or the old object's labels match; empty matches all.",
    "sideEffects": "None or NoneOnDryRun: the webhook changes nothing else, so dry-run requests may call it.",
    "timeoutSeconds": "How long to wait for an answer, 1 to 30 seconds (10 by default); then the failure "
    "policy decides.",
    "admissionReviewVersions": "The AdmissionReview versions the webhook reads; must include v1, the one "
    "kubelite sends.",
    "matchConditions": "CEL conditions (object, oldObject, request) the request must meet for the webhook to be "
    "called: any false skips it; an evaluation error follows failurePolicy. At most 64; the authorizer "
    "library and Kubernetes CEL library functions are refused.",
}

ADMISSION_DOCS: dict[str, str] = {
    "MutatingWebhookConfiguration": "Webhooks the API server calls on writes before validation; each may "
    "change the object with a JSONPatch or refuse the request.",
    "MutatingWebhookConfiguration.webhooks": "The webhooks, called in order (configurations in name order).",
    "ValidatingWebhookConfiguration": "Webhooks the API server calls on writes after validation; each may "
    "refuse the request, none may change it.",
    "ValidatingWebhookConfiguration.webhooks": "The webhooks, called in parallel.",
    **{f"MutatingWebhook.{k}": v for k, v in _HOOK.items()},
    **{f"ValidatingWebhook.{k}": v for k, v in _HOOK.items()},
    "MutatingWebhook.reinvocationPolicy": "Never (the default) or IfNeeded: called once more when a later "
    "webhook changed the object.",
    "WebhookClientConfig.url": "https://host[:port][/path] called as given; no user, query or fragment.",
    "WebhookClientConfig.service": "A Service whose ready endpoint is called, with TLS server name "
    "<name>.<namespace>.svc.",
    "WebhookClientConfig.caBundle": "PEM certificates the webhook's serving certificate must chain to; the "
    "system roots when empty.",
    "ServiceReference.namespace": "The Service's namespace.",
    "ServiceReference.name": "The Service's name.",
    "ServiceReference.path": "The URL path sent to the service.",
    "ServiceReference.port": "The Service's port (443 by default).",
    "RuleWithOperations.operations": "CREATE, UPDATE, DELETE, CONNECT or *.",
    "RuleWithOperations.apiGroups": 'API groups ("" is the core group) or *.',
    "RuleWithOperations.apiVersions": "API versions or *.",
    "RuleWithOperations.resources": "Resources, resource/subresource (pods/status), pods/*, */* or *.",
    "RuleWithOperations.scope": "Cluster, Namespaced or * (the default).",
    "MatchCondition.name": "The condition's name, a qualified name unique in its list.",
    "MatchCondition.expression": "A CEL expression that evaluates to a bool.",
}
