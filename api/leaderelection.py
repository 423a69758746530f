"""Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does.

Two controller managers (or schedulers) may run; the one holding the Lease acts, the other
waits. The holder renews every `retry_period`; if it cannot renew within `renew_deadline` it
stops leading (its work is cancelled) before its lease can expire anywhere else. A candidate
takes the Lease only once the record it last observed has not changed for
`lease_duration`, measured on its own clock (so clock skew between machines does not matter).
Writes use the Lease's resourceVersion, so two candidates never both win one round.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from api import jsonutil
from api.errors import ApiError

log = logging.getLogger(__name__)


class LeaseClient(Protocol):
    async def get(self, r: Any, name: str, namespace: str | None = None) -> Any: ...

    async def create(self, r: Any, obj: dict[str, Any], namespace: str | None = None) -> Any: ...

    async def update(self, r: Any, obj: dict[str, Any], namespace: str | None = None) -> Any: ...


@dataclass
class LeaderElectionConfig:
    name: str
    identity: str
    namespace: str = "kube-system"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0


def may_take(spec: dict[str, Any], identity: str, observed_for: float, lease_duration: float) -> bool:
    """Pure: may `identity` write itself into a Lease whose spec is `spec`?

    `observed_for` is how long (local clock) the spec has been seen unchanged.
    """
    holder = spec.get("holderIdentity") or ""
    if not holder or holder == identity:
        return True
    duration = float(spec.get("leaseDurationSeconds") or lease_duration)
    return observed_for >= duration


def next_spec(spec: dict[str, Any], identity: str, lease_duration: float, now: str) -> dict[str, Any]:
    """Pure: the spec after `identity` acquires or renews."""
    out = dict(spec)
    if spec.get("holderIdentity") != identity:
        out["acquireTime"] = now
        out["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (
            1 if spec.get("holderIdentity") else 0
        )
    out["holderIdentity"] = identity
    out["leaseDurationSeconds"] = max(1, round(lease_duration))
    out["renewTime"] = now
    return out


class LeaderElector:
    def __init__(
        self, client: LeaseClient, config: LeaderElectionConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.config = config
        self.clock = clock
        self._observed: tuple[str, float] | None = None  # (spec fingerprint, local time seen)
        self.is_leader = False

    async def try_acquire_or_renew(self) -> bool:
        c = self.config
        now = jsonutil.format_micro_time(jsonutil.now())
        try:
            lease = await self.client.get("leases", c.name, c.namespace)
        except ApiError as e:
            if e.code != 404:
                raise
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": c.name, "namespace": c.namespace},
                "spec": next_spec({}, c.identity, c.lease_duration, now),
            }
            return await _landed(self.client.create("leases", body, c.namespace))
        spec = lease.get("spec") or {}
        fingerprint = jsonutil.dumps(spec).decode()
        t = self.clock()
        if self._observed is None or self._observed[0] != fingerprint:
            self._observed = (fingerprint, t)
        if not may_take(spec, c.identity, t - self._observed[1], c.lease_duration):
            return False
        lease["spec"] = next_spec(spec, c.identity, c.lease_duration, now)
        return await _landed(self.client.update("leases", lease, c.namespace))

    async def release(self) -> None:
        """Best effort: hand the Lease back so a standby need not wait for it to expire."""
        c = self.config
        try:
            async with asyncio.timeout(c.retry_period):
                lease = await self.client.get("leases", c.name, c.namespace)
                spec = lease.get("spec") or {}
                if spec.get("holderIdentity") != c.identity:
                    return
                lease["spec"] = dict(
                    spec,
                    holderIdentity=None,
                    leaseDurationSeconds=1,
                    renewTime=jsonutil.format_micro_time(jsonutil.now()),
                )
                await self.client.update("leases", lease, c.namespace)
        except Exception as e:
            log.info("lease %s/%s not released: %r", c.namespace, c.name, e)

    async def _attempt(self) -> bool:
        try:
            return await self.try_acquire_or_renew()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.info("leader election %s: %r", self.config.name, e)
            return False

    async def run(self, lead: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Wait to acquire, run `lead()` while renewing; return when leadership is lost.

        `lead` is cancelled when renewal fails for `renew_deadline`; if `lead` returns or
        raises, the lease is released by simply no longer renewing it.
        """
        c = self.config
        while not await self._attempt():
            await asyncio.sleep(c.retry_period)
        self.is_leader = True
        log.info("%s became leader of %s/%s", c.identity, c.namespace, c.name)
        work: asyncio.Task[None] = asyncio.create_task(lead())
        try:
            last_renew = self.clock()
            while not work.done():
                done, _ = await asyncio.wait({work}, timeout=c.retry_period)
                if done:
                    break
                if await self._attempt():
                    last_renew = self.clock()
                elif self.clock() - last_renew >= c.renew_deadline:
                    log.warning("%s lost leadership of %s/%s", c.identity, c.namespace, c.name)
                    break
        finally:
            was_leader, self.is_leader = self.is_leader, False
            if not work.done():
                work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            if was_leader:
                await asyncio.shield(self.release())
        if work.done() and not work.cancelled() and work.exception() is not None:
            raise work.exception()  # type: ignore[misc]


async def _landed(write: Awaitable[Any]) -> bool:
    """Whether a write of the Lease landed: a 409 means another candidate wrote it first."""
    try:
        await write
    except ApiError as e:
        if e.code == 409:
            return False
        raise
    return True
