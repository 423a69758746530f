"""Preemption in the scheduler's shell: `Preemptor.decide` runs `preemption.preempt` over the
cache, before any await, and changes the cache at once; `Preemptor.carry_out` makes the writes
(kube's Evaluator.PreemptPod and prepareCandidate).

What changes at once: the pod's nomination (nominator.py), the nominations of lower-priority pods
waiting for the same node (cleared), and each victim, held in the cache as being deleted (the
condition set, a deletionTimestamp) until its own updates come, so that the pod, retried before
they do, waits for its victims rather than preempting again; a victim whose write failed is given
back as it was.

A victim gets the condition DisruptionTarget=True (reason PreemptionByScheduler, kube's
message) through pods/status first, as a strategic merge patch so that conditions merge by type
and a kubelet's concurrent write of its own is not undone; a Job's podFailurePolicy and whoever
watches learn from it why the pod went. Then a plain delete: the pod's own grace period, the
kubelet stopping it as any deleted pod. Then a Preempted event on it ("Preempted by pod <uid> on
node <node>"). A victim already being deleted is left alone and one already gone is no error, as
in kube. The writes run concurrently; the first failure is raised once all have finished.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.events import NORMAL, EventRecorder
from api.informer import Informer
from api.procmetrics import preemption_attempt
from api.requests import STRATEGIC_MERGE_PATCH
from controller.base import ApiClient, meta, patch_pod_status
from controller.scheduler import preemption
from controller.scheduler.framework import FitError
from controller.scheduler.nodeinfo import NodeInfo, PodInfo
from controller.scheduler.nominator import Nominator, nominated_node_name
from controller.scheduler.victims import budget_of

log = logging.getLogger(__name__)

Obj = dict[str, Any]

REASON = "PreemptionByScheduler"  # kube's PodReasonPreemptionByScheduler


def disruption_target(scheduler_name: str, now: str) -> Obj:
    return {
        "type": "DisruptionTarget",
        "status": "True",
        "reason": REASON,
        "message": f"{scheduler_name}: preempting to accommodate a higher priority pod",
        "lastProbeTime": None,
        "lastTransitionTime": now,
    }


def needs_condition(victim: Obj) -> bool:
    """Whether the victim lacks the condition as preemption writes it (kube's UpdatePodCondition
    writes nothing when status, reason and message are already so)."""
    for c in (victim.get("status") or {}).get("conditions") or []:
        if c.get("type") == "DisruptionTarget":
            return not (c.get("status") == "True" and c.get("reason") == REASON)
    return True


def as_preempted(victim: Obj, scheduler_name: str, now: str) -> Obj:
    """The victim as it will be once preempted (being deleted, the condition set): what the
    scheduler's cache holds meanwhile, so that no decision takes it for a running pod. A copy."""
    m, status = dict(meta(victim)), dict(victim.get("status") or {})
    m.setdefault("deletionTimestamp", now)
    if needs_condition(victim):
        kept = [c for c in status.get("conditions") or [] if c.get("type") != "DisruptionTarget"]
        status["conditions"] = [*kept, disruption_target(scheduler_name, now)]
    return {**victim, "metadata": m, "status": status}


async def preempt_victim(
    client: ApiClient, events: EventRecorder, preemptor: Obj, victim: Obj, node: str, scheduler_name: str
) -> None:
    m = meta(victim)
    if needs_condition(victim):
        condition = disruption_target(scheduler_name, jsonutil.now_str())
        if not await patch_pod_status(client, victim, {"conditions": [condition]}, STRATEGIC_MERGE_PATCH):
            return  # already gone
    try:
        await client.delete("pods", m["name"], m.get("namespace"))
    except ApiError as e:
        if e.code != 404:
            raise
        return
    log.info("preempted %s/%s on %s for %s", m.get("namespace"), m["name"], node, meta(preemptor).get("name"))
    events.record(
        victim, NORMAL, "Preempted", f"Preempted by pod {meta(preemptor).get('uid')} on node {node}"
    )


async def clear_nomination(client: ApiClient, pod: Obj) -> None:
    await patch_pod_status(client, pod, {"nominatedNodeName": None})


@dataclass
class Decision:
    outcome: preemption.Outcome
    marked: list[tuple[PodInfo, Obj, Obj]] = field(default_factory=list)  # (victim, before, as held)


class Preemptor:
    def __init__(
        self,
        client: ApiClient,
        events: EventRecorder,
        nominator: Nominator,
        budgets: Informer,
        rng: random.Random,
        scheduler_name: str,
    ) -> None:
        self.client, self.events, self.nominator = client, events, nominator
        self.budgets, self.rng, self.scheduler_name = budgets, rng, scheduler_name

    def decide(self, key: str, pod: Obj, info: PodInfo, fit: FitError, nodes: list[NodeInfo]) -> Decision:
        """Preemption for a pod that fits none of `nodes` (kube's PostFilter); `fit` gets its verdict."""
        if not fit.num_nodes:  # no node at all: nothing to preempt, any nomination cleared
            return Decision(preemption.Outcome(nominate=""))
        outcome = preemption.preempt(
            info,
            nodes,
            [budget_of(b) for b in self.budgets.list()],
            self.nominator.by_node,
            self.nominator.node_of.get(key) or nominated_node_name(pod),
            bool(fit.prefilter),
            self.rng,
            time.time(),
        )
        fit.postfilter = outcome.message
        preemption_attempt(len(outcome.victims))
        if outcome.nominate:
            self.nominator.nominate(info, outcome.nominate)
        elif outcome.nominate is not None:
            self.nominator.forget(key)
        for lower in outcome.denominate:
            self.nominator.forget(lower.key)
        decision = Decision(outcome)
        now = jsonutil.now_str()
        for v in outcome.victims:
            original, v.pod = v.pod, as_preempted(v.pod, self.scheduler_name, now)
            decision.marked.append((v, original, v.pod))
        return decision

    async def carry_out(self, pod: Obj, decision: Decision) -> None:
        """The writes of a decision with victims: each victim (those not already being deleted)
        and the nominations to clear, concurrently; the first failure raised once all are done."""
        node = decision.outcome.nominate or ""
        writes = [
            preempt_victim(self.client, self.events, pod, v, node, self.scheduler_name)
            for _, v, _ in decision.marked
            if not meta(v).get("deletionTimestamp")
        ]
        writes += [clear_nomination(self.client, p.pod) for p in decision.outcome.denominate]
        failures = [
            r for r in await asyncio.gather(*writes, return_exceptions=True) if isinstance(r, BaseException)
        ]
        if failures:
            for info, original, held in decision.marked:  # not known to be going after all
                if info.pod is held:
                    info.pod = original
            raise failures[0]
