"""Short descriptions of FlowSchema and PriorityLevelConfiguration, for OpenAPI and `kubectl
explain` (written for kubelite, in the style of `docs.py`)."""

from __future__ import annotations

FLOWCONTROL_DOCS: dict[str, str] = {
    "FlowSchema": "FlowSchema sorts API requests into a priority level: the first schema, by matchingPrecedence, "
    "whose rules match a request decides its level and flow.",
    "FlowSchemaSpec.priorityLevelConfiguration": "The priority level matching requests take.",
    "FlowSchemaSpec.matchingPrecedence": "Lower values are tried first; 1 to 10000, 1000 when unset.",
    "FlowSchemaSpec.distinguisherMethod": "How matching requests split into flows (ByUser, ByNamespace); none: "
    "one flow.",
    "FlowSchemaSpec.rules": "A request matches when any rule matches: a subject and a resource or "
    "non-resource rule.",
    "FlowSchemaStatus.conditions": "Dangling: whether the priority level named is missing.",
    "PriorityLevelConfiguration": "PriorityLevelConfiguration is a priority level: its share of the API "
    "server's concurrency and what happens to requests beyond it.",
    "PriorityLevelConfigurationSpec.type": "Exempt (no limit; only the level named exempt) or Limited.",
    "LimitedPriorityLevelConfiguration.nominalConcurrencyShares": "This level's share of the server's "
    "concurrency limit, against the sum of all levels' shares; 30 when unset.",
    "LimitedPriorityLevelConfiguration.limitResponse": "What a request beyond the limit gets: Queue (wait "
    "in the level's queues) or Reject (429 at once).",
    "QueuingConfiguration.queues": "The number of queues; 64 when unset.",
    "QueuingConfiguration.handSize": "How many queues a flow is dealt (shuffle sharding); 8 when unset.",
    "QueuingConfiguration.queueLengthLimit": "The most requests one queue holds; 50 when unset.",
}
