"""Waiting on one object: a GET, then a watch on its name from that resourceVersion (never a poll).

`wait_gone` (until DELETED or 404) is shared by `kubectl delete --wait`, `kubectl wait
--for=delete`, `replace --force` and `rolling-update` (which waits for the old controller);
`watch_name` is the watch under it and under `kubectl wait`'s conditions, and `--cascade` is read
here for delete and replace, so no verb imports another.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

from api import requests as rq
from api.errors import ApiError
from api.resources import Resource
from kubectl.env import Env
from kubectl.flags import UsageError

Obj = dict[str, Any]


def propagation_policy(cascade: str) -> str:
    """`--cascade` (delete, replace --force) as a DeleteOptions propagationPolicy."""
    value = {"true": "background", "false": "orphan"}.get(cascade, cascade)
    if value not in ("background", "foreground", "orphan"):
        raise UsageError(
            f'invalid cascade value ({cascade}). Must be "background", "foreground", or "orphan".'
        )
    return value.capitalize()


def watch_name(
    env: Env, res: Resource, ns: str | None, name: str, rv: str | None, deadline: float
) -> Iterator[tuple[str, Obj]]:
    """(type, object) of the watch events on `name` after `rv`, until the stream ends or the deadline
    passes (checked after each event; a quiet stream ends at the deadline too)."""
    from api import jsonutil

    remaining = deadline - time.monotonic()
    req = rq.watch(
        res,
        ns,
        resource_version=rv,
        field_selector=f"metadata.name={name}",
        timeout_seconds=max(1, min(math.ceil(remaining), 300)),
    )
    for line in env.client.stream(req, idle_timeout=max(0.5, remaining)):
        if not line.strip():
            continue
        ev = jsonutil.loads(line)
        yield ev.get("type") or "", ev.get("object") or {}
        if time.monotonic() >= deadline:
            return


def wait_gone(
    env: Env, res: Resource, ns: str | None, name: str, deadline: float, uid: str | None = None
) -> bool:
    """True once the object is gone (404, or a DELETED event of the same UID; with `uid`, also an
    object of that name but another UID, as `kubectl drain` counts a replaced pod), False at the deadline."""
    while True:
        try:
            current: Any = env.client.get(res, name, ns)
        except ApiError as e:
            if e.code == 404:
                return True
            raise
        if uid and (current.get("metadata") or {}).get("uid") != uid:
            return True
        if deadline - time.monotonic() <= 0:
            return False
        m = current.get("metadata") or {}
        for kind, obj in watch_name(env, res, ns, name, m.get("resourceVersion"), deadline):
            if kind == "DELETED" and (obj.get("metadata") or {}).get("uid") in (m.get("uid"), None):
                return True
            if kind == "ERROR":
                break
