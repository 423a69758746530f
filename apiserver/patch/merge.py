"""JSON merge patch (RFC 7386), `application/merge-patch+json`.

Maps merge recursively, `null` deletes a key, anything else (lists included) replaces. Works
in place on a document the caller already copied; returns the new root (a non-object patch
replaces the whole document, as the RFC says).
"""

from __future__ import annotations

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            target[key] = merge_patch(target.get(key), value)
        else:
            target[key] = value
    return target
