"""Pod status as the real kubelet writes it, recomputed from observation each time (pure).

The pod worker observes the runtime (containers, exit codes, probe results, back-off state)
and condenses each container into a `ContainerView`; `build_status` turns those views into the
`status` the API server stores: phase, the four conditions, podIP(s), hostIP, startTime and
per-container state / lastState / ready / restartCount. It never edits the old status in
place; the old one is consulted only to keep `lastTransitionTime` of unchanged conditions.
Conditions the kubelet does not own (a load balancer controller's readiness gate, a
DisruptionTarget) are carried over from the API's copy as they are, and `spec.readinessGates`
holds Ready at False (ReadinessGatesNotReady) until each named condition there is True, as the
kubelet's generatePodReadyCondition does.
Phase follows the kubelet's getPhase: waiting containers keep a pod Pending, a restarting
container under restartPolicy Always keeps it Running, and only terminated containers decide
Succeeded or Failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api import jsonutil
from api.podstatus import is_restartable_init
from api.qos import qos_class
from api.shapes import Condition, ConditionStatus, ContainerStatus, Pod, PodPhase, PodSpec, PodStatus
from kubelet import localstorage

CONTAINER_ID_SCHEME = "kubelite://"
KUBELET_CONDITIONS = frozenset(
    {"Initialized", "Ready", "ContainersReady", "PodScheduled"}
)  # kube's PodConditionsByKubelet


@dataclass
class Terminated:
    exit_code: int
    reason: str  # "Completed", "Error", "OOMKilled"
    started_at: str
    finished_at: str
    container_id: str = ""
    message: str = ""

    def to_wire(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "exitCode": self.exit_code,
            "reason": self.reason,
            "startedAt": self.started_at or None,
            "finishedAt": self.finished_at or None,
        }
        if self.message:
            d["message"] = self.message
        if self.container_id:
            d["containerID"] = CONTAINER_ID_SCHEME + self.container_id
        return d


@dataclass
class ContainerView:
    """What the kubelet knows of one container of the spec, condensed for the status."""

    name: str
    image: str
    state: str  # "waiting" | "running" | "terminated"
    reason: str = ""  # waiting: ContainerCreating, ErrImagePull, ImagePullBackOff, CrashLoopBackOff ...
    message: str = ""
    container_id: str = ""
    image_id: str = ""
    started_at: str = ""
    terminated: Terminated | None = None  # when state == "terminated"
    last_terminated: Terminated | None = None
    restart_count: int = 0
    ready: bool = False
    started: bool = False  # startup probe passed (or none)

    def to_wire(self) -> ContainerStatus:
        if self.state == "running":
            state: dict[str, Any] = {"running": {"startedAt": self.started_at or None}}
        elif self.state == "terminated" and self.terminated is not None:
            state = {"terminated": self.terminated.to_wire()}
        else:
            waiting: dict[str, Any] = {"reason": self.reason or "ContainerCreating"}
            if self.message:
                waiting["message"] = self.message
            state = {"waiting": waiting}
        d: ContainerStatus = {
            "name": self.name,
            "state": state,
            "lastState": {"terminated": self.last_terminated.to_wire()} if self.last_terminated else {},
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": self.image,
            "imageID": self.image_id,
            "started": self.state == "running" and self.started,
        }
        if self.container_id:
            d["containerID"] = CONTAINER_ID_SCHEME + self.container_id
        return d


def sidecar_up(v: ContainerView) -> bool:
    """A sidecar counts as started once it runs and its startup probe passed, and stays so while
    it restarts or after it was stopped at the pod's end (kube's getPhase)."""
    return (v.state == "running" and v.started) or v.last_terminated is not None or v.state == "terminated"


def pod_phase(
    restart_policy: str,
    views: Sequence[ContainerView],
    init_views: Sequence[ContainerView] = (),
    init_spec_count: int = 0,
    sidecars: frozenset[str] = frozenset(),
) -> PodPhase:
    """Pending | Running | Succeeded | Failed, by the kubelet's getPhase rules: `sidecars` (names
    of restartable init containers) must have started, and never decide the end."""
    if init_spec_count:
        regular = [v for v in init_views if v.name not in sidecars]
        done = [
            v for v in regular if v.state == "terminated" and v.terminated and v.terminated.exit_code == 0
        ]
        failed = any(
            v.state == "terminated" and v.terminated and v.terminated.exit_code != 0 for v in regular
        )
        if failed and restart_policy == "Never":
            return "Failed"
        up = [v for v in init_views if v.name in sidecars and sidecar_up(v)]
        if len(done) + len(up) < init_spec_count:
            return "Pending"
    waiting = running = stopped = succeeded = 0
    for v in views:
        if v.state == "running":
            running += 1
        elif v.state == "terminated":
            stopped += 1
            if v.terminated is not None and v.terminated.exit_code == 0:
                succeeded += 1
        elif v.last_terminated is not None:
            stopped += 1  # restarting: it ran before
        else:
            waiting += 1
    if not views or waiting:
        return "Pending"
    if running:
        return "Running"
    if restart_policy == "Always":
        return "Running"
    if stopped == succeeded:
        return "Succeeded"
    if restart_policy == "Never":
        return "Failed"
    return "Running"  # OnFailure: the failed ones will be restarted


def _condition(
    ctype: str, ok: bool, now: str, old: Mapping[str, Condition], reason: str = "", message: str = ""
) -> Condition:
    status: ConditionStatus = "True" if ok else "False"
    prev = old.get(ctype)
    since = prev.get("lastTransitionTime") if prev and prev.get("status") == status else now
    c: Condition = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": since}
    if not ok and reason:
        c["reason"] = reason
        if message:
            c["message"] = message
    return c


def others_conditions(status: Mapping[str, Any]) -> list[Condition]:
    """The conditions of `status` that someone other than the kubelet owns."""
    return [c for c in status.get("conditions") or [] if c.get("type") not in KUBELET_CONDITIONS]


def readiness_gate_messages(spec: Mapping[str, Any], conditions: Sequence[Mapping[str, Any]]) -> list[str]:
    """Why each of the pod's readiness gates is not yet passed (kube's wording), in spec order."""
    by_type = {c.get("type"): c for c in conditions}
    out = []
    for gate in spec.get("readinessGates") or []:
        ctype = gate.get("conditionType", "")
        c = by_type.get(ctype)
        if c is None:
            out.append(f'corresponding condition of pod readiness gate "{ctype}" does not exist.')
        elif c.get("status") != "True":
            out.append(f'the status of pod readiness gate "{ctype}" is not "True", but {c.get("status")}')
    return out


def readiness_gates_moved(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a status change touched a condition one of the pod's readiness gates names: the
    kubelet must then work out Ready again (kube's NeedToReconcilePodReadiness)."""
    gates = {g.get("conditionType") for g in (new.get("spec") or {}).get("readinessGates") or []}
    if not gates:
        return False

    def gated(pod: Mapping[str, Any]) -> dict[str, Any]:
        conditions = (pod.get("status") or {}).get("conditions") or []
        return {c.get("type"): c.get("status") for c in conditions if c.get("type") in gates}

    return gated(old) != gated(new)


