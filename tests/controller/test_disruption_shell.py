"""The disruption controller against the fake API: each budget's selector is parsed once per
version of the budget, so a selector that changes, or a budget made again under the same name,
must be honoured at once, by the status and by the pod events alike."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.informer import DeletedFinalStateUnknown, Informer, InformerFactory
from controller.disruption import DisruptionController
from tests.controller.fakeapi import FakeApi
from tests.polling import until

pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def running(api: FakeApi) -> AsyncIterator[DisruptionController]:
    f = InformerFactory(api)
    ctl = DisruptionController(api, f.informer("poddisruptionbudgets"), f.informer("pods"))
    f.start()
    task = asyncio.create_task(ctl.run())
    try:
        yield ctl
    finally:
        task.cancel()
        await f.stop()


def budget(app: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {"selector": {"matchLabels": {"app": app}}, "minAvailable": 1},
    }


def pod(name: str, app: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "apps", "labels": {"app": app}},
        "spec": {},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


def expected_pods(api: FakeApi) -> int | None:
    found = api.objs("poddisruptionbudgets", "apps")
    return (found[0].get("status") or {}).get("expectedPods") if found else None


async def test_a_new_version_of_a_budget_is_read_with_its_new_selector() -> None:
    api = FakeApi()
    for p in (pod("a1", "a"), pod("b1", "b"), pod("b2", "b")):
        await api.create("pods", p)
    async with running(api) as ctl:
        await api.create("poddisruptionbudgets", budget("a"))
        await until(lambda: expected_pods(api) == 1, what="the budget counting app=a")
        # the selector changes: the sync must not count with the old version's selector
        await api.patch("poddisruptionbudgets", "web", {"spec": budget("b")["spec"]}, namespace="apps")
        await until(lambda: expected_pods(api) == 2, what="the budget counting app=b")
        # a pod only the new selector matches must bring the budget back to the queue
        await api.create("pods", pod("b3", "b"))
        await until(lambda: expected_pods(api) == 3, what="the new pod counted")
        await api.delete("poddisruptionbudgets", "web", "apps")
        await until(lambda: not ctl._selectors, what="the gone budget's selector forgotten")
        # made again under the same name: its own selector, not the one parsed for the last budget
        await api.create("poddisruptionbudgets", budget("a"))
        await until(lambda: expected_pods(api) == 1, what="the new budget counting app=a")


def test_a_selector_is_kept_per_uid_and_revision_and_forgotten_with_its_budget() -> None:
    budgets = Informer(None, "poddisruptionbudgets")  # type: ignore[arg-type]
    ctl = DisruptionController(None, budgets, Informer(None, "pods"))  # type: ignore[arg-type]
    stored = budget("a")
    stored["metadata"] |= {"uid": "u1", "resourceVersion": "7"}
    selector = ctl.selector_of(stored)
    assert selector is not None and selector.matches({"app": "a"})
    assert ctl.selector_of(stored) is selector  # parsed once for this version
    other = budget("b")  # another budget of that name and revision (a restored store): its own
    other["metadata"] |= {"uid": "u2", "resourceVersion": "7"}
    assert ctl.selector_of(other) != selector
    ctl.selector_of(stored)  # kept again, to be forgotten below
    ctl._budget_gone(DeletedFinalStateUnknown("apps/web", stored))  # a delete noticed at relist
    assert not ctl._selectors
    unstored = budget("a")  # no resourceVersion: it could change without telling
    ctl.selector_of(unstored)
    unstored["spec"] = budget("b")["spec"]
    changed = ctl.selector_of(unstored)
    assert changed is not None and changed.matches({"app": "b"}) and not ctl._selectors
