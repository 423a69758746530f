"""Run the API server: store, credentials, bootstrap objects, uvicorn over HTTPS, control loops.

Order on start: open and start the store; make or load the CA, serving certificate and tokens;
create the system namespaces and the `kubernetes` service if missing; serve; write the
kubeconfig and print where it is; start the control loops the caller hands in (`kubelite server`
passes the controller manager and the scheduler: this package never imports `controller`, and
wiring by argument means a broken import fails the command instead of leaving a cluster with no
controllers). On SIGTERM/SIGINT uvicorn stops accepting,
watch streams end (so no client waits on a dying server), control loops are cancelled, and the
store is closed last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import ssl
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.config import ClientConfig
from api.errors import ApiError
from api.gctuning import tune_for_caches
from api.resources import by_plural
from api.websocket import server_protocol_class
from apiserver import certs
from apiserver.aggregation.controller import Aggregation, start_aggregation
from apiserver.allocator import Allocator
from apiserver.app import ApiServerApp
from apiserver.auth import load_credentials, write_kubeconfig
from apiserver.clientcert import with_client_certs, with_client_certs_ws
from apiserver.config import ServerConfig
from apiserver.corking import with_corked_writes
from apiserver.crd.controller import CrdController
from apiserver.endpoint_leases import EndpointLeases
from apiserver.flowcontrol import bootstrap as flowcontrol_bootstrap
from apiserver.flowcontrol.gate import Gate
from apiserver.handlers.http import State
from apiserver.kinds.storage import STORAGE_CLASSES, local_path_class
from apiserver.listener import GreedyListener, listening_socket
from apiserver.loopprocess import LoopProcess
from apiserver.nodegraph import NodeGraph
from apiserver.rbac import bootstrap as rbac_defaults
from apiserver.rbac.authorizer import Authorizer
from apiserver.registry import NAMESPACES, SYSTEM_NAMESPACES, Registry
from apiserver.satokens import TokenIssuer
from apiserver.spdyupgrade import http_protocol_class as spdy_http_protocol_class
from apiserver.storage import open_store

log = logging.getLogger("kubelite.server")


class _Server(uvicorn.Server):
    """uvicorn with two hooks: after startup (announce) and before shutdown (end watches), and
    its host:port listener replaced by a `GreedyListener` (libuv accepts one connection a loop turn)."""

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[], None], on_stopping: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._on_started = on_started
        self._on_stopping = on_stopping

    async def startup(self, sockets: Any = None) -> None:
        if sockets is None and self.config.uds is None and self.config.fd is None:
            await self._listen()
        else:
            await super().startup(sockets)
        if self.started:
            self._on_started()

    async def _listen(self) -> None:
        """uvicorn's startup on host:port, with our listener where it calls `loop.create_server`."""
        config = self.config
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        try:
            sock = listening_socket(config.host, config.port, config.backlog)
        except OSError as e:
            log.error("%s", e)
            await self.lifespan.shutdown()
            sys.exit(STARTUP_FAILURE)
        self.servers = [GreedyListener(sock, create_protocol, config.ssl)]  # type: ignore[list-item]
        self.started = True

    async def shutdown(self, sockets: Any = None) -> None:
        self._on_stopping()
        await super().shutdown(sockets)

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal once serve() returns, which would kill the process before
        # the store is closed: the signal has done its job here, so forget it
        self._captured_signals.clear()


