"""The roles and bindings every cluster starts with, after kube's bootstrap policy
(plugin/pkg/auth/authorizer/rbac/bootstrappolicy): cluster-admin for `system:masters`, the
user-facing `admin`, `edit` and `view` built by aggregation from the `system:aggregate-to-*`
roles (so a CRD's role labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"` joins
`view`), what every authenticated client may do: discovery, its own access reviews, the
public health and version paths; and `system:auth-delegator`, which extension API servers are
bound to (their TokenReviews and SubjectAccessReviews).

The aggregated roles are written with their rules already merged (a server without a controller
manager still has working defaults); the clusterrole-aggregation controller keeps them current.
"""

from __future__ import annotations

from typing import Any

GROUP = "rbac.authorization.k8s.io"
AGGREGATE = GROUP + "/aggregate-to-"
_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_META = {
    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
    "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
}


def _rule(verbs: list[str], groups: list[str], resources: list[str]) -> dict[str, Any]:
    return {"verbs": verbs, "apiGroups": groups, "resources": resources}


VIEW_RULES = [
    _rule(
        _READ,
        [""],
        [
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
    ),
    _rule(
        _READ,
        [""],
        [
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
    ),
    _rule(_READ, [""], ["namespaces"]),
    _rule(_READ, ["discovery.k8s.io"], ["endpointslices"]),
    _rule(
        _READ,
        ["apps"],
        [
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
    ),
    _rule(_READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    _rule(_READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
    _rule(_READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    _rule(_READ, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
]
EDIT_RULES = [
    _rule(
        ["create", "delete", "deletecollection", "patch", "update"],
        [""],
        ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"],
    ),
    _rule(["create"], [""], ["pods/eviction"]),
    _rule(
        _WRITE,
        [""],
        [
            "configmaps",
            "events",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
    ),
    _rule(["create"], [""], ["serviceaccounts/token"]),
    _rule(
        _WRITE,
        ["apps"],
        [
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
    ),
    _rule(_WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
    _rule(_WRITE, ["batch"], ["cronjobs", "jobs"]),
    _rule(_WRITE, ["policy"], ["poddisruptionbudgets"]),
    _rule(_WRITE, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
    _rule(_WRITE, ["discovery.k8s.io"], ["endpointslices"]),
    _rule(
        _READ,
        [""],
        ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
    ),
    _rule(["impersonate"], [""], ["serviceaccounts"]),
]
ADMIN_RULES = [
    _rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
    _rule([*_WRITE, *_READ], [GROUP], ["rolebindings", "roles"]),
]


def _cluster_role(
    name: str,
    rules: list[dict[str, Any]],
    labels: dict[str, str] | None = None,
    aggregate_from: str | None = None,
) -> dict[str, Any]:
    meta = {
        "name": name,
        "labels": {**_META["labels"], **(labels or {})},
        "annotations": dict(_META["annotations"]),
    }
    role: dict[str, Any] = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": meta,
        "rules": rules,
    }
    if aggregate_from:
        role["aggregationRule"] = {
            "clusterRoleSelectors": [{"matchLabels": {AGGREGATE + aggregate_from: "true"}}]
        }
    return role


def _binding(name: str, role: str, groups: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": name,
            "labels": dict(_META["labels"]),
            "annotations": dict(_META["annotations"]),
        },
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": GROUP, "kind": "Group", "name": g} for g in groups],
    }


def cluster_roles() -> list[dict[str, Any]]:
    everything = [_rule(["*"], ["*"], ["*"]), {"verbs": ["*"], "nonResourceURLs": ["*"]}]
    return [
        _cluster_role("cluster-admin", everything),
        _cluster_role("system:aggregate-to-view", VIEW_RULES, {AGGREGATE + "view": "true"}),
        _cluster_role("system:aggregate-to-edit", EDIT_RULES, {AGGREGATE + "edit": "true"}),
        _cluster_role("system:aggregate-to-admin", ADMIN_RULES, {AGGREGATE + "admin": "true"}),
        _cluster_role("view", VIEW_RULES, {AGGREGATE + "edit": "true"}, aggregate_from="view"),
        _cluster_role("edit", EDIT_RULES + VIEW_RULES, {AGGREGATE + "admin": "true"}, aggregate_from="edit"),
        _cluster_role("admin", ADMIN_RULES + EDIT_RULES + VIEW_RULES, aggregate_from="admin"),
        _cluster_role(
            "system:discovery",
            [
                {
                    "verbs": ["get"],
                    "nonResourceURLs": [
                        "/api",
                        "/api/*",
                        "/apis",
                        "/apis/*",
                        "/healthz",
                        "/livez",
                        "/openapi",
                        "/openapi/*",
                        "/readyz",
                        "/version",
                        "/version/",
                    ],
                }
            ],
        ),
        _cluster_role(
            "system:basic-user",
            [
                _rule(
                    ["create"],
                    ["authorization.k8s.io"],
                    ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
            ],
        ),
        # what an extension API server's delegated authentication and authorization ask
        _cluster_role(
            "system:auth-delegator",
            [
                _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
                _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            ],
        ),
        # TLS bootstrap (kube's bootstrap policy, kubeadm's bindings): a bootstrap credential may ask
        # for a kubelet client certificate and read it; the approver asks who may have theirs
        # auto-approved (controller/clientapproving.py)
        _cluster_role(
            "system:node-bootstrapper",
            [
                _rule(
                    ["create", "get", "list", "watch"],
                    ["certificates.k8s.io"],
                    ["certificatesigningrequests"],
                )
            ],
        ),
        _cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            [_rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/nodeclient"])],
        ),
        _cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            [_rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/selfnodeclient"])],
        ),
        _cluster_role(
            "system:public-info-viewer",
            [
                {
                    "verbs": ["get"],
                    "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
                }
            ],
        ),
    ]


def cluster_role_bindings() -> list[dict[str, Any]]:
    return [
        _binding("cluster-admin", "cluster-admin", ["system:masters"]),
        _binding("system:discovery", "system:discovery", ["system:authenticated"]),
        _binding("system:basic-user", "system:basic-user", ["system:authenticated"]),
        _binding("kubelite:kubelet-bootstrap", "system:node-bootstrapper", ["system:bootstrappers"]),
        _binding(
            "kubelite:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            ["system:bootstrappers"],
        ),
        _binding(
            "kubelite:node-autoapprove-certificate-rotation",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            ["system:nodes"],
        ),
        _binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            ["system:authenticated", "system:unauthenticated"],
        ),
    ]
