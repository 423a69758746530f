"""Rows of CustomResourceDefinition and of the custom resources it defines.

The CRD (apiextensions.k8s.io/v1): defaulted names (`singular`, `listKind`), conversion strategy
and conversion webhook Service port, validated as kube (`apiserver.crd.validation`), status
written only through /status (by the server's CRD controller, `apiserver.crd.controller`), and a
deletion that always goes through the `customresourcecleanup.apiextensions.k8s.io` finalizer:
kube's CRD REST `Delete` adds it and sets the Terminating condition, and the controller removes it
once the instances are gone.

A custom resource's row is built from its CRD (`custom_strategy`): unknown fields pruned,
schema defaults filled, the version's `openAPIV3Schema` validated on every write (status writes
too), status separate when the status subresource is declared, generation always counted,
creates refused while the CRD is terminating (405, as kube).
"""

from __future__ import annotations

from typing import Any

from api.errors import Cause, method_not_allowed
from api.jsonutil import as_object
from apiserver import schema
from apiserver.crd import hooks, objects, rules
from apiserver.crd.model import CLEANUP_FINALIZER, CustomKind, ServedVersion
from apiserver.crd.validation import unknown_schema_fields, validate_crd, validate_crd_update
from apiserver.kinds import KindStrategy, Obj, row


def _crd_defaults(crd: Obj) -> None:
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return
    names = spec.get("names")
    if isinstance(names, dict) and isinstance(names.get("kind"), str):
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    if not isinstance(spec.get("conversion"), dict):
        spec["conversion"] = {"strategy": "None"}
    service = as_object(as_object(spec["conversion"].get("webhook")).get("clientConfig")).get("service")
    if isinstance(service, dict):  # kube's v1 SetDefaults_ServiceReference
        service.setdefault("port", 443)


def _crd_prepare_create(crd: Obj) -> None:
    storage = [
        v.get("name")
        for v in (crd.get("spec") or {}).get("versions") or []
        if isinstance(v, dict) and v.get("storage")
    ]
    crd["status"] = {"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": storage[:1]}


def _crd_on_deleting(crd: Obj) -> None:
    meta = crd["metadata"]
    if CLEANUP_FINALIZER not in (meta.get("finalizers") or []):
        meta["finalizers"] = [*(meta.get("finalizers") or []), CLEANUP_FINALIZER]
    conditions = (crd.setdefault("status", {})).setdefault("conditions", [])
    if not any(c.get("type") == "Terminating" for c in conditions if isinstance(c, dict)):
        conditions.append(
            {
                "type": "Terminating",
                "status": "True",
                "lastTransitionTime": meta.get("deletionTimestamp"),
                "reason": "InstanceDeletionPending",
                "message": "CustomResourceDefinition marked for deletion; CustomResource deletion will "
                "begin soon",
            }
        )


def _crd_holds_removal(crd: Obj) -> bool:
    # not yet marked: the delete must go through the cleanup finalizer (on_deleting adds it)
    return not (crd.get("metadata") or {}).get("deletionTimestamp")


def _crd_unknown_fields(crd: Obj) -> list[str]:
    return schema.unknown_fields("CustomResourceDefinition", crd) + unknown_schema_fields(crd)


hooks.BUILTIN_UNKNOWN_FIELDS[("apiextensions.k8s.io/v1", "CustomResourceDefinition")] = _crd_unknown_fields
hooks.BY_KIND["CustomResourceDefinition"] = _crd_unknown_fields
row(
    "customresourcedefinitions",
    "apiextensions.k8s.io",
    status_separate=True,
    generation=True,
    defaults=_crd_defaults,
    prepare_create=_crd_prepare_create,
    validate=validate_crd,
    validate_update=lambda new, old: validate_crd_update(new, old),
    holds_removal=_crd_holds_removal,
    on_deleting=_crd_on_deleting,
)


# --- the custom resources -------------------------------------------------------------------------


def _version_of(kind: CustomKind, obj: Obj) -> ServedVersion | None:
    api_version = str(obj.get("apiVersion") or "")
    return kind.version(api_version.rpartition("/")[2]) or (kind.versions[0] if kind.versions else None)


def _get_path(obj: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def custom_strategy(kind: CustomKind) -> KindStrategy:
    preferred = kind.versions[0]

    def schema_of(obj: Obj) -> Obj | None:
        v = _version_of(kind, obj)
        return v.schema if v is not None else None

    def defaults(obj: Obj) -> None:
        schema = schema_of(obj)
        objects.prune(schema, obj)
        objects.apply_defaults(schema, obj)

    # which versions' schemas carry rules, worked out once: most CRDs have none, and a write
    # then does not walk the schema for them
    with_rules = {v.resource.version for v in kind.versions if rules.has_rules(v.schema)}

    def validate(obj: Obj) -> list[Cause]:
        v = _version_of(kind, obj)
        schema = v.schema if v is not None else None
        causes = objects.validate(schema, obj)
        return (
            causes + rules.violations(schema, obj)
            if v is not None and v.resource.version in with_rules
            else causes
        )

    def transitions(new: Obj, old: Obj) -> list[Cause]:
        """The rules that compare with the stored object (oldSelf), on an update."""
        v = _version_of(kind, new)
        if v is None or v.resource.version not in with_rules:
            return []
        return rules.violations(v.schema, new, old, transitions_only=True)

    def prepare_create(obj: Obj) -> None:
        if kind.terminating:
            raise method_not_allowed("create not allowed while custom resource definition is terminating")
        if status_separate:
            obj.pop("status", None)

    status_separate = any(v.status for v in kind.versions)
    scale = preferred.scale
    selector_path = str((scale or {}).get("labelSelectorPath") or "")

    def scale_selector(obj: Obj) -> str:
        value = _get_path(obj, selector_path) if selector_path else None
        return value if isinstance(value, str) else ""

    return KindStrategy(
        preferred.resource,
        status_separate=status_separate,
        generation=True,
        defaults=defaults,
        validate=validate,
        validate_update=transitions,
        validate_status=lambda new, old: validate(new) + transitions(new, old),
        prepare_create=prepare_create,
        scale_selector=scale_selector if scale is not None else None,
        field_paths=frozenset(preferred.selectable),
    )


def unknown_fields(kind: CustomKind, obj: Obj) -> list[str]:
    v = _version_of(kind, obj)
    return objects.unknown_fields(v.schema if v is not None else None, obj)
