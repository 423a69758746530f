"""Chunked LIST (`limit` + `continue`), as kube-apiserver serves it over etcd.

Every page of one list reads the store at the first page's revision, so the pages together
are one consistent snapshot. The continue token is kube's: unpadded URL-safe base64 of
`{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key after the prefix>\\u0000"}` (NUL: start
just after the last key sent). A list whose revision was compacted meanwhile answers 410
Expired with kube's message and, as kube does, a token with rv -1 in the Status's metadata
for the inconsistent remainder (read at the current revision). A malformed token is a 400.

With a label or field selector, pages are read until `limit` objects match (the token then
points after the last one) and `remainingItemCount` is left out, as kube leaves it out.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api import jsonutil
from api.errors import ApiError, bad_request
from api.resources import Resource
from apiserver.storage.interface import CompactedError, KeyValue, Store

TOKEN_VERSION = "meta.k8s.io/v1"
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list "
    "- objects that were created, modified, or deleted between the time the first chunk was returned "
    "and now may show up in the list."
)
SCAN_PAGE = 500  # keys read per store page while a selector looks for matches


class ContinueExpired(ApiError):
    """410 Expired whose Status carries a continue token for the inconsistent remainder."""

    def __init__(self, token: str) -> None:
        super().__init__(410, "Expired", CONTINUE_EXPIRED)
        self.token = token

    @property
    def status(self) -> dict[str, Any]:
        body = super().status
        body["metadata"] = {"continue": self.token}
        return body


@dataclass(frozen=True)
class PageRequest:
    limit: int  # 0: no limit (a continued list without one reads to the end)
    start: str  # full store key to start at (inclusive); "" = the collection's prefix
    revision: int  # 0: now (a first page, or rv -1 in the token)
    token: str = ""


def encode_continue(prefix: str, key: str, revision: int) -> str:
    doc = {"v": TOKEN_VERSION, "rv": revision, "start": key[len(prefix) :] + "\0"}
    return base64.urlsafe_b64encode(jsonutil.dumps(doc)).rstrip(b"=").decode()


def _invalid(why: str) -> ApiError:
    return bad_request(f"invalid continue token: {why}")


def decode_continue(prefix: str, token: str) -> tuple[int, str]:
    """(revision, start key) of a token; 400 for anything that is not one of ours."""
    try:
        doc = jsonutil.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError) as e:
        raise _invalid(f"continue key is not valid: {e}") from None
    if not isinstance(doc, dict):
        raise _invalid("continue key is not valid: not an object")
    if doc.get("v") != TOKEN_VERSION:
        raise _invalid("continue key is not supported (server may be newer)")
    rv, start = doc.get("rv"), doc.get("start")
    if not isinstance(rv, int) or isinstance(rv, bool) or rv == 0 or rv < -1:
        raise _invalid(
            f"continue key is not valid: incorrect encoded start resourceVersion (version {TOKEN_VERSION})"
        )
    if not isinstance(start, str) or not start:
        raise _invalid("continue key is not valid: encoded start key empty")
    # no path traversal out of the collection (kube: path.Clean must leave the key as it is)
    after = start.endswith("\0")
    body = start[:-1] if after else start
    key = body if body.startswith("/") else "/" + body
    if "\0" in key or posixpath.normpath(key) != key:
        raise _invalid(f"continue key is not valid: {start}")
    return (0 if rv == -1 else rv), prefix + key[1:] + ("\0" if after else "")


def page_request(query: dict[str, str], prefix: str) -> PageRequest | None:
    """The paging a LIST asks for, or None for a whole list."""
    raw_limit = query.get("limit") or "0"
    try:
        limit = int(raw_limit)
    except ValueError:
        raise bad_request(f'invalid limit "{raw_limit}": must be an integer') from None
    token = query.get("continue") or ""
    if not token:
        return PageRequest(limit, "", 0) if limit > 0 else None
    if query.get("resourceVersion"):
        raise bad_request("specifying resource version is not allowed when using continue")
    revision, start = decode_continue(prefix, token)
    return PageRequest(max(limit, 0), start, revision, token)


async def read_page(
    store: Store, prefix: str, req: PageRequest, want: Callable[[KeyValue], bool] | None = None
) -> tuple[int, list[KeyValue], str | None, int | None]:
    """(revision, objects, continue token or None, remainingItemCount or None) of one page."""
    chosen: list[KeyValue] = []
    start, revision = req.start, req.revision
    limit = req.limit or 2**31
    try:
        while True:
            need = limit - len(chosen)
            fetch = need if want is None else max(need, SCAN_PAGE)
            revision, items, remaining = await store.list_page(prefix, min(fetch, 2**31), start, revision)
            for i, kv in enumerate(items):
                if want is not None and not want(kv):
                    continue
                chosen.append(kv)
                if len(chosen) == limit:
                    left = remaining + len(items) - 1 - i
                    if left <= 0:
                        return revision, chosen, None, None
                    token = encode_continue(prefix, kv.key, revision)
                    return revision, chosen, token, (left if want is None else None)
            if remaining <= 0 or not items:
                return revision, chosen, None, None
            start = items[-1].key + "\0"
    except CompactedError:
        if not req.token:
            raise
        raise ContinueExpired(encode_continue(prefix, req.start.rstrip("\0"), -1)) from None


def list_meta(revision: int, token: str | None, remaining: int | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if token:
        meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
    return meta


def list_envelope(res: Resource, meta: dict[str, Any], values: list[bytes]) -> bytes:
    """The list body around stored bytes (spliced, not parsed), with paging metadata."""
    return (
        b'{"kind":"'
        + res.list_kind.encode()
        + b'","apiVersion":"'
        + res.api_version.encode()
        + b'","metadata":'
        + jsonutil.dumps(meta)
        + b',"items":['
        + b",".join(values)
        + b"]}"
    )
