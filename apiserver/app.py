"""The ASGI application: authenticate, route, authorize, dispatch; errors become Status bodies.

A raw ASGI callable rather than a framework router: every resource path is served by the same
few generic handlers driven by `api.resources.RESOURCES`, and a create must cost little more
than the store's commit (no per-request model objects, bytes in and bytes out).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from api import procmetrics
from api.asgi import deny_websocket
from api.errors import ApiError, admission_forbidden, internal, service_unavailable
from apiserver import impersonation, kinds, nodegraph
from apiserver.auth import (
    NODE_NAME_HEADER,
    NODE_PASSWORD_HEADER,
    PUBLIC_PATHS,
    User,
    authorize_node,
    certificate_user,
    node_forbidden,
)
from apiserver.clientcert import IDENTITY_KEY
from apiserver.corking import STREAMED, TRANSPORT_KEY, CorkableTransport, declares_length
from apiserver.crd import hooks as crd_hooks
from apiserver.flowcontrol import width as fcwidth
from apiserver.flowcontrol.gate import DUMP_PATH, LONG_RUNNING, Seat, WatchSeat, admit, leave
from apiserver.flowcontrol.metrics import Collector as FlowcontrolCollector
from apiserver.handlers import meta
from apiserver.handlers.http import Request, State, respond, respond_error, with_warning
from apiserver.handlers.resources import handle_collection, handle_object
from apiserver.handlers.routing import KUBELET_SUBRESOURCES, PROXY, Route, resolve
from apiserver.handlers.subresources import handle_subresource
from apiserver.kinds.csi import SAME_NAME as CSI_NODE_SAME_NAME
from apiserver.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from apiserver.metrics import ApiServerMetrics, clock
from apiserver.metrics import enabled as metrics_enabled
from apiserver.metrics_storage import InstrumentedStore
from apiserver.rbac.authorizer import forbidden_error, request_verb
from apiserver.rbac.rules import Attributes
from apiserver.satokens import bearer_user

log = logging.getLogger("kubelite.apiserver")


class _Tracked:
    """Wraps `send` to know whether a response has started (then an error can only be logged),
    and to send a response of known length in one write (`apiserver.corking`)."""

    __slots__ = ("corked", "extra", "route", "send", "started", "status", "transport")

    def __init__(self, send: Any, transport: CorkableTransport | None = None) -> None:
        self.send = send
        self.transport = transport
        self.corked = False
        self.started = False
        self.status = 0
        self.route: Route | None = None  # set once resolved: the metrics' labels
        # headers every response carries (API Priority and Fairness's FlowSchema and level UIDs)
        self.extra: tuple[tuple[bytes, bytes], ...] = ()

    async def __call__(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.started = True
            self.status = message["status"]
            headers = message.get("headers") or ()
            if self.extra:
                headers = [*headers, *self.extra]
                message = {**message, "headers": headers}
            if self.transport is not None and not message.get(STREAMED) and declares_length(headers):
                self.corked = True
                self.transport.cork()
        await self.send(message)
        if self.corked and kind == "http.response.body" and not message.get("more_body"):
            self.corked = False
            self.transport.uncork()  # type: ignore[union-attr]


class ApiServerApp:
    def __init__(self, state: State) -> None:
        self.state = state
        self.metrics: ApiServerMetrics | None = ApiServerMetrics() if metrics_enabled() else None
        if self.metrics is not None:  # the registry's storage calls timed (etcd_request_duration_seconds)
            state.registry.store = InstrumentedStore(state.registry.store, self.metrics.registry)
            if state.flowcontrol is not None:  # apiserver_flowcontrol_*, read at scrape time
                self.metrics.registry.register(FlowcontrolCollector(state.flowcontrol.config))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        req = Request(scope, receive)
        tracked = _Tracked(send, scope.get(TRANSPORT_KEY))
        if self.metrics is None:
            await self._answer(req, tracked)
            return
        start = clock()
        try:
            await self._answer(req, tracked)
        finally:
            self.metrics.observe(
                req.method,
                tracked.route,
                req.query.get("watch") in ("true", "1"),
                tracked.status or 500,
                clock() - start,
            )

    async def _answer(self, req: Request, tracked: _Tracked) -> None:
        try:
            await self._dispatch(req, tracked)
        except ApiError as e:
            if not tracked.started:
                await respond_error(tracked, e)
        except RecursionError:
            if not tracked.started:
                await respond_error(tracked, ApiError(400, "BadRequest", "the object is nested too deeply"))
        except Exception as e:
            log.exception("%s %s failed", req.method, req.path)
            if not tracked.started:
                await respond_error(tracked, internal(f"{type(e).__name__}: {e}"))

    async def _dispatch(self, req: Request, send: Any) -> None:
        state = self.state
        if req.path in PUBLIC_PATHS:
            await meta.handle_public(state, req, send)
            return
        user = await self._authenticate(req.scope, req.headers)
        if impersonation.wanted(req.headers):  # kubectl --as: acting as another identity, if allowed
            user = impersonation.act_as(user, req.scope["headers"], self._allowed)
        agg = state.aggregator
        if agg is not None and agg.remote and (backend := agg.backend_for(req.path)) is not None:
            self._authorize_aggregated(user, req.method, req.path, req.query)  # an extension server's
            await agg.relay().serve(req.scope, req.receive, send, backend, user)
            return
        route = resolve(req.path)
        if route is None:
            if not user.is_node and state.authorizer is not None:
                state.authorizer.check(
                    Attributes(
                        user.name, user.groups, req.method.lower(), path=req.path, resource_request=False
                    )
                )
            gate = state.flowcontrol
            if gate is None:
                await self._serve_path(req, send)
                return
            decision = gate.decide_path(user, req.method, req.path)
            if type(send) is _Tracked:
                send.extra = decision.headers
            if not admit(decision, 1):
                await gate.wait(decision)
            try:
                await self._serve_path(req, send)
            finally:
                leave(decision)
            return
        if user.is_node:
            self._authorize_node(
                user, req, route.resource.plural, route.namespace, route.name, route.subresource
            )
            if route.resource.plural in nodegraph.GUARDED:
                name, verb = route.name, "get"
                if name is None:  # a list/watch of configmaps/secrets: only of one name its pods use
                    verb = "watch" if req.query.get("watch") in ("true", "1") else "list"
                    name = nodegraph.listed_name(
                        user, verb, route.resource.plural, route.namespace, req.query.get("fieldSelector")
                    )
                await nodegraph.check(
                    state.registry, state.node_graph, user, route.resource.plural, route.namespace, name, verb
                )
        elif state.authorizer is not None:
            state.authorizer.check(resource_attributes(user, req, route))
        if type(send) is _Tracked:
            send.route = route
        gate = state.flowcontrol
        if gate is None or route.subresource in LONG_RUNNING:  # kube leaves long-running ones alone
            await self._serve(req, send, route, user)
            return
        watch = route.name is None and req.query.get("watch") in ("true", "1")
        namespace = route.namespace or ""
        if route.resource.plural == "namespaces" and route.name is not None:
            namespace = route.name
        res, sub = route.resource, route.subresource
        verb = request_verb(req.method, route.name is not None, watch, sub)
        decision = gate.decide_resource(
            user, verb, res.group, res.plural if sub is None else f"{res.plural}/{sub}", namespace
        )
        if type(send) is _Tracked:
            send.extra = decision.headers
        width, latency = 1, 0.0  # kube's work estimate: LISTs by objects, writes by watches
        if verb == "list":
            stored = gate.stored(res.storage_prefix())
            width = fcwidth.list_seats(stored, req.query, decision.level.max_seats)
        elif fcwidth.makes_event(verb, res.plural, sub):
            watches = gate.interested_watches(res.group, res.plural, route.namespace or "", route.name or "")
            if watches >= fcwidth.WATCHES_PER_SEAT:
                final, latency = fcwidth.mutating_work(watches, decision.level.max_seats)
                width = max(1, final)
        if not admit(decision, width):
            await gate.wait(decision, width)
        if not watch:
            try:
                await self._serve(req, send, route, user)
            finally:
                leave(decision, width, latency)
            return
        seat = Seat(decision)  # a watch gives its seat back once started (WatchSeat)
        initial = req.query.get("resourceVersion", "") in ("", "0") or "sendInitialEvents" in req.query
        identity = fcwidth.watch_identity(res.group, res.plural, route.namespace or "", req.query)
        gate.watch_started(identity)
        try:
            await self._serve(req, WatchSeat(send, seat, initial), route, user)
        finally:
            gate.watch_ended(identity)
            seat.release()

    async def _serve(self, req: Request, send: Any, route: Route, user: User) -> None:
        state = self.state
        warning = crd_hooks.deprecation(route.resource.group, route.resource.version, route.resource.plural)
        if warning:  # kube answers every request to a deprecated custom resource version with it
            send = with_warning(send, warning)
        computed = kinds.for_resource(route.resource).serve
        if computed is not None:  # answered per request, never stored
            await computed(state, req, send, route)
            return
        if self.metrics is not None and route.name is None and req.query.get("watch") in ("true", "1"):
            watchers = self.metrics.watch_started(route.resource)
            try:
                await handle_collection(state, req, send, route, user)
            finally:
                watchers.dec()
            return
        if route.subresource is not None:
            await handle_subresource(state, req, send, route, user)
        elif route.name is not None:
            await handle_object(state, req, send, route, user)
        else:
            await handle_collection(state, req, send, route, user)

    async def _serve_path(self, req: Request, send: Any) -> None:
        """A non-resource request: /metrics, APF's dump, discovery, OpenAPI, /version ..."""
        state = self.state
        if req.path == DUMP_PATH and req.method == "GET" and state.flowcontrol is not None:
            await respond(send, 200, state.flowcontrol.dump_priority_levels(), b"text/plain; charset=utf-8")
            return
        if req.path == "/metrics" and req.method == "GET" and self.metrics is not None:
            # then the process's default registry (in-process controllers' and scheduler's
            # metrics), then the control-loop processes'
            loops = await asyncio.gather(*(scrape() for scrape in state.loop_metrics))
            body = procmetrics.merge_expositions(
                [self.metrics.exposition(), procmetrics.exposition(), *loops]
            )
            await respond(send, 200, body, METRICS_CONTENT_TYPE)
            return
        if await meta.handle_meta(state, req, send):
            return
        raise meta.not_found_path()

    def _authorize_aggregated(self, user: User, method: str, path: str, query: dict[str, str]) -> None:
        """RBAC for a request an extension server answers, its attributes read from the path."""
        from apiserver.aggregation.requestinfo import attributes

        asked = attributes(user.name, user.groups, method, path, query)
        if user.is_node:  # the node authorizer knows nothing of extension servers' resources
            raise forbidden_error(asked)
        if self.state.authorizer is not None:
            self.state.authorizer.check(asked)

    def _allowed(self, a: Attributes) -> bool:
        return self.state.authorizer is None or bool(self.state.authorizer.allowed(a))

    async def _authenticate(self, scope: dict[str, Any], headers: Any) -> User:
        """A verified client certificate first (kube's order), then the admin and node credentials, or a
        service-account JWT (checked against the store); for requests and WebSocket upgrades alike."""
        x509 = scope.get(IDENTITY_KEY)
        if x509 is not None:
            name, groups = x509
            return certificate_user(name, groups)
        return await bearer_user(
            self.state,
            headers.get(b"authorization"),
            headers.get(NODE_NAME_HEADER),
            headers.get(NODE_PASSWORD_HEADER),
        )

    @staticmethod
    def _authorize_node(
        user: User, req: Request, plural: str, namespace: str | None, name: str | None, sub: str | None
    ) -> None:
        verb = request_verb(req.method, name is not None, req.query.get("watch") in ("true", "1"), sub)
        if plural == "namespaces" and name is not None and sub is None:
            namespace = None
        authorize_node(user, verb, plural, namespace, sub)
        if (
            plural == "nodes"
            and name is not None
            and user.node_name is not None
            and name != user.node_name
            and verb not in ("get", "list", "watch")
        ):  # kube's NodeRestriction
            raise admission_forbidden(
                plural, "", name, f'node "{user.node_name}" is not allowed to modify node "{name}"'
            )
        if (
            plural == "csinodes"
            and verb != "create"
            and user.node_name is not None
            and name != user.node_name
        ):
            # kube's authorizeCSINode (a create names its object in the body: NodeRestriction, kinds.csi)
            who = Attributes(user.name, user.groups, verb, "", "storage.k8s.io", plural, "", name or "")
            raise forbidden_error(who, CSI_NODE_SAME_NAME)

    async def _websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """pods/exec (and log) over WebSocket, handed to the kubelet proxy, and WebSockets through the
        proxy subresources; refusals are Status answers instead of the upgrade, which kubectl
        decodes like any error."""
        state = self.state
        headers = dict(scope["headers"])
        try:
            user = await self._authenticate(scope, headers)
            if impersonation.wanted(headers):
                user = impersonation.act_as(user, scope["headers"], self._allowed)
            agg = state.aggregator
            if agg is not None and agg.remote and (backend := agg.backend_for(scope["path"])) is not None:
                self._authorize_aggregated(user, "GET", scope["path"], _query(scope))
                await agg.relay().websocket(scope, receive, send, backend, user)
                return
            route = resolve(scope["path"])
            if route is None or route.subresource not in (*KUBELET_SUBRESOURCES, PROXY) or route.name is None:
                raise meta.not_found_path()
            if route.subresource == PROXY and PROXY not in {s.name for s in route.resource.subresources}:
                raise meta.not_found_path()
            if user.is_node:
                raise node_forbidden(user, "get", route.resource.plural, route.namespace, route.subresource)
            # the admin passes at once (system:masters); an identity it impersonates is judged
            if state.authorizer is not None:
                verb = request_verb("GET", True, False, route.subresource)
                state.authorizer.check(
                    Attributes(
                        user.name,
                        user.groups,
                        verb,
                        route.namespace or "",
                        route.resource.group,
                        route.resource.plural,
                        route.subresource,
                        route.name,
                    )
                )
            if route.subresource == PROXY:
                from apiserver.resourceproxy import resource_proxy

                await resource_proxy(state).websocket(scope, receive, send, route)
                return
            kv = await state.registry.get(route.resource, route.namespace, route.name)
            if state.pod_proxy is None:
                raise service_unavailable(
                    f"pods/{route.subresource} is not available: no kubelet proxy in this server"
                )
        except ApiError as e:
            await _deny_websocket(scope, send, e)
            return
        await state.pod_proxy.proxy(scope, receive, send, kv.obj, route.subresource)


def _query(scope: dict[str, Any]) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl((scope.get("query_string") or b"").decode("latin-1"), keep_blank_values=True))


async def _deny_websocket(scope: dict[str, Any], send: Any, err: ApiError) -> None:
    await deny_websocket(send, err.code, err.body(), scope=scope)


def resource_attributes(user: User, req: Request, route: Route) -> Attributes:
    """The RBAC question a resource request asks (kube's RequestInfo: `namespaces/x` is in namespace x)."""
    res, sub = route.resource, route.subresource
    namespace = route.namespace or ""
    if res.plural == "namespaces" and route.name is not None:
        namespace = route.name
    verb = request_verb(req.method, route.name is not None, req.query.get("watch") in ("true", "1"), sub)
    return Attributes(
        user.name, user.groups, verb, namespace, res.group, res.plural, sub or "", route.name or ""
    )
