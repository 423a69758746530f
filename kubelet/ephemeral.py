"""Ephemeral containers (`kubectl debug POD`): what to start, in which process namespace, and what
to report of them (pure; `sync.PodSyncer` carries it out).

As kube's kubelet (computePodActions) does, each ephemeral container with no instance yet is
started, before the init containers so that a pod stuck initialising can still be debugged, and
never again: one that exited stays exited. Besides the runtime's instances, the status this
kubelet last reported is consulted, so that a container whose instance went with a lost sandbox
is not run a second time either; its status then keeps saying how it ended.
With `targetContainerName` the container joins the process namespace of that container's running
instance (CRI's NamespaceMode TARGET), so `ps` in it lists the target's processes; while the target
does not run, the start fails with the kubelet's CreateContainerConfigError and is retried.
Ephemeral containers have no probes, ports or restart policy, are never ready, count for neither
the pod's phase nor its readiness, and die with the pod like any other container.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from api.shapes import ContainerStatus
from kubelet.status import ContainerView
from runtime.interface import ContainerInfo

# what the kubelet reports of a container that ran but whose instance can no longer be found
LOST = {
    "exitCode": 137,
    "reason": "ContainerStatusUnknown",
    "message": "The container could not be located when the pod was terminated",
}


class NotProbed:
    """The verdicts of a container without probes that never counts as ready."""

    started = True
    ready = False


def specs(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [c for c in (pod.get("spec") or {}).get("ephemeralContainers") or [] if isinstance(c, dict)]


def _reported(status: Mapping[str, Any]) -> dict[str, ContainerStatus]:
    return {s.get("name", ""): s for s in status.get("ephemeralContainerStatuses") or []}


def _ran(reported: ContainerStatus | None) -> bool:
    state = (reported or {}).get("state") or {}
    return "running" in state or "terminated" in state


def to_start(
    pod: Mapping[str, Any], by_name: Mapping[str, list[ContainerInfo]], reported: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The ephemeral containers to start now: those that never ran (no instance, and not reported
    running or ended in `reported`, the pod status last written)."""
    seen = _reported(reported)
    return [c for c in specs(pod) if not by_name.get(c["name"]) and not _ran(seen.get(c["name"]))]


def target_of(c: Mapping[str, Any], by_name: Mapping[str, list[ContainerInfo]]) -> str | None:
    """The id of the instance whose process namespace `c` joins: "" for none of its own choosing
    (the container's own namespace), None while its target has no running instance."""
    target = c.get("targetContainerName")
    if not target:
        return ""
    running = [i for i in by_name.get(target) or [] if i.state == "running"]
    return running[-1].id if running else None


def target_missing(c: Mapping[str, Any]) -> str:
    """The kubelet's words for a target container that does not run (a CreateContainerConfigError)."""
    return f"unable to find target container {c.get('targetContainerName')}"


def statuses(views: Sequence[ContainerView], reported: Mapping[str, Any]) -> list[ContainerStatus]:
    """ephemeralContainerStatuses: each view as a container's status, never ready; a container that
    ran but has no instance any more keeps its reported end (or, reported running, a lost one's)."""
    seen = _reported(reported)
    out: list[ContainerStatus] = []
    for v in views:
        before = seen.get(v.name)
        if not v.container_id and _ran(before):
            assert before is not None
            state = before.get("state") or {}
            if "running" in state:
                ended = {**LOST, "startedAt": state["running"].get("startedAt"), "finishedAt": None}
                if before.get("containerID"):
                    ended["containerID"] = before["containerID"]
                before = {**before, "state": {"terminated": ended}, "started": False}
            out.append(before)
            continue
        out.append(v.to_wire())  # never ready: its view is not probed (probed=False)
    return out
