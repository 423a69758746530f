"""api/conditions.py: one answer to "is this pod or node ready?"."""

from __future__ import annotations

from typing import Any

from api.conditions import READY, condition, is_ready, ready_status


def obj(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"status": {"conditions": list(conditions)}}


def test_ready_condition_of_pods_and_nodes() -> None:
    ready = obj({"type": "Initialized", "status": "False"}, {"type": READY, "status": "True", "reason": "r"})
    assert is_ready(ready) and ready_status(ready) == "True"
    assert condition(ready, READY) == {"type": READY, "status": "True", "reason": "r"}
    assert condition(ready, "PodScheduled") is None
    assert not is_ready(obj({"type": READY, "status": "False"}))
    assert ready_status(obj({"type": READY, "status": "Unknown"})) == "Unknown"
    # no Ready condition, no conditions, no status: Unknown, not ready (as kube reads it)
    missing: dict[str, Any]
    for missing in (obj({"type": "MemoryPressure", "status": "True"}), {"status": {}}, {}, {"status": None}):
        assert ready_status(missing) == "Unknown" and not is_ready(missing)


def test_condition_is_a_copy() -> None:
    o = obj({"type": READY, "status": "True"})
    c = condition(o, READY)
    assert c is not None
    c["status"] = "False"
    assert is_ready(o)
