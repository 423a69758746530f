"""Rows of FlowSchema and PriorityLevelConfiguration (flowcontrol.apiserver.k8s.io/v1), as kube's
registry strategies keep them: cluster-scoped, a generation counted on each spec change, status
written only through /status (where the API server's gate writes a schema's Dangling condition).

What the objects do happens in `apiserver.flowcontrol`: every write of this server reaches its
configuration at once (`wrote`), so the very next request is classified by it; other servers'
writes arrive by its watch. The mandatory and suggested objects are made at bootstrap
(`apiserver.flowcontrol.bootstrap`).
"""

from __future__ import annotations

from apiserver.kinds import HookContext, WriteHooks, row
from apiserver.validation.flowcontrol import (
    flow_schema_defaults,
    priority_level_defaults,
    validate_flow_schema,
    validate_priority_level,
)

GROUP = "flowcontrol.apiserver.k8s.io"


class ConfigHooks(WriteHooks):
    """The gate's configuration told of every write of this server."""

    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        config = getattr(ctx, "flowcontrol", None)
        if config is not None:
            config.note(key, value)


_HOOKS = ConfigHooks()

row(
    "flowschemas",
    GROUP,
    status_separate=True,
    generation=True,
    defaults=flow_schema_defaults,
    validate=validate_flow_schema,
    hooks=_HOOKS,
)
row(
    "prioritylevelconfigurations",
    GROUP,
    status_separate=True,
    generation=True,
    defaults=priority_level_defaults,
    validate=validate_priority_level,
    hooks=_HOOKS,
)