def build_status(
    pod: Pod | dict[str, Any],
    views: Sequence[ContainerView],
    init_views: Sequence[ContainerView],
    pod_ip: str,
    host_ip: str,
    start_time: str,
    now: str,
    others: Sequence[Condition] = (),
    failed: tuple[str, str] | None = None,
    ephemeral: Sequence[ContainerStatus] = (),
) -> PodStatus:
    """The whole `status` for this pod from what was observed; `others`: the conditions other
    writers own, as the API holds them (kept, and read for the readiness gates); `failed`: the
    reason and message of a pod the kubelet has failed itself (DeadlineExceeded); `ephemeral`:
    the ephemeral containers' statuses, reported as they are (they count for neither the phase
    nor readiness)."""
    spec: PodSpec = pod.get("spec") or {}
    old_status: PodStatus = pod.get("status") or {}
    old = {c.get("type", ""): c for c in old_status.get("conditions") or []}
    init_specs = spec.get("initContainers") or []
    init_count = len(init_specs)
    sidecars = frozenset(c.get("name", "") for c in init_specs if is_restartable_init(c))
    policy = spec.get("restartPolicy", "Always")
    phase = "Failed" if failed else pod_phase(policy, views, init_views, init_count, sidecars)
    if (
        phase in ("Succeeded", "Failed")
        and not failed
        and any(v.state == "running" for v in (*views, *init_views))
    ):
        phase = "Running"  # as the kubelet: never terminal while a container (a sidecar) still runs
    terminal = phase in ("Succeeded", "Failed")

    pending_init = [
        v.name
        for v in init_views
        if not (sidecar_up(v) if v.name in sidecars else v.terminated and v.terminated.exit_code == 0)
    ]
    initialized = not pending_init and len(init_views) == init_count
    # a sidecar's readiness is the pod's too (kube counts restartable init containers in ContainersReady)
    unready = [v.name for v in init_views if v.name in sidecars and not v.ready] + [
        v.name for v in views if not v.ready
    ]
    containers_ready = bool(views) and not unready and not terminal
    not_ready_msg = f"containers with unready status: [{' '.join(unready)}]" if unready else ""
    gates_unmet = readiness_gate_messages(spec, others) if containers_ready else []
    conditions = [
        _condition(
            "Initialized",
            initialized,
            now,
            old,
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(pending_init)}]",
        ),
        _condition(
            "Ready",
            containers_ready and not gates_unmet,
            now,
            old,
            "ReadinessGatesNotReady" if gates_unmet else "PodCompleted" if terminal else "ContainersNotReady",
            ", ".join(gates_unmet) if gates_unmet else "" if terminal else not_ready_msg,
        ),
        _condition(
            "ContainersReady",
            containers_ready,
            now,
            old,
            "PodCompleted" if terminal else "ContainersNotReady",
            "" if terminal else not_ready_msg,
        ),
        _condition("PodScheduled", True, now, old),
        *others,
    ]
    status: PodStatus = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}] if host_ip else [],
        "startTime": start_time,
        "containerStatuses": [v.to_wire() for v in views],
        "qosClass": qos_class(spec),
    }
    if failed:
        status["reason"], status["message"] = failed
    if init_count:
        status["initContainerStatuses"] = [v.to_wire() for v in init_views]
    if ephemeral:
        status["ephemeralContainerStatuses"] = list(ephemeral)
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    return status


def disruption_condition(
    failed: tuple[str, str] | None, others: list[Condition], old: Mapping[str, Any]
) -> list[Condition]:
    """kube's DisruptionTarget condition on a pod the kubelet evicts (TerminationByKubelet), which a
    Job's podFailurePolicy can match: the one this kubelet wrote (`old`) when the API's copy
    (`others`) has not shown it yet, else a new one; none when `others` carries it already."""
    if failed is None or failed[0] != localstorage.EVICTED:
        return []
    if any(c.get("type") == "DisruptionTarget" for c in others):
        return []
    written = [c for c in old.get("conditions") or [] if c.get("type") == "DisruptionTarget"]
    if written:
        return written
    condition: Condition = {
        "type": "DisruptionTarget",
        "status": "True",
        "lastProbeTime": None,
        "lastTransitionTime": jsonutil.now_str(),
        "reason": "TerminationByKubelet",
        "message": failed[1],
    }
    return [condition]
