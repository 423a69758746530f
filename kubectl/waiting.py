"""Waiting for an object to be gone: a GET, then a watch on its name until DELETED (or 404).

Shared by `kubectl delete --wait` and `rolling-update` (which waits for the old controller), so
neither verb imports the other.
"""

from __future__ import annotations

import time
from typing import Any

from api import requests as rq
from api.errors import ApiError
from api.resources import Resource
from kubectl.env import Env


def wait_gone(env: Env, res: Resource, ns: str | None, name: str, deadline: float) -> bool:
    """True once the object is gone (404 or a DELETED event), False at the deadline."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            current: Any = env.client.get(res, name, ns)
        except ApiError as e:
            if e.code == 404:
                return True
            raise
        rv = (current.get("metadata") or {}).get("resourceVersion")
        uid = (current.get("metadata") or {}).get("uid")
        req = rq.watch(
            res,
            ns,
            resource_version=rv,
            field_selector=f"metadata.name={name}",
            timeout_seconds=max(1, min(int(remaining), 300)),
        )
        from api import jsonutil

        for line in env.client.stream(req, idle_timeout=max(0.5, remaining)):
            if not line.strip():
                continue
            ev = jsonutil.loads(line)
            obj = ev.get("object") or {}
            if ev.get("type") == "DELETED" and (obj.get("metadata") or {}).get("uid") in (uid, None):
                return True
            if ev.get("type") == "ERROR":
                break
            if time.monotonic() >= deadline:
                return False
