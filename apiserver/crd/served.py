"""The custom resources this API server serves now, kept in step with the stored CRDs.

Every API server follows the CRDs with a `StoreMirror` (list, then watch), so a CRD written
through one server is served by all. Whenever what they serve changes, `publish` sets what the
Established CRDs define: the run-time rows of the resource table (`api.resources.set_dynamic`,
consulted by routing, lookup and discovery), each kind's strategy row (schema validation,
defaults, pruning, subresources), its Table columns, the unknown-field check of the generic
write path, the Warning of each deprecated version, the conversion webhooks of those with strategy Webhook, and the OpenAPI schemas; the
cached discovery and OpenAPI documents are dropped.
`on_change` (the CRD controller's enqueue) sees the name of every CRD that changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from api import jsonutil, tables
from api.resources import Resource, set_dynamic
from apiserver import discovery, kinds, openapi, schema
from apiserver.crd import hooks
from apiserver.crd.columns import row_function, table_columns
from apiserver.crd.converter import WebhookConverter
from apiserver.crd.model import CustomKind, served_kind
from apiserver.handlers import meta
from apiserver.kinds.crd import custom_strategy, unknown_fields
from apiserver.mirror import StoreMirror
from apiserver.storage.interface import Store

log = logging.getLogger(__name__)
PREFIX = "/registry/apiextensions.k8s.io/customresourcedefinitions/"


def _crd_row(crd: dict[str, Any], now: Any) -> list[Any]:
    m = crd.get("metadata") or {}
    return [m.get("name", ""), m.get("creationTimestamp", "")]


# kube serves CRDs with the default table convertor: Name and the creation time as RFC 3339
tables.register(
    "customresourcedefinitions",
    [tables.NAME_COLUMN, {**tables.AGE_COLUMN, "name": "Created At", "type": "date"}],
    _crd_row,
)


def publish(served: list[CustomKind], store: Store | None = None) -> None:
    """Serve exactly these custom kinds: set the process-wide tables the request path consults
    (`store`: where a conversion webhook's Service is looked up; without it none is called)."""
    rows: list[Resource] = []
    unknown: dict[tuple[str, str], Callable[[dict[str, Any]], list[str]]] = {}
    schemas: dict[tuple[str, str, str], dict[str, Any] | None] = {}
    scale_paths: dict[tuple[str, str], tuple[str, str]] = {}
    for kind in served:
        if not kind.versions:
            continue
        rows.extend(v.resource for v in kind.versions)
        kinds.register(custom_strategy(kind))
        preferred = kind.versions[0]
        for v in kind.versions:  # each version its own columns, keyed <plural>.<group>/<version>: a
            # custom `services` of another group never shadows the core one
            tables.register(
                f"{kind.plural}.{v.resource.api_version}", table_columns(v.columns), row_function(v.columns)
            )
        if preferred.scale is not None:
            scale_paths[(kind.group, kind.plural)] = (
                str(preferred.scale.get("specReplicasPath") or ""),
                str(preferred.scale.get("statusReplicasPath") or ""),
            )
        for v in kind.versions:
            unknown[(v.resource.api_version, kind.kind)] = (lambda k: lambda obj: unknown_fields(k, obj))(
                kind
            )
            schemas[(kind.group, v.resource.version, kind.kind)] = v.schema
    set_dynamic(tuple(rows))
    hooks.UNKNOWN_FIELDS.clear()
    hooks.UNKNOWN_FIELDS.update(unknown)
    hooks.BY_KIND.clear()
    hooks.BY_KIND.update(
        {
            k: f
            for (_, k), f in {**unknown, **hooks.BUILTIN_UNKNOWN_FIELDS}.items()
            if k == "CustomResourceDefinition" or schema.kind_spec(k) is None
        }
    )
    hooks.SCALE_PATHS.clear()
    hooks.SCALE_PATHS.update(scale_paths)
    hooks.DEPRECATED.clear()
    hooks.DEPRECATED.update(
        {
            (k.group, v.resource.version, k.plural): v.deprecation
            for k in served
            for v in k.versions
            if v.deprecation
        }
    )
    hooks.MULTI_VERSION.clear()
    hooks.MULTI_VERSION.update(
        (k.group, k.plural) for k in served if len(k.versions) > 1 and k.conversion is None
    )
    hooks.WEBHOOK.clear()
    if store is not None:
        hooks.WEBHOOK.update(
            {
                (k.group, k.plural): WebhookConverter(store, k, k.conversion)
                for k in served
                if k.versions and k.conversion is not None
            }
        )
    openapi.set_custom_schemas(schemas)
    discovery.invalidate()
    meta.forget_documents()


class CustomResources:
    """The CRDs in the store and what they serve; `start` lists and follows them."""

    def __init__(self, store: Store, on_change: Callable[[str], None] | None = None) -> None:
        self.crds: dict[str, dict[str, Any]] = {}
        self.served: dict[str, CustomKind] = {}
        self.on_change = on_change
        self.on_publish: Callable[[], None] | None = None  # told when what is served changed
        self.store = store
        self.mirror = StoreMirror(store, PREFIX, self._changed, self._relisted)

    def _relisted(self) -> None:
        gone = list(self.crds)
        self.crds.clear()
        for name in gone:
            self._rebuild(name)

    def _changed(self, key: str, value: bytes | None) -> None:
        name = key[len(PREFIX) :]
        if value is None:
            self.crds.pop(name, None)
        else:
            self.crds[name] = jsonutil.loads(value)
        self._rebuild(name)

    def _rebuild(self, name: str) -> None:
        crd = self.crds.get(name)
        kind = served_kind(crd) if crd is not None else None
        before = self.served.get(name)
        if kind != before:
            if kind is None:
                self.served.pop(name, None)
            else:
                self.served[name] = kind
            publish(list(self.served.values()), self.store)
            log.info("custom resources served: %s", sorted(self.served))
            if self.on_publish is not None:
                self.on_publish()
        if self.on_change is not None:
            self.on_change(name)

    def note(self, key: str, value: bytes | None) -> None:
        """This server's own CRD write, seen at once (another server's arrive by the watch)."""
        self.mirror.note(key, value)

    async def start(self) -> None:
        await self.mirror.start()

    async def stop(self) -> None:
        await self.mirror.stop()
