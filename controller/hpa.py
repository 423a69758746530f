"""The horizontal pod autoscaler controller: Resource metric targets over anything with a /scale.

kube-controller-manager's `horizontalpodautoscaling` loop for `Resource` metrics (cpu, memory) with
an `averageUtilization` or `averageValue` target. Every HPA is reconciled when it changes and again
every sync period (15 s, `--horizontal-pod-autoscaler-sync-period`; `KUBELITE_HPA_SYNC_PERIOD` for
tests): read the target's Scale (Deployments, ReplicaSets, ReplicationControllers, StatefulSets),
list the pods its `status.selector` picks from the informer cache and their PodMetrics from
metrics.k8s.io once, let `controller.hpa_metrics` turn each metric into a proposal (the largest
wins, as in kube), normalise it with `controller.hpa_decisions`, write the Scale when the count
changes, and recompute the status (currentMetrics, currentReplicas, desiredReplicas, lastScaleTime,
the AbleToScale, ScalingActive and ScalingLimited conditions) from what was observed. Other metric
types are reported as not supported (an event each; ScalingActive=False when no valid metric is
left, or when some are invalid and the valid ones would scale down) rather than guessed at.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from api.conditions import transition_time
from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.informer import Informer
from api.jsonutil import now_str as now_rfc3339
from api.resources import Resource, by_plural, lookup
from api.selectors import parse_label_selector
from controller import hpa_decisions as d
from controller import hpa_metrics
from controller.base import ApiClient, Obj, QueueController, meta

log = logging.getLogger(__name__)

HPAS = by_plural("autoscaling", "horizontalpodautoscalers")
POD_METRICS = by_plural("metrics.k8s.io", "pods")
DEFAULT_SYNC_PERIOD = float(os.environ.get("KUBELITE_HPA_SYNC_PERIOD", "15"))
_SCALABLE = ("deployments", "replicasets", "replicationcontrollers", "statefulsets")


def target_resource(ref: Obj) -> Resource | None:
    res = lookup(str(ref.get("kind") or "").lower())
    if res is None or res.plural not in _SCALABLE:
        return None
    return res


def set_condition(conditions: list[Obj], type_: str, status: str, reason: str, message: str) -> None:
    """Replace the condition of this type; its transition time moves only when its status does."""
    old = next((c for c in conditions if c.get("type") == type_), None)
    when = transition_time(old, status, now_rfc3339())
    new = {"type": type_, "status": status, "lastTransitionTime": when, "reason": reason, "message": message}
    conditions[:] = [c for c in conditions if c.get("type") != type_] + [new]


class HorizontalPodAutoscalerController(QueueController):
    name = "horizontalpodautoscaling"

    def __init__(
        self,
        client: ApiClient,
        hpas: Informer,
        pods: Informer,
        events: EventRecorder,
        sync_period: float = DEFAULT_SYNC_PERIOD,
        workers: int = 2,
    ) -> None:
        super().__init__(workers)
        self.client = client
        self.hpas, self.pods = hpas, pods
        self.events = events
        self.sync_period = sync_period
        self.history: dict[str, d.History] = {}
        hpas.add_handlers(self.enqueue, self._updated, self._deleted)

    def _updated(self, old: Obj, new: Obj) -> None:
        # our own status writes come back as updates: only a spec change is worth an early pass (kube
        # rate-limits every HPA event to the sync period for the same reason: no double scaling)
        if meta(old).get("generation") != meta(new).get("generation"):
            self.enqueue(new)

    def _deleted(self, obj: Any) -> None:
        self.enqueue(obj)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.hpas, self.pods, *informers)

    async def sync(self, key: str) -> None:
        hpa = self.hpas.get(key)
        if hpa is None:
            self.history.pop(key, None)
            return
        try:
            await self._reconcile(key, hpa)
        finally:
            self.queue.add_after(key, self.sync_period)

    async def _reconcile(self, key: str, hpa: Obj) -> None:
        m, spec = meta(hpa), hpa.get("spec") or {}
        ns = m.get("namespace", "default")
        status = dict(hpa.get("status") or {})
        conditions = [dict(c) for c in status.get("conditions") or []]
        ref = spec.get("scaleTargetRef") or {}
        res = target_resource(ref)
        try:
            if res is None:
                raise ApiError(
                    404, "NotFound", f"the server could not find the requested resource ({ref.get('kind')})"
                )
            scale = await self.client.get(res, ref.get("name", ""), ns, subresource="scale")
        except ApiError as e:
            set_condition(
                conditions,
                "AbleToScale",
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: {e.message}",
            )
            self.events.record(hpa, WARNING, "FailedGetScale", e.message)
            await self._write_status(hpa, {**status, "conditions": conditions})
            return
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        low, high = int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 1)
        behavior = spec.get("behavior")
        history = self.history.setdefault(key, d.History())
        now = time.monotonic()
        metric_status: list[Obj] = []
        rescale = False
        why = ""  # the SuccessfulRescale event's reason
        if current == 0 and low != 0:
            desired = 0
            set_condition(
                conditions,
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
            )
        elif current > high or current < low:
            # kube's reconcileAutoscaler: out of range, the bound is the answer, metrics or not
            desired = high if current > high else low
            why = f"Current number of replicas {'above Spec.MaxReplicas' if current > high else 'below Spec.MinReplicas'}"
            rescale = True
        else:
            proposals, failures = await self._propose(ns, spec, scale, current)
            for failure in failures:
                self.events.record(hpa, WARNING, failure.reason, str(failure))
            metric_status = [p.status for p in proposals]
            best = max(proposals, key=lambda p: p.replicas, default=None)  # kube: the largest wins
            # all metrics invalid, or some invalid while the valid ones would scale down: no move
            if best is None or (failures and best.replicas < current):
                first = (
                    failures[0]
                    if failures
                    else hpa_metrics.MetricFailure("InvalidMetricSourceType", "no metrics are set")
                )
                set_condition(
                    conditions,
                    "ScalingActive",
                    "False",
                    first.reason,
                    f"the HPA was unable to compute the replica count: {first}",
                )
                set_condition(
                    conditions,
                    "AbleToScale",
                    "True",
                    "SucceededGetScale",
                    "the HPA controller was able to get the target's current scale",
                )
                failed: Obj = {
                    **status,
                    "currentReplicas": current,
                    "conditions": conditions,
                    "observedGeneration": m.get("generation"),
                }
                if metric_status:
                    failed["currentMetrics"] = metric_status
                await self._write_status(hpa, failed)
                return
            set_condition(
                conditions,
                "ScalingActive",
                "True",
                "ValidMetricFound",
                f"the HPA was able to successfully calculate a replica count from {best.name}",
            )
            stabilized = d.stabilize(history, now, current, best.replicas, behavior)
            desired, reason, message = d.limit(current, stabilized, low, high, behavior, history, now)
            set_condition(
                conditions,
                "ScalingLimited",
                "False" if reason == "DesiredWithinRange" else "True",
                reason,
                message,
            )
            rescale = desired != current
            why = f"{best.name} {'above' if desired > current else 'below'} target"
        if rescale:
            try:
                await self.client.update(
                    res,
                    {**scale, "spec": {**(scale.get("spec") or {}), "replicas": desired}},
                    ns,
                    subresource="scale",
                )
            except ApiError as e:
                set_condition(
                    conditions,
                    "AbleToScale",
                    "False",
                    "FailedUpdateScale",
                    f"the HPA controller was unable to update the target scale: {e.message}",
                )
                self.events.record(
                    hpa,
                    WARNING,
                    "FailedRescale",
                    f"New size: {desired}; reason: {why}; error: {e.message}",
                )
                await self._write_status(hpa, {**status, "conditions": conditions})
                return
            d.record_scale(history, now, current, desired)
            self.events.record(
                hpa,
                NORMAL,
                "SuccessfulRescale",
                f"New size: {desired}; reason: {why}",
            )
            set_condition(
                conditions,
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
            )
        if not rescale:
            set_condition(
                conditions, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"
            )
        new_status: Obj = {
            "observedGeneration": m.get("generation"),
            "currentReplicas": current,
            "desiredReplicas": desired,
            "conditions": conditions,
        }
        if metric_status:
            new_status["currentMetrics"] = metric_status
        last = now_rfc3339() if rescale else status.get("lastScaleTime")
        if last:
            new_status["lastScaleTime"] = last
        await self._write_status(hpa, new_status)

    async def _propose(
        self, ns: str, spec: Obj, scale: Obj, current: int
    ) -> tuple[list[hpa_metrics.Proposal], list[hpa_metrics.MetricFailure]]:
        """Each metric's proposal or failure, from one pod list and one PodMetrics list."""
        metrics = spec.get("metrics") or []
        selector_text = (scale.get("status") or {}).get("selector") or ""
        if not selector_text:
            failure = hpa_metrics.MetricFailure("InvalidSelector", "the target's scale has no selector")
            return [], [failure] * max(1, len(metrics))
        selector = parse_label_selector(selector_text)
        pods = [
            p
            for p in self.pods.list()
            if meta(p).get("namespace") == ns and selector.matches(meta(p).get("labels"))
        ]
        pod_metrics: list[Obj] | str = []
        if any(x.get("type") == "Resource" for x in metrics):
            try:
                listed = await self.client.list(POD_METRICS, ns, label_selector=selector_text)
                pod_metrics = list(listed.get("items") or [])
            except ApiError as e:
                pod_metrics = e.message
        proposals, failures = [], []
        for metric in metrics:
            try:
                proposals.append(hpa_metrics.propose(current, metric, pods, pod_metrics))
            except hpa_metrics.MetricFailure as e:
                failures.append(e)
        return proposals, failures

    async def _write_status(self, hpa: Obj, status: Obj) -> None:
        status = {k: v for k, v in status.items() if v is not None}
        status.setdefault("desiredReplicas", (hpa.get("status") or {}).get("desiredReplicas", 0))
        if status == hpa.get("status"):
            return
        try:
            await self.client.update(
                HPAS, {**hpa, "status": status}, meta(hpa).get("namespace"), subresource="status"
            )
        except ApiError as e:
            if e.code not in (404, 409):
                raise
