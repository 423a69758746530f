"""Container lifecycle hooks: run one postStart or preStop handler as the kubelet does.

A handler is `exec` (a command in the container, through the runtime: a non-zero exit fails),
`httpGet` (a GET to the handler's host, else the pod IP: only a failed request fails, any
status code is an answer, as in the kubelet), or `sleep` (seconds). `tcpSocket` is
accepted by the API for backward compatibility only: the kubelet refuses to run it ("invalid
handler"), and so does this one. The answer is None on success, else the failure message in
the kubelet's words, which the caller puts in a FailedPostStartHook / FailedPreStopHook event.
`kill_container` is the kubelet's killContainer: a Killing event, the preStop hook within the
grace period (its time is taken from the grace, leaving at least 2 s for SIGTERM once a hook
ran), then the runtime's stop (SIGTERM, SIGKILL when the rest of the grace is up). A deletion
cutting a postStart short is the caller's (`run_handler` runs until it ends or is cancelled).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from api.events import NORMAL, WARNING
from kubelet.probecheck import http_request, resolve_port
from runtime.interface import ExecResult

log = logging.getLogger(__name__)

USER_AGENT = "kube-lifecycle/1.30"
MIN_GRACE_AFTER_PRE_STOP = 2.0  # the kubelet's minimumGracePeriodInSeconds
EventFn = Callable[[dict[str, Any], str, str, str], None]  # (pod, type, reason, message)
T = TypeVar("T")


class HookRuntime(Protocol):
    async def exec_sync(
        self, container_id: str, cmd: list[str], timeout: float | None = None
    ) -> ExecResult: ...

    async def stop_container(self, container_id: str, timeout: float) -> None: ...


def pod_ref(pod: dict[str, Any]) -> str:
    """The kubelet's `format.Pod`: name_namespace(uid)."""
    meta = pod["metadata"]
    return f"{meta.get('name')}_{meta.get('namespace', 'default')}({meta.get('uid')})"


def go_list(items: list[str]) -> str:
    return "[" + " ".join(items) + "]"  # how Go's %v prints a []string


async def run_handler(
    runtime: HookRuntime,
    handler: dict[str, Any],
    pod: dict[str, Any],
    container: dict[str, Any],
    container_id: str,
    pod_ip: str,
) -> str | None:
    """Run one LifecycleHandler to its end: None on success, else why it failed."""
    name, where = container.get("name"), pod_ref(pod)
    if "exec" in handler:
        cmd = [str(x) for x in handler["exec"].get("command") or []]
        try:
            result = await runtime.exec_sync(container_id, cmd, None)
        except Exception as e:
            return (
                f'Exec lifecycle hook ({go_list(cmd)}) for Container "{name}" in Pod "{where}" failed - '
                f'error: {e}, message: ""'
            )
        if result.exit_code == 0:
            return None
        output = (result.stdout + result.stderr).decode(errors="replace")  # the runtime's error names stderr
        error = f"command '{' '.join(cmd)}' exited with {result.exit_code}: {result.stderr.decode(errors='replace')}"
        return (
            f'Exec lifecycle hook ({go_list(cmd)}) for Container "{name}" in Pod "{where}" failed - '
            f"error: {error}, message: {json.dumps(output)}"
        )
    if "httpGet" in handler:
        h = handler["httpGet"]
        try:
            port = resolve_port(h.get("port") or 80, container)
            await http_request(
                h.get("host") or pod_ip or "127.0.0.1",
                port,
                h.get("path") or "/",
                h.get("scheme") or "HTTP",
                list(h.get("httpHeaders") or []),
                USER_AGENT,
            )
            return None
        except (OSError, ValueError) as e:
            return (
                f'HTTP lifecycle hook ({h.get("path", "")}) for Container "{name}" in Pod "{where}" '
                f"failed - error: {e or type(e).__name__}"
            )
    if "sleep" in handler:
        await asyncio.sleep(float(handler["sleep"].get("seconds", 0)))
        return None
    return f"Cannot run handler: invalid handler: {json.dumps(handler, sort_keys=True)}"


async def kill_container(
    runtime: HookRuntime,
    pod: dict[str, Any] | None,
    spec: dict[str, Any] | None,
    container_id: str,
    grace: float,
    pod_ip: str,
    record: EventFn,
    message: str = "",
) -> None:
    """Stop a running container as the kubelet does (no pod or spec: an orphan, no event and no hook)."""
    if pod is not None and spec is not None:
        record(pod, NORMAL, "Killing", message or f"Stopping container {spec['name']}")
        hook = (spec.get("lifecycle") or {}).get("preStop")
        if hook and grace > 0:
            loop = asyncio.get_running_loop()
            started = loop.time()
            try:
                async with asyncio.timeout(grace):
                    failure = await run_handler(runtime, hook, pod, spec, container_id, pod_ip)
                if failure:
                    record(pod, WARNING, "FailedPreStopHook", failure)
            except TimeoutError:
                log.info("preStop hook of container %s did not complete within %gs", spec["name"], grace)
            grace = max(MIN_GRACE_AFTER_PRE_STOP, grace - (loop.time() - started))
    await runtime.stop_container(container_id, grace)


class Deletions:
    """Pods whose deletion has been seen, so that a postStart hook in progress gives up: marked by the
    informer handler while the pod's worker may be busy in that hook, forgotten with the pod."""

    def __init__(self) -> None:
        self._seen: dict[str, asyncio.Event] = {}

    def seen(self, uid: str) -> None:
        self._seen.setdefault(uid, asyncio.Event()).set()

    def forget(self, uid: str) -> None:
        self._seen.pop(uid, None)

    def __contains__(self, uid: object) -> bool:
        ev = self._seen.get(uid) if isinstance(uid, str) else None
        return ev is not None and ev.is_set()

    async def unless_deleted(self, uid: str, work: Coroutine[Any, Any, T]) -> tuple[bool, T | None]:
        """(True, its result) once `work` ends, or (False, None) as soon as the pod's deletion is seen."""
        deleted = self._seen.setdefault(uid, asyncio.Event())
        task, waiter = asyncio.ensure_future(work), asyncio.ensure_future(deleted.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (task, waiter):
                t.cancel()
            if not deleted.is_set():
                self._seen.pop(uid, None)
        return (True, task.result()) if task.done() and not task.cancelled() else (False, None)
