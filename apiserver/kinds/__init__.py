"""The per-kind strategy table: everything the API server does differently for one kind, in one row.

kube-apiserver gives every resource a registry strategy (`PrepareForCreate`, `PrepareForUpdate`,
`Validate`, `ValidateUpdate`, defaulting, `AllowCreateOnUpdate`, field selectors, the scale
subresource ...). kubelite keeps the same idea as data: a `KindStrategy` per resource, built in the
kind's own module (`apiserver/kinds/<group or kind>.py`) and registered here. The generic code
(registry, handlers, validation, defaulting) asks the row; it never branches on a plural.

Adding a kind = a `Resource` row in `api/resources.py`, its field types in `apiserver/schema`,
its Table columns in `api/tables.py`, and a module here that calls `register(KindStrategy(...))`
and is listed in `_MODULES`. A kind without a row gets `KindStrategy(resource)`: stored as sent,
with metadata checks only (custom resources start from that).

A resource served over another's stored objects in a shape of its own (events.k8s.io/v1 Event
over the core Events, kube's one storage with a conversion per group) has a `view`: the registry
reads the store through it and writes the store through it, so everything between (patches,
defaulting, validation, tables, managedFields) sees the shape the client asked for, and every other
kind pays one None check.

Every callable is pure (no I/O) except `hooks`, the one seam for a kind that must reserve or
release something in the store around its writes (service IPs and node ports) or keep a cache in
step with them (namespaces, RBAC). `admit` and `answer` see the requesting user: an admission
check (RBAC's escalation rule) and the kinds whose create is a question, answered and not stored
(access and token reviews).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from api import jsonutil
from api.errors import Cause, status_details
from api.names import NameCheck, is_dns1123_subdomain
from api.resources import RESOURCES, Resource, by_plural

Obj = dict[str, Any]


class HookContext(Protocol):
    """What the registry lends a kind's hooks (the registry itself satisfies it)."""

    store: Any
    allocator: Any
    namespaces: Any
    rbac: Any
    service_accounts: Any
    priority_classes: Any
    limit_ranges: Any
    quotas: Any
    webhooks: Any
    policies: Any
    apiservices: Any


class WriteHooks:
    """I/O around a kind's store writes. The base class does nothing; override what a kind needs.

    `claim` runs before a create or update is written and returns the keys it reserved; they
    are given back through `release` when the write fails. `updated` runs after a successful
    update, `removed` after the object left the store, `wrote` after every write (cache upkeep)."""

    async def admit_create(self, ctx: HookContext, namespace: str | None, new: Obj) -> None:
        """Admission of a create before anything else (pods: their ServiceAccount); may raise."""
        return None

    def carry_over(self, new: Obj, old: Obj) -> None:
        """PrepareForUpdate's I/O-free part: keep what the server allocated (service IPs)."""

    async def claim(self, ctx: HookContext, new: Obj, old: Obj | None) -> list[str]:
        return []

    async def release(self, ctx: HookContext, keys: list[str]) -> None:
        return None

    async def preview(self, ctx: HookContext, new: Obj, old: Obj | None) -> None:
        """What `claim` fills in, for a dry-run write: chosen, nothing reserved."""
        return None

    async def updated(self, ctx: HookContext, new: Obj, old: Obj) -> None:
        return None

    async def removed(self, ctx: HookContext, last: Obj) -> None:
        return None

    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        return None


NO_HOOKS = WriteHooks()


@dataclass(frozen=True)
class SubresourceWrite:
    """A subresource written as the whole object of which only part is kept: a CSR's /approval
    and /status, a pod's /ephemeralcontainers. `keep(res, new, old)` is the object to store (the
    stored one with what the write may change taken from the body), `prepare(new, old)` then
    adjusts it in place, `defaults` says whether the kind's defaulting runs again, `validate(new,
    old)` is every rule the write is held to (after the type and metadata checks), and
    `admit(state, user, new, old)` its admission (may raise)."""

    keep: Callable[[Any, Obj, Obj], Obj]
    validate: Callable[[Obj, Obj], list[Cause]]
    prepare: Callable[[Obj, Obj], None] | None = None
    admit: Callable[[Any, Any, Obj, Obj], None] | None = None
    defaults: bool = False


