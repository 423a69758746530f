"""The Deployment controller: rolls a Deployment's pod template out through ReplicaSets.

The thin I/O shell around `controller.deployment_util` (facts) and `controller.deployment_rollout`
(decisions), shaped like kube's deployment_controller.go: handlers only enqueue the owning
Deployment's key (a ReplicaSet's status change is what moves a rollout on); one `sync` re-reads
the caches, claims ReplicaSets by selector and controller ownerReference (adopting orphans,
releasing those that no longer match), finds or creates the new ReplicaSet (named
`<deployment>-<pod-template-hash>`), takes one step of the strategy, and writes the status
recomputed from the ReplicaSets. A paused Deployment or a change of spec.replicas only scales
(proportionally during a rollout); the rollout itself waits for `spec.paused` to go false.
"""

from __future__ import annotations

import copy
import logging

from api import jsonutil
from api.errors import ApiError
from api.events import NORMAL, WARNING, EventRecorder
from api.informer import DeletedFinalStateUnknown, Informer
from api.selectors import LabelSelector, selector_from_label_selector
from controller import deployment_progress as progress
from controller import deployment_rollout as plan
from controller import deployment_util as du
from controller import replicas as pods_rules
from controller.base import ApiClient, Obj, OwnerController, controller_ref, meta, unwrap

log = logging.getLogger(__name__)

KIND = "Deployment"


def _selector(d: Obj) -> LabelSelector | None:
    try:
        return selector_from_label_selector(du.spec(d).get("selector"))
    except ValueError:
        return None


