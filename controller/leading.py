"""Run a component's work only while this process holds its Lease (or always, if disabled).

Leadership lost means the work is cancelled and its caches thrown away; the process then
campaigns again and starts from a fresh list, so nothing decided under the old term leaks
into the new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from api.leaderelection import LeaderElectionConfig, LeaderElector, LeaseClient

log = logging.getLogger(__name__)


async def run_elected(
    client: LeaseClient,
    enabled: bool,
    config: LeaderElectionConfig,
    work: Callable[[], Coroutine[Any, Any, None]],
) -> None:
    if not enabled:
        await work()
        return
    elector = LeaderElector(client, config)
    while True:
        await elector.run(work)
        log.warning("%s: leadership of %s lost; campaigning again", config.identity, config.name)