@dataclass(frozen=True)
class View:
    """The conversions of a resource whose objects are stored in another resource's shape.

    `read(stored) -> served` and `write(served) -> stored` are pure and inverse; `field_labels` maps
    each field selector label of the served shape to the stored field it is matched on (kube's
    field label conversion), so selectors, their byte pre-tests and watch filtering work on the
    stored bytes and only what is sent is converted."""

    read: Callable[[Obj], Obj]
    write: Callable[[Obj], Obj]
    field_labels: Mapping[str, str]

    def read_bytes(self, value: bytes) -> bytes:
        return jsonutil.dumps(self.read(jsonutil.loads(value)))


@dataclass(frozen=True)
class KindStrategy:
    resource: Resource
    # metadata.name rule (kube's ValidateObjectMeta nameFn)
    name_rule: NameCheck = is_dns1123_subdomain
    # status is written only through /status: a main write keeps the stored status
    status_separate: bool = False
    # metadata.generation starts at 1 and counts changes of `spec_field`
    generation: bool = False
    # the field whose changes count a generation: `spec`, a PodTemplate's `template`
    spec_field: str = "spec"
    # metadata fields a /status write may change (kube's Deployment status strategy: annotations)
    status_metadata: frozenset[str] = frozenset()
    # PUT of a missing object creates it (AllowCreateOnUpdate)
    create_on_update: bool = False
    # PrepareForCreate beyond metadata: reset status, add finalizers ... (in place)
    prepare_create: Callable[[Obj], None] | None = None
    # PrepareForUpdate of a main write beyond status and generation: (new, old), new in place
    prepare_update: Callable[[Obj, Obj], None] | None = None
    # defaulting, in place, idempotent; runs on create and on every main write
    defaults: Callable[[Obj], None] | None = None
    # Validate: the whole object (create and update), after defaulting
    validate: Callable[[Obj], list[Cause]] | None = None
    # ValidateCreate's extra rules: what only a new object may not have (a pod's ephemeral containers)
    validate_create: Callable[[Obj], list[Cause]] | None = None
    # ValidateUpdate's extra rules: (new, old) -> causes (immutable fields ...)
    validate_update: Callable[[Obj, Obj], list[Cause]] | None = None
    # ValidateStatusUpdate's extra rules: (new, old) -> causes
    validate_status: Callable[[Obj, Obj], list[Cause]] | None = None
    # field selector paths beyond metadata.name and metadata.namespace
    field_paths: frozenset[str] = frozenset()
    # the /scale subresource: object -> the Scale's status.selector string (None: no /scale)
    scale_selector: Callable[[Obj], str] | None = None
    # the object's deletion: seconds of grace for these options (None: deleted at once)
    grace_period: Callable[[Obj, dict[str, Any]], int] | None = None
    # something in the object besides metadata.finalizers holds its removal (namespace spec.finalizers)
    holds_removal: Callable[[Obj], bool] | None = None
    # what marking the object as deleting changes besides metadata (namespace phase Terminating)
    on_deleting: Callable[[Obj], None] | None = None
    hooks: WriteHooks = field(default=NO_HOOKS)
    # admission that needs the requesting user: (state, user, namespace, new object) -> None or raise
    # (RBAC's escalation check); runs on create, update and patch, before the write
    admit: Callable[[Any, Any, str | None, Obj], None] | None = None
    # a create that is a question (access reviews, token reviews): (state, user, namespace, body) ->
    # the answered object (or an awaitable of it, when answering reads the store), never stored
    answer: Callable[[Any, Any, str | None, Obj], Obj | Awaitable[Obj]] | None = None
    # subresources written as part of the object, each with its own rules (a "status" entry
    # replaces the generic /status write for the kind)
    subresource_writes: dict[str, SubresourceWrite] = field(default_factory=dict)
    # the conversions of a resource served over another's stored objects (None: served as stored)
    view: View | None = None
    # WarningsOnCreate/OnUpdate: what a valid main write is told in Warning headers (deprecated
    # fields, things that do not do what they seem), from the object as it is stored
    warnings: Callable[[Obj], list[str]] | None = None
    # WarningsOnCreate alone, for kinds whose WarningsOnUpdate says nothing (Ingress)
    create_warnings: Callable[[Obj], list[str]] | None = None
    # a resource answered by code on each request and never stored (componentstatuses,
    # metrics.k8s.io): (state, request, send, route) -> the answer is sent
    serve: Callable[[Any, Any, Any, Any], Awaitable[None]] | None = None


