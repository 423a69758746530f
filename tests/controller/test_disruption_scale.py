"""A budget's expected pods as kube counts them: the desired scale of the selected pods'
controllers for a percentage or maxUnavailable (a Deployment through its ReplicaSet, each
controller once), the pods found for a numeric minAvailable, and kube's failSafe when a
controller's scale is unknown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.informer import InformerFactory
from controller.disruption import DisruptionController
from controller.disruption_scale import ControllerScale, NoControllerError, expected_scale, scale_finder
from tests.controller.fakeapi import FakeApi
from tests.polling import until

pytestmark = pytest.mark.anyio


def owned(kind: str, name: str, uid: str, api_version: str = "apps/v1") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": True}


def pod(name: str, owner: dict[str, Any] | None = None, ready: bool = True) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name, "namespace": "apps", "labels": {"app": "web"}}
    if owner is not None:
        m["ownerReferences"] = [owner]
    return {
        "metadata": m,
        "spec": {},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def test_each_controller_counts_once_and_unmanaged_pods_are_named() -> None:
    scales = {"rs-1": ControllerScale("deploy-1", 5), "rc-1": ControllerScale("rc-1", 2)}

    def scale_of(namespace: str, ref: dict[str, Any]) -> ControllerScale | None:
        return scales.get(ref["uid"])

    rs = owned("ReplicaSet", "web-1", "rs-1")
    rc = owned("ReplicationController", "old", "rc-1", "v1")
    pods = [pod("a", rs), pod("b", rs), pod("c", rc), pod("lone")]
    assert expected_scale(pods, scale_of) == (7, ["lone"])
    with pytest.raises(NoControllerError, match='found no controllers for pod "j"'):
        expected_scale([*pods, pod("j", owned("Job", "batch", "job-1", "batch/v1"))], scale_of)


@contextlib.asynccontextmanager
async def running(api: FakeApi) -> AsyncIterator[None]:
    f = InformerFactory(api)
    owners = tuple(
        f.informer(r) for r in ("replicationcontrollers", "replicasets", "deployments", "statefulsets")
    )
    ctl = DisruptionController(
        api,
        f.informer("poddisruptionbudgets"),
        f.informer("pods"),
        scale_of=scale_finder(*owners),
        owners=owners,
    )
    f.start()
    task = asyncio.create_task(ctl.run())
    try:
        yield
    finally:
        task.cancel()
        await f.stop()


def status(api: FakeApi) -> dict[str, Any]:
    found = api.objs("poddisruptionbudgets", "apps")
    return (found[0].get("status") or {}) if found else {}


async def test_a_deployments_missing_pod_is_expected_and_a_jobs_pod_fails_safe() -> None:
    api = FakeApi()
    deployment = await api.create(
        "deployments", {"metadata": {"name": "web", "namespace": "apps"}, "spec": {"replicas": 4}}
    )
    d_uid = deployment["metadata"]["uid"]
    rs = await api.create(
        "replicasets",
        {
            "metadata": {
                "name": "web-1",
                "namespace": "apps",
                "ownerReferences": [owned("Deployment", "web", d_uid)],
            },
            "spec": {"replicas": 4},
        },
    )
    rs_ref = owned("ReplicaSet", "web-1", rs["metadata"]["uid"])
    for name in ("a", "b", "c"):  # the fourth replica has not been made yet
        await api.create("pods", pod(name, rs_ref))
    async with running(api):
        await api.create(
            "poddisruptionbudgets",
            {
                "metadata": {"name": "web", "namespace": "apps"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "maxUnavailable": 1},
            },
        )
        # kube: 4 expected (the Deployment's replicas), 3 wanted healthy, 3 healthy: nothing to spare
        await until(lambda: status(api).get("expectedPods") == 4, what="the Deployment's scale expected")
        st = status(api)
        assert (st["desiredHealthy"], st["currentHealthy"], st["disruptionsAllowed"]) == (3, 3, 0)
        # a pod of a Job (no scale kube knows) leaves the count unknown: no disruption allowed
        await api.create("pods", pod("j", owned("Job", "batch", "job-1", "batch/v1")))
        await until(
            lambda: any(c.get("reason") == "SyncFailed" for c in status(api).get("conditions") or []),
            what="the budget failed safe",
        )
        cond = next(c for c in status(api)["conditions"] if c["type"] == "DisruptionAllowed")
        assert (cond["status"], cond["message"]) == ("False", 'found no controllers for pod "j"')
        assert status(api)["disruptionsAllowed"] == 0
