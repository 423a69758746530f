"""ClusterRole aggregation against a real server: a role labelled aggregate-to-view joins `view`
(and, through `edit`'s own label, `edit` and `admin`), and leaves it when unlabelled."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from controller.clusterroleaggregation import aggregated_rules
from tests.controller.cluster import Cluster, eventually

pytestmark = pytest.mark.anyio
WIDGETS = {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list", "watch"]}


def test_union_in_name_order_without_duplicates() -> None:
    agg = {
        "metadata": {"name": "agg"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "1"}}]},
    }
    r = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}
    roles: list[dict[str, Any]] = [
        {"metadata": {"name": "b", "labels": {"x": "1"}}, "rules": [r, WIDGETS]},
        {"metadata": {"name": "a", "labels": {"x": "1"}}, "rules": [r]},
        {"metadata": {"name": "c", "labels": {"x": "2"}}, "rules": [{"verbs": ["*"]}]},
        agg,
    ]
    assert aggregated_rules(agg, roles) == [r, WIDGETS]


async def test_a_labelled_role_extends_view_edit_and_admin(cluster: Cluster) -> None:
    cluster.start_controllers(controllers=("clusterrole-aggregation",))
    label = {"rbac.authorization.k8s.io/aggregate-to-view": "true"}
    await cluster.client.create(
        "clusterroles", {"metadata": {"name": "widget-viewer", "labels": label}, "rules": [WIDGETS]}
    )

    async def holds(role: str, wanted: bool) -> bool:
        got = await cluster.client.get("clusterroles", role)
        return (WIDGETS in (got.get("rules") or [])) == wanted

    for role in ("view", "edit", "admin"):
        await eventually(functools.partial(holds, role, True), what=f"{role} has the widget rule")
    cm = await cluster.client.get("clusterroles", "widget-viewer")
    cm["metadata"]["labels"] = {}
    await cluster.client.update("clusterroles", cm)
    await eventually(lambda: holds("view", False), what="view without it again")
