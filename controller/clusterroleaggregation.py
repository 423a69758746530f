"""The clusterrole-aggregation controller: a ClusterRole with an `aggregationRule` holds the union of
the rules of every ClusterRole its selectors match (kube's `admin`, `edit` and `view` are built
this way, so a role labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"` extends `view`).

Any ClusterRole change enqueues every aggregating role (there are a handful); `sync` recomputes
the union from the cache, in the order kube uses (matched roles by name, their rules in order,
duplicates dropped) and writes it only when it differs.
"""

from __future__ import annotations

from typing import Any

from api.informer import DeletedFinalStateUnknown, Informer
from api.selectors import selector_from_label_selector
from controller.base import ApiClient, Obj, QueueController, meta


def aggregated_rules(role: Obj, roles: list[Obj]) -> list[Obj]:
    """The rules `role`'s aggregationRule selects from `roles` (pure)."""
    selectors = [s for s in ((role.get("aggregationRule") or {}).get("clusterRoleSelectors") or [])]
    parsed = [p for p in (selector_from_label_selector(s) for s in selectors) if p is not None]
    name = meta(role).get("name")
    out: list[Obj] = []
    for other in sorted(roles, key=lambda r: str(meta(r).get("name"))):
        if meta(other).get("name") == name:
            continue
        labels = meta(other).get("labels") or {}
        if any(sel.matches(labels) for sel in parsed):
            for rule in other.get("rules") or []:
                if rule not in out:
                    out.append(rule)
    return out


class ClusterRoleAggregationController(QueueController):
    name = "clusterrole-aggregation"

    def __init__(self, client: ApiClient, roles: Informer, workers: int = 1) -> None:
        super().__init__(workers)
        self.client = client
        self.roles = roles
        roles.add_handlers(self._changed, lambda old, new: self._changed(new), self._gone)

    def _changed(self, obj: Obj) -> None:
        for role in self.roles.list():
            if role.get("aggregationRule"):
                self.enqueue(role)
        if obj.get("aggregationRule"):
            self.enqueue(obj)

    def _gone(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self._changed(obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.roles, *informers)

    async def sync(self, key: str) -> None:
        role = self.roles.get(key)
        if role is None or not role.get("aggregationRule"):
            return
        rules = aggregated_rules(role, self.roles.list())
        if rules != (role.get("rules") or []):
            body: dict[str, Any] = {**role, "rules": rules}
            await self.client.update("clusterroles", body)
