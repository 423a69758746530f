"""Starting one container: its image pulled (with the pod's pull secrets, under back-off), its
config made, created, started, and its postStart hook run.

Each failure is kept as the container's waiting reason in kube's words (ErrImagePull /
ImagePullBackOff, CreateContainerConfigError, CreateContainerError) for the status report, with
its event, and stops the sync with `PodNotReady` saying when to try again. A deletion of the pod
cuts a postStart hook short (`pod_deleting`).
"""

from __future__ import annotations

from typing import Any

from api.events import NORMAL, WARNING
from kubelet import ephemeral
from kubelet.containerconfig import container_config, pid_target
from kubelet.dns.podconfig import PodDNS
from kubelet.hooks import kill_container, run_handler
from kubelet.images import PullError, ensure_image
from kubelet.podobjects import ContainerConfigError
from kubelet.projection import VolumeError
from kubelet.syncstate import RESYNC, PodNotReady, SyncState
from runtime.interface import SandboxInfo


class ContainerStarting(SyncState):
    """The start of one container, for `ContainerSync`."""

    async def _pull_secrets(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        """The pod's imagePullSecrets that exist; the missing ones are a warning, as in kubelet."""
        names = [
            r.get("name")
            for r in (pod.get("spec") or {}).get("imagePullSecrets") or []
            if isinstance(r, dict)
        ]
        if not names:
            return []
        objects = await self.objects.fetch(pod)
        found = [s for n in names if (s := objects.get("secrets", str(n))) is not None]
        if len(found) < len(names):
            self._event(
                pod,
                WARNING,
                "FailedToRetrieveImagePullSecret",
                "Unable to retrieve some image pull secrets ("
                + ", ".join(str(n) for n in names if objects.get("secrets", str(n)) is None)
                + "); attempting to pull the image may not succeed.",
            )
        return found

    async def _start(
        self,
        pod: dict[str, Any],
        sandbox: SandboxInfo,
        c: dict[str, Any],
        restarts: int,
        target: str | None = "",
    ) -> str:
        """Pull, create and start one container. `target` is the instance whose process
        namespace an ephemeral container joins ("" for its own; None when its target does not run,
        which fails as a config error after the pull, where kube's container config finds it)."""
        uid, name = pod["metadata"]["uid"], c["name"]
        pull_key = f"{uid}/{name}/pull"
        now = self.clock()
        if self.backoff.remaining(pull_key, now) > 0:
            self._waiting[(uid, name)] = ("ImagePullBackOff", f'Back-off pulling image "{c["image"]}"')
            self._event(pod, NORMAL, "BackOff", f'Back-off pulling image "{c["image"]}"')
            self._event(pod, WARNING, "Failed", "Error: ImagePullBackOff")
            raise PodNotReady("image pull back-off", self.backoff.remaining(pull_key, now))
        try:
            image = await ensure_image(
                self.runtime, pod, c, self._event, self.clock, await self._pull_secrets(pod)
            )
        except PullError as e:
            if e.reason == "ErrImagePull":  # a missing image under Never is not retried faster or slower
                self.backoff.failed(pull_key, now)
            self._waiting[(uid, name)] = (e.reason, str(e))
            # the next sync comes half-way through the back-off and reports ImagePullBackOff, the
            # one after pulls again: ErrImagePull and ImagePullBackOff alternate, as they do when
            # the kubelet's pod-worker retry lands inside its image back-off
            remaining = self.backoff.remaining(pull_key, now)
            raise PodNotReady(f"pull {c['image']}: {e}", remaining / 2 if remaining else RESYNC) from e
        self.backoff.forget(pull_key)
        try:
            if target is None:
                raise ContainerConfigError(ephemeral.target_missing(c))
            objects = await self.objects.fetch(pod)
            cfg = container_config(
                pod,
                c,
                sandbox,
                restarts,
                self.ctx.data_dir,
                self.ctx.host_ip,
                self.ctx.services,
                objects,
                self.ctx.files,
                str(image.config.get("User") or ""),
            )
            # an ephemeral container's target's process namespace, where the pod's are apart
            cfg.pid_target = pid_target(pod.get("spec") or {}, target)
            cfg.mounts += PodDNS(
                self.ctx.dns_servers, self.ctx.cluster_domain, self.ctx.resolv_conf
            ).etc_mounts(
                pod, sandbox.ip, self.ctx.data_dir, self.ctx.files
            )  # the pod's resolv.conf and hosts, over the sandbox's
            cid = await self.runtime.create_container(sandbox.id, cfg)
            self._event(pod, NORMAL, "Created", f"Created container {name}")
            await self.runtime.start_container(cid)
            self._event(pod, NORMAL, "Started", f"Started container {name}")
        except ContainerConfigError as e:  # kubelet retries these at every sync, without back-off
            self._waiting[(uid, name)] = ("CreateContainerConfigError", str(e))
            self._event(pod, WARNING, "Failed", f"Error: {e}")
            raise PodNotReady(f"start {name}: {e}", 2.0) from e
        except VolumeError as e:
            self._event(pod, WARNING, "FailedMount", str(e))
            raise PodNotReady(f"start {name}: {e}", 2.0, "ContainerCreating") from e
        except Exception as e:
            self.backoff.failed(f"{uid}/{name}", now)
            self._waiting[(uid, name)] = ("CreateContainerError", str(e))
            self._event(pod, WARNING, "Failed", f"Error: {e}")
            raise PodNotReady(f"start {name}: {e}", 1.0) from e
        self._waiting.pop((uid, name), None)
        hook = (c.get("lifecycle") or {}).get("postStart")
        if hook:
            await self._post_start(pod, c, cid, sandbox.ip, hook)
        return cid

    async def _post_start(
        self, pod: dict[str, Any], c: dict[str, Any], cid: str, pod_ip: str, hook: dict[str, Any]
    ) -> None:
        """Runs before the container is first reported (the status is written after this sync), so it
        is not Running until the hook is done. A failure kills it; its restart policy decides the rest.
        A deletion of the pod cuts the hook short: the deletion's sync kills the container."""
        done, failure = await self._deleting.unless_deleted(
            pod["metadata"]["uid"], run_handler(self.runtime, hook, pod, c, cid, pod_ip)
        )
        if done and failure:
            self._event(pod, WARNING, "FailedPostStartHook", failure)
            await kill_container(
                self.runtime, pod, c, cid, self._grace(pod), pod_ip, self._event, "FailedPostStartHook"
            )
            self.probes.forget({cid})

    def pod_deleting(self, uid: str) -> None:
        """The pod has a deletionTimestamp: a postStart hook still running gives up (called by the informer
        handler, while the pod's worker may be busy in that hook)."""
        self._deleting.seen(uid)
