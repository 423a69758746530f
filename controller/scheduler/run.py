"""`run_scheduler`: the scheduler as a component, behind leader election.

What `kubelite server` starts in-process and `kubelite scheduler` runs alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.aclient import AsyncClient
from api.config import ClientConfig
from api.events import EventRecorder
from api.informer import InformerFactory
from controller.base import ApiClient
from controller.leading import run_elected
from controller.options import SchedulerOptions, coerce
from controller.scheduler.scheduler import SCHEDULER_NAME, Scheduler


async def run_scheduler_loop(client: ApiClient, options: SchedulerOptions) -> None:
    factory = InformerFactory(client)
    events = EventRecorder(client, SCHEDULER_NAME)
    sched = Scheduler(
        client,
        factory,
        events,
        options.max_in_flight_binds,
        initial_backoff=options.initial_backoff,
        max_backoff=options.max_backoff,
    )
    await factory.run_with(sched.run(), events.run())


async def run_scheduler(
    config: ClientConfig, options: SchedulerOptions | Mapping[str, Any] | None = None
) -> None:
    """Run the scheduler until cancelled; `options` may be the dataclass or a dict of its fields."""
    options = coerce(SchedulerOptions, options)
    client = AsyncClient(config, max_connections=options.max_in_flight_binds + 8)
    try:
        await run_elected(
            client, options.leader_elect, options.election(), lambda: run_scheduler_loop(client, options)
        )
    finally:
        await client.aclose()
