"""The pod's status as observed, written to the API server only when it changed.

`build_status` decides it (pure); this is the I/O around it: the container views (probe verdicts,
waiting reasons, termination messages read once per exited instance from its file or its log's
end) and the write. The status this kubelet last wrote is the one a condition transitions from and
a terminal phase is final by (kube's status manager keeps its own copy likewise).
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api.errors import ApiError
from kubelet import ephemeral
from kubelet.instances import container_views, iso, restart_count
from kubelet.status import ContainerView, build_status, disruption_condition, others_conditions
from kubelet.syncstate import SyncState
from runtime.containers.logs import read_lines
from runtime.interface import ContainerInfo, SandboxInfo

FALLBACK_LINES, FALLBACK_BYTES = 80, 2048  # the log's end kube uses as a fallback message


class StatusReporting(SyncState):
    """The status step of `PodSyncer.sync`, and `_fail`'s."""

    def views(
        self,
        pod: dict[str, Any],
        containers: list[ContainerInfo],
        specs: list[dict[str, Any]],
        sandbox: SandboxInfo | None,
        probed: bool = True,
    ) -> list[ContainerView]:
        uid, ip = pod["metadata"]["uid"], sandbox.ip if sandbox else ""
        ensure = self.probes.ensure
        probe = (lambda c, cid: ensure(uid, c, cid, ip)) if probed else (lambda c, cid: ephemeral.NotProbed)
        views = container_views(uid, containers, specs, self._waiting, probe)
        by_id = {c.id: c for c in containers}
        for v, spec in zip(views, specs, strict=True):
            for ended in (v.terminated, v.last_terminated):
                if ended is not None and ended.container_id in by_id:
                    ended.message = self._termination_message(
                        uid, spec, by_id[ended.container_id], ended.exit_code
                    )
        return views

    def _termination_message(self, uid: str, spec: dict[str, Any], c: ContainerInfo, exit_code: int) -> str:
        """What an exited container left at its terminationMessagePath, else, under
        FallbackToLogsOnError after a failure, the end of its log (kube's 80 lines, 2048 bytes).
        Read once per instance: the container is gone, its message cannot change."""
        known = self._messages.get(c.id)
        if known is not None:
            return known
        message = ""
        if spec.get("terminationMessagePath"):
            message = self.ctx.files.termination_message(
                self.ctx.data_dir, uid, spec["name"], restart_count(c)
            )
        fallback = spec.get("terminationMessagePolicy") == "FallbackToLogsOnError"
        if not message and exit_code != 0 and fallback and c.log_path:
            lines, _ = read_lines(c.log_path, FALLBACK_LINES)
            message = b"".join(ln.text for ln in lines)[-FALLBACK_BYTES:].decode(errors="replace")
        self._messages[c.id] = message
        return message

    async def _report(
        self,
        pod: dict[str, Any],
        sandbox: SandboxInfo | None,
        containers: list[ContainerInfo],
        failed: tuple[str, str] | None = None,
    ) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        uid = meta["uid"]
        views = self.views(pod, containers, list(spec.get("containers") or []), sandbox)
        init_views = self.views(pod, containers, list(spec.get("initContainers") or []), sandbox)
        # the status this kubelet last wrote is the one conditions' lastTransitionTime carries on
        # from, as the kubelet's status manager keeps its own copy: the informer's may not have
        # seen that write yet, and judged against it every sync would "change" a condition anew
        last = self._last_status.get(uid)
        old = last if last is not None else pod.get("status") or {}
        start = old.get("startTime") or (iso(sandbox.created_at) if sandbox else jsonutil.now_str())
        others = others_conditions(pod.get("status") or {})
        status = build_status(
            {"spec": spec, "status": old},
            views,
            init_views,
            sandbox.ip if sandbox else "",
            self.ctx.host_ip,
            start,
            jsonutil.now_str(),
            others + disruption_condition(failed, others, old),
            failed,
            # most pods have no ephemeral containers: no views to make for them
            ephemeral.statuses(self.views(pod, containers, specs, sandbox, probed=False), old)
            if (specs := ephemeral.specs(pod))
            else [],
        )
        if self._last_status.get(uid) == status:
            return
        try:
            await self.client.patch(
                "pods",
                meta["name"],
                {"status": status},
                namespace=meta.get("namespace"),
                subresource="status",
            )
            self._last_status[uid] = status
        except ApiError as e:
            if e.code != 404:
                raise
