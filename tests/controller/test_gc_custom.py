"""The garbage collector follows custom resources: an operator's object owning what it made
(dependents collected when it goes, in the background or in the foreground), a custom object
owned by a built-in one, and a kind whose CRD goes."""

from __future__ import annotations

from typing import Any

import pytest

from api.resources import Resource
from tests.controller.cluster import Cluster, eventually, get_or_none
from tests.objects import widget_crd

pytestmark = pytest.mark.anyio

GROUP = "gc.example.com"
WIDGETS = Resource("widgets", "widget", "Widget", True, group=GROUP, version="v1")
CRD = widget_crd(GROUP)


def owned_by(owner: dict[str, Any]) -> list[dict[str, Any]]:
    m = owner["metadata"]
    return [
        {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": m["name"],
            "uid": m["uid"],
            "controller": True,
        }
    ]


async def widget(cluster: Cluster, name: str, **meta: Any) -> dict[str, Any]:
    body = {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": name, **meta}}
    return dict(await cluster.client.create(WIDGETS, body, "default"))


async def config_map(cluster: Cluster, name: str, owner: dict[str, Any]) -> None:
    body = {"metadata": {"name": name, "ownerReferences": owned_by(owner)}, "data": {}}
    await cluster.client.create("configmaps", body, "default")


async def test_custom_owners_and_dependents_are_collected(cluster: Cluster) -> None:
    await cluster.client.create("customresourcedefinitions", CRD)

    async def served() -> bool:
        try:
            await cluster.client.list(WIDGETS, "default")
        except Exception:
            return False
        return True

    await eventually(served, what="widgets served")
    cluster.start_controllers(controllers=("garbagecollector",))
    # background: the widget goes, then what it owns
    made = await widget(cluster, "w1")
    await config_map(cluster, "w1-config", made)
    await cluster.client.delete(WIDGETS, "w1", "default")
    await eventually(
        lambda: _gone(cluster, "configmaps", "w1-config"), timeout=15, what="the widget's ConfigMap collected"
    )
    # foreground: the dependent goes first, then the widget itself (its finalizer lifted)
    made = await widget(cluster, "w2")
    await config_map(cluster, "w2-config", made)
    await cluster.client.delete(WIDGETS, "w2", "default", propagation_policy="Foreground")
    await eventually(lambda: _gone(cluster, WIDGETS, "w2"), timeout=15, what="the foreground widget gone")
    assert await get_or_none(cluster.client, "configmaps", "w2-config", "default") is None
    # a widget owned by a ConfigMap is collected when the ConfigMap goes
    holder = dict(await cluster.client.create("configmaps", {"metadata": {"name": "holder"}}, "default"))
    holder.update(apiVersion="v1", kind="ConfigMap")
    await widget(cluster, "w3", ownerReferences=owned_by(holder))
    await cluster.client.delete("configmaps", "holder", "default")
    await eventually(lambda: _gone(cluster, WIDGETS, "w3"), timeout=15, what="the owned widget collected")
    # the CRD goes: its objects go with it, and so does what they owned
    made = await widget(cluster, "w4")
    await config_map(cluster, "w4-config", made)
    await cluster.client.delete("customresourcedefinitions", f"widgets.{GROUP}")
    await eventually(
        lambda: _gone(cluster, "configmaps", "w4-config"),
        timeout=20,
        what="the gone kind's dependents collected",
    )


async def _gone(cluster: Cluster, resource: Any, name: str) -> bool:
    try:
        await cluster.client.get(resource, name, "default")
    except Exception as e:
        return getattr(e, "code", None) == 404
    return False
