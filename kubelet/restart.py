"""Restart decisions and CrashLoopBackOff timing (pure, clock passed in).

A container that exited is restarted by the pod's restartPolicy (Always; OnFailure when the
exit code is not 0; Never). Restarts are spaced by a back-off per (pod UID, container): 10 s,
doubling to 300 s, and forgotten once the container has run for 10 minutes, as the kubelet's
flowcontrol.Backoff does. While a restart waits, the container shows waiting/CrashLoopBackOff
with the message `back-off 20s restarting failed container=NAME pod=POD_UID`.
The same timing serves image pulls (ErrImagePull -> ImagePullBackOff).
"""

from __future__ import annotations

from dataclasses import dataclass, field

INITIAL_DELAY = 10.0
MAX_DELAY = 300.0
RESET_AFTER = 600.0


def should_restart(restart_policy: str, exit_code: int) -> bool:
    if restart_policy == "Always":
        return True
    if restart_policy == "OnFailure":
        return exit_code != 0
    return False


@dataclass
class _Entry:
    delay: float
    last_failure: float


@dataclass
class Backoff:
    """Per-key exponential back-off; `initial`/`maximum` are small in tests."""

    initial: float = INITIAL_DELAY
    maximum: float = MAX_DELAY
    reset_after: float = RESET_AFTER
    _entries: dict[str, _Entry] = field(default_factory=dict)

    def failed(self, key: str, now: float, ran_for: float = 0.0) -> float:
        """Record a failure at `now` after running `ran_for` seconds; returns the delay before the next try."""
        e = self._entries.get(key)
        if e is None or ran_for >= self.reset_after:
            delay = self.initial
        else:
            delay = min(e.delay * 2, self.maximum)
        self._entries[key] = _Entry(delay, now)
        return delay

    def remaining(self, key: str, now: float) -> float:
        """Seconds left before `key` may be retried (0 when it may go now or was never recorded)."""
        e = self._entries.get(key)
        if e is None:
            return 0.0
        return max(0.0, e.last_failure + e.delay - now)

    def current_delay(self, key: str) -> float:
        e = self._entries.get(key)
        return e.delay if e else 0.0

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        for k in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[k]


def crash_loop_message(delay: float, container: str, pod_name: str, namespace: str, uid: str) -> str:
    return f"back-off {_duration(delay)} restarting failed container={container} pod={pod_name}_{namespace}({uid})"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    s = int(seconds)
    return f"{s // 60}m{s % 60}s" if s >= 60 else f"{s}s"