async def bootstrap(registry: Registry, config: ServerConfig, allocator: Allocator) -> None:
    SERVICES, ENDPOINTS = by_plural("", "services"), by_plural("", "endpoints")
    assert NAMESPACES is not None and SERVICES is not None and ENDPOINTS is not None
    for ns in SYSTEM_NAMESPACES:
        await registry.ensure(NAMESPACES, None, {"metadata": {"name": ns}})
    roles, bindings = (
        by_plural(rbac_defaults.GROUP, "clusterroles"),
        by_plural(rbac_defaults.GROUP, "clusterrolebindings"),
    )
    assert roles is not None and bindings is not None
    for role in rbac_defaults.cluster_roles():
        await registry.ensure(roles, None, role)
    for binding in rbac_defaults.cluster_role_bindings():
        await registry.ensure(bindings, None, binding)
    await registry.ensure(
        SERVICES,
        "default",
        {
            "metadata": {
                "name": "kubernetes",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "type": "ClusterIP",
                "clusterIP": allocator.first_ip,
                "sessionAffinity": "None",
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": config.port}],
            },
        },
    )
    subsets = [
        {
            "addresses": [{"ip": config.advertise_address}],
            "ports": [{"name": "https", "port": config.port, "protocol": "TCP"}],
        }
    ]
    await registry.ensure(
        ENDPOINTS,
        "default",
        {
            "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": subsets,
        },
    )
    # the subsets follow the live servers' leases from here on (apiserver.endpoint_leases)
    assert STORAGE_CLASSES is not None
    await registry.ensure(STORAGE_CLASSES, None, local_path_class())  # the default class, as k3s ships it
    # the default IngressClass and the kubernetes EndpointSlice; the two system PriorityClasses
    from apiserver.kinds import networking, scheduling

    await networking.bootstrap(registry, config.advertise_address, config.port)
    await scheduling.bootstrap(registry)
    # API Priority and Fairness: the mandatory FlowSchemas and levels kept, the suggested ones made
    await flowcontrol_bootstrap.ensure_all(registry)


def redact(url: str) -> str:
    """The datastore URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


LoopEntry = Callable[[ClientConfig, Mapping[str, Any]], Awaitable[None]]
"""A control loop run in-process: `run_controllers` or `run_scheduler` (client config, options)."""

PodProxyFactory = Callable[[State], Any]
"""Builds `State.pod_proxy` (pods/log, exec, attach, port-forward to the kubelet): `PodProxy`."""

MountFactory = Callable[[ClientConfig], Any]
"""Builds an ASGI app answering under a path prefix of the API server's port, given a client
config that reaches the API (`kubelite server` mounts the dashboard at /dashboard)."""


class PrefixMounts:
    """The API app, with other ASGI apps answering under their path prefixes (checked first)."""

    def __init__(self, api: Any, mounts: Mapping[str, Any]) -> None:
        self.api = api
        self.mounts = [(prefix.rstrip("/"), app) for prefix, app in mounts.items()]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        for prefix, app in self.mounts:
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                await app(scope, receive, send)
                return
        await self.api(scope, receive, send)


def control_loop_options(config: ServerConfig, root_ca: str = "") -> dict[str, Any]:
    return {
        "root_ca": root_ca,
        "service_cidr": config.service_cidr,
        "cluster_cidr": config.cluster_cidr,
        "node_monitor_grace_period": config.node_monitor_grace_period,
        "pod_eviction_timeout": config.pod_eviction_timeout,
        "data_dir": str(config.data_dir),
        # the cluster CA signs approved certificate requests, as kube's --cluster-signing-*-file
        "cluster_signing_cert_file": str(config.data_dir / "tls" / "ca.crt"),
        "cluster_signing_key_file": str(config.data_dir / "tls" / "ca.key"),
        "cluster_signing_duration": config.cluster_signing_duration,
    }


async def _run_loop(name: str, fn: LoopEntry, client: ClientConfig, options: dict[str, Any]) -> None:
    try:
        await fn(client, options)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s stopped with an error", name)


class PrivateListener:
    """Plain HTTP on a Unix socket in a root-only temp dir, for the in-process control loops.

    The controllers and the scheduler live in this process: over the HTTPS port every request
    and watch event was encrypted and decrypted twice in the same process (measured: a fifth of
    the loop at 500 pods/s). Same app, same token authentication; only the transport differs."""

    def __init__(self, server: uvicorn.Server, directory: str, path: str) -> None:
        self.server = server
        self.directory = directory
        self.url = "http+unix://" + quote(path, safe="")

    async def stop(self) -> None:
        try:
            if self.server.started:
                await self.server.shutdown()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


async def start_private_listener(public: uvicorn.Config) -> PrivateListener | None:
    """Serve `public`'s app on a private Unix socket too; None (loops use HTTPS) if that fails."""
    directory = tempfile.mkdtemp(prefix="kubelite-api-")  # mode 0700: root only
    path = os.path.join(directory, "api.sock")
    cfg = uvicorn.Config(
        public.app,
        uds=path,
        loop="none",
        http=with_corked_writes(HttpToolsProtocol),
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        backlog=2048,
        timeout_keep_alive=60,
    )
    server = uvicorn.Server(cfg)
    try:
        cfg.load()
        server.lifespan = cfg.lifespan_class(cfg)
        await server.startup()
    except (OSError, SystemExit) as e:
        log.warning("no private socket for the control loops (%s): they use the HTTPS port", e)
        shutil.rmtree(directory, ignore_errors=True)
        return None
    return PrivateListener(server, directory, path)


