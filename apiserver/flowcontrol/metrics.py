"""API Priority and Fairness on `/metrics`, under kube-apiserver's `apiserver_flowcontrol_*` names
and labels, read at scrape time.

The request path only bumps integers of a `FlowStats` (one per priority level and FlowSchema,
made when a decision is first cached and kept across configuration changes), so it never looks up
a labelled child nor allocates; `Collector` turns those integers and each level's limits into
metric families when Prometheus scrapes. Rejections carry kube's reasons: `queue-full`,
`concurrency-limit` (a Reject level), `time-out` (waited past the queue wait limit) and
`cancelled` (the client left while waiting).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

REASONS = ("queue-full", "concurrency-limit", "time-out", "cancelled")
PREFIX = "apiserver_flowcontrol_"


class FlowStats:
    """What one (priority level, FlowSchema) pair is doing and has done."""

    __slots__ = ("dispatched", "executing", "inqueue", "level", "rejected", "schema", "seats")

    def __init__(self, level: str, schema: str) -> None:
        self.level, self.schema = level, schema
        self.dispatched = self.executing = self.seats = self.inqueue = 0
        self.rejected = dict.fromkeys(REASONS, 0)


class Collector:
    """A prometheus_client collector over the configuration's levels and flow stats."""

    def __init__(self, config: Any) -> None:
        self.config = config  # a FlowConfig

    def describe(self) -> list[Any]:
        return []  # families are only known at scrape time

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        cfg = self.config
        if cfg.dirty:
            cfg.rebuild()
        by_level = {
            "nominal_limit_seats": "Nominal number of execution seats configured for each priority level",
            "current_limit_seats": "current derived number of execution seats available to each priority level",
            "lower_limit_seats": "Configured lower bound on number of execution seats available to each priority level",
            "upper_limit_seats": "Configured upper bound on number of execution seats available to each priority level",
            "demand_seats_high_watermark": "High watermark, over last adjustment period, of demand_seats",
            "demand_seats_smoothed": "Smoothed seat demands",
        }
        families = {
            name: GaugeMetricFamily(PREFIX + name, text, labels=["priority_level"])
            for name, text in by_level.items()
        }
        for name in sorted(cfg.levels):
            level = cfg.levels[name]
            b, stats = level.bounds, level.demand
            for metric, value in (
                ("nominal_limit_seats", b.nominal),
                ("current_limit_seats", level.queues.limit),  # as the last adjustment set it
                ("lower_limit_seats", b.lower),
                ("upper_limit_seats", b.upper),
                ("demand_seats_high_watermark", stats.high_watermark),
                ("demand_seats_smoothed", stats.smoothed),
            ):
                families[metric].add_metric([name], float(value))
        yield from families.values()
        labels = ["priority_level", "flow_schema"]
        executing = GaugeMetricFamily(
            PREFIX + "current_executing_requests",
            "Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage "
            "in the API Priority and Fairness subsystem",
            labels=labels,
        )
        seats = GaugeMetricFamily(
            PREFIX + "current_executing_seats",
            "Concurrency (number of seats) occupied by the currently executing (initial stage for a "
            "WATCH, any stage otherwise) requests in the API Priority and Fairness subsystem",
            labels=labels,
        )
        inqueue = GaugeMetricFamily(
            PREFIX + "current_inqueue_requests",
            "Number of requests currently pending in queues of the API Priority and Fairness subsystem",
            labels=labels,
        )
        dispatched = CounterMetricFamily(
            PREFIX + "dispatched_requests",
            "Number of requests executed by API Priority and Fairness subsystem",
            labels=labels,
        )
        rejected = CounterMetricFamily(
            PREFIX + "rejected_requests",
            "Number of requests rejected by API Priority and Fairness subsystem",
            labels=[*labels, "reason"],
        )
        for s in sorted(cfg.stats.values(), key=lambda s: (s.level, s.schema)):
            pair = [s.level, s.schema]
            executing.add_metric(pair, s.executing)
            seats.add_metric(pair, s.seats)
            inqueue.add_metric(pair, s.inqueue)
            dispatched.add_metric(pair, s.dispatched)
            for reason, n in s.rejected.items():
                if n:
                    rejected.add_metric([*pair, reason], n)
        yield from (executing, seats, inqueue, dispatched, rejected)