class DeploymentController(OwnerController):
    name = "deployment"

    def __init__(
        self,
        client: ApiClient,
        deployments: Informer,
        replicasets: Informer,
        pods: Informer,
        events: EventRecorder,
        workers: int = 4,
    ) -> None:
        super().__init__(client, deployments, (replicasets, pods), events, None, workers)
        self.deployments = deployments
        self.replicasets = replicasets
        self.pods = pods
        replicasets.add_handlers(
            self._rs_changed, lambda old, new: self._rs_updated(old, new), self._rs_changed
        )
        pods.add_handlers(None, None, self._pod_deleted)

    # handlers
    def _owner_key(self, obj: Obj) -> str | None:
        ref = controller_ref(obj)
        if ref is None or ref.get("kind") != KIND:
            return None
        key = f"{meta(obj).get('namespace')}/{ref.get('name')}"
        d = self.deployments.get(key)
        return key if d is not None and meta(d).get("uid") == ref.get("uid") else None

    def _enqueue_matching(self, rs: Obj) -> None:
        labels = meta(rs).get("labels") or {}
        for d in self.deployments.list(meta(rs).get("namespace")):
            sel = _selector(d)
            if sel is not None and not sel.empty() and sel.matches(labels):
                self.enqueue(d)

    def _rs_changed(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        rs = unwrap(obj)
        key = self._owner_key(rs)
        if key is not None:
            self.enqueue(key)
        elif controller_ref(rs) is None:
            self._enqueue_matching(rs)

    def _rs_updated(self, old: Obj, new: Obj) -> None:
        old_key = self._owner_key(old)
        if old_key is not None and old_key != self._owner_key(new):
            self.enqueue(old_key)
        self._rs_changed(new)

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        """Recreate waits for the old pods to go: their deletion is its cue."""
        pod = unwrap(obj)
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.replicasets.get(f"{meta(pod).get('namespace')}/{ref.get('name')}")
        key = self._owner_key(rs) if rs is not None else None
        d = self.deployments.get(key) if key else None
        if d is not None and not du.is_rolling(d):
            self.enqueue(key or "")

    # the reconcile
    async def sync(self, key: str) -> None:
        try:
            await self._sync(key)
        except ApiError as e:
            if e.code != 409:
                raise
            # a write raced a newer Deployment or ReplicaSet (often our own last write, not yet in
            # the cache): look again once the informer has it, without growing back-off
            self.queue.add_after(key, 0.05)

    async def _sync(self, key: str) -> None:
        cached = self.deployments.get(key)
        if cached is None:
            return
        d = copy.deepcopy(cached)
        selector = _selector(d)
        if selector is None or selector.empty():
            self.events.record(
                d,
                WARNING,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            if int((d.get("status") or {}).get("observedGeneration") or 0) < int(
                meta(d).get("generation") or 0
            ):
                await self._write_status(
                    key, d, dict(d.get("status") or {}, observedGeneration=meta(d).get("generation"))
                )
            return
        rss = await self._claim(d, selector)
        if meta(d).get("deletionTimestamp"):
            new_rs, olds = du.find_new_rs(d, rss), rss
            olds = [r for r in rss if r is not new_rs]
            await self._sync_status(key, d, [*olds, *([new_rs] if new_rs else [])], new_rs)
            return
        paused = progress.paused_status(d, jsonutil.now())
        if paused is not None:
            d = await self._write_status(key, d, paused) or d
        if du.spec(d).get("paused") or plan.is_scaling_event(d, rss):
            await self._scale_only(key, d, rss)
        elif du.is_rolling(d):
            await self._rolling(key, d, rss)
        else:
            await self._recreate(key, d, rss)

    async def _claim(self, d: Obj, selector: LabelSelector) -> list[Obj]:
        owned, adopt, release = pods_rules.claim_objects(
            d, self.replicasets.list(meta(d).get("namespace")), selector
        )
        for rs in adopt:
            refs = [*(meta(rs).get("ownerReferences") or []), pods_rules.owner_ref(d)]
            owned.append(await self._patch_rs_meta(rs, {"ownerReferences": refs}) or rs)
        for rs in release:
            refs = [r for r in meta(rs).get("ownerReferences") or [] if r.get("uid") != meta(d).get("uid")]
            await self._patch_rs_meta(rs, {"ownerReferences": refs or None})
        return owned

    async def _patch_rs_meta(self, rs: Obj, metadata: Obj) -> Obj | None:
        body = {"metadata": {**metadata, "resourceVersion": meta(rs).get("resourceVersion")}}
        try:
            return dict(
                await self.client.patch(
                    "replicasets", meta(rs)["name"], body, namespace=meta(rs)["namespace"]
                )
            )
        except ApiError as e:
            if e.code == 404:
                return None
            raise

    async def _rs_and_revision(
        self, d: Obj, rss: list[Obj], create: bool
    ) -> tuple[Obj, Obj | None, list[Obj]]:
        """getAllReplicaSetsAndSyncRevision: (deployment, new RS or None, old RSs), the new RS's
        revision and annotations brought up to date, created when `create` and missing."""
        new_rs = du.find_new_rs(d, rss)
        olds = [r for r in rss if r is not new_rs]
        new_revision = du.max_revision(olds) + 1
        now = jsonutil.now()
        status = copy.deepcopy(d.get("status") or {})
        if new_rs is not None:
            ann, changed = du.new_rs_annotations(d, new_rs, new_revision, exists=True)
            min_ready = int(du.spec(d).get("minReadySeconds") or 0)
            if changed or int(du.spec(new_rs).get("minReadySeconds") or 0) != min_ready:
                body = copy.deepcopy(new_rs)
                body["metadata"]["annotations"] = ann
                body["spec"]["minReadySeconds"] = min_ready
                new_rs = dict(await self.client.update("replicasets", body, meta(d).get("namespace")))
            if du.get_condition(status, "Progressing") is None and du.has_progress_deadline(d):
                du.set_condition(
                    status,
                    du.new_condition(
                        "Progressing",
                        "True",
                        du.FOUND_NEW_RS,
                        f'Found new replica set "{meta(new_rs).get("name")}"',
                        now,
                    ),
                )
        elif create:
            body = plan.new_replica_set(d, olds, new_revision)
            try:
                new_rs = dict(await self.client.create("replicasets", body, meta(d).get("namespace")))
            except ApiError as e:
                if e.code == 409:
                    await self._collision(d, body)
                    raise
                if du.has_progress_deadline(d):
                    du.set_condition(
                        status,
                        du.new_condition(
                            "Progressing",
                            "False",
                            du.FAILED_RS_CREATE,
                            f'Failed to create new replica set "{meta(body)["name"]}": {e}',
                            now,
                        ),
                    )
                    await self._write_status("", d, status)
                self.events.record(
                    d,
                    WARNING,
                    "FailedCreate",
                    f'Failed to create new replica set "{meta(body)["name"]}": {e}',
                )
                raise
            if du.replicas(new_rs):
                self.events.record(
                    d,
                    NORMAL,
                    "ScalingReplicaSet",
                    f"Scaled up replica set {meta(new_rs)['name']} to {du.replicas(new_rs)}",
                )
            if du.has_progress_deadline(d):
                du.set_condition(
                    status,
                    du.new_condition(
                        "Progressing",
                        "True",
                        du.NEW_RS_CREATED,
                        f'Created new replica set "{meta(new_rs)["name"]}"',
                        now,
                    ),
                )
        if new_rs is not None:
            d = await self._set_revision(d, du.revision(new_rs))
        if status != (d.get("status") or {}):
            d = await self._write_status("", d, status) or d
        return d, new_rs, olds

    async def _collision(self, d: Obj, body: Obj) -> None:
        """AlreadyExists: ours with the same template is fine (the cache lagged); anything else is a
        hash collision, resolved by bumping collisionCount so the next hash differs."""
        existing = self.replicasets.get(f"{meta(d).get('namespace')}/{meta(body)['name']}")
        ref = controller_ref(existing) if existing else None
        if (
            existing is not None
            and ref is not None
            and ref.get("uid") == meta(d).get("uid")
            and du.equal_ignore_hash(
                du.spec(existing).get("template") or {}, du.spec(d).get("template") or {}
            )
        ):
            return
        status = dict(d.get("status") or {})
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        await self._write_status("", d, status)

    async def _set_revision(self, d: Obj, revision: int) -> Obj:
        if not revision or (meta(d).get("annotations") or {}).get(du.REVISION) == str(revision):
            return d
        body = {
            "metadata": {
                "annotations": {du.REVISION: str(revision)},
                "resourceVersion": meta(d).get("resourceVersion"),
            }
        }
        return dict(
            await self.client.patch("deployments", meta(d)["name"], body, namespace=meta(d)["namespace"])
        )

    async def _scale(self, d: Obj, rs: Obj, size: int) -> Obj:
        """scaleReplicaSetAndRecordEvent: the size and the desired/max annotations in one update."""
        body = copy.deepcopy(rs)
        ann = body["metadata"].setdefault("annotations", {})
        ann[du.DESIRED_REPLICAS] = str(du.replicas(d))
        ann[du.MAX_REPLICAS] = str(du.replicas(d) + du.max_surge(d))
        before = du.replicas(rs)
        body["spec"]["replicas"] = size
        updated = dict(await self.client.update("replicasets", body, meta(rs).get("namespace")))
        if before != size:
            way = "up" if size > before else "down"
            self.events.record(
                d,
                NORMAL,
                "ScalingReplicaSet",
                f"Scaled {way} replica set {meta(rs)['name']} to {size} from {before}",
            )
        return updated

    async def _apply_sizes(self, d: Obj, rss: list[Obj], sizes: dict[str, int]) -> list[Obj]:
        out = []
        for rs in rss:
            n = meta(rs).get("name", "")
            out.append(await self._scale(d, rs, sizes[n]) if n in sizes else rs)
        return out

    async def _scale_only(self, key: str, d: Obj, rss: list[Obj]) -> None:
        """sync(): a paused Deployment or a new spec.replicas only resizes; no rollout step."""
        d, new_rs, olds = await self._rs_and_revision(d, rss, create=False)
        all_rss = await self._apply_sizes(
            d, [*olds, *([new_rs] if new_rs else [])], plan.scale_sizes(d, new_rs, olds)
        )
        new_rs = all_rss[-1] if new_rs is not None else None
        olds = all_rss[: len(olds)]
        if du.spec(d).get("paused"):
            await self._cleanup(d, olds)
        status = du.calculate_status(d, all_rss, new_rs, jsonutil.now())
        await self._sync_status(key, d, all_rss, new_rs, status)

    async def _rolling(self, key: str, d: Obj, rss: list[Obj]) -> None:
        d, new_rs, olds = await self._rs_and_revision(d, rss, create=True)
        assert new_rs is not None
        all_rss = [*olds, new_rs]
        size = plan.reconcile_new_rs(d, all_rss, new_rs)
        if size is not None:
            new_rs = await self._scale(d, new_rs, size)
        else:
            sizes = plan.reconcile_old_rss(d, all_rss, olds, new_rs)
            olds = await self._apply_sizes(d, olds, sizes)
            if not sizes and du.deployment_complete(d, d.get("status") or {}):
                await self._cleanup(d, olds)
        await self._progress(key, d, [*olds, new_rs], new_rs)

    async def _recreate(self, key: str, d: Obj, rss: list[Obj]) -> None:
        d, new_rs, olds = await self._rs_and_revision(d, rss, create=False)
        active = {meta(r).get("name", ""): 0 for r in olds if du.is_active(r)}
        if active:
            olds = await self._apply_sizes(d, olds, active)
        elif not plan.old_pods_running(new_rs, olds, self._pods_by_rs(d, rss)):
            if new_rs is None:
                d, new_rs, olds = await self._rs_and_revision(d, rss, create=True)
            if new_rs is not None and du.replicas(new_rs) != du.replicas(d):
                new_rs = await self._scale(d, new_rs, du.replicas(d))
            if du.deployment_complete(d, d.get("status") or {}):
                await self._cleanup(d, olds)
        await self._progress(key, d, [*olds, *([new_rs] if new_rs else [])], new_rs)

    def _pods_by_rs(self, d: Obj, rss: list[Obj]) -> dict[str, list[Obj]]:
        uids = {meta(r).get("uid") for r in rss}
        out: dict[str, list[Obj]] = {}
        for p in self.pods.list(meta(d).get("namespace")):
            ref = controller_ref(p)
            if ref is not None and ref.get("uid") in uids:
                out.setdefault(ref["uid"], []).append(p)
        return out

    async def _cleanup(self, d: Obj, olds: list[Obj]) -> None:
        for name in plan.cleanup_victims(d, olds):
            try:
                await self.client.delete("replicasets", name, meta(d).get("namespace"))
            except ApiError as e:
                if e.code != 404:
                    raise

    async def _progress(self, key: str, d: Obj, all_rss: list[Obj], new_rs: Obj | None) -> None:
        status, again = progress.rollout_status(d, all_rss, new_rs, jsonutil.now())
        await self._sync_status(key, d, all_rss, new_rs, status)
        if again is not None:
            self.queue.add_after(key, again)

    async def _sync_status(
        self, key: str, d: Obj, all_rss: list[Obj], new_rs: Obj | None, status: Obj | None = None
    ) -> None:
        if status is None:
            status = du.calculate_status(d, all_rss, new_rs, jsonutil.now())
        if status != (d.get("status") or {}):
            await self._write_status(key, d, status)

    async def _write_status(self, key: str, d: Obj, status: Obj) -> Obj | None:
        # a 409 is raised: `sync` looks again with the newer Deployment the informer brings
        return await self.write_status(self.client, "deployments", d, status)
