"""What the generic request path asks of the custom resources served now: their unknown-field
checks, their /scale paths, their deprecated versions' warnings, the version their objects are read in, and the conversion webhooks
they are read and written through.

A leaf module (no imports of apiserver modules) so that `apiserver.logic` can consult it without importing
the CRD machinery: `apiserver.crd.served` fills `UNKNOWN_FIELDS` with one function per
(apiVersion, kind) of a served custom resource; `unknown_fields` answers None for any other kind
(then the static schema tables decide). `BUILTIN_UNKNOWN_FIELDS` is the same for built-in kinds
whose free-form parts have their own check (the CRD's JSONSchemaProps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from api import jsonutil

UNKNOWN_FIELDS: dict[tuple[str, str], Callable[[dict[str, Any]], list[str]]] = {}
# built-in kinds with free-form parts checked by their own walk (the CRD's JSONSchemaProps), set at import
BUILTIN_UNKNOWN_FIELDS: dict[tuple[str, str], Callable[[dict[str, Any]], list[str]]] = {}
# kind -> check, for bodies without apiVersion; never a kind of the static tables (a custom `Pod`
# of some group must not check the patches of core Pods)
BY_KIND: dict[str, Callable[[dict[str, Any]], list[str]]] = {}


def is_custom(obj: dict[str, Any], kind: str) -> bool:
    """Whether `obj` (with its apiVersion) is a custom resource served now."""
    return bool(UNKNOWN_FIELDS) and (str(obj.get("apiVersion") or ""), kind) in UNKNOWN_FIELDS


def unknown_fields(kind: str, obj: dict[str, Any]) -> list[str] | None:
    if not UNKNOWN_FIELDS and not BUILTIN_UNKNOWN_FIELDS:
        return None
    api_version = obj.get("apiVersion")
    if api_version:
        check = UNKNOWN_FIELDS.get((str(api_version), kind)) or BUILTIN_UNKNOWN_FIELDS.get(
            (str(api_version), kind)
        )
    else:  # a patch's changed sections: apiVersion left as stored, the kind's check decides by itself
        check = BY_KIND.get(kind)
    return None if check is None else check(obj)


# (group, version, plural) -> the Warning kube answers every request to a deprecated version with
DEPRECATED: dict[tuple[str, str, str], str] = {}


def deprecation(group: str, version: str, plural: str) -> str:
    """The deprecation Warning of a custom resource's version ("" when it is not deprecated)."""
    return DEPRECATED.get((group, version, plural), "") if DEPRECATED else ""


# (group, plural) -> (specReplicasPath, statusReplicasPath) of a custom resource's /scale
SCALE_PATHS: dict[tuple[str, str], tuple[str, str]] = {}


def _steps(path: str) -> list[str]:
    return [p for p in path.split(".") if p]


def scale_replicas(group: str, plural: str, obj: dict[str, Any]) -> tuple[int, int] | None:
    """(desired, current) replicas at the CRD's scale paths; None for a kind without them."""
    paths = SCALE_PATHS.get((group, plural)) if SCALE_PATHS else None
    if paths is None:
        return None
    out = []
    for path in paths:
        value: Any = obj
        for step in _steps(path):
            value = value.get(step) if isinstance(value, dict) else None
        out.append(value if isinstance(value, int) and not isinstance(value, bool) else 0)
    return out[0], out[1]


def set_scale_replicas(group: str, plural: str, obj: dict[str, Any], replicas: int) -> bool:
    """Write the desired replicas at the CRD's specReplicasPath; False for a kind without one."""
    paths = SCALE_PATHS.get((group, plural)) if SCALE_PATHS else None
    if paths is None:
        return False
    *parents, last = _steps(paths[0])
    cur = obj
    for step in parents:
        nxt = cur.get(step)
        if not isinstance(nxt, dict):
            nxt = cur[step] = {}
        cur = nxt
    cur[last] = replicas
    return True


# (group, plural) of the custom resources served in more than one version: their objects are read
# in the version asked for (kube's conversion strategy None changes nothing but apiVersion)
MULTI_VERSION: set[tuple[str, str]] = set()


class Converter(Protocol):
    """A CRD's conversion webhook (`apiserver.crd.converter.WebhookConverter`)."""

    @property
    def storage(self) -> str: ...  # the apiVersion its objects are stored in

    async def convert(self, api_version: str, values: list[bytes], listed: bool = False) -> list[bytes]: ...


# (group, plural) -> the conversion webhook of a served CRD with strategy Webhook: its objects are
# converted by it (async I/O), never in MULTI_VERSION's way
WEBHOOK: dict[tuple[str, str], Converter] = {}


def webhook(group: str, plural: str) -> Converter | None:
    return WEBHOOK.get((group, plural)) if WEBHOOK else None


def converts(group: str, plural: str) -> bool:
    return bool(MULTI_VERSION) and (group, plural) in MULTI_VERSION


def as_version(api_version: str, value: bytes) -> bytes:
    """Stored bytes with `apiVersion` set to the version asked for (the same bytes when it is)."""
    obj = jsonutil.loads(value)
    if not isinstance(obj, dict) or obj.get("apiVersion") == api_version:
        return value
    obj["apiVersion"] = api_version
    return jsonutil.dumps(obj)
