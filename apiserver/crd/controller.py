"""The CRD controller every API server runs: status of CRDs, and cleanup of deleted ones.

kube-apiserver runs these in-process (apiextensions' naming, establishing and finalizing
controllers); so does kubelite, in each API server: writes are compare-and-swap, so two servers
reconciling the same CRD converge. Level-triggered: the mirror's changes only enqueue a name;
`reconcile` re-reads the mirrored CRD and

- writes the status `desired_status` computes (acceptedNames, NamesAccepted, Established,
  storedVersions) when it differs from the stored one;
- for a CRD being deleted: deletes every stored instance through the registry (so their own
  finalizers and watches behave as for any delete), requeues while some remain, then removes
  the `customresourcecleanup.apiextensions.k8s.io` finalizer, which lets the CRD go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from api import jsonutil
from api.errors import ApiError
from api.resources import Resource, by_plural
from apiserver.crd.model import CLEANUP_FINALIZER, desired_status, status_differs
from apiserver.crd.served import CustomResources

log = logging.getLogger(__name__)
CRDS = by_plural("apiextensions.k8s.io", "customresourcedefinitions")
_RETRY = 1.0


class CrdController:
    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.pending: set[str] = set()
        self.custom = CustomResources(registry.store, self.enqueue)
        self._task: asyncio.Task[None] | None = None

    def enqueue(self, name: str) -> None:
        if name not in self.pending:
            self.pending.add(name)
            self.queue.put_nowait(name)

    async def start(self) -> None:
        await self.custom.start()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        await self.custom.stop()

    async def _run(self) -> None:
        while True:
            name = await self.queue.get()
            self.pending.discard(name)
            try:
                again = await self.reconcile(name)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # store trouble, a conflict lost too often: try again shortly
                log.info("CRD %s: %s", name, e)
                again = True
            if again:
                asyncio.get_running_loop().call_later(_RETRY, self.enqueue, name)

    async def reconcile(self, name: str) -> bool:
        """One pass over CRD `name`; True when it must be looked at again later."""
        crd = self.custom.crds.get(name)
        if crd is None or CRDS is None:
            return False
        others = [c for n, c in self.custom.crds.items() if n != name]
        desired = desired_status(crd, others, jsonutil.now_str())
        if status_differs(crd.get("status") or {}, desired):
            await self._write_status(name, desired)
        meta = crd.get("metadata") or {}
        if not meta.get("deletionTimestamp") or CLEANUP_FINALIZER not in (meta.get("finalizers") or []):
            return False
        if await self._delete_instances(crd):
            return True
        await self._drop_finalizer(name)
        return False

    async def _write_status(self, name: str, desired: dict[str, Any]) -> None:
        def mutate(cur: dict[str, Any], kv: Any) -> tuple[dict[str, Any], str | None]:
            others = [c for n, c in self.custom.crds.items() if n != name]
            cur["status"] = desired_status(cur, others, jsonutil.now_str())
            return cur, None

        assert CRDS is not None
        try:
            await self.registry.update(CRDS, None, name, mutate, subresource="status")
        except ApiError as e:
            if e.code != 404:
                raise

    async def _delete_instances(self, crd: dict[str, Any]) -> bool:
        """Delete what is stored of the CRD's resource; True while instances remain."""
        res = _storage_resource(crd)
        _, kvs = await self.registry.store.list(res.storage_prefix())
        for kv in kvs:
            meta = kv.obj.get("metadata") or {}
            if meta.get("deletionTimestamp"):
                continue  # waiting for its own finalizers
            try:
                await self.registry.delete(res, meta.get("namespace"), meta.get("name"), {})
            except ApiError as e:
                if e.code != 404:
                    raise
        _, left = await self.registry.store.list(res.storage_prefix())
        return bool(left)

    async def _drop_finalizer(self, name: str) -> None:
        def mutate(cur: dict[str, Any], kv: Any) -> tuple[dict[str, Any], str | None]:
            meta = cur["metadata"]
            meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != CLEANUP_FINALIZER]
            if not meta["finalizers"]:
                del meta["finalizers"]
            return cur, None

        assert CRDS is not None
        try:
            await self.registry.update(CRDS, None, name, mutate)
        except ApiError as e:
            if e.code != 404:
                raise


def _storage_resource(crd: dict[str, Any]) -> Resource:
    """A row for the CRD's stored objects (the key prefix does not depend on the version)."""
    spec = crd.get("spec") or {}
    names = (crd.get("status") or {}).get("acceptedNames") or spec.get("names") or {}
    plural = names.get("plural") or (spec.get("names") or {}).get("plural", "")
    kind = names.get("kind") or (spec.get("names") or {}).get("kind", "")
    return Resource(plural, plural, kind, spec.get("scope") == "Namespaced", group=spec.get("group", ""))
