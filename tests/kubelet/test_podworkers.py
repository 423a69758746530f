"""Pod workers: an update wakes the pod's worker; a status-only change (the kubelet's own report
coming back through its watch) is remembered for the next sync but wakes nobody, as the
kubelet's config source sorts it as RECONCILE."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from kubelet.podworkers import PodWorkers, differs_semantically
from tests.polling import until

pytestmark = pytest.mark.anyio


def _pod(**meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "5", **meta},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Pending"},
    }


def _changed(pod: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    new = copy.deepcopy(pod)
    target = new
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return new


@pytest.mark.parametrize(
    ("path", "value", "differs"),
    [
        (("status", "phase"), "Running", False),
        (("metadata", "resourceVersion"), "6", False),
        (("metadata", "managedFields"), [{"manager": "kubelet"}], False),
        (("metadata", "labels"), {"app": "web"}, True),
        (("metadata", "annotations"), {"a": "b"}, True),
        (("metadata", "deletionTimestamp"), "2026-12-04T10:00:00Z", True),
        (("metadata", "deletionGracePeriodSeconds"), 0, True),
        (("spec", "activeDeadlineSeconds"), 5, True),
    ],
)
def test_what_differs_semantically(path: tuple[str, ...], value: Any, differs: bool) -> None:
    old = _pod()
    assert differs_semantically(old, _changed(old, path, value)) is differs


async def test_reconcile_remembers_without_waking() -> None:
    synced: list[dict[str, Any]] = []

    async def sync(pod: dict[str, Any]) -> float:
        synced.append(pod)
        return 3600.0  # no periodic resync within the test

    workers = PodWorkers(sync)
    first = _pod()
    workers.update(first)
    await until(lambda: len(synced) == 1)

    reported = _changed(first, ("status", "phase"), "Running")
    workers.reconcile(reported)
    assert workers.latest("u1") is reported
    await asyncio.sleep(0)  # let a wrongly woken worker run before the count is checked
    assert len(synced) == 1

    workers.wake("u1")  # a probe or PLEG event: the next sync reads the remembered version
    await until(lambda: len(synced) == 2)
    assert synced[1] is reported

    relabelled = _changed(reported, ("metadata", "labels"), {"app": "web"})
    workers.update(relabelled)
    await until(lambda: len(synced) == 3)
    assert synced[2] is relabelled
    await workers.stop()


async def test_reconcile_of_an_unknown_pod_syncs_it() -> None:
    synced: list[str] = []

    async def sync(pod: dict[str, Any]) -> float:
        synced.append(pod["status"]["phase"])
        return 3600.0

    workers = PodWorkers(sync)
    workers.reconcile(_changed(_pod(), ("status", "phase"), "Running"))
    await until(lambda: synced == ["Running"])
    await workers.stop()
