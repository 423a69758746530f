"""A sync that asks for back-off itself (a pod create refused: PodOwnerController) keeps growing it;
a sync that ends well forgets it (the worker of controller.base)."""

from __future__ import annotations

import asyncio

from controller.base import QueueController


class _Refused(QueueController):
    name = "refused"

    def __init__(self, failing: int) -> None:
        super().__init__(workers=1, base_delay=0.001, max_delay=10.0)
        self.failing = failing
        self.delays_seen: list[int] = []

    async def sync(self, key: str) -> None:
        self.delays_seen.append(self.queue.num_requeues(key))
        if len(self.delays_seen) <= self.failing:
            self.queue.add_rate_limited(key)  # as create_pods does when a create is refused


def test_backoff_asked_for_by_sync_is_kept_then_forgotten() -> None:
    async def run() -> _Refused:
        c = _Refused(failing=4)
        task = asyncio.create_task(c.run())
        c.enqueue("ns/a")
        while len(c.delays_seen) < 5:
            await asyncio.sleep(0.001)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return c

    c = asyncio.run(asyncio.wait_for(run(), 30))
    assert c.delays_seen == [0, 1, 2, 3, 4]  # each retry waits twice as long as the last
    assert c.queue.num_requeues("ns/a") == 0  # the fifth sync asked for nothing: forgotten
