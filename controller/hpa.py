"""The horizontal pod autoscaler controller: CPU utilisation targets over anything with a /scale.

kube-controller-manager's `horizontalpodautoscaling` loop for `Resource` cpu metrics with an
`averageUtilization` target. Every HPA is reconciled when it changes and again every sync period
(15 s, `--horizontal-pod-autoscaler-sync-period`; `KUBELITE_HPA_SYNC_PERIOD` for tests): read the
target's Scale (Deployments, ReplicaSets, ReplicationControllers, StatefulSets), list the pods its
`status.selector` picks from the informer cache and their PodMetrics from metrics.k8s.io, decide
with `controller.hpa_decisions`, write the Scale when the count changes, and recompute the status
(currentMetrics, currentReplicas, desiredReplicas, lastScaleTime, the AbleToScale, ScalingActive
and ScalingLimited conditions) from what was observed. Metric types other than cpu Resource are
reported as not supported in ScalingActive rather than guessed at.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from api.conditions import is_ready
from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.informer import Informer
from api.jsonutil import now_str as now_rfc3339
from api.quantity import to_milli
from api.resources import Resource, by_plural, lookup
from api.selectors import parse_label_selector
from controller import hpa_decisions as d
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


def pod_sample(pod: Obj, usage_milli: float | None) -> d.PodSample:
    """One pod as the calculator sees it: CPU requests, usage, readiness (pure)."""
    m, status = meta(pod), pod.get("status") or {}
    request, missing = 0, ""
    for c in (pod.get("spec") or {}).get("containers") or []:
        cpu = ((c.get("resources") or {}).get("requests") or {}).get("cpu")
        if cpu is None:
            missing = missing or c.get("name", "")
        else:
            request += to_milli(cpu)
    ignored = bool(m.get("deletionTimestamp")) or status.get("phase") == "Failed"
    return d.PodSample(
        m.get("name", ""),
        request,
        usage_milli,
        is_ready(pod) and status.get("phase") == "Running",
        ignored=ignored,
        missing_request=missing,
    )


def cpu_usage_milli(pod_metrics: Obj) -> float:
    return sum(to_milli((c.get("usage") or {}).get("cpu", "0")) for c in pod_metrics.get("containers") or [])


def set_condition(conditions: list[Obj], type_: str, status: str, reason: str, message: str) -> None:
    """Replace the condition of this type; its transition time moves only when its status does."""
    old = next((c for c in conditions if c.get("type") == type_), None)
    when = (
        old["lastTransitionTime"]
        if old is not None and old.get("status") == status and old.get("lastTransitionTime")
        else now_rfc3339()
    )
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
        if current == 0 and low != 0:
            desired = 0
            set_condition(
                conditions,
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
            )
        else:
            try:
                rec = await self._recommend(ns, spec, scale, current)
            except d.MetricsError as e:
                set_condition(
                    conditions,
                    "ScalingActive",
                    "False",
                    "FailedGetResourceMetric",
                    f"the HPA was unable to compute the replica count: failed to get cpu utilization: {e}",
                )
                self.events.record(
                    hpa, WARNING, "FailedGetResourceMetric", f"failed to get cpu utilization: {e}"
                )
                set_condition(
                    conditions,
                    "AbleToScale",
                    "True",
                    "SucceededGetScale",
                    "the HPA controller was able to get the target's current scale",
                )
                await self._write_status(
                    hpa,
                    {
                        **status,
                        "currentReplicas": current,
                        "conditions": conditions,
                        "observedGeneration": m.get("generation"),
                    },
                )
                return
            metric_status = [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {
                            "averageUtilization": rec.utilization,
                            "averageValue": f"{rec.usage_milli}m",
                        },
                    },
                }
            ]
            set_condition(
                conditions,
                "ScalingActive",
                "True",
                "ValidMetricFound",
                "the HPA was able to successfully calculate a replica count from cpu resource "
                "utilization (percentage of request)",
            )
            stabilized = d.stabilize(history, now, current, rec.replicas, behavior)
            desired, reason, message = d.limit(current, stabilized, low, high, behavior, history, now)
            set_condition(
                conditions,
                "ScalingLimited",
                "False" if reason == "DesiredWithinRange" else "True",
                reason,
                message,
            )
            rescale = desired != current
            if rescale:
                direction = "above" if desired > current else "below"
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
                        f"New size: {desired}; reason: cpu resource utilization (percentage of "
                        f"request) {direction} target; error: {e.message}",
                    )
                    await self._write_status(hpa, {**status, "conditions": conditions})
                    return
                d.record_scale(history, now, current, desired)
                self.events.record(
                    hpa,
                    NORMAL,
                    "SuccessfulRescale",
                    f"New size: {desired}; reason: cpu resource "
                    f"utilization (percentage of request) {direction} target",
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

    async def _recommend(self, ns: str, spec: Obj, scale: Obj, current: int) -> d.Recommendation:
        metrics = spec.get("metrics") or []
        cpu = next(
            (
                x
                for x in metrics
                if x.get("type") == "Resource" and (x.get("resource") or {}).get("name") == "cpu"
            ),
            None,
        )
        target = ((cpu or {}).get("resource") or {}).get("target") or {}
        if cpu is None or target.get("averageUtilization") is None:
            raise d.MetricsError("only cpu Resource metrics with an averageUtilization target are supported")
        selector_text = (scale.get("status") or {}).get("selector") or ""
        if not selector_text:
            raise d.MetricsError("the target's scale has no selector")
        selector = parse_label_selector(selector_text)
        pods = [
            p
            for p in self.pods.list()
            if meta(p).get("namespace") == ns and selector.matches(meta(p).get("labels"))
        ]
        try:
            listed = await self.client.list(POD_METRICS, ns, label_selector=selector_text)
        except ApiError as e:
            raise d.MetricsError(f"unable to get metrics for resource cpu: {e.message}") from None
        usage = {meta(x).get("name"): cpu_usage_milli(x) for x in listed.get("items") or []}
        samples = [
            pod_sample(p, usage.get(meta(p).get("name")))
            for p in pods
            if (p.get("status") or {}).get("phase") not in ("Succeeded",)
        ]
        return d.cpu_replicas(current, samples, int(target["averageUtilization"]))

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
