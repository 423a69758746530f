"""Local ephemeral storage limits, enforced as kube's eviction manager does: by evicting the pod.

A memory emptyDir is a tmpfs of its size (the kernel refuses more); what a pod writes on the
node's disk is bounded by nothing but the kubelet. kube's eviction manager measures, every pass
(10 s), in this order: each disk emptyDir against its `sizeLimit`; the pod (its containers'
writable layers and logs, and its disk emptyDirs) against the sum of its containers'
`ephemeral-storage` limits; each container (writable layer and log) against its own limit. The
first one over evicts the pod: phase Failed, reason Evicted, kube's message, a warning event.
Usage is what `du` counts (runtime/diskusage.py); the runtime reports a container's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from api.quantity import format_whole, to_int

EPHEMERAL = "ephemeral-storage"

EVICTED = "Evicted"
CHECK_EVERY = 10.0  # seconds: kube's eviction monitoring interval


def disk_empty_dirs(pod: dict[str, Any]) -> dict[str, str | None]:
    """The pod's disk emptyDirs (not memory ones: a tmpfs is bounded by its size), each with its
    sizeLimit as written (None: no limit)."""
    out: dict[str, str | None] = {}
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        empty = vol.get("emptyDir") if isinstance(vol, dict) else None
        if isinstance(empty, dict) and (empty.get("medium") or "") != "Memory":
            out[str(vol.get("name"))] = str(empty["sizeLimit"]) if empty.get("sizeLimit") else None
    return out


def limited_disk_empty_dirs(pod: dict[str, Any]) -> list[tuple[str, str]]:
    """(volume name, sizeLimit as written) of the pod's disk emptyDirs that have a limit."""
    return [(name, limit) for name, limit in disk_empty_dirs(pod).items() if limit is not None]


def container_limits(pod: dict[str, Any]) -> dict[str, str]:
    """The ephemeral-storage limit (as written) of each container that has one: the app
    containers and the sidecars (restartable init containers), which run beside them."""
    spec = pod.get("spec") or {}
    sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    out = {}
    for c in [*sidecars, *(spec.get("containers") or [])]:
        limit = ((c.get("resources") or {}).get("limits") or {}).get(EPHEMERAL)
        if limit is not None:
            out[str(c.get("name"))] = str(limit)
    return out


def watched(pod: dict[str, Any]) -> bool:
    """Whether the pod has anything to measure (the common pod has not)."""
    return bool(limited_disk_empty_dirs(pod) or container_limits(pod))


async def storage_eviction(
    pod: dict[str, Any],
    volumes_dir: Path,
    running: dict[str, str],
    container_usage: Callable[[str], Awaitable[int]],
    volume_usage: Callable[[Path], Awaitable[int]],
) -> str | None:
    """kube's message for the first limit the pod is over, None when it fits. `running`: the
    container id of each container name; `container_usage` asks the runtime, `volume_usage`
    measures a directory (off the event loop)."""
    volumes = disk_empty_dirs(pod)
    used_by: dict[str, int] = {}  # each volume measured once, for its own limit and the pod's
    for name, limit in volumes.items():
        if limit is not None and to_int(limit) > 0:
            used_by[name] = await volume_usage(volumes_dir / name)
            if used_by[name] > to_int(limit):
                return f'Usage of EmptyDir volume "{name}" exceeds the limit "{limit}". '
    limits = container_limits(pod)
    if not limits:
        return None
    used = {name: await container_usage(cid) for name, cid in running.items()}
    total_limit = sum(to_int(v) for v in limits.values())
    for name in volumes:
        if name not in used_by:
            used_by[name] = await volume_usage(volumes_dir / name)
    volumes_used = sum(used_by.values())
    if total_limit > 0 and sum(used.values()) + volumes_used > total_limit:
        shown = format_whole(total_limit, next(iter(limits.values())))
        return f"Pod ephemeral local storage usage exceeds the total limit of containers {shown}. "
    for name, limit in limits.items():
        if used.get(name, 0) > to_int(limit):
            return f'Container {name} exceeded its local ephemeral storage limit "{limit}". '
    return None
