"""Object lifecycle on top of the store: what happens between a decoded body and a stored row.

Create (uid, timestamps, generateName, namespace admission, defaults, validation, service IP
allocation), update as kube's GuaranteedUpdate (compare-and-swap, retried when the caller gave
no resourceVersion, 409 when it did and it is stale), delete (preconditions, propagation
finalizers, graceful pod deletion, finalizers holding the object), binding and scale.
The registry speaks the shape of the request's resource; the store holds each object's stored
shape. They differ for a resource whose row has a `view` (events.k8s.io Events over the core ones)
and for custom resources read in another version: `_served` converts every KeyValue this module
returns and `logic.stored_object` every object it writes, at the store calls, nowhere else (for
a CRD whose conversion is a webhook, by calling it: a write in another version than the storage
one costs two calls, to the storage version and back, as in kube).
The lifecycle shared by every kind is `apiserver.lifecycle` (pure); where kinds differ, their
strategy rows (`apiserver.kinds`) say how, including the I/O hooks a kind needs around its
writes (service IPs, the namespace cache). This module is the I/O and never branches on a kind.
Every method returns the stored bytes, which the handlers answer as they are.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from api import jsonutil
from api.errors import ApiError, already_exists, forbidden, invalid, not_found, stale_conflict
from api.resources import Resource, by_plural
from apiserver import kinds, lifecycle, logic, quotaadmission
from apiserver.allocator import Allocator
from apiserver.kinds.core import terminating as _terminating
from apiserver.limitranger import LimitRangeCache
from apiserver.mirror import StoreMirror
from apiserver.policies import dispatch as policy_dispatch
from apiserver.policies.configs import PolicyConfigs
from apiserver.priorityadmission import PriorityClassCache
from apiserver.quotaadmission import QuotaCache
from apiserver.rbac.cache import RbacCache
from apiserver.saadmission import ServiceAccountCache
from apiserver.storage.interface import (
    ConflictError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    Store,
    Watcher,
)
from apiserver.subadmission import OtherKind
from apiserver.webhooks import Requester, dispatch
from apiserver.webhooks.configs import WebhookConfigs
from apiserver.webhooks.request import attributes

log = logging.getLogger(__name__)
NAMESPACES = by_plural("", "namespaces")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_GENERATE_TRIES = 8

# compute(current stored object, its KeyValue) -> (object to store, resourceVersion the caller demanded)
Mutation = Callable[[dict[str, Any], KeyValue], tuple[dict[str, Any], str | None]]


class NamespaceCache:
    """Names of the namespaces that accept new objects, kept current by a watch (a StoreMirror).

    A create checks its namespace here first (no store read per create); a miss or a
    terminating namespace is confirmed against the store. This server's own namespace writes
    update the cache at once, so a delete is seen by the very next request."""

    PREFIX = "/registry/namespaces/"

    def __init__(self, store: Store) -> None:
        self.active: set[str] = set()
        self.mirror = StoreMirror(store, self.PREFIX, self._changed, self.active.clear)

    def _changed(self, key: str, value: bytes | None) -> None:
        self.note(key[len(self.PREFIX) :], value)

    def note(self, name: str, value: bytes | None) -> None:
        if value is None or _terminating(value):
            self.active.discard(name)
        else:
            self.active.add(name)

    async def start(self) -> None:
        await self.mirror.start()

    async def stop(self) -> None:
        await self.mirror.stop()


class Registry:
    def __init__(self, store: Store, allocator: Allocator) -> None:
        self.store = store
        self.allocator = allocator
        self.namespaces = NamespaceCache(store)
        self.rbac = RbacCache(store)  # the RBAC objects, for the authorizer and this server's own writes
        self.service_accounts = ServiceAccountCache(store)  # ServiceAccount admission's lookups
        self.priority_classes = PriorityClassCache(store)  # Priority admission's lookups
        self.flowcontrol: Any = None  # the APF gate's FlowConfig, told of this server's writes
        self.limit_ranges = LimitRangeCache(store)  # LimitRanger admission's
        self.quotas = QuotaCache(store)  # ResourceQuota admission's
        self.webhooks = WebhookConfigs(store)  # the admission webhooks' configurations
        self.policies = PolicyConfigs(store)  # the ValidatingAdmissionPolicies and their bindings
        self.apiservices: Any = None  # the aggregator's mirror of APIServices (`serve` sets it)
        # told of every object this server removes (the token cache forgets what named it)
        self.on_removed: list[Callable[[Resource, dict[str, Any]], None]] = []

    # --- reads ----------------------------------------------------------------------------

    async def get(self, res: Resource, namespace: str | None, name: str) -> KeyValue:
        kv = await self.store.get(res.storage_key(name, namespace))
        if kv is None:
            raise not_found(res.plural, name, res.group)
        return await _served(res, kv)

    async def list(
        self,
        res: Resource,
        namespace: str | None,
        name: str | None = None,
        keep: Callable[[KeyValue], bool] | None = None,
    ) -> tuple[int, list[KeyValue]]:
        """Every object of `res` (in `namespace`), or with `name` only that one: a list whose field
        selector requires `metadata.name=<name>` reads one key, not the collection, as
        kube-apiserver's MatchesSingle does. Each kubelet lists (and watches) every ConfigMap and
        Secret its pods use that way, so at a burst of new pods these lists come from every node.
        `keep` filters the stored rows (selectors match the stored shape), before any conversion."""
        if name is None:
            revision, kvs = await self.store.list(res.storage_prefix(namespace))
        else:  # one snapshot: the key's row (if any) and the revision it is current at
            key = res.storage_key(name, namespace)
            revision, page, _ = await self.store.list_page(key, 1)
            kvs = [kv for kv in page if kv.key == key]
        if keep is not None:
            kvs = [kv for kv in kvs if keep(kv)]
        return revision, await served_rows(res, kvs)

    async def watch(
        self,
        res: Resource,
        namespace: str | None,
        after_revision: int,
        trigger: tuple[Callable[[dict[str, Any]], str], str] | None = None,
    ) -> Watcher:
        """Events on `res` (in `namespace`, or all) after a revision; CompactedError if too old.
        Values are as stored: the watch line converts them (`logic.served_bytes`)."""
        return await self.store.watch(res.storage_prefix(namespace), after_revision, trigger)

    # --- create ---------------------------------------------------------------------------

    async def _admit_namespace(self, res: Resource, namespace: str | None, name: str) -> None:
        if not res.namespaced or not namespace or namespace in self.namespaces.active:
            return
        kv = await self.store.get(NAMESPACES.storage_key(namespace))  # type: ignore[union-attr]
        if kv is None:
            raise not_found("namespaces", namespace)
        if _terminating(kv.value):
            err = forbidden(
                f'{res.plural} "{name}" is forbidden: unable to create new content in namespace '
                f"{namespace} because it is being terminated"
            )
            err.details = {
                "name": name,
                "kind": res.plural,
                "causes": [
                    {
                        "reason": "NamespaceTerminating",
                        "message": f"namespace {namespace} is being terminated",
                        "field": "metadata.namespace",
                    }
                ],
            }
            raise err

    def _validate(
        self,
        res: Resource,
        obj: dict[str, Any],
        old: dict[str, Any] | None,
        subresource: str | None = None,
        write: kinds.SubresourceWrite | None = None,
    ) -> None:
        if old is not None and write is not None:
            causes = logic.validate_subresource_write(res, obj, old, write)
        elif old is not None and subresource == "status":
            causes = logic.validate_status_update(res, obj, old)
        else:
            causes = logic.validate(res, obj, old)
        if causes:
            raise invalid(res.kind, (obj.get("metadata") or {}).get("name") or "", causes, res.group)

    async def admission(
        self,
        mutating: bool,
        by: Requester | None,
        operation: str,
        res: Resource,
        namespace: str | None,
        name: str,
        new: dict[str, Any] | None,
        old: dict[str, Any] | None,
        subresource: str | None,
        dry_run: bool,
    ) -> dict[str, Any] | None:
        """The object after the mutating webhooks, re-defaulted, or after the validating admission
        (which only refuses): the ValidatingAdmissionPolicies, then the validating webhooks, as
        kube orders its plugins. A client's writes only (`by`), and nothing to do without a
        configuration or a binding. A subresource whose body is another kind (a Scale, a Binding,
        an Eviction: `apiserver.subadmission`) is admitted as that kind, its objects given as such."""
        if by is None:
            return new
        configs = self.webhooks.mutating if mutating else self.webhooks.validating
        policies = not mutating and bool(self.policies.pairs)
        if not configs.ordered and not policies:
            return new
        a = attributes(by, operation, res, subresource or "", namespace, name, new, old, dry_run)
        if mutating:
            if a.kind_gv is not None:  # another kind than the resource's: none of its defaults
                return await dispatch.mutate(self.store, configs, by, res, a)
            defaults = lambda o: logic.apply_defaults(res, o)  # noqa: E731
            return await dispatch.mutate(self.store, configs, by, res, a, defaults)
        if policies:
            await policy_dispatch.validate(self.store, self.policies, by, res, a)
        if configs.ordered:
            await dispatch.validate(self.store, configs, by, res, a)
        return new

    async def create(
        self,
        res: Resource,
        namespace: str | None,
        obj: dict[str, Any],
        *,
        dry_run: bool = False,
        manager: str | None = None,
        by: Requester | None = None,
    ) -> KeyValue:
        """Store a new object (the body, already identity-checked). Returns the stored KeyValue
        (for a dry run: revision 0 and the object as it would be stored). `by`: the client whose
        write this is, offered to the admission webhooks (the server's own writes are not)."""
        meta = obj["metadata"]
        generate = meta.get("generateName")
        generated = not meta.get("name") and isinstance(generate, str) and bool(generate)
        await self._admit_namespace(res, namespace, str(meta.get("name") or generate or ""))
        try:
            await kinds.for_resource(res).hooks.admit_create(self, namespace, obj)
        except SHAPE_ERRORS as e:  # admission tripped over a malformed body: say what is malformed
            raise _shape_error(res, obj) or e from None
        # a generated name is chosen before PrepareForCreate (kube 1.30+: a Job's labels name it); a
        # retry after a name clash starts again from the body as sent
        sent = jsonutil.dumps(obj) if generated else b""
        for attempt in range(_GENERATE_TRIES):
            if attempt:
                obj = jsonutil.loads(sent)
            meta = obj["metadata"]
            if generated:
                meta["name"] = meta["generateName"] + lifecycle.random_suffix()
            try:
                lifecycle.prepare_for_create(res, obj, jsonutil.now_str(), lifecycle.new_uid())
                obj = logic.apply_defaults(res, obj)
                if manager:
                    logic.record_update(None, obj, manager)
            except SHAPE_ERRORS as e:
                raise _shape_error(res, obj) or e from None
            meta = obj["metadata"]
            if not meta.get("name"):
                raise invalid(
                    res.kind,
                    "",
                    [
                        {
                            "reason": "FieldValueRequired",
                            "field": "metadata.name",
                            "message": "Required value: name or generateName is required",
                        }
                    ],
                    res.group,
                )
            mutated = await self.admission(
                True, by, "CREATE", res, namespace, meta["name"], obj, None, None, dry_run
            )
            assert mutated is not None
            obj = mutated
            meta = obj["metadata"]
            self._validate(res, obj, None)
            _warn(res, obj, by, created=True)
            await self.admission(False, by, "CREATE", res, namespace, meta["name"], obj, None, None, dry_run)
            if dry_run:  # quotas are checked, not charged; addresses and ports chosen, not kept
                await quotaadmission.admit(self, self.quotas, res, namespace, obj, charge=False)
                await kinds.for_resource(res).hooks.preview(self, obj, None)
                return KeyValue(res.storage_key(meta["name"], namespace), 0, jsonutil.dumps(obj))
            hooks = kinds.for_resource(res).hooks
            claimed = await hooks.claim(self, obj, None)
            try:
                if not attempt:  # after the kind's own admission (a claim's default class, its
                    # LimitRange), once: not again for a retry with another generated name
                    await quotaadmission.admit(self, self.quotas, res, namespace, obj)
                key = res.storage_key(meta["name"], namespace)
                stored = await logic.stored_object(res, obj)
                return await _served(res, self._wrote(res, await self.store.create(key, stored)))
            except KeyExistsError:
                await hooks.release(self, claimed)
                if not generated or attempt == _GENERATE_TRIES - 1:
                    raise _already_exists(res, meta["name"]) from None
            except BaseException:
                await hooks.release(self, claimed)
                raise
        raise AssertionError("unreachable")

    # --- update ---------------------------------------------------------------------------

    async def update(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        mutate: Mutation,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        manager: str | None = None,
        create: Callable[[], dict[str, Any]] | None = None,
        by: Requester | None = None,
        view: OtherKind | None = None,
    ) -> tuple[KeyValue, bool]:
        """GuaranteedUpdate: read, mutate, compare-and-swap; returns (stored, created).

        `create` makes the object when it does not exist (PUT on CREATE_ON_UPDATE kinds, apply);
        `by` as for `create` (the webhooks run again on every retry, as kube's do). `view`: the
        write is admitted as another kind (a /scale write as its Scale, kube's ScaleREST): the
        mutating admission sees the Scale asked before the object's own update steps, and what it
        leaves is written back to the object; the validating admission sees the Scales of the new
        and the old object."""
        key = res.storage_key(name, namespace)
        charged = False
        while True:
            kv = await self.store.get(key)
            if kv is None:
                if create is None:
                    raise not_found(res.plural, name, res.group)
                try:
                    made = await self.create(
                        res, namespace, create(), dry_run=dry_run, manager=manager, by=by
                    )
                    return made, True
                except ApiError as e:
                    if e.reason == "AlreadyExists":
                        continue  # someone created it meanwhile: update theirs
                    raise
            kv = await _served(res, kv)  # updated in the shape of the request
            old = jsonutil.loads(kv.value)
            new, demanded_rv = mutate(jsonutil.loads(kv.value), kv)
            if demanded_rv and demanded_rv != str(kv.revision):
                raise stale_conflict(res.plural, name, res.group)
            lifecycle.check_uid(res, name, new, old)
            own_by = by if view is None else None  # the object's own admission, or its view's
            if view is not None and by is not None:  # kube: the Scale's mutation comes first
                asked, was = view.asked(new, kv.revision), view.of(old, kv.revision)
                admitted = await self.admission(
                    True, by, "UPDATE", res, namespace, name, asked, was, subresource, dry_run
                )
                assert admitted is not None
                new = view.apply(new, admitted)
            write = kinds.for_resource(res).subresource_writes.get(subresource or "")
            if subresource in (None, "status", "scale") or write is not None:
                # what of the body a write keeps: the row's rule for its own subresources, else
                # the status (/status) or the object (a main write, /scale's replicas)
                try:
                    if write is not None:
                        new = write.keep(res, new, old)
                        if write.prepare is not None:
                            write.prepare(new, old)
                    else:
                        new = lifecycle.prepare_for_update(
                            res, new, old, "status" if subresource == "status" else None
                        )
                    if write.defaults if write is not None else subresource != "status":
                        new = logic.apply_defaults(res, new)
                    if manager:
                        logic.record_update(old, new, manager, subresource or "")
                except SHAPE_ERRORS as e:
                    raise _shape_error(res, new) or e from None
                mutated = await self.admission(
                    True, own_by, "UPDATE", res, namespace, name, new, old, subresource, dry_run
                )
                assert mutated is not None
                new = mutated
                self._validate(res, new, old, subresource, write)
                if subresource is None:
                    _warn(res, new, by)
                await self.admission(
                    False, own_by, "UPDATE", res, namespace, name, new, old, subresource, dry_run
                )
                if view is not None and by is not None:
                    new_view, old_view = view.of(new, kv.revision), view.of(old, kv.revision)
                    await self.admission(
                        False, by, "UPDATE", res, namespace, name, new_view, old_view, subresource, dry_run
                    )
            new.setdefault("metadata", {})["resourceVersion"] = str(kv.revision)
            if lifecycle.same_object(new, old):
                return kv, False
            if subresource is None and not charged:  # what a main write adds to the quotas, once
                await quotaadmission.admit(self, self.quotas, res, namespace, new, not dry_run, old)
                charged = True
            if dry_run:
                await kinds.for_resource(res).hooks.preview(self, new, old)
                return KeyValue(key, kv.revision, jsonutil.dumps(new)), False
            if lifecycle.ready_to_remove(res, new):
                try:
                    return await _served(res, await self._remove(res, key, kv.revision, old)), False
                except ConflictError:
                    continue
            hooks = kinds.for_resource(res).hooks
            claimed = await hooks.claim(self, new, old)
            try:
                written = await self.store.update(key, await logic.stored_object(res, new), kv.revision)
                stored = await _served(res, self._wrote(res, written))
            except ConflictError:
                await hooks.release(self, claimed)
                if demanded_rv:
                    raise stale_conflict(res.plural, name, res.group) from None
                continue
            except KeyNotFoundError:
                await hooks.release(self, claimed)
                raise not_found(res.plural, name, res.group) from None
            except BaseException:
                await hooks.release(self, claimed)
                raise
            await hooks.updated(self, new, old)
            return stored, False

    # --- delete ---------------------------------------------------------------------------

    def _wrote(self, res: Resource, kv: KeyValue, removed: bool = False) -> KeyValue:
        kinds.for_resource(res).hooks.wrote(self, kv.key, None if removed else kv.value)
        return kv

    async def _remove(self, res: Resource, key: str, revision: int, last: dict[str, Any]) -> KeyValue:
        gone = self._wrote(res, await self.store.delete(key, expected_revision=revision), removed=True)
        await kinds.for_resource(res).hooks.removed(self, last)
        for listener in self.on_removed:
            listener(res, last)
        return gone

    async def delete(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        options: dict[str, Any],
        *,
        dry_run: bool = False,
        by: Requester | None = None,
    ) -> KeyValue:
        """Delete as kube does; returns the object's last state (or its deleting state). `by`: the
        client, whose delete is offered to the webhooks with the stored object as oldObject."""
        kv, _removed = await self.delete_reporting(res, namespace, name, options, dry_run=dry_run, by=by)
        return kv

    async def delete_reporting(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        options: dict[str, Any],
        *,
        dry_run: bool = False,
        by: Requester | None = None,
    ) -> tuple[KeyValue, bool]:
        """`delete`, and whether the object left the store (or would have, on a dry run) rather than
        being marked for deletion: what kube's DELETE answers a Status for (`removal_status`)."""
        key = res.storage_key(name, namespace)
        finalizer = lifecycle.propagation_finalizer(options)
        while True:
            kv = await self.store.get(key)
            if kv is None:
                raise not_found(res.plural, name, res.group)
            obj = jsonutil.loads(kv.value)
            lifecycle.check_preconditions(res, name, obj, options.get("preconditions"))
            grace = lifecycle.grace_period(res, obj, options)
            meta = obj["metadata"]
            holds = bool(meta.get("finalizers")) or finalizer is not None or lifecycle.holds_removal(res, obj)
            if by is not None:
                by = dataclasses.replace(by, options={**options, **by.options})
                await self.admission(True, by, "DELETE", res, namespace, name, None, obj, None, dry_run)
                await self.admission(False, by, "DELETE", res, namespace, name, None, obj, None, dry_run)
            if dry_run:
                return await _served(res, kv), grace == 0 and not holds
            if grace == 0 and not holds:
                try:
                    return await _served(res, await self._remove(res, key, kv.revision, obj)), True
                except ConflictError:
                    continue
                except KeyNotFoundError:
                    raise not_found(res.plural, name, res.group) from None
            if meta.get("deletionTimestamp") and not (
                grace < int(meta.get("deletionGracePeriodSeconds") or 0)
                or (finalizer and finalizer not in (meta.get("finalizers") or []))
            ):
                return await _served(res, kv), False  # already deleting, nothing to shorten or add
            lifecycle.mark_deleting(res, obj, grace, finalizer, jsonutil.now())
            try:  # `obj` is the stored object: written back as it is
                return await _served(
                    res, self._wrote(res, await self.store.update(key, obj, kv.revision))
                ), False
            except ConflictError:
                continue

    # --- bootstrap ------------------------------------------------------------------------

    async def ensure(self, res: Resource, namespace: str | None, obj: dict[str, Any]) -> None:
        """Create an object the server needs (system namespaces, the kubernetes service) if missing."""
        if await self.store.get(res.storage_key(obj["metadata"]["name"], namespace)) is not None:
            return
        try:
            await self.create(res, namespace, lifecycle.check_identity(res, obj, namespace))
        except ApiError as e:
            if e.reason != "AlreadyExists":
                raise


def _warn(res: Resource, obj: dict[str, Any], by: Requester | None, created: bool = False) -> None:
    """The kind's warnings for a client's valid write, told with the answer (once, however
    often a conflicting update is tried again)."""
    strategy = kinds.for_resource(res)
    for found in (strategy.warnings, strategy.create_warnings if created else None):
        if found is not None and by is not None:
            by.warnings.extend(w for w in found(obj) if w not in by.warnings)


async def _served(res: Resource, kv: KeyValue) -> KeyValue:
    """A stored row as `res` serves it (the same KeyValue for nearly every kind)."""
    return (await served_rows(res, [kv], listed=False))[0]


async def served_rows(res: Resource, kvs: list[KeyValue], listed: bool = True) -> list[KeyValue]:
    """Stored rows as `res` serves them (the same list for nearly every kind); a webhook-converting
    CRD's in one review (`listed`: they are a list's)."""
    if logic.webhook_converter(res) is None:  # every other resource: converted here, or not at all
        read = logic.served_bytes(res)
        return kvs if read is None else [KeyValue(kv.key, kv.revision, read(kv.value)) for kv in kvs]
    values = await logic.served_values(res, [kv.value for kv in kvs], listed)
    return [KeyValue(kv.key, kv.revision, v) for kv, v in zip(kvs, values, strict=True)]


# what defaulting and the strategies raise on a body whose fields have the wrong JSON types
SHAPE_ERRORS = (TypeError, AttributeError, ValueError, KeyError)


def _shape_error(res: Resource, obj: Any) -> ApiError | None:
    """422 with the type errors of a body that defaulting tripped over, None if it has none
    (then the original exception is a real bug and stays a 500)."""
    try:
        causes = logic.type_causes(res, obj)
    except Exception:  # the body is too broken even to describe
        return ApiError(
            400, "BadRequest", f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}'
        )
    if not causes:
        return None
    name = (
        (obj.get("metadata") or {}).get("name")
        if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict)
        else ""
    )
    return invalid(res.kind, str(name or ""), causes, res.group)


def _already_exists(res: Resource, name: str) -> ApiError:
    return already_exists(res.plural, name, res.group)
