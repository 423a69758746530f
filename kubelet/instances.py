"""The runtime's containers of a pod read back as the kubelet's: by spec name, newest last.

The kubelet keeps no memory of what it started: the labels it put on each container (container
name, restart count; see `containerconfig`) say which spec container an instance belongs to and
how many restarts came before it, so a restarted kubelet sees exactly what the old one saw. This
module turns runtime instances into what decisions and status need (an `Instance`, a
`Terminated` record, RFC 3339 times, each spec container's `ContainerView`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from api import jsonutil
from kubelet.containerconfig import CONTAINER_NAME, RESTART_COUNT
from kubelet.decisions import Instance
from kubelet.status import ContainerView, Terminated
from runtime.interface import ContainerInfo


def iso(ts: float) -> str:
    return jsonutil.format_time(datetime.fromtimestamp(ts, UTC)) if ts else ""


def restart_count(c: ContainerInfo) -> int:
    try:
        return int(c.labels.get(RESTART_COUNT, "0"))
    except ValueError:
        return 0


def newest_by_name(containers: list[ContainerInfo]) -> dict[str, list[ContainerInfo]]:
    """Instances per container name, oldest first (by restart count, then creation)."""
    out: dict[str, list[ContainerInfo]] = {}
    for c in sorted(containers, key=lambda c: (restart_count(c), c.created_at)):
        out.setdefault(c.labels.get(CONTAINER_NAME, c.name), []).append(c)
    return out


def terminated(c: ContainerInfo) -> Terminated:
    code = c.exit_code if c.exit_code is not None else 255
    reason = c.reason or ("Completed" if code == 0 else "Error")
    return Terminated(code, reason, iso(c.started_at), iso(c.finished_at), c.id)


def instance(c: ContainerInfo | None) -> Instance | None:
    return None if c is None else Instance(c.state, c.exit_code, restart_count(c))


class _Verdicts(Protocol):
    started: bool
    ready: bool


def container_views(
    uid: str,
    containers: list[ContainerInfo],
    specs: list[dict[str, Any]],
    waiting: dict[tuple[str, str], tuple[str, str]],
    probe: Callable[[dict[str, Any], str], _Verdicts],
) -> list[ContainerView]:
    """What the status says of each spec container: its newest instance (running: with the probes'
    verdicts, which `probe` starts once per instance), the one before it, or why it is waiting.
    A running container clears its waiting reason (`waiting` is the syncer's, keyed (uid, name))."""
    by_name = newest_by_name(containers)
    out = []
    for c in specs:
        inst = by_name.get(c["name"], [])
        newest = inst[-1] if inst else None
        prev = next((i for i in reversed(inst[:-1]) if i.state == "exited"), None)
        why = waiting.get((uid, c["name"]))
        v = ContainerView(
            c["name"],
            c["image"],
            "waiting",
            reason=why[0] if why else "ContainerCreating",
            message=why[1] if why else "",
        )
        if newest is not None:
            v.container_id, v.image_id = newest.id, newest.image_id
            v.restart_count = restart_count(newest)
            if newest.state == "running":
                verdicts = probe(c, newest.id)
                v.state, v.started_at = "running", iso(newest.started_at)
                v.started = verdicts.started
                v.ready = verdicts.started and verdicts.ready
                waiting.pop((uid, c["name"]), None)
            elif newest.state == "exited":
                if why and why[0] == "CrashLoopBackOff":
                    v.last_terminated = terminated(newest)
                else:
                    v.state, v.terminated = "terminated", terminated(newest)
            if prev is not None and v.last_terminated is None:
                v.last_terminated = terminated(prev)
        out.append(v)
    return out
