"""The pods-by-controller index follows the informer: filed by namespace and controller UID,
moved when the controller reference changes, dropped on delete."""

from __future__ import annotations

from typing import Any

import pytest

from api.informer import InformerFactory
from controller.podindex import PodsByController
from controller.replicas import PodFacts
from tests.controller.fakeapi import FakeApi
from tests.polling import until

pytestmark = pytest.mark.anyio


def pod(name: str, ns: str, owner_uid: str | None, controller: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if owner_uid is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": "ReplicationController",
                "name": "rc",
                "uid": owner_uid,
                "controller": controller,
            }
        ]
    return {"metadata": meta, "spec": {}}


def names(facts: list[PodFacts]) -> set[str]:
    return {f.pod["metadata"]["name"] for f in facts}


async def test_candidates_are_the_owned_pods_and_the_namespace_orphans() -> None:
    api = FakeApi()
    for p in (
        pod("mine", "a", "uid-1"),
        pod("theirs", "a", "uid-2"),
        pod("orphan", "a", None),
        pod("not-controller", "a", "uid-1", controller=False),  # an owner, but not the controller
        pod("elsewhere", "b", "uid-1"),
        pod("orphan-b", "b", None),
    ):
        await api.create("pods", p)
    f = InformerFactory(api)
    index = PodsByController(f.informer("pods"))
    f.start()
    try:
        await until(lambda: len(f.informer("pods").list()) == 6)
        assert names(index.candidates("a", "uid-1")) == {"mine", "orphan", "not-controller"}
        assert names(index.candidates("a", "uid-2")) == {"theirs", "orphan", "not-controller"}
        assert names(index.candidates("a", "")) == {"orphan", "not-controller"}
        assert names(index.candidates("b", "uid-1")) == {"elsewhere", "orphan-b"}
        # released: the controller reference removed -> an orphan of its namespace
        await api.patch("pods", "mine", {"metadata": {"ownerReferences": None}}, namespace="a")
        await until(
            lambda: names(index.candidates("a", "uid-2")) == {"theirs", "orphan", "not-controller", "mine"}
        )
        assert names(index.candidates("a", "uid-1")) == {"orphan", "not-controller", "mine"}
        await api.delete("pods", "orphan", "a")
        await until(lambda: "orphan" not in names(index.candidates("a", "")))
        assert names(index.candidates("a", "uid-2")) == {"theirs", "not-controller", "mine"}
        # a status write: the facts follow the pod's newest version (made once, read by every sync)
        ready = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        await api.patch("pods", "theirs", {"status": ready}, namespace="a", subresource="status")

        def theirs() -> PodFacts | None:
            return next(
                (f for f in index.candidates("a", "uid-2") if f.pod["metadata"]["name"] == "theirs"), None
            )

        await until(lambda: (seen := theirs()) is not None and seen.ready)
        facts = theirs()
        assert facts is not None and facts.active and facts.controller_uid == "uid-2"
        assert facts.pod is f.informer("pods").get("a/theirs")
        await api.patch(
            "pods", "theirs", {"status": {"phase": "Succeeded"}}, namespace="a", subresource="status"
        )
        await until(lambda: (seen := theirs()) is not None and not seen.active)
    finally:
        await f.stop()