async def serve(
    config: ServerConfig,
    *,
    loops: Mapping[str, LoopEntry],
    pod_proxy: PodProxyFactory,
    mounts: Mapping[str, MountFactory] | None = None,
) -> None:
    """Serve until a signal. `loops` (name -> entry) start once the port listens; the caller picks
    them (none with --no-controllers --no-scheduler). `pod_proxy(state)` becomes `State.pod_proxy`.
    `mounts` (path prefix -> factory) answer under their prefixes on the same port; they reach the
    API as clients, over the private socket when there is one (which serves the API alone)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        store = open_store(
            config.datastore_url,
            compact_keep_seconds=config.compact_keep,
            compact_interval=config.compact_interval,
        )
        await store.start()
    except Exception as e:  # a bad URL, an unreachable database, an unreadable file: one clear line
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SystemExit(
            f"kubelite server: cannot open the datastore {redact(config.datastore_url)}: {first}"
        ) from None
    tasks: list[asyncio.Task[None]] = []
    registry: Registry | None = None
    node_graph: NodeGraph | None = None
    crds: CrdController | None = None
    private: PrivateListener | None = None
    loop_dir: str | None = None  # the loop processes' metrics sockets
    leases: EndpointLeases | None = None
    aggregation: Aggregation | None = None
    gate: Gate | None = None
    try:
        if config.token:  # one cluster over several servers: the CA, keys and tokens from the store
            from apiserver.bootstrap_secrets import BootstrapError, sync

            try:
                await sync(store, config.data_dir, config.token)
            except BootstrapError as e:
                raise SystemExit(f"kubelite server: {e}") from None
        tls = certs.ensure_certs(config.data_dir, [config.host, config.client_host, *config.extra_sans])
        auth = load_credentials(config.data_dir, tls, config.trust_node_name_header)
        allocator = Allocator(store, config.service_cidr)
        registry = Registry(store, allocator)
        for attempt in range(
            3
        ):  # servers starting together race on the first creates: the next pass sees them
            try:
                await bootstrap(registry, config, allocator)
                break
            except ApiError as e:
                if attempt == 2:
                    raise
                log.info("bootstrap raced another server (%s); once more", e)
        # this server joins the `kubernetes` endpoints (beside the other servers on this datastore)
        leases = EndpointLeases(registry, config.advertise_address, config.port, config.lease_duration)
        await leases.renew()
        await leases.reconcile()
        tasks.append(asyncio.create_task(leases.run()))
        await registry.namespaces.start()
        await registry.rbac.mirror.start()
        await registry.service_accounts.mirror.start()
        await registry.priority_classes.mirror.start()
        await registry.limit_ranges.mirror.start()
        await registry.quotas.mirror.start()
        await registry.webhooks.start()
        await registry.policies.start()
        gate = Gate(store, config.max_requests_inflight)  # API Priority and Fairness, watch-fed
        registry.flowcontrol = gate.config
        await gate.start(registry)
        node_graph = NodeGraph(store)  # what each node's pods use: the node authorizer's lookups
        await node_graph.mirror.start()
        crds = CrdController(registry)  # custom resources: served from their CRDs, CRD status and cleanup
        await crds.start()
        # APIServices: the Local ones registered, extension API servers checked and relayed to
        aggregation = await start_aggregation(registry, config.data_dir, tls.ca_pem())
        crds.custom.on_publish = aggregation.controller.custom_changed
        state = State(
            config=config,
            store=store,
            registry=registry,
            auth=auth,
            ca_pem=tls.ca_pem(),
            authorizer=Authorizer(registry.rbac),
            tokens=TokenIssuer(config.data_dir / "tls" / "sa.key"),
            node_graph=node_graph,
            aggregator=aggregation.aggregator,
            flowcontrol=gate if config.priority_and_fairness else None,
        )
        state.pod_proxy = pod_proxy(state)
        registry.on_removed.append(state.tokens.forget)
        uv = uvicorn.Config(
            ApiServerApp(state),
            host=config.host,
            port=config.port,
            ssl_certfile=str(tls.server_cert),
            ssl_keyfile=str(tls.server_key),
            ssl_ca_certs=str(tls.ca_cert),  # client certificates are optional, verified against the CA
            ssl_cert_reqs=ssl.CERT_OPTIONAL,
            loop="none",
            # hands kubectl <= 1.30's SPDY port-forward upgrade to the app; x509 identities into the scope
            http=with_corked_writes(with_client_certs(spdy_http_protocol_class())),
            ws=with_client_certs_ws(
                server_protocol_class()
            ),  # kube's subprotocol names are not RFC 6455 tokens
            lifespan="off",
            # no proxy in front to trust X-Forwarded-* from (and one middleware less per request);
            # kube-apiserver sends no Server header either
            proxy_headers=False,
            server_header=False,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
            backlog=2048,
            timeout_keep_alive=60,
        )
        client = ClientConfig(server=config.server_url, token=auth.admin_token.decode(), ca_data=tls.ca_pem())
        if loops or mounts:
            private = await start_private_listener(uv)
            if private is not None:
                client = ClientConfig(server=private.url, token=auth.admin_token.decode())
        if mounts:
            uv.app = PrefixMounts(uv.app, {prefix: make(client) for prefix, make in mounts.items()})

        def started() -> None:
            write_kubeconfig(config.kubeconfig_path, config.server_url, tls, auth)
            print(
                f"kubelite server: serving {config.server_url}\n"
                f"  kubeconfig: {config.kubeconfig_path}\n"
                f"  try: kubectl --kubeconfig {config.kubeconfig_path} get nodes\n"
                f"  node token: {config.node_token_path}",
                flush=True,
            )
            for prefix in mounts or {}:
                print(f"  also served: {config.server_url}{prefix.rstrip('/')}/", flush=True)
            options = control_loop_options(config, tls.ca_pem().decode())
            nonlocal loop_dir
            if config.loop_processes and loops:
                loop_dir = tempfile.mkdtemp(prefix="kubelite-loops-")  # mode 0700: root only
            for name, fn in loops.items():
                if loop_dir is not None:
                    metrics = os.path.join(loop_dir, f"{name}.metrics.sock")
                    child = LoopProcess(name, fn, client, options, log.isEnabledFor(logging.INFO), metrics)
                    state.loop_metrics.append(child.scrape)
                    tasks.append(asyncio.create_task(child.run(), name=f"loop-process:{name}"))
                else:
                    tasks.append(asyncio.create_task(_run_loop(name, fn, client, options)))

        server = _Server(uv, started, state.stopping.set)
        # what exists now (modules, documents, bootstrap objects) lives as long as the server
        tune_for_caches()
        await server.serve()
        if not server.started:
            raise SystemExit(f"kubelite server: could not listen on {config.host}:{config.port}")
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t
        if leases is not None:
            await leases.leave()
        if private is not None:
            await private.stop()
        if loop_dir is not None:
            shutil.rmtree(loop_dir, ignore_errors=True)
        if registry is not None:
            await registry.namespaces.stop()
            await registry.rbac.mirror.stop()
            await registry.service_accounts.mirror.stop()
            await registry.priority_classes.mirror.stop()
            await registry.limit_ranges.mirror.stop()
            await registry.quotas.mirror.stop()
            await registry.webhooks.stop()
            await registry.policies.stop()
        if gate is not None:
            await gate.stop()
        if node_graph is not None:
            await node_graph.mirror.stop()
        if aggregation is not None:
            await aggregation.stop()
        if crds is not None:
            await crds.stop()
        await store.close()
        print("kubelite server: stopped", file=sys.stderr, flush=True)


__all__ = ["LoopEntry", "MountFactory", "PodProxyFactory", "PrefixMounts", "bootstrap", "by_plural", "serve"]
