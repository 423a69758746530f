"""Short descriptions of the webhook configurations, the ValidatingAdmissionPolicies and their
bindings, and their fields, for OpenAPI and `kubectl explain` (written for kubelite, in the style
of `docs.py`)."""

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

_MATCH = {
    "namespaceSelector": "Objects in namespaces with matching labels (a Namespace by its own labels); empty "
    "matches all.",
    "objectSelector": "Objects whose new or old labels match; empty matches all.",
    "resourceRules": "The operations on resources matched; a request matching any rule is.",
    "excludeResourceRules": "The operations on resources never matched, whatever resourceRules say.",
    "matchPolicy": "Equivalent (the default) or Exact; kubelite serves each built-in resource in one version.",
}

_RULE_DOCS = {
    "RuleWithOperations.operations": "CREATE, UPDATE, DELETE, CONNECT or *.",
    "RuleWithOperations.apiGroups": 'API groups ("" is the core group) or *.',
    "RuleWithOperations.apiVersions": "API versions or *.",
    "RuleWithOperations.resources": "Resources, resource/subresource (pods/status), pods/*, */* or *.",
    "RuleWithOperations.scope": "Cluster, Namespaced or * (the default).",
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
    **_RULE_DOCS,
    "MatchCondition.name": "The condition's name, a qualified name unique in its list.",
    "MatchCondition.expression": "A CEL expression that evaluates to a bool.",
    "ValidatingAdmissionPolicy": "CEL validations the API server evaluates itself on writes, for the requests "
    "its bindings select; it may refuse a request or warn about it, never change it.",
    "ValidatingAdmissionPolicy.spec": "What the policy matches and checks.",
    "ValidatingAdmissionPolicy.status": "observedGeneration: the generation the server has taken in.",
    "ValidatingAdmissionPolicySpec.paramKind": "The kind of the parameter objects a binding's paramRef selects, "
    "seen as `params`; none: params is null.",
    "ValidatingAdmissionPolicySpec.matchConstraints": "The requests the policy can apply to (at least one "
    "resourceRule); its bindings narrow them further.",
    "ValidatingAdmissionPolicySpec.validations": "CEL expressions over object, oldObject, request, params, "
    "namespaceObject and variables; a request for which one is not true fails it.",
    "ValidatingAdmissionPolicySpec.failurePolicy": "Fail (the default) refuses the request when an expression "
    "cannot be evaluated or the policy or binding is misconfigured; Ignore goes on.",
    "ValidatingAdmissionPolicySpec.auditAnnotations": "CEL values kube adds to the request's audit event; "
    "kubelite has no audit log and writes them to the server's log.",
    "ValidatingAdmissionPolicySpec.matchConditions": "CEL conditions the request must meet for the policy to "
    "be evaluated: any false skips it; an evaluation error follows failurePolicy.",
    "ValidatingAdmissionPolicySpec.variables": "Named CEL expressions read as `variables.<name>`, each "
    "evaluated at most once per request and only when read.",
    "ParamKind.apiVersion": "The parameter kind's group/version.",
    "ParamKind.kind": "The parameter kind.",
    **{f"MatchResources.{k}": v for k, v in _MATCH.items()},
    "NamedRuleWithOperations.resourceNames": "Object names the rule is limited to; empty: any.",
    **{f"NamedRuleWithOperations.{k[len('RuleWithOperations.') :]}": v for k, v in _RULE_DOCS.items()},
    "Validation.expression": "A CEL expression that must be true for the request to pass.",
    "Validation.message": "The refusal's message (one line); by default `failed expression: <expression>`.",
    "Validation.messageExpression": "A CEL expression giving the message; when it fails or gives no string, "
    "message is used.",
    "Validation.reason": "Invalid (the default, 422), Forbidden (403) or RequestEntityTooLarge (413).",
    "Variable.name": "The variable's name, a CEL identifier.",
    "Variable.expression": "Its CEL expression; it may read the variables declared before it.",
    "AuditAnnotation.key": "The annotation's key, `<policy name>/<key>` once recorded.",
    "AuditAnnotation.valueExpression": "A CEL expression giving a string (recorded) or null (skipped).",
    "ValidatingAdmissionPolicyStatus.observedGeneration": "The generation the server has taken in.",
    "ValidatingAdmissionPolicyStatus.typeChecking": "Type-checking warnings (kubelite reports none).",
    "ValidatingAdmissionPolicyStatus.conditions": "The policy's conditions.",
    "ValidatingAdmissionPolicyBinding": "Applies a ValidatingAdmissionPolicy to the requests its matchResources "
    "select, with parameters, and says what a failed validation does.",
    "ValidatingAdmissionPolicyBinding.spec": "The policy, its parameters and the actions.",
    "ValidatingAdmissionPolicyBindingSpec.policyName": "The ValidatingAdmissionPolicy bound; a binding to a "
    "missing policy does nothing.",
    "ValidatingAdmissionPolicyBindingSpec.paramRef": "The parameter objects the policy is evaluated with, once "
    "per object.",
    "ValidatingAdmissionPolicyBindingSpec.matchResources": "Narrows the policy's matchConstraints; absent or "
    "without resourceRules: what the policy matches.",
    "ValidatingAdmissionPolicyBindingSpec.validationActions": "Deny refuses the request, Warn adds a Warning "
    "header, Audit records the failure (in the server's log: kubelite has no audit log); not Deny with Warn.",
    "ParamRef.name": "The parameter object's name (or selector).",
    "ParamRef.namespace": "The parameter objects' namespace for a namespaced paramKind; by default the "
    "request's.",
    "ParamRef.selector": "The parameter objects with matching labels (or name); the policy is evaluated with each.",
    "ParamRef.parameterNotFoundAction": "Deny refuses the request when no parameter object is found; Allow "
    "lets it through.",
}
