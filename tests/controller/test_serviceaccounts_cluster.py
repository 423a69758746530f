"""The serviceaccount controller and root-CA publisher against a real server: every namespace has
a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap, made again when deleted."""

from __future__ import annotations

from typing import Any

import pytest

from controller.serviceaccounts import missing
from tests.controller.cluster import Cluster, eventually, get_or_none

pytestmark = pytest.mark.anyio


async def test_default_account_and_root_ca_in_every_namespace(cluster: Cluster) -> None:
    ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    await cluster.client.create("namespaces", {"metadata": {"name": "team-a"}})
    cluster.start_controllers(controllers=("serviceaccount",), root_ca=ca)
    sa = await eventually(
        lambda: get_or_none(cluster.client, "serviceaccounts", "default", "team-a"), what="default SA"
    )
    cm = await eventually(
        lambda: get_or_none(cluster.client, "configmaps", "kube-root-ca.crt", "team-a"), what="root CA"
    )
    assert cm["data"] == {"ca.crt": ca}
    assert await eventually(lambda: get_or_none(cluster.client, "serviceaccounts", "default", "kube-system"))
    # deleted: made again, a new object
    await cluster.client.delete("serviceaccounts", "default", "team-a")
    again = await eventually(
        lambda: get_or_none(cluster.client, "serviceaccounts", "default", "team-a"), what="default SA again"
    )
    assert again["metadata"]["uid"] != sa["metadata"]["uid"]
    # a CA that differs is corrected
    await cluster.client.update("configmaps", {**cm, "data": {"ca.crt": "stale"}}, "team-a")

    async def corrected() -> bool:
        got = await get_or_none(cluster.client, "configmaps", "kube-root-ca.crt", "team-a")
        return got is not None and got["data"] == {"ca.crt": ca}

    await eventually(corrected, what="CA corrected")


class _Cache:
    def __init__(self, *keys: str) -> None:
        self.keys = set(keys)

    def get(self, key: str) -> dict[str, Any] | None:
        return {"metadata": {}} if key in self.keys else None


def test_terminating_namespace_gets_nothing() -> None:
    ns = {"metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    assert missing(ns, _Cache(), _Cache(), "ca") == []  # type: ignore[arg-type]
    live = {"metadata": {"name": "x"}, "status": {"phase": "Active"}}
    assert [r for r, _ in missing(live, _Cache(), _Cache(), "")] == ["serviceaccounts"]  # type: ignore[arg-type]
    assert missing(live, _Cache("x/default"), _Cache(), "") == []  # type: ignore[arg-type]
