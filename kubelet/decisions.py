"""What to do with one container of a pod, decided from observation alone (pure).

`container_action` looks at the newest runtime instance of a spec container (none, running,
exited), the restart policy, the back-off and the liveness verdict, and answers one of:
START (first run), RESTART (a new instance after an exit or a failed liveness probe), KILL
(liveness failed: stop it, the next sync restarts it), WAIT (back-off not expired) or KEEP.
Init containers use `init_action`: they run one at a time, in order, and under restartPolicy
Always are retried like OnFailure. A sidecar (an init container whose own restartPolicy is
Always) is decided like an app container under Always; once the app containers have all
finished for good (`regular_containers_finished`) sidecars are stopped, not restarted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from kubelet.restart import should_restart


class Action(Enum):
    START = "start"
    RESTART = "restart"
    KILL = "kill"
    WAIT = "wait"
    KEEP = "keep"


@dataclass(frozen=True)
class Instance:
    """The newest runtime instance of a spec container, as far as a decision needs."""

    state: str  # "created" | "running" | "exited" | "unknown"
    exit_code: int | None
    restart_count: int


def container_action(
    instance: Instance | None, restart_policy: str, backoff_remaining: float, liveness_failed: bool
) -> Action:
    if instance is None:
        return Action.START
    if instance.state in ("running", "created"):
        return Action.KILL if liveness_failed and instance.state == "running" else Action.KEEP
    if not should_restart(restart_policy, instance.exit_code if instance.exit_code is not None else 1):
        return Action.KEEP
    return Action.WAIT if backoff_remaining > 0 else Action.RESTART


def init_action(instance: Instance | None, restart_policy: str, backoff_remaining: float) -> Action:
    """For one init container; the caller walks them in order and stops at the first not done."""
    policy = "OnFailure" if restart_policy == "Always" else restart_policy
    return container_action(instance, policy, backoff_remaining, liveness_failed=False)


def init_done(instance: Instance | None) -> bool:
    return instance is not None and instance.state == "exited" and instance.exit_code == 0


def regular_containers_finished(instances: list[Instance | None], restart_policy: str) -> bool:
    """Every app container has exited for good (none under Always ever has): the pod's sidecars
    are then stopped and not restarted, and the pod ends Succeeded or Failed by its app
    containers alone."""
    if restart_policy == "Always" or not instances:
        return False
    return all(
        i is not None
        and i.state == "exited"
        and not should_restart(restart_policy, i.exit_code if i.exit_code is not None else 1)
        for i in instances
    )
