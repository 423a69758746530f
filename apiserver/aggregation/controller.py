"""What keeps the APIServices true: their Available condition, and the Local ones this server owns.

Availability (kube-aggregator's AvailableConditionController), in every API server as in every
kube-apiserver (status writes are compare-and-swap and made only when the condition changes, so
servers agree): a Local APIService is Available `Local`; a service-backed one is checked as
`availability` says: its Service and Endpoints read from the store, then `GET
/apis/<group>/<version>` of a ready endpoint (`proxy.Relay.probe`); the APIResourceList it answers
is kept for aggregated discovery (`served.Aggregator.fetched`). Level-triggered: a change of an
APIService, or of the Service or Endpoints one names (followed by watches started once a
service-backed APIService exists), queues its name (`api.workqueue`: a name queued twice is
checked once, never by two workers at a time); every APIService is checked again every 30 s
(kube's resync), a failed discovery check sooner (kube's rate limit: 5 ms, doubling to 30 s),
and at once when a relayed request could not reach the backend.

Registration (kube's autoregister and crdregistration controllers): on start, a Local APIService
for each group/version this server serves is created when missing (`automanaged: onstart`, then
left alone: metrics-server's APIService may take v1beta1.metrics.k8s.io over, and a deleted one
returns on the next start); the custom resources' are kept in step with the CRDs served
(`automanaged: "true"`: created, restored and deleted as the CRDs come and go).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.resources import by_plural, is_dynamic, served_resources
from api.workqueue import ShutDown, WorkQueue
from apiserver import serviceendpoints
from apiserver.aggregation import availability
from apiserver.aggregation.apiservices import (
    AUTOMANAGED,
    APIServiceInfo,
    condition,
    local_apiservice,
    local_condition,
    set_condition,
)
from apiserver.aggregation.served import Aggregator
from apiserver.mirror import StoreMirror

log = logging.getLogger(__name__)
APISERVICES = by_plural("apiregistration.k8s.io", "apiservices")
RESYNC = 30.0
_WATCHED = ("/registry/services/", "/registry/endpoints/")


def wanted_local(custom: bool) -> dict[str, dict[str, Any]]:
    """The Local APIServices for what this server serves now: built-in ones, or custom resources'."""
    out: dict[str, dict[str, Any]] = {}
    if not custom:
        out["v1."] = local_apiservice("", "v1") or {}
    for r in served_resources():
        if r.group and r.group != "apiregistration.k8s.io" and is_dynamic(r) == custom:
            obj = local_apiservice(r.group, r.version, custom)
            if obj is not None:
                out.setdefault(obj["metadata"]["name"], obj)
    return out


def go_error(e: BaseException, url: str, authority: str) -> str:
    """Go's words for a failed GET, as kube's check reports it."""
    import httpx

    from apiserver import proxylocation as loc

    if isinstance(e, TimeoutError | httpx.TimeoutException):
        return f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    return f'Get "{url}": {loc.dial_error(e, authority)}'


