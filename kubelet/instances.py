"""The runtime's containers of a pod read back as the kubelet's: by spec name, newest last.

The kubelet keeps no memory of what it started: the labels it put on each container (container
name, restart count; see `containerconfig`) say which spec container an instance belongs to and
how many restarts came before it, so a restarted kubelet sees exactly what the old one saw. This
module turns runtime instances into what decisions and status need (an `Instance`, a
`Terminated` record, RFC 3339 times).
"""

from __future__ import annotations

from datetime import UTC, datetime

from api import jsonutil
from kubelet.containerconfig import CONTAINER_NAME, RESTART_COUNT
from kubelet.decisions import Instance
from kubelet.status import Terminated
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
