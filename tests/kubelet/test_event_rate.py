"""The kubelet's event client limits: a token bucket (eventRecordQPS/eventBurst) in front of the
writes, one write at a time; what waits meanwhile folds into fewer writes."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from api.events import NORMAL, EventRecorder
from tests.polling import until

pytestmark = pytest.mark.anyio


class Sink:
    def __init__(self) -> None:
        self.writes: list[tuple[float, str, int]] = []  # (time, reason, count)

    async def create(self, r: Any, obj: dict[str, Any], namespace: str | None = None) -> Any:
        self.writes.append((asyncio.get_running_loop().time(), obj["reason"], obj["count"]))
        return obj

    async def patch(
        self, r: Any, name: str, body: Any, content_type: str = "", namespace: str | None = None
    ) -> Any:
        self.writes.append((asyncio.get_running_loop().time(), "patch", body["count"]))
        return body


async def test_burst_then_qps_and_repeats_fold_while_waiting() -> None:
    sink = Sink()
    rec = EventRecorder(sink, "kubelet", "n1", max_in_flight=1, qps=20, burst=2)
    runner = asyncio.create_task(rec.run())
    pods = [
        {"kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "default", "uid": str(i)}}
        for i in range(5)
    ]
    for p in pods:
        rec.record(p, NORMAL, "Started", "Started container c")
    await until(lambda: len(sink.writes) >= 2)
    for _ in range(10):  # repeats of the last one while it waits for a token: one write, count 11
        rec.record(pods[-1], NORMAL, "Started", "Started container c")
    await until(lambda: len(sink.writes) == 5, 5)
    times = [t for t, _, _ in sink.writes]
    assert times[1] - times[0] < 0.04  # the burst
    assert all(b - a > 0.035 for a, b in itertools.pairwise(times[1:]))  # then 20/s
    assert times[-1] - times[0] > 0.1
    assert sink.writes[-1][2] == 11
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
