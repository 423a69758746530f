"""The disruption controller: each PodDisruptionBudget's status, recomputed from its pods.

kube's DisruptionController, which the eviction API (apiserver/eviction.py) trusts: an eviction
goes ahead only while `status.disruptionsAllowed` is above zero and the status has seen the
budget's current spec (`observedGeneration`), and each eviction it allows records the pod in
`status.disruptedPods` and takes one allowed disruption away until this controller, seeing the
pod go, recomputes.

`budget_status` is the pure part. The pods a budget covers are the live pods of its namespace
its selector matches; healthy ones are Ready and not being evicted. `minAvailable` (a number,
or a percentage of the expected pods rounded up) or `maxUnavailable` (likewise) give the
healthy count wanted; the difference is what may be disrupted. Expected pods are the pods the
selector finds for a numeric `minAvailable`, else the desired scale of their controllers
(disruption_scale.py, kube's getExpectedScale). A pod recorded as disrupted stays out of the
healthy count until it is gone, or for two minutes (kube's DeletionTimeout).

Every pod event asks which budgets select the pod, so each budget's selector is parsed once per
version of the budget (its uid and resourceVersion), not once per event, and forgotten with it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from api import jsonutil
from api.conditions import condition, is_ready, transition_time
from api.events import WARNING, EventRecorder
from api.informer import DeletedFinalStateUnknown, Informer
from api.selectors import LabelSelector, selector_from_label_selector
from controller.base import ApiClient, Obj, QueueController, key_of, meta, unwrap
from controller.deployment_util import scaled_value
from controller.disruption_scale import (
    UNMANAGED_MESSAGE,
    NoControllerError,
    ScaleOf,
    expected_scale,
    fail_safe_status,
    needs_scale,
)

DELETION_TIMEOUT = 120.0  # seconds a recorded disruption holds a pod out of the healthy count


def _scaled(value: Any, expected: int) -> int:
    """An IntOrString of a budget (kube's GetScaledValueFromIntOrPercent, rounded up); 0 for one
    validation would refuse."""
    if isinstance(value, bool):
        return 0
    try:
        return scaled_value(value, expected, round_up=True)
    except ValueError:
        return 0


def budget_status(pdb: Obj, pods: list[Obj], now: dt.datetime, expected: int | None = None) -> Obj:
    """The status `pdb` should have over the pods its selector matched (live ones); `expected`:
    the pods it expects when that is its controllers' scale (needs_scale), else the pods found."""
    spec, old = pdb.get("spec") or {}, pdb.get("status") or {}
    names = {meta(p)["name"] for p in pods}
    disrupted: dict[str, str] = {}
    for name, when in (old.get("disruptedPods") or {}).items():
        try:
            age = (now - jsonutil.parse_time(str(when))).total_seconds()
        except ValueError:
            continue
        if name in names and age < DELETION_TIMEOUT:
            disrupted[name] = when
    if expected is None:
        expected = len(pods)
    healthy = sum(1 for p in pods if is_ready(p) and meta(p)["name"] not in disrupted)
    desired = 0
    if spec.get("maxUnavailable") is not None:
        unavailable = _scaled(spec["maxUnavailable"], expected)
        desired = max(0, expected - unavailable)
    elif spec.get("minAvailable") is not None:
        desired = _scaled(spec["minAvailable"], expected)
    allowed = max(0, healthy - desired) if expected else 0
    ok = allowed > 0
    prev = condition(pdb, "DisruptionAllowed")
    status_word = "True" if ok else "False"
    since = transition_time(prev, status_word, jsonutil.format_time(now))
    allowed_condition = {
        "type": "DisruptionAllowed",
        "status": status_word,
        "reason": "SufficientPods" if ok else "InsufficientPods",
        "message": "",
        "observedGeneration": meta(pdb).get("generation", 1),
        "lastTransitionTime": since,
    }
    out: Obj = {
        "observedGeneration": meta(pdb).get("generation", 1),
        "disruptionsAllowed": allowed,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "conditions": [allowed_condition],
    }
    if disrupted:
        out["disruptedPods"] = disrupted
    return out


class ParsedSelector(NamedTuple):
    version: tuple[str, str]  # the budget's (uid, resourceVersion) it was parsed from
    selector: LabelSelector | None


class DisruptionController(QueueController):
    name = "disruption"

    def __init__(
        self,
        client: ApiClient,
        budgets: Informer,
        pods: Informer,
        workers: int = 2,
        scale_of: ScaleOf = lambda namespace, ref: None,
        owners: tuple[Informer, ...] = (),
        recorder: EventRecorder | None = None,
    ) -> None:
        """`scale_of` finds a pod controller's scale in `owners`, the caches it reads."""
        super().__init__(workers)
        self.client, self.budgets, self.pods = client, budgets, pods
        self.scale_of, self.owners, self.recorder = scale_of, owners, recorder
        self._selectors: dict[str, ParsedSelector] = {}  # budget key -> its selector, by version
        budgets.add_handlers(self.enqueue, lambda old, new: self.enqueue(new), self._budget_gone)
        pods.add_handlers(self._pod_changed, self._pod_updated, self._pod_changed)

    def _event(self, pdb: Obj, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.record(pdb, WARNING, reason, message)

    def _budget_gone(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        key = obj.key if isinstance(obj, DeletedFinalStateUnknown) else key_of(obj)
        self._selectors.pop(key, None)
        self.enqueue(key)

    def selector_of(self, pdb: Obj) -> LabelSelector | None:
        """The budget's spec.selector (None: it selects nothing), parsed once per version."""
        m = meta(pdb)
        version = (str(m.get("uid") or ""), str(m.get("resourceVersion") or ""))
        key = key_of(pdb)
        parsed = self._selectors.get(key)
        if parsed is not None and parsed.version == version:
            return parsed.selector
        selector = selector_from_label_selector((pdb.get("spec") or {}).get("selector"))
        if version[1]:  # one never stored (no resourceVersion) could change unseen: not kept
            self._selectors[key] = ParsedSelector(version, selector)
        return selector

    def _budgets_of(self, pod: Obj) -> list[str]:
        m = meta(pod)
        labels = m.get("labels") or {}
        out = []
        for pdb in self.budgets.list(m.get("namespace")):
            sel = self.selector_of(pdb)
            if sel is not None and sel.matches(labels):
                out.append(key_of(pdb))
        return out

    def _pod_changed(self, obj: Obj | Any) -> None:
        for key in self._budgets_of(unwrap(obj)):
            self.queue.add(key)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        keys = set(self._budgets_of(new))
        if meta(old).get("labels") != meta(new).get("labels"):  # the budgets it left count it no more
            keys.update(self._budgets_of(old))
        for key in keys:
            self.queue.add(key)

    async def run(self, *informers: Informer) -> None:
        await super().run(self.budgets, self.pods, *self.owners, *informers)

    async def sync(self, key: str) -> None:
        pdb = self.budgets.get(key)
        if pdb is None:
            return
        m = meta(pdb)
        sel = self.selector_of(pdb)
        pods = [
            p
            for p in self.pods.list(m.get("namespace"))
            if sel is not None
            and not meta(p).get("deletionTimestamp")
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and sel.matches(meta(p).get("labels") or {})
        ]
        expected = None
        if needs_scale(pdb.get("spec") or {}):
            try:
                expected, unmanaged = expected_scale(pods, self.scale_of)
            except NoControllerError as e:
                self._event(
                    pdb,
                    "CalculateExpectedPodCountFailed",
                    f"Failed to calculate the number of expected pods: {e}",
                )
                await self.update_status(
                    self.client, "poddisruptionbudgets", key, pdb, fail_safe_status(pdb, str(e))
                )
                self.queue.add_rate_limited(key)  # kube retries a failed sync with back-off
                return
            if unmanaged:
                self._event(pdb, "UnmanagedPods", UNMANAGED_MESSAGE.format(selector=sel))
        status = budget_status(pdb, pods, jsonutil.now(), expected)
        await self.update_status(self.client, "poddisruptionbudgets", key, pdb, status)
        if status.get("disruptedPods"):  # recompute when the oldest recorded disruption times out
            self.queue.add_after(key, DELETION_TIMEOUT)
