"""The RuntimeClass admission without a server: kube's MergeTolerations (supersets kept, equal
ones once), overheads compared as quantities, and odd shapes left to validation."""

from __future__ import annotations

from typing import Any

import pytest

from api import jsonutil
from apiserver.runtimeclassadmission import _same_resources, admit_pod, merge_tolerations
from apiserver.storage.interface import KeyValue

pytestmark = pytest.mark.anyio


class OneClass:
    """A store holding one RuntimeClass (what admission reads of the store)."""

    def __init__(self, rc: dict[str, Any]) -> None:
        self.rc = rc

    async def get(self, key: str) -> KeyValue | None:
        if key.endswith("/" + self.rc["metadata"]["name"]):
            return KeyValue(key, 1, jsonutil.dumps(self.rc))
        return None


def test_merge_keeps_the_wider_toleration_and_equal_ones_once() -> None:
    exists_all = {"operator": "Exists"}
    k_exists = {"key": "k", "operator": "Exists", "effect": "NoSchedule"}
    k_equal = {"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}
    other = {"key": "o", "operator": "Exists"}
    assert merge_tolerations([k_equal], [k_exists]) == [k_exists]  # a later wider one wins
    assert merge_tolerations([k_exists], [k_equal, other]) == [k_exists, other]
    assert merge_tolerations([k_exists], [dict(k_exists)]) == [k_exists]
    assert merge_tolerations([k_equal, other], [exists_all]) == [exists_all]
    short = {"key": "n", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
    long = {**short, "tolerationSeconds": 300}
    assert merge_tolerations([short], [long]) == [long]  # tolerating longer covers the shorter


def test_overheads_compare_as_quantities() -> None:
    assert _same_resources({"cpu": "0.5", "memory": "1Gi"}, {"cpu": "500m", "memory": "1073741824"})
    assert not _same_resources({"cpu": "500m"}, {"cpu": "500m", "memory": "1"})
    assert _same_resources(None, {})


async def test_a_class_without_scheduling_leaves_the_pod_as_it_is() -> None:
    store: Any = OneClass({"metadata": {"name": "plain"}, "handler": "runc"})
    pod = {"metadata": {"name": "p"}, "spec": {"runtimeClassName": "plain", "tolerations": "odd"}}
    await admit_pod(store, pod)
    assert pod["spec"] == {"runtimeClassName": "plain", "tolerations": "odd"}  # validation names it
    await admit_pod(store, {"metadata": {"name": "p"}, "spec": "odd"})  # the type check names it
