"""What a pod that fits no node is told (kube's handleSchedulingFailure and updatePod): a
FailedScheduling event with the reasons, and one status write carrying the PodScheduled=False
condition (reason Unschedulable, the same message) and, when preemption changed it, the pod's
`nominatedNodeName` (set to the node making room for it, or cleared when preemption cannot
help).

The status write is skipped when it would change nothing, so a pod retried over and over with
the same verdict costs one event update per attempt and no pod write.
"""

from __future__ import annotations

import logging
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.events import WARNING, EventRecorder
from controller.base import ApiClient, meta

log = logging.getLogger(__name__)

Obj = dict[str, Any]


def status_change(pod: Obj, message: str, nominate: str | None, now: str) -> Obj:
    """The status fields to write ({} when none changes); `nominate`: the node to nominate the pod
    to, "" to clear its nomination, None to leave it."""
    status = pod.get("status") or {}
    out: Obj = {}
    conds = list(status.get("conditions") or [])
    prev = next((c for c in conds if c.get("type") == "PodScheduled"), None)
    if prev is None or prev.get("status") != "False" or prev.get("message") != message:
        cond = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastProbeTime": None,
            "lastTransitionTime": now,
        }
        out["conditions"] = [c for c in conds if c.get("type") != "PodScheduled"] + [cond]
    if nominate is not None and nominate != (status.get("nominatedNodeName") or ""):
        out["nominatedNodeName"] = nominate or None  # null: a merge patch removes it
    return out


async def record_failure(
    client: ApiClient, events: EventRecorder, pod: Obj, message: str, nominate: str | None = None
) -> None:
    events.record(pod, WARNING, "FailedScheduling", message)
    change = status_change(pod, message, nominate, jsonutil.now_str())
    if not change:
        return
    m = meta(pod)
    try:
        await client.patch(
            "pods", m["name"], {"status": change}, namespace=m.get("namespace"), subresource="status"
        )
    except ApiError as e:
        log.info("pod %s/%s status not written: %s", m.get("namespace"), m["name"], e)
