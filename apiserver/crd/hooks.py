"""The unknown-field check of the custom resources served now, for the generic write path.

A leaf module (no imports of ours) so that `apiserver.logic` can consult it without importing
the CRD machinery: `apiserver.crd.served` fills `UNKNOWN_FIELDS` with one function per
(apiVersion, kind) of a served custom resource; `unknown_fields` answers None for any other kind
(then the static schema tables decide).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

UNKNOWN_FIELDS: dict[tuple[str, str], Callable[[dict[str, Any]], list[str]]] = {}


def unknown_fields(kind: str, obj: dict[str, Any]) -> list[str] | None:
    if not UNKNOWN_FIELDS:
        return None
    check = UNKNOWN_FIELDS.get((str(obj.get("apiVersion") or ""), kind))
    return None if check is None else check(obj)