class AvailabilityController:
    def __init__(self, registry: Any, aggregator: Aggregator) -> None:
        self.registry = registry
        self.agg = aggregator
        self.queue: WorkQueue[str] = WorkQueue(
            base_delay=0.005, max_delay=30.0, name="AvailableConditionController"
        )
        self._watches: list[StoreMirror] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._registering: asyncio.Task[None] | None = None

    def enqueue(self, name: str) -> None:
        self.queue.add(name)
        if not self._watches and self.agg.remote and self._tasks:
            self._watch_services()

    # --- following Services and Endpoints, once some APIService names one ---
    def _watch_services(self) -> None:
        for prefix in _WATCHED:
            mirror = StoreMirror(self.agg.store, prefix, self._service_changed)
            self._watches.append(mirror)
            self._tasks.append(asyncio.create_task(mirror.start()))

    def _service_changed(self, key: str, value: bytes | None) -> None:
        if not self.agg.remote:
            return
        namespace, _, name = key.rpartition("/")
        namespace = namespace.rpartition("/")[2]
        for info in self.agg.infos.values():
            if info.service is not None and (info.service.namespace, info.service.name) == (namespace, name):
                self.enqueue(info.name)

    # --- running ---
    async def start(self) -> None:
        self.agg.listeners.append(self.enqueue)
        await self.register(custom=False)
        await self.register(custom=True)  # the CRDs are followed already: those served now
        self._tasks += [asyncio.create_task(self._work()) for _ in range(2)]
        self._tasks.append(asyncio.create_task(self._resync()))
        for name in list(self.agg.objects):
            self.enqueue(name)

    async def stop(self) -> None:
        self.queue.shutdown()
        for mirror in self._watches:
            await mirror.stop()
        if self._registering is not None:
            self._tasks.append(self._registering)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(BaseException):
                await t

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(RESYNC)
            with contextlib.suppress(Exception):
                await self.register(custom=True)
            for name in list(self.agg.objects):
                self.enqueue(name)

    def custom_changed(self) -> None:
        """The custom resources served changed: their APIServices follow (on the loop, soon)."""
        if self._tasks and (self._registering is None or self._registering.done()):
            self._registering = asyncio.create_task(self.register(custom=True))

    async def _work(self) -> None:
        while True:
            try:
                name = await self.queue.get()
            except ShutDown:
                return
            try:
                again = await self.reconcile(name)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # store trouble, a lost race: again shortly
                log.info("APIService %s: %s", name, e)
                again = True
            if again:
                self.queue.add_rate_limited(name)
            else:
                self.queue.forget(name)
            self.queue.done(name)

    # --- one APIService ---
    async def reconcile(self, name: str) -> bool:
        """Check APIService `name` and write its condition; True when its discovery check failed
        (it is checked again soon)."""
        obj = self.agg.objects.get(name)
        info = self.agg.infos.get(name)
        if obj is None or info is None:
            return False
        now = jsonutil.now_str()
        if info.service is None:
            desired: dict[str, Any] = local_condition(now)
        else:
            desired = await self.check(info, now)
        if not availability.same(condition(obj), desired):
            log.info("APIService %s: Available %s (%s)", name, desired["status"], desired.get("reason"))
            await self._write_status(name, desired)
        return desired.get("reason") == "FailedDiscoveryCheck"

    async def check(self, info: APIServiceInfo, now: str) -> dict[str, Any]:
        """The Available condition of a service-backed APIService, its discovery kept when it answers."""
        assert info.service is not None
        ref = info.service
        service, slices, endpoints = await serviceendpoints.read(self.agg.store, ref.namespace, ref.name)
        failed = availability.precheck(ref, service, endpoints, now)
        if failed is not None:
            self.agg.set_fetched(info.name, None)
            return failed
        assert service is not None
        try:
            host, port = random.choice(serviceendpoints.ready_endpoints(service, slices, endpoints, ref.port))
        except serviceendpoints.NoEndpoint as e:
            self.agg.set_fetched(info.name, None)
            return availability.failed_discovery(str(e), now)  # kube's check reports the resolver's error
        from apiserver import proxylocation as loc

        authority = loc.Upstream("https", host, port).authority
        url = availability.discovery_url(authority, info.group, info.version)
        path = url[len(f"https://{authority}") :]
        try:
            status, body = await self.agg.relay().probe(info, host, port, path)
        except Exception as e:  # any failure to get an answer is the check's answer
            self.agg.set_fetched(info.name, None)
            return availability.failed_discovery(
                availability.no_response(url, go_error(e, url, authority)), now
            )
        if not 200 <= status < 300:
            self.agg.set_fetched(info.name, None)
            why = availability.bad_status(url, status)
            return availability.failed_discovery(availability.no_response(url, why), now)
        try:
            listed = jsonutil.loads(body)
        except ValueError:
            listed = None
        resource_list = isinstance(listed, dict) and isinstance(
            listed.get("resources"), list
        )  # [] is one too
        self.agg.set_fetched(info.name, listed if resource_list else None)
        return availability.passed(now)

    async def _write_status(self, name: str, desired: dict[str, Any]) -> None:
        def mutate(cur: dict[str, Any], kv: Any) -> tuple[dict[str, Any], str | None]:
            cur["status"] = set_condition(cur.get("status"), desired)
            return cur, None

        assert APISERVICES is not None
        try:
            await self.registry.update(APISERVICES, None, name, mutate, subresource="status")
        except ApiError as e:
            if e.code != 404:
                raise

    # --- the Local registrations ---
    async def register(self, custom: bool) -> None:
        """Create the Local APIServices missing for what is served; for custom resources, also
        restore changed ones and delete those of CRDs no longer served."""
        assert APISERVICES is not None
        wanted = wanted_local(custom)
        for name, obj in wanted.items():
            current = self.agg.objects.get(name)
            if current is None and await self.registry.store.get(APISERVICES.storage_key(name)) is None:
                with contextlib.suppress(ApiError):  # another server made it first
                    await self.registry.create(APISERVICES, None, obj)
            elif custom and current is not None and _managed(current) and current.get("spec") != obj["spec"]:
                await self.registry.update(APISERVICES, None, name, _with_spec(obj["spec"]))
        if custom:
            for name, current in list(self.agg.objects.items()):
                if name not in wanted and _managed(current):
                    with contextlib.suppress(ApiError):
                        await self.registry.delete(APISERVICES, None, name, {})


def _with_spec(spec: dict[str, Any]) -> Any:
    def mutate(cur: dict[str, Any], kv: Any) -> tuple[dict[str, Any], str | None]:
        return {**cur, "spec": spec}, None

    return mutate


def _managed(obj: dict[str, Any]) -> bool:
    """Whether this server keeps the APIService in step with what it serves (custom resources')."""
    return ((obj.get("metadata") or {}).get("labels") or {}).get(AUTOMANAGED) == "true"


class Aggregation:
    """Everything aggregation runs in one API server: the mirror and the controller."""

    def __init__(self, aggregator: Aggregator, controller: AvailabilityController) -> None:
        self.aggregator = aggregator
        self.controller = controller

    async def stop(self) -> None:
        await self.controller.stop()
        await self.aggregator.stop()


async def start_aggregation(registry: Any, data_dir: Any, ca_pem: bytes) -> Aggregation:
    """Make the front-proxy identity and publish it, follow the APIServices, register the Local
    ones and check them all (`registry.apiservices` is set: its writes reach the mirror at once)."""
    from apiserver.aggregation import frontproxy

    files = frontproxy.ensure_front_proxy(data_dir)
    roles = by_plural("rbac.authorization.k8s.io", "roles")
    assert roles is not None
    await registry.ensure(roles, frontproxy.NAMESPACE, frontproxy.reader_role())
    await frontproxy.publish(registry, ca_pem.decode(), files.ca_cert.read_text())
    aggregator = Aggregator(registry.store, (files.client_cert, files.client_key))
    registry.apiservices = aggregator
    await aggregator.start()
    controller = AvailabilityController(registry, aggregator)
    await controller.start()
    return Aggregation(aggregator, controller)
