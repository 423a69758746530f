"""Sans-I/O requests: every API verb as a pure function returning a `Request`.

The sync client (`api.client.Client`, a plain socket: fast to import, for CLIs) and the async
client (`api.aclient.AsyncClient`, asyncio streams: for controllers and kubelets) both send these, so a
path, a query parameter or a content type is decided in one place. Tests check requests
without a server; a fake client is just another sender of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from api import jsonutil
from api.resources import Resource, lookup

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None
    accept: str = JSON
    stream: bool = False  # watch, follow: read incrementally

    @property
    def target(self) -> str:
        q = urlencode(self.query) if self.query else ""
        return f"{self.path}?{q}" if q else self.path


def resource(r: Resource | str) -> Resource:
    if isinstance(r, Resource):
        return r
    found = lookup(r)
    if found is None:
        raise ValueError(f"unknown resource type {r!r}")
    return found


def _ns(res: Resource, namespace: str | None) -> str | None:
    return namespace if res.namespaced else None


def _path(res: Resource, name: str | None, namespace: str | None, sub: str | None = None) -> str:
    ns = _ns(res, namespace)
    if name is None:
        return res.collection_path(ns)
    return res.object_path(quote(name, safe=""), ns, sub)


def _selectors(query: dict[str, str], label_selector: str | None, field_selector: str | None) -> None:
    if label_selector:
        query["labelSelector"] = label_selector
    if field_selector:
        query["fieldSelector"] = field_selector


def get(
    r: Resource | str, name: str, namespace: str | None = None, subresource: str | None = None
) -> Request:
    res = resource(r)
    return Request("GET", _path(res, name, namespace, subresource))


def list_(
    r: Resource | str,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    table: bool = False,
    limit: int | None = None,
    continue_: str | None = None,
) -> Request:
    """namespace None lists across all namespaces."""
    res = resource(r)
    q: dict[str, str] = {}
    _selectors(q, label_selector, field_selector)
    if limit:
        q["limit"] = str(limit)
    if continue_:
        q["continue"] = continue_
    return Request("GET", _path(res, None, namespace), q, accept=TABLE_ACCEPT if table else JSON)


def watch(
    r: Resource | str,
    namespace: str | None = None,
    resource_version: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    timeout_seconds: int | None = None,
    bookmarks: bool = True,
    table: bool = False,
) -> Request:
    res = resource(r)
    q = {"watch": "true"}
    if resource_version:
        q["resourceVersion"] = resource_version
    if bookmarks:
        q["allowWatchBookmarks"] = "true"
    if timeout_seconds is not None:
        q["timeoutSeconds"] = str(timeout_seconds)
    _selectors(q, label_selector, field_selector)
    return Request("GET", _path(res, None, namespace), q, accept=TABLE_ACCEPT if table else JSON, stream=True)


def _write_query(dry_run: bool, field_manager: str | None, field_validation: str | None) -> dict[str, str]:
    q: dict[str, str] = {}
    if dry_run:
        q["dryRun"] = "All"
    if field_manager:
        q["fieldManager"] = field_manager
    if field_validation:
        q["fieldValidation"] = field_validation
    return q


def create(
    r: Resource | str,
    obj: dict[str, Any],
    namespace: str | None = None,
    dry_run: bool = False,
    field_manager: str | None = None,
    field_validation: str | None = None,
    subresource: str | None = None,
    name: str | None = None,
) -> Request:
    """POST a new object (or, with subresource+name, e.g. a Binding to pods/x/binding)."""
    res = resource(r)
    ns = namespace or (obj.get("metadata") or {}).get("namespace")
    path = _path(res, name, ns, subresource) if subresource else _path(res, None, ns)
    return Request(
        "POST", path, _write_query(dry_run, field_manager, field_validation), jsonutil.dumps(obj), JSON
    )


def update(
    r: Resource | str,
    obj: dict[str, Any],
    namespace: str | None = None,
    subresource: str | None = None,
    dry_run: bool = False,
    field_manager: str | None = None,
    field_validation: str | None = None,
) -> Request:
    res = resource(r)
    meta = obj.get("metadata") or {}
    ns = namespace or meta.get("namespace")
    return Request(
        "PUT",
        _path(res, meta["name"], ns, subresource),
        _write_query(dry_run, field_manager, field_validation),
        jsonutil.dumps(obj),
        JSON,
    )


def patch(
    r: Resource | str,
    name: str,
    body: Any,
    content_type: str = MERGE_PATCH,
    namespace: str | None = None,
    subresource: str | None = None,
    dry_run: bool = False,
    field_manager: str | None = None,
    force: bool | None = None,
    field_validation: str | None = None,
) -> Request:
    res = resource(r)
    q = _write_query(dry_run, field_manager, field_validation)
    if force is not None:
        q["force"] = "true" if force else "false"
    data = body if isinstance(body, bytes) else jsonutil.dumps(body)
    return Request("PATCH", _path(res, name, namespace, subresource), q, data, content_type)


def delete(
    r: Resource | str,
    name: str,
    namespace: str | None = None,
    propagation_policy: str | None = None,
    grace_period_seconds: int | None = None,
    preconditions: dict[str, str] | None = None,
    dry_run: bool = False,
) -> Request:
    res = resource(r)
    opts: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
    if propagation_policy:
        opts["propagationPolicy"] = propagation_policy
    if grace_period_seconds is not None:
        opts["gracePeriodSeconds"] = grace_period_seconds
    if preconditions:
        opts["preconditions"] = preconditions
    if dry_run:
        opts["dryRun"] = ["All"]
    return Request("DELETE", _path(res, name, namespace), body=jsonutil.dumps(opts), content_type=JSON)


def delete_collection(
    r: Resource | str,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> Request:
    res = resource(r)
    q: dict[str, str] = {}
    _selectors(q, label_selector, field_selector)
    return Request("DELETE", _path(res, None, namespace), q)


def log(
    name: str,
    namespace: str,
    container: str | None = None,
    follow: bool = False,
    tail_lines: int | None = None,
    timestamps: bool = False,
    previous: bool = False,
    since_seconds: int | None = None,
) -> Request:
    q: dict[str, str] = {}
    if container:
        q["container"] = container
    for key, on in (("follow", follow), ("timestamps", timestamps), ("previous", previous)):
        if on:
            q[key] = "true"
    if tail_lines is not None:
        q["tailLines"] = str(tail_lines)
    if since_seconds is not None:
        q["sinceSeconds"] = str(since_seconds)
    return Request(
        "GET", _path(resource("pods"), name, namespace, "log"), q, accept="text/plain", stream=follow
    )
