"""A pod's READY, STATUS and RESTARTS cells, as kubectl shows them: the one computation behind the
API server's `Table` rows and kubectl's own columns (used when a server answers a plain list).

It follows kube's printer (pkg/printers/internalversion printPod): STATUS is the phase, or the
most telling container reason (waiting reason, `ExitCode:N`/`Signal:N`, `Init:N/M` while init
containers run, `Init:<reason>`, `SchedulingGated`, `Terminating`, `Unknown` for a lost node,
`Running`/`NotReady` for a completed sidecar setup); READY counts ready containers (restartable
init containers, i.e. sidecars, included); RESTARTS adds `(5m ago)` from the last termination.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from api.conditions import is_ready
from api.humanize import age
from api.jsonutil import parse_time

Obj = dict[str, Any]


def is_restartable_init(container: Mapping[str, Any] | None) -> bool:
    """A restartable init container (a native sidecar): an init container whose own
    restartPolicy is Always. The kubelet runs it beside the app; kubectl counts it as ready-able."""
    return bool(container) and (container or {}).get("restartPolicy") == "Always"


def _later(a: str, b: str) -> str:
    """The later of two RFC 3339 timestamps ('' is the zero time)."""
    if not a:
        return b
    if not b:
        return a
    return b if parse_time(b) > parse_time(a) else a


def _terminated_reason(term: Obj, prefix: str = "") -> str:
    if term.get("reason"):
        return prefix + str(term["reason"])
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


def pod_status_cells(pod: Obj, now: _dt.datetime | None = None) -> tuple[str, str, str]:
    """(Ready, Status, Restarts) as kubectl shows them for one pod; ages against `now` (default: now)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    containers = spec.get("containers") or []
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(containers) + sum(1 for c in init_specs.values() if is_restartable_init(c))
    ready = restarts = sidecar_restarts = 0
    last_restart = sidecar_last_restart = ""
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    conditions = status.get("conditions") or []
    for cond in conditions:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        last_term = (cs.get("lastState") or {}).get("terminated")
        if last_term and last_term.get("finishedAt"):
            last_restart = _later(last_restart, last_term["finishedAt"])
        sidecar = is_restartable_init(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            if last_term and last_term.get("finishedAt"):
                sidecar_last_restart = _later(sidecar_last_restart, last_term["finishedAt"])
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        if term is not None and int(term.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if term is not None:
            reason = _terminated_reason(term, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True" for c in conditions)
    if not initializing or initialized:
        restarts, last_restart = sidecar_restarts, sidecar_last_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_term = (cs.get("lastState") or {}).get("terminated")
            if last_term and last_term.get("finishedAt"):
                last_restart = _later(last_restart, last_term["finishedAt"])
            state = cs.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif term is not None:
                reason = _terminated_reason(term)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if is_ready(pod) else "NotReady"

    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts and last_restart:
        restarts_cell = f"{restarts} ({age(last_restart, now)} ago)"
    return f"{ready}/{total}", reason, restarts_cell