_TABLE: dict[tuple[str, ...], KindStrategy] = {}

# the modules that register rows; imported once, on first lookup
_MODULES = (
    "apiserver.kinds.core",
    "apiserver.kinds.apps",
    "apiserver.kinds.batch",
    "apiserver.kinds.config",
    "apiserver.kinds.storage",
    "apiserver.kinds.csi",
    "apiserver.kinds.rbac",
    "apiserver.kinds.access",
    "apiserver.kinds.networking",
    "apiserver.kinds.crd",
    "apiserver.kinds.autoscaling",
    "apiserver.kinds.scheduling",
    "apiserver.kinds.flowcontrol",
    "apiserver.kinds.node",
    "apiserver.kinds.certificates",
    "apiserver.kinds.quota",
    "apiserver.kinds.policy",
    "apiserver.kinds.admission",
    "apiserver.kinds.admissionpolicy",
    "apiserver.kinds.events",
    "apiserver.kinds.apiregistration",
    "apiserver.kinds.computed",
)
_loaded = False


def register(strategy: KindStrategy, version: str | None = None) -> KindStrategy:
    r = strategy.resource
    _TABLE[(r.group, r.plural) if version is None else (r.group, r.plural, version)] = strategy
    return strategy


def row(plural: str, group: str = "", version: str | None = None, **rules: Any) -> KindStrategy:
    """Register the row of the served resource `group`/`plural` with these rules; with `version`,
    the row of that version only (a resource whose other version is a `View` of the same objects)."""
    res = by_plural(group, plural)
    if version is not None:
        res = next((r for r in RESOURCES if (r.group, r.plural, r.version) == (group, plural, version)), None)
    if res is None:
        raise LookupError(f"no resource {plural!r} in group {group!r} in api/resources.py")
    return register(KindStrategy(res, **rules), version)


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for name in _MODULES:
            importlib.import_module(name)


def for_resource(res: Resource) -> KindStrategy:
    """The row of a resource; a plain one (stored as sent) for a kind without a module."""
    if not _loaded:
        _load()
    row = _TABLE.get((res.group, res.plural))
    if row is not None and row.resource.version != res.version:  # another version's own row, if any
        row = _TABLE.get((res.group, res.plural, res.version), row)
    if row is None:
        row = _TABLE[(res.group, res.plural)] = KindStrategy(res)
    return row


# The resources whose registry in kube sets `ReturnDeletedObject: true`: a DELETE that removes one
# answers with the object. Every other resource answers a removal with a Success Status naming it
# (genericregistry's finalizeDelete); a delete that only marks the object (finalizers, a graceful
# pod) answers with the marked object for every resource.
RETURNS_DELETED_OBJECT = frozenset(
    {
        ("", "pods"),
        ("", "services"),
        ("", "namespaces"),
        ("", "serviceaccounts"),
        ("", "persistentvolumes"),
        ("", "persistentvolumeclaims"),
        ("", "podtemplates"),
        ("", "resourcequotas"),
        ("storage.k8s.io", "storageclasses"),
        ("storage.k8s.io", "csidrivers"),
        ("storage.k8s.io", "csinodes"),
        ("storage.k8s.io", "volumeattachments"),
    }
)


def removal_status(res: Resource, obj: Obj) -> Obj | None:
    """What kube's DELETE answers when it removed `obj` from the store: None (the object itself) for
    the resources above, else `{"kind":"Status",...,"status":"Success","details":{name, group,
    kind: <the plural>, uid}}`, without a code, as genericregistry's finalizeDelete builds it."""
    if (res.group, res.plural) in RETURNS_DELETED_OBJECT:
        return None
    meta = obj.get("metadata") or {}
    details = {"name": meta.get("name"), "group": res.group, "kind": res.plural, "uid": meta.get("uid")}
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": status_details(details),
    }
