"""Subresources: status (pods, nodes, RCs, services, namespaces), scale (RCs, autoscaling/v1
Scale), binding (pods), eviction (pods: `apiserver.eviction`), finalize (namespaces),
ephemeralcontainers (pods: read and written as the whole Pod, of which only
`spec.ephemeralContainers` is kept, as status keeps only `status`), the hook for log and exec, and
proxy (pods, services, nodes: `apiserver.resourceproxy`, whatever the method). A client's scale,
binding and eviction writes are admitted as their Scale, Binding and Eviction
(`apiserver.subadmission`).

log and exec belong to the kubelet. `kubelite server` hands `apiserver.serve.serve` the factory
`apiserver.podproxy.PodProxy`, whose object becomes `State.pod_proxy`: it has
`async def proxy(scope, receive, send, pod: dict, subresource: str) -> None` and forwards the
HTTP request (log) or WebSocket (exec) to the pod's node. A `State` without one answers 503.
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api.errors import ApiError, bad_request, method_not_allowed, service_unavailable
from api.resources import Resource, by_plural
from apiserver import eviction, kinds, lifecycle, logic, satokens, subadmission
from apiserver.auth import User, check_pod_on_node
from apiserver.handlers.http import (
    Request,
    State,
    decode_body,
    respond,
    respond_json,
    respond_status,
    success_status,
)
from apiserver.handlers.resources import _copy, patch_object, read_object, send_object, webhook_warnings
from apiserver.handlers.routing import KUBELET_SUBRESOURCES, PROXY, Route
from apiserver.storage.interface import KeyValue
from apiserver.subadmission import replicas_of, scale_of
from apiserver.webhooks import requester


async def handle_subresource(state: State, req: Request, send: Any, route: Route, user: User) -> None:
    res, ns, name, sub = route.resource, route.namespace, route.name, route.subresource
    assert name is not None and sub is not None
    if sub not in {s.name for s in res.subresources}:
        raise _no_such(res.plural, sub)
    reg = state.registry
    m = req.method
    write = kinds.for_resource(res).subresource_writes.get(sub)
    if sub == "status" or write is not None:
        if m == "GET":
            await send_object(req, send, state, res, await reg.get(res, ns, name))
            return
        if user.is_node and res.plural == "pods" and sub == "status":
            cur = await reg.get(res, ns, name)
            check_pod_on_node(user, (cur.obj.get("spec") or {}).get("nodeName"), "update", name, ns)
        by = requester(user, m, req.query)
        if m == "PUT":
            obj, _ = await read_object(req)
            obj = lifecycle.check_identity(res, obj, ns, name)
            demanded = (obj.get("metadata") or {}).get("resourceVersion") or None

            def replace(cur: dict[str, Any], kv: KeyValue) -> tuple[dict[str, Any], str | None]:
                new = _copy(obj)
                if write is not None and write.admit is not None:
                    write.admit(state, user, new, cur)
                return new, demanded

            kv, _ = await reg.update(res, ns, name, replace, subresource=sub, dry_run=req.dry_run(), by=by)
        elif m == "PATCH":
            kv, _ = await patch_object(state, req, route, sub, user, by)
        else:
            raise method_not_allowed()
        await send_object(req, send, state, res, kv, 200, webhook_warnings(by))
    elif sub == "scale":
        await _scale(state, req, send, route, user)
    elif sub == "binding":
        if m != "POST":
            raise method_not_allowed()
        body, _ = await read_object(req)
        if not isinstance(body, dict):
            raise bad_request("Binding must be an object")
        by = requester(user, m, req.query)
        binding = await subadmission.admit_create(
            reg, by, res, sub, ns, name, body, req.dry_run(), lambda b: lifecycle.binding_target(b, name)
        )
        now = jsonutil.now_str()
        await reg.update(
            res,
            ns,
            name,
            lambda cur, kv: (lifecycle.bind_pod(cur, binding, now), None),
            subresource="binding",
            dry_run=req.dry_run(),
        )
        await respond_status(send, success_status(201), webhook_warnings(by))
    elif sub == "finalize":
        if m != "PUT":
            raise method_not_allowed()
        obj, _ = await read_object(req)
        obj = lifecycle.check_identity(res, obj, ns, name)
        kv, _ = await reg.update(
            res,
            ns,
            name,
            lambda cur, kv: (lifecycle.finalize_namespace(obj, cur), None),
            subresource="finalize",
            dry_run=req.dry_run(),
        )
        await send_object(req, send, state, res, kv)
    elif sub == "eviction":
        if m != "POST":
            raise method_not_allowed()
        body, _ = await read_object(req)
        assert ns is not None
        by = requester(user, m, req.query)
        await eviction.evict(reg, ns, name, body, dry_run=req.dry_run(), by=by)
        await respond_status(send, success_status(201), webhook_warnings(by))
    elif sub == "token":
        if m != "POST":
            raise method_not_allowed()
        body, _ = await read_object(req)
        await respond(send, 201, jsonutil.dumps(await _token_request(state, ns, name, body)))
    elif sub == PROXY:
        from apiserver.resourceproxy import resource_proxy

        await resource_proxy(state).serve(req.scope, req.receive, send, route)
    elif sub in KUBELET_SUBRESOURCES:
        kv = await reg.get(res, ns, name)
        if state.pod_proxy is None:
            raise service_unavailable(f"pods/{sub} is not available yet: no kubelet proxy in this server")
        await state.pod_proxy.proxy(req.scope, req.receive, send, kv.obj, sub)
    else:
        raise method_not_allowed()


async def _token_request(state: State, ns: str | None, name: str, body: Any) -> dict[str, Any]:
    """POST serviceaccounts/<name>/token: a TokenRequest answered with a bound token (not stored)."""
    if not isinstance(body, dict):
        raise bad_request("TokenRequest must be an object")
    raw_spec = body.get("spec")
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    sa = (await state.registry.get(_core("serviceaccounts"), ns, name)).obj
    bound = spec.get("boundObjectRef")
    if isinstance(bound, dict) and bound.get("kind"):
        if bound.get("kind") not in ("Pod", "Secret"):
            raise bad_request(f"cannot bind token to object of type {bound.get('kind')}")
        target = (
            await state.registry.get(_core(bound["kind"].lower() + "s"), ns, str(bound.get("name")))
        ).obj
        uid = (target.get("metadata") or {}).get("uid")
        if bound.get("uid") and bound["uid"] != uid:
            raise ApiError(
                409,
                "Conflict",
                f"the UID in the bound object reference ({bound['uid']}) does not match "
                "the UID in record. The object might have been deleted and then recreated",
            )
        bound = {"kind": bound["kind"], "apiVersion": "v1", "name": bound.get("name"), "uid": uid}
    else:
        bound = None
    expiration = spec.get("expirationSeconds")
    audiences = [str(a) for a in spec.get("audiences") or []] or list(state.tokens.audiences)
    seconds = int(expiration) if isinstance(expiration, int) else satokens.DEFAULT_EXPIRATION
    token, exp = state.tokens.issue(ns or "", sa, audiences, seconds, bound)
    # the duration asked (within bounds), as kube answers: not the time left, a second less by now
    out_spec: dict[str, Any] = {"audiences": audiences, "expirationSeconds": satokens.lifetime(seconds)}
    if bound:
        out_spec["boundObjectRef"] = bound
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": None},
        "spec": out_spec,
        "status": {"token": token, "expirationTimestamp": jsonutil.format_time(exp)},
    }


def _core(plural: str) -> Resource:
    res = by_plural("", plural)
    assert res is not None, plural
    return res


def _no_such(plural: str, sub: str) -> ApiError:
    return ApiError(
        404, "NotFound", "the server could not find the requested resource", {"kind": f"{plural}/{sub}"}
    )


async def _scale(state: State, req: Request, send: Any, route: Route, user: User) -> None:
    """GET, PUT or PATCH of an object's autoscaling/v1 Scale; a write is admitted as the Scale
    (`apiserver.subadmission.ScaleWrite`) and its replicas written to the object."""
    res, ns, name = route.resource, route.namespace, route.name
    assert name is not None
    reg = state.registry
    m = req.method
    if m == "GET":
        kv = await reg.get(res, ns, name)
        await respond_json(send, 200, scale_of(res, kv.obj, kv.revision))
        return
    raw = await req.body()
    write = subadmission.ScaleWrite(res, ns)
    if m == "PUT":
        body = decode_body(raw, req.content_type)
        replicas_of(body)
        demanded = (body.get("metadata") or {}).get("resourceVersion") or None

        def put(cur: dict[str, Any], kv: KeyValue) -> tuple[dict[str, Any], str | None]:
            return write.ask(cur, body), demanded

        mutate = put
    elif m == "PATCH":
        ct = req.content_type
        decode_body(raw, "application/json")

        def patch(cur: dict[str, Any], kv: KeyValue) -> tuple[dict[str, Any], str | None]:
            scale = logic.apply_patch(ct, scale_of(res, cur, kv.revision), raw, "Scale")
            rv = (scale.get("metadata") or {}).get("resourceVersion")
            return write.ask(cur, scale), (rv if b"resourceVersion" in raw else None)

        mutate = patch
    else:
        raise method_not_allowed()
    by = requester(user, m, req.query)
    kv, _ = await reg.update(
        res, ns, name, mutate, subresource="scale", dry_run=req.dry_run(), by=by, view=write
    )
    await respond(send, 200, jsonutil.dumps(scale_of(res, kv.obj, kv.revision)), headers=webhook_warnings(by))
