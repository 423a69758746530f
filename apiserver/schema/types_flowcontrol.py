"""Field table of flowcontrol.apiserver.k8s.io/v1 FlowSchema and PriorityLevelConfiguration, in the
compact notation of `types.py` (k8s.io/api flowcontrol/v1 as of Kubernetes 1.33)."""

from __future__ import annotations

from apiserver.schema.types import TYPE_META, condition

FLOWCONTROL = "io.k8s.api.flowcontrol.v1"

FLOWCONTROL_TYPES: dict[str, dict[str, str]] = {
    "FlowSchema": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "FlowSchemaSpec",
        "status": "FlowSchemaStatus",
    },
    "FlowSchemaSpec": {
        "priorityLevelConfiguration!": "PriorityLevelConfigurationReference",
        "matchingPrecedence": "integer",
        "distinguisherMethod": "FlowDistinguisherMethod",
        "rules": "[PolicyRulesWithSubjects]",
    },
    "PriorityLevelConfigurationReference": {"name!": "string"},
    "FlowDistinguisherMethod": {"type!": "string"},
    "PolicyRulesWithSubjects": {
        "subjects!": "[FlowcontrolSubject]",
        "resourceRules": "[ResourcePolicyRule]",
        "nonResourceRules": "[NonResourcePolicyRule]",
    },
    "FlowcontrolSubject": {
        "kind!": "string",
        "user": "UserSubject",
        "group": "GroupSubject",
        "serviceAccount": "ServiceAccountSubject",
    },
    "UserSubject": {"name!": "string"},
    "GroupSubject": {"name!": "string"},
    "ServiceAccountSubject": {"namespace!": "string", "name!": "string"},
    "ResourcePolicyRule": {
        "verbs!": "[string]@set",
        "apiGroups!": "[string]@set",
        "resources!": "[string]@set",
        "clusterScope": "boolean",
        "namespaces": "[string]@set",
    },
    "NonResourcePolicyRule": {"verbs!": "[string]@set", "nonResourceURLs!": "[string]@set"},
    "FlowSchemaStatus": {"conditions": "[FlowSchemaCondition]@type"},
    "FlowSchemaCondition": condition(),
    "PriorityLevelConfiguration": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "PriorityLevelConfigurationSpec",
        "status": "PriorityLevelConfigurationStatus",
    },
    "PriorityLevelConfigurationSpec": {
        "type!": "string",
        "limited": "LimitedPriorityLevelConfiguration",
        "exempt": "ExemptPriorityLevelConfiguration",
    },
    "LimitedPriorityLevelConfiguration": {
        "nominalConcurrencyShares": "integer",
        "limitResponse": "LimitResponse",
        "lendablePercent": "integer",
        "borrowingLimitPercent": "integer",
    },
    "ExemptPriorityLevelConfiguration": {"nominalConcurrencyShares": "integer", "lendablePercent": "integer"},
    "LimitResponse": {"type!": "string", "queuing": "QueuingConfiguration"},
    "QueuingConfiguration": {"queues": "integer", "handSize": "integer", "queueLengthLimit": "integer"},
    "PriorityLevelConfigurationStatus": {"conditions": "[PriorityLevelConfigurationCondition]@type"},
    "PriorityLevelConfigurationCondition": condition(),
}

FLOWCONTROL_KINDS: dict[str, str] = {
    "FlowSchema": "flowcontrol.apiserver.k8s.io/v1",
    "PriorityLevelConfiguration": "flowcontrol.apiserver.k8s.io/v1",
}
FLOWCONTROL_LISTED_KINDS = tuple(FLOWCONTROL_KINDS)
NAMES = {"FlowcontrolSubject": "Subject"}  # RBAC has a Subject of its own
