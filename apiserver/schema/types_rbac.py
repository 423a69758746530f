"""Field table of access control (rbac.authorization.k8s.io/v1), the review questions
(authorization.k8s.io/v1, authentication.k8s.io/v1) and TokenRequest, in the compact notation of
`types.py` (k8s.io/api as of Kubernetes 1.33).
"""

from __future__ import annotations

RBAC = "io.k8s.api.rbac.v1"
AUTHORIZATION = "io.k8s.api.authorization.v1"
AUTHENTICATION = "io.k8s.api.authentication.v1"
_TM = {"kind": "string", "apiVersion": "string"}

RBAC_TYPES: dict[str, dict[str, str]] = {
    "PolicyRule": {
        "verbs!": "[string]",
        "apiGroups": "[string]",
        "resources": "[string]",
        "resourceNames": "[string]",
        "nonResourceURLs": "[string]",
    },
    "Role": {**_TM, "metadata": "ObjectMeta", "rules": "[PolicyRule]"},
    "ClusterRole": {
        **_TM,
        "metadata": "ObjectMeta",
        "rules": "[PolicyRule]",
        "aggregationRule": "AggregationRule",
    },
    "AggregationRule": {"clusterRoleSelectors": "[LabelSelector]"},
    "Subject": {"kind!": "string", "apiGroup": "string", "name!": "string", "namespace": "string"},
    "RoleRef": {"apiGroup!": "string", "kind!": "string", "name!": "string"},
    "RoleBinding": {**_TM, "metadata": "ObjectMeta", "subjects": "[Subject]", "roleRef!": "RoleRef"},
    "ClusterRoleBinding": {**_TM, "metadata": "ObjectMeta", "subjects": "[Subject]", "roleRef!": "RoleRef"},
}

AUTHORIZATION_TYPES: dict[str, dict[str, str]] = {
    "ResourceAttributes": {
        "namespace": "string",
        "verb": "string",
        "group": "string",
        "version": "string",
        "resource": "string",
        "subresource": "string",
        "name": "string",
        "fieldSelector": "object",
        "labelSelector": "object",
    },
    "NonResourceAttributes": {"path": "string", "verb": "string"},
    "SubjectAccessReviewSpec": {
        "resourceAttributes": "ResourceAttributes",
        "nonResourceAttributes": "NonResourceAttributes",
        "user": "string",
        "groups": "[string]",
        "extra": "{[string]}",
        "uid": "string",
    },
    "SelfSubjectAccessReviewSpec": {
        "resourceAttributes": "ResourceAttributes",
        "nonResourceAttributes": "NonResourceAttributes",
    },
    "SubjectAccessReviewStatus": {
        "allowed!": "boolean",
        "denied": "boolean",
        "reason": "string",
        "evaluationError": "string",
    },
    "SubjectAccessReview": {
        **_TM,
        "metadata": "ObjectMeta",
        "spec!": "SubjectAccessReviewSpec",
        "status": "SubjectAccessReviewStatus",
    },
    "LocalSubjectAccessReview": {
        **_TM,
        "metadata": "ObjectMeta",
        "spec!": "SubjectAccessReviewSpec",
        "status": "SubjectAccessReviewStatus",
    },
    "SelfSubjectAccessReview": {
        **_TM,
        "metadata": "ObjectMeta",
        "spec!": "SelfSubjectAccessReviewSpec",
        "status": "SubjectAccessReviewStatus",
    },
    "SelfSubjectRulesReviewSpec": {"namespace": "string"},
    "ResourceRule": {
        "verbs!": "[string]",
        "apiGroups": "[string]",
        "resources": "[string]",
        "resourceNames": "[string]",
    },
    "NonResourceRule": {"verbs!": "[string]", "nonResourceURLs": "[string]"},
    "SubjectRulesReviewStatus": {
        "resourceRules!": "[ResourceRule]",
        "nonResourceRules!": "[NonResourceRule]",
        "incomplete!": "boolean",
        "evaluationError": "string",
    },
    "SelfSubjectRulesReview": {
        **_TM,
        "metadata": "ObjectMeta",
        "spec!": "SelfSubjectRulesReviewSpec",
        "status": "SubjectRulesReviewStatus",
    },
}

AUTHENTICATION_TYPES: dict[str, dict[str, str]] = {
    "UserInfo": {"username": "string", "uid": "string", "groups": "[string]", "extra": "{[string]}"},
    "TokenReviewSpec": {"token": "string", "audiences": "[string]"},
    "TokenReviewStatus": {
        "authenticated": "boolean",
        "user": "UserInfo",
        "audiences": "[string]",
        "error": "string",
    },
    "TokenReview": {
        **_TM,
        "metadata": "ObjectMeta",
        "spec!": "TokenReviewSpec",
        "status": "TokenReviewStatus",
    },
    "SelfSubjectReviewStatus": {"userInfo": "UserInfo"},
    "SelfSubjectReview": {**_TM, "metadata": "ObjectMeta", "status": "SelfSubjectReviewStatus"},
    "BoundObjectReference": {"kind": "string", "apiVersion": "string", "name": "string", "uid": "string"},
    "TokenRequestSpec": {
        "audiences!": "[string]",
        "expirationSeconds": "integer",
        "boundObjectRef": "BoundObjectReference",
    },
    "TokenRequestStatus": {"token!": "string", "expirationTimestamp!": "Time"},
    "TokenRequest": {
        **_TM,
        "metadata": "ObjectMeta",
        "spec!": "TokenRequestSpec",
        "status": "TokenRequestStatus",
    },
}

RBAC_KINDS: dict[str, str] = {
    **{
        k: "rbac.authorization.k8s.io/v1"
        for k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
    },
    **{
        k: "authorization.k8s.io/v1"
        for k in (
            "SubjectAccessReview",
            "LocalSubjectAccessReview",
            "SelfSubjectAccessReview",
            "SelfSubjectRulesReview",
        )
    },
    **{k: "authentication.k8s.io/v1" for k in ("TokenReview", "SelfSubjectReview", "TokenRequest")},
}
RBAC_LISTED_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
