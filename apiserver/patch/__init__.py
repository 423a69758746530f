"""PATCH bodies applied to stored objects: the four patch content types of the API.

- `apply_patch(content_type, current, body, kind)` -> the patched object for
  `application/merge-patch+json` (RFC 7386), `application/json-patch+json` (RFC 6902) and
  `application/strategic-merge-patch+json` (merge keys from `apiserver.schema`). A body that is
  not JSON or not the right shape is 400 BadRequest; a JSON patch operation that does not
  apply (missing path, failed `test`) is 422; any other content type (including
  `application/apply-patch+yaml`, which goes to `server_side_apply`) is 415.
- `server_side_apply(current, applied, manager, force, kind)` -> the created (current None) or
  updated object with `metadata.managedFields`; 409 on conflicts unless `force`
  (see `apiserver.patch.apply`). The handler parses the YAML body into `applied`.
- `record_update(old, new, manager, operation="Update", subresource="", kind=None)` records a
  non-apply write's fields in `new["metadata"]["managedFields"]`.

`current` is never mutated: the result is a fresh copy. The caller then re-checks identity
(name, namespace, uid, kind) and validates as for an update.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError, bad_request, unsupported_media_type
from api.jsonutil import JSONDecodeError, dumps, loads
from api.strategic import merge_patch
from apiserver.patch.apply import record_update, server_side_apply
from apiserver.patch.jsonpatch import json_patch
from apiserver.patch.strategic import strategic_merge
from apiserver.schema import kind_spec

__all__ = ["PATCH_TYPES", "apply_patch", "record_update", "server_side_apply"]

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC, APPLY)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def apply_patch(content_type: str, current: dict[str, Any], body: bytes, kind: str) -> dict[str, Any]:
    media = media_type(content_type)
    if media not in (MERGE, JSON_PATCH, STRATEGIC):
        raise unsupported_media_type(content_type)
    try:
        patch = loads(body)
    except JSONDecodeError as e:
        raise bad_request(f"error decoding patch: {e}") from None
    document = loads(dumps(current))
    if media == JSON_PATCH:
        result = json_patch(document, patch)
    elif not isinstance(patch, dict):
        raise bad_request(
            f"error decoding patch: the patch must be a JSON object, not {type(patch).__name__}"
        )
    elif media == MERGE:
        result = merge_patch(document, patch)
    else:
        result = strategic_merge(document, patch, kind_spec(kind))
    if not isinstance(result, dict):
        raise ApiError(422, "Invalid", "the patched object is not a JSON object")
    return result
