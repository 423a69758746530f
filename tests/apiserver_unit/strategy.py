"""A kind's strategy row run the way the API server runs it on a write, without a server.

The kind tests (apps, batch, storage, policy, scheduling) check defaults, statuses and kube's
422 words through the same steps as `Registry.create` and `Registry.update`: identity and
generation (`lifecycle.prepare_for_create` / `prepare_for_update`), the row's defaults, then
`logic.validate`.
"""

from __future__ import annotations

import copy
from typing import Any

from api.resources import Resource, by_plural
from apiserver import lifecycle, logic

Obj = dict[str, Any]
Causes = list[dict[str, str]]
CREATED_AT = "2026-01-01T00:00:00Z"


def resource(group: str, plural: str) -> Resource:
    res = by_plural(group, plural)
    assert res is not None, f"{group}/{plural} is not served"
    return res


def create(group: str, plural: str, obj: Obj, uid: str = "0000-uid") -> tuple[Obj, Causes]:
    """The object as stored (a copy: `obj` is left alone) and the causes a create is refused with."""
    res = resource(group, plural)
    obj = copy.deepcopy(obj)
    lifecycle.prepare_for_create(res, obj, CREATED_AT, uid)
    logic.apply_defaults(res, obj)
    return obj, logic.validate(res, obj)


def update(group: str, plural: str, new: Obj, old: Obj) -> tuple[Obj, Causes]:
    """The object an update of `old` to `new` would store, and the causes it is refused with."""
    res = resource(group, plural)
    new = lifecycle.prepare_for_update(res, copy.deepcopy(new), old, None)
    logic.apply_defaults(res, new)
    return new, logic.validate(res, new, old)


def by_field(causes: Causes) -> dict[str, str]:
    return {c["field"]: c["message"] for c in causes}
