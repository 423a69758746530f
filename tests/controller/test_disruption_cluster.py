"""PodDisruptionBudgets end to end on a real server: the disruption controller keeps the budget's
status, evictions spend it (201) until it allows none (429 with kube's words), and the RC's
replacement, once Ready, makes room for the next eviction."""

from __future__ import annotations

from typing import Any

import pytest

from api.errors import ApiError
from tests.controller.cluster import Cluster, active, eventually
from tests.objects import rc_body

pytestmark = pytest.mark.anyio


async def test_evictions_spend_the_budget_the_controller_keeps(cluster: Cluster) -> None:
    await cluster.add_node("a")
    cluster.play_kubelets()
    cluster.start_controllers()
    cluster.start_scheduler()
    rc = await cluster.client.create("replicationcontrollers", rc_body("web", 3), "default")
    budget = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
    }
    await cluster.client.create("poddisruptionbudgets", budget, "default")

    async def status() -> dict[str, Any]:
        return dict((await cluster.client.get("poddisruptionbudgets", "web", "default")).get("status") or {})

    async def allowing(n: int) -> bool:
        st = await status()
        return (
            st.get("disruptionsAllowed") == n
            and st.get("currentHealthy") == 3
            and st.get("expectedPods") == 3
        )

    await eventually(lambda: allowing(1), timeout=15, what="the budget allowing one disruption")

    async def evict(name: str) -> Any:
        body = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": "default"},
        }
        return await cluster.client.create("pods", body, "default", subresource="eviction", name=name)

    first, second, *_ = active(await cluster.pods(owner_uid=rc["metadata"]["uid"]))
    done = await evict(first["metadata"]["name"])
    assert done["status"] == "Success" and done["code"] == 201
    with pytest.raises(ApiError) as refused:
        await evict(second["metadata"]["name"])
    assert refused.value.code == 429
    assert "Cannot evict pod as it would violate the pod's disruption budget." in str(refused.value)
    # the RC replaces the evicted pod; once the replacement is Ready the budget allows one again
    await eventually(lambda: allowing(1), timeout=20, what="the budget recomputed after the replacement")
    again = await evict(second["metadata"]["name"])
    assert again["code"] == 201
