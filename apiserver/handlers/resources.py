"""The generic verbs on every resource of the table: list, watch, get, create, update, patch,
delete, deletecollection.

LIST splices the stored bytes into the list envelope (`b",".join`) unless a selector or a
Table forces a parse, which then happens once per row. Writes decode the body once, check
identity and unknown fields, and hand a dict to the registry; answers are the stored bytes.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from api import jsonutil
from api.errors import ApiError, bad_request, method_not_allowed, unsupported_media_type
from api.resources import Resource
from api.selectors import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)
from apiserver import kinds, lifecycle, logic
from apiserver.auth import User, check_pod_on_node
from apiserver.handlers import paging, prefilter, watch
from apiserver.handlers.http import JSON, Request, State, decode_body, respond, respond_status, warning_header
from apiserver.handlers.routing import Route
from apiserver.registry import served_rows
from apiserver.storage.interface import KeyValue
from apiserver.validation import changed_sections
from apiserver.webhooks import Requester, requester

PATCH_TYPES = frozenset(
    {
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    }
)
_BASE_FIELDS = frozenset({"metadata.name", "metadata.namespace"})


def selectors(res: Resource, query: dict[str, str]) -> tuple[LabelSelector, FieldSelector]:
    """The request's selectors; the field selector on the stored fields (a view's labels renamed)."""
    labels = parse_label_selector(query.get("labelSelector"))
    fields = parse_field_selector(query.get("fieldSelector"))
    allowed = kinds.for_resource(res).field_paths | _BASE_FIELDS
    for path in fields.paths():
        if path not in allowed:
            raise bad_request(f"field label not supported: {path}")
    return labels, logic.stored_fields(res, fields)


def include_object(query: dict[str, str]) -> str:
    return query.get("includeObject") or "Metadata"


def list_body(res: Resource, revision: int, values: list[bytes]) -> bytes:
    return (
        b'{"kind":"'
        + res.list_kind.encode()
        + b'","apiVersion":"'
        + res.api_version.encode()
        + b'","metadata":{"resourceVersion":"'
        + str(revision).encode()
        + b'"},"items":['
        + b",".join(values)
        + b"]}"
    )


def check_fields(
    res: Resource, obj: dict[str, Any], query: dict[str, str], stored: dict[str, Any] | None = None
) -> list[tuple[bytes, bytes]]:
    """fieldValidation: Strict -> 400 on unknown fields; Warn (kube's default) -> warning headers;
    Warn and Ignore drop the unknown fields, as kube's decoding into typed structs does.
    With `stored` (a patch's base), top-level sections left exactly as stored are not walked:
    what is stored has no unknown fields (apiVersion is kept, it names the schema)."""
    mode = query.get("fieldValidation") or "Warn"
    if mode not in ("Strict", "Warn", "Ignore"):
        raise bad_request(f'fieldValidation must be one of "Ignore", "Warn", or "Strict", got "{mode}"')
    walked = obj if stored is None else changed_sections(obj, stored)
    if walked is not obj and "apiVersion" in obj:  # kept: a custom resource's version has its own schema
        walked["apiVersion"] = obj["apiVersion"]
    unknown = logic.unknown_fields(res.type_name, walked)
    if not unknown:
        return []
    if mode == "Strict":
        listed = ", ".join(f'unknown field "{f}"' for f in unknown)
        raise bad_request(
            f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
            f"strict decoding error: {listed}"
        )
    for path in unknown:
        drop_path(obj, path)
    return [warning_header(f'unknown field "{f}"') for f in unknown] if mode == "Warn" else []


_PATH_TOKEN = re.compile(r"\[[^\]]*\]|[^.\[\]]+")


def drop_path(obj: Any, path: str) -> None:
    """Remove the field at a schema path such as `spec.containers[0].bogus` or `metadata.labels[k]`."""
    tokens = _PATH_TOKEN.findall(path)
    cur = obj
    for i, tok in enumerate(tokens):
        last = i == len(tokens) - 1
        key: Any = tok[1:-1] if tok.startswith("[") else tok
        if isinstance(cur, list):
            try:
                key = int(key)
            except ValueError:
                return
            if not 0 <= key < len(cur):
                return
        elif not isinstance(cur, dict) or key not in cur:
            return
        if last:
            del cur[key]
            return
        cur = cur[key]


async def read_object(req: Request) -> tuple[Any, bytes]:
    raw = await req.body()
    return decode_body(raw, req.content_type), raw


async def send_object(
    req: Request,
    send: Any,
    state: State,
    res: Resource,
    kv: KeyValue,
    status: int = 200,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    if req.wants_table():
        t = logic.to_table(res, [kv.obj], str(kv.revision), include_object(req.query))
        await respond(send, status, jsonutil.dumps(t), JSON, headers)
    else:
        await respond(send, status, kv.value, JSON, headers)


async def handle_collection(state: State, req: Request, send: Any, route: Route, user: User) -> None:
    res, ns = route.resource, route.namespace
    m = req.method
    if m == "GET":
        watching = req.query.get("watch") in ("true", "1")
        # kube routes only a resource's own verbs: a review is created, never listed or watched
        if ("watch" if watching else "list") not in res.verbs:
            raise method_not_allowed()
        labels, fields = selectors(res, req.query)
        if watching:
            params = watch.WatchParams(req.query, state.config.bookmark_interval)
            await watch.serve_watch(
                state,
                send,
                req.receive,
                res,
                ns,
                labels,
                fields,
                params,
                req.wants_table(),
                include_object(req.query),
            )
            return
        await list_objects(state, req, send, res, ns, labels, fields)
    elif m == "POST":
        obj, _ = await read_object(req)
        obj = lifecycle.check_identity(res, obj, ns)
        warnings = check_fields(res, obj, req.query)
        row = kinds.for_resource(res)
        if row.answer is not None:  # a question: answered, not stored
            answered = row.answer(state, user, ns, obj)
            if inspect.isawaitable(answered):
                answered = await answered
            await respond(send, 201, jsonutil.dumps(answered), JSON)
            return
        if row.admit is not None:
            row.admit(state, user, ns, obj)
        by = requester(user, m, req.query)
        kv = await state.registry.create(
            res, ns, obj, dry_run=req.dry_run(), manager=req.query.get("fieldManager"), by=by
        )
        await send_object(req, send, state, res, kv, 201, warnings + webhook_warnings(by))
    elif m == "DELETE" and "deletecollection" in res.verbs:
        await delete_collection(state, req, send, res, ns, user)
    else:
        raise method_not_allowed()


async def list_objects(
    state: State,
    req: Request,
    send: Any,
    res: Resource,
    ns: str | None,
    labels: LabelSelector,
    fields: FieldSelector,
) -> None:
    def wanted(kv: KeyValue) -> bool:
        return (
            (test is None or test(kv.value))
            and labels.matches((kv.obj.get("metadata") or {}).get("labels"))
            and fields.matches(kv.obj)
        )

    test = prefilter.may_match(labels, fields)
    everything = labels.empty() and fields.empty()
    paged = paging.page_request(req.query, res.storage_prefix(ns))
    meta: dict[str, Any] | None = None
    name = watch.single_name(res, ns, fields) if paged is None or not paged.token else None
    # selectors match the stored rows: the registry filters before it converts, a page is read
    # from the store and converted here
    if name is not None:  # one key: a page of at most one object, nothing to continue
        revision, chosen = await state.registry.list(res, ns, name, wanted)
        meta = None if paged is None else paging.list_meta(revision, None, None)
    elif paged is not None:  # limit/continue: one page at the first page's revision
        revision, chosen, token, remaining = await paging.read_page(
            state.store, res.storage_prefix(ns), paged, None if everything else wanted
        )
        chosen = await served_rows(res, chosen)
        meta = paging.list_meta(revision, token, remaining)
    else:
        revision, chosen = await state.registry.list(res, ns, None, None if everything else wanted)
    if req.wants_table():
        t = logic.to_table(res, [kv.obj for kv in chosen], str(revision), include_object(req.query))
        if meta is not None:
            t["metadata"] = meta
        await respond(send, 200, jsonutil.dumps(t))
    elif meta is not None:
        await respond(send, 200, paging.list_envelope(res, meta, [kv.value for kv in chosen]))
    else:
        await respond(send, 200, list_body(res, revision, [kv.value for kv in chosen]))


async def delete_options(req: Request) -> dict[str, Any]:
    raw = await req.body()
    opts: dict[str, Any] = {}
    if raw.strip():
        body = decode_body(raw, req.content_type)
        if not isinstance(body, dict):
            raise bad_request("DeleteOptions must be an object")
        opts = body
    q = req.query
    if "gracePeriodSeconds" in q:
        try:
            opts["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
        except ValueError:
            raise bad_request(f"invalid gracePeriodSeconds {q['gracePeriodSeconds']!r}") from None
    if "propagationPolicy" in q:
        opts["propagationPolicy"] = q["propagationPolicy"]
    if "orphanDependents" in q:
        opts["orphanDependents"] = q["orphanDependents"] == "true"
    return opts


def webhook_warnings(by: Requester) -> list[tuple[bytes, bytes]]:
    """The admission webhooks' warnings, as Warning headers."""
    return [warning_header(w) for w in by.warnings]


async def delete_collection(
    state: State, req: Request, send: Any, res: Resource, ns: str | None, user: User
) -> None:
    labels, fields = selectors(res, req.query)
    opts = await delete_options(req)
    by = requester(user, "DELETE", req.query)
    _, kvs = await state.registry.list(
        res,
        ns,
        None,
        lambda kv: labels.matches((kv.obj.get("metadata") or {}).get("labels")) and fields.matches(kv.obj),
    )
    out: list[bytes] = []
    for kv in kvs:
        meta = kv.obj["metadata"]
        try:
            gone = await state.registry.delete(
                res, meta.get("namespace"), meta["name"], opts, dry_run=req.dry_run(), by=by
            )
        except ApiError as e:
            if e.code == 404:
                continue
            raise
        out.append(gone.value)
    await respond(
        send, 200, list_body(res, await state.store.current_revision(), out), JSON, webhook_warnings(by)
    )


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    return jsonutil.loads(jsonutil.dumps(obj))


async def handle_object(state: State, req: Request, send: Any, route: Route, user: User) -> None:
    res, ns, name = route.resource, route.namespace, route.name
    assert name is not None
    m = req.method
    reg = state.registry
    if m == "GET":
        await send_object(req, send, state, res, await reg.get(res, ns, name))
    elif m == "PUT":
        obj, _ = await read_object(req)
        obj = lifecycle.check_identity(res, obj, ns, name)
        warnings = check_fields(res, obj, req.query)
        admit = kinds.for_resource(res).admit
        if admit is not None:
            admit(state, user, ns, obj)
        demanded = (obj.get("metadata") or {}).get("resourceVersion") or None
        create = (lambda: _copy(obj)) if kinds.for_resource(res).create_on_update else None
        by = requester(user, m, req.query)
        kv, created = await reg.update(
            res,
            ns,
            name,
            lambda cur, kv: (_copy(obj), demanded),
            dry_run=req.dry_run(),
            create=create,
            manager=req.query.get("fieldManager"),
            by=by,
        )
        await send_object(req, send, state, res, kv, 201 if created else 200, warnings + webhook_warnings(by))
    elif m == "PATCH":
        by = requester(user, m, req.query)
        kv, created = await patch_object(state, req, route, None, user, by)
        await send_object(req, send, state, res, kv, 201 if created else 200, webhook_warnings(by))
    elif m == "DELETE":
        opts = await delete_options(req)
        if user.is_node and res.plural == "pods":
            cur = await reg.get(res, ns, name)
            check_pod_on_node(user, (cur.obj.get("spec") or {}).get("nodeName"), "delete", name, ns)
        by = requester(user, m, req.query)
        kv, removed = await reg.delete_reporting(res, ns, name, opts, dry_run=req.dry_run(), by=by)
        status = kinds.removal_status(res, kv.obj) if removed else None
        if status is not None:
            await respond_status(send, status, webhook_warnings(by))
        else:
            await send_object(req, send, state, res, kv, 200, webhook_warnings(by))
    else:
        raise method_not_allowed()


async def patch_object(
    state: State,
    req: Request,
    route: Route,
    subresource: str | None,
    user: User | None = None,
    by: Requester | None = None,
) -> tuple[KeyValue, bool]:
    """PATCH of an object or its status, in each of the four patch content types (`user`, when
    given, is held to the kind's admission on the patched object; `by`, to the webhooks)."""
    res, ns, name = route.resource, route.namespace, route.name
    row = kinds.for_resource(res)
    admit = row.admit if user is not None and subresource is None else None
    write = row.subresource_writes.get(subresource or "") if user is not None else None
    admit_write = write.admit if write is not None else None
    assert name is not None
    ct = req.content_type
    if ct not in PATCH_TYPES:
        raise unsupported_media_type(ct or "<none>")
    raw = await req.body()
    if not raw.strip():
        raise bad_request("the body of the request was empty")
    reg = state.registry
    if ct == "application/apply-patch+yaml":
        applied = lifecycle.check_identity(res, decode_body(raw, ct), ns, name)
        check_fields(res, applied, req.query)
        manager = req.query.get("fieldManager")
        if not manager:
            raise bad_request("PATCH /apply requires fieldManager to be set")
        force = req.query.get("force") in ("true", "1")

        def apply(cur: dict[str, Any], kv: KeyValue) -> tuple[dict[str, Any], str | None]:
            new = logic.server_side_apply(cur, _copy(applied), manager, force, res.type_name)
            if admit is not None:
                admit(state, user, ns, new)
            if admit_write is not None:
                admit_write(state, user, new, kv.obj)
            return new, (applied.get("metadata") or {}).get("resourceVersion") or None

        def create() -> dict[str, Any]:
            new = lifecycle.check_identity(
                res, logic.server_side_apply(None, _copy(applied), manager, force, res.type_name), ns, name
            )
            if admit is not None:
                admit(state, user, ns, new)
            return new

        return await reg.update(
            res,
            ns,
            name,
            apply,
            subresource=subresource,
            dry_run=req.dry_run(),
            create=create if subresource is None else None,
            by=by,
        )
    decode_body(raw, "application/json")  # malformed patches are a 400 before anything is read
    mentions_rv = b"resourceVersion" in raw

    def mutate(cur: dict[str, Any], kv: KeyValue) -> tuple[dict[str, Any], str | None]:
        new = logic.apply_patch(ct, cur, raw, res.type_name)
        if not isinstance(new, dict):
            raise bad_request("the patch did not produce an object")
        new = lifecycle.check_identity(res, new, ns, name)
        check_fields(res, new, req.query, cur)
        if admit is not None:
            admit(state, user, ns, new)
        if admit_write is not None:
            admit_write(state, user, new, kv.obj)
        return new, ((new.get("metadata") or {}).get("resourceVersion") or None) if mentions_rv else None

    return await reg.update(
        res,
        ns,
        name,
        mutate,
        subresource=subresource,
        dry_run=req.dry_run(),
        manager=req.query.get("fieldManager"),
        by=by,
    )
