"""What a CustomResourceDefinition serves, and the status the server gives it (pure).

- `served_kind(crd)` -> a `CustomKind`: one `Resource` row per served version (the preferred
  version first, by kube's version priority: GA > beta > alpha > others, higher numbers first),
  each version's schema, printer columns and subresources, and its conversion webhook when the
  strategy is Webhook; None while the CRD is not Established.
- `desired_status(crd, others, now)` -> the status kube's naming and establishing controllers
  write: `acceptedNames`, conditions NamesAccepted and Established (and Terminating while
  deleting), `storedVersions` (every version ever marked storage, kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from api.jsonutil import as_object
from api.resources import Resource, Subresource
from apiserver.crd.conversion import REVIEW_VERSIONS
from apiserver.webhooks.configs import client_config

Obj = dict[str, Any]
GROUP = "apiextensions.k8s.io"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_STATUS_VERBS = ("get", "patch", "update")
_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


@dataclass(frozen=True)
class ServedVersion:
    resource: Resource
    schema: Obj | None
    columns: tuple[Obj, ...]
    status: bool
    scale: Obj | None
    selectable: tuple[str, ...] = ()  # selectableFields: field selector paths beyond metadata.name/namespace
    deprecation: str = ""  # the Warning every request to a deprecated version is answered with


@dataclass(frozen=True)
class WebhookConversion:
    """A CRD's conversion webhook (strategy Webhook): where it is (an `apiserver.webhooks.transport`
    target), the ConversionReview version it is sent (the first of its conversionReviewVersions
    kube speaks), and kube's fixed timeout (conversion webhooks have no timeoutSeconds)."""

    url: str  # "" for a service
    service: tuple[str, str, str, int] | None  # namespace, name, path, port
    ca_bundle: bytes
    review_version: str
    timeout: float = 30.0


def webhook_conversion(spec: Obj) -> WebhookConversion | None:
    conversion = spec.get("conversion")
    if not isinstance(conversion, dict) or conversion.get("strategy") != "Webhook":
        return None
    webhook = as_object(conversion.get("webhook"))
    try:
        url, service, ca_bundle = client_config(webhook.get("clientConfig"))
    except (TypeError, ValueError):  # validation refuses it; never let a stored one break serving
        url, service, ca_bundle = "", None, b""
    versions = webhook.get("conversionReviewVersions") or []
    review = next((v for v in versions if v in REVIEW_VERSIONS), REVIEW_VERSIONS[0])
    return WebhookConversion(url, service, ca_bundle, str(review))


@dataclass(frozen=True)
class CustomKind:
    name: str  # <plural>.<group>
    group: str
    plural: str
    kind: str
    storage_version: str
    terminating: bool
    versions: tuple[ServedVersion, ...] = field(default=())
    conversion: WebhookConversion | None = None  # None: strategy None (only apiVersion changes)

    def version(self, name: str) -> ServedVersion | None:
        return next((v for v in self.versions if v.resource.version == name), None)


def version_priority(name: str) -> tuple[int, int, int, str]:
    """Sort key: v2 < v1 < v1beta2 < v1beta1 < v1alpha1 < other names (alphabetical)."""
    m = _VERSION.match(name)
    if m is None:
        return (3, 0, 0, name)
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    return ({None: 0, "beta": 1, "alpha": 2}[stage], -major, -minor, "")


def condition(crd: Obj, kind: str) -> Obj | None:
    for c in (crd.get("status") or {}).get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == kind:
            return c
    return None


def is_true(crd: Obj, kind: str) -> bool:
    c = condition(crd, kind)
    return c is not None and c.get("status") == "True"


def served_kind(crd: Obj) -> CustomKind | None:
    if not is_true(crd, "Established"):
        return None
    spec, meta = crd.get("spec") or {}, crd.get("metadata") or {}
    names = (crd.get("status") or {}).get("acceptedNames") or spec.get("names") or {}
    group, plural, kind = spec.get("group", ""), names.get("plural", ""), names.get("kind", "")
    if not (group and plural and kind):
        return None
    versions = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served")]
    versions.sort(key=lambda v: version_priority(str(v.get("name"))))
    served = tuple(
        _served_version(group, names, spec.get("scope") == "Namespaced", v, deprecation_warning(spec, v))
        for v in versions
    )
    storage = next((str(v.get("name")) for v in spec.get("versions") or [] if v.get("storage")), "")
    return CustomKind(
        str(meta.get("name")),
        group,
        plural,
        kind,
        storage,
        bool(meta.get("deletionTimestamp")),
        served,
        webhook_conversion(spec),
    )


def deprecation_warning(spec: Obj, v: Obj) -> str:
    """kube's Warning for a request to version `v` of a CRD: its `deprecationWarning`, or for a
    deprecated version without one `<group>/<version> <Kind> is deprecated`, naming the newest
    served version that is not deprecated and ranks above it (`; use <group>/<version> <Kind>`);
    "" for a version not deprecated."""
    if not v.get("deprecated"):
        return ""
    if isinstance(v.get("deprecationWarning"), str):
        return str(v["deprecationWarning"])
    group, name = str(spec.get("group") or ""), str(v.get("name") or "")
    kind = str((spec.get("names") or {}).get("kind") or "")
    message = f"{group}/{name} {kind} is deprecated"
    newer = [
        str(o.get("name"))
        for o in spec.get("versions") or []
        if isinstance(o, dict)
        and o.get("served")
        and not o.get("deprecated")
        and version_priority(str(o.get("name"))) < version_priority(name)
    ]
    if newer:
        message += f"; use {group}/{min(newer, key=version_priority)} {kind}"
    return message


def _served_version(group: str, names: Obj, namespaced: bool, v: Obj, deprecation: str = "") -> ServedVersion:
    subs = v.get("subresources") or {}
    scale = subs.get("scale") if isinstance(subs.get("scale"), dict) else None
    sub_rows: list[Subresource] = []
    if "status" in subs:
        sub_rows.append(Subresource("status", names["kind"], _STATUS_VERBS))
    if scale is not None:
        sub_rows.append(Subresource("scale", "Scale", _STATUS_VERBS, group="autoscaling"))
    res = Resource(
        names["plural"],
        names.get("singular") or names["kind"].lower(),
        names["kind"],
        namespaced,
        group=group,
        version=str(v["name"]),
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        subresources=tuple(sub_rows),
    )
    schema = (v.get("schema") or {}).get("openAPIV3Schema")
    selectable = tuple(
        str(f.get("jsonPath", "")).lstrip(".")
        for f in v.get("selectableFields") or []
        if isinstance(f, dict) and f.get("jsonPath")
    )
    return ServedVersion(
        res,
        schema if isinstance(schema, dict) else None,
        tuple(c for c in v.get("additionalPrinterColumns") or [] if isinstance(c, dict)),
        "status" in subs,
        scale,
        selectable,
        deprecation,
    )


# --- status --------------------------------------------------------------------------------------


def _names_of(crd: Obj) -> set[str]:
    names = (crd.get("status") or {}).get("acceptedNames") or {}
    return {n for n in (names.get("plural"), names.get("singular"), *(names.get("shortNames") or [])) if n}


def _kinds_of(crd: Obj) -> set[str]:
    names = (crd.get("status") or {}).get("acceptedNames") or {}
    return {n for n in (names.get("kind"), names.get("listKind")) if n}


def names_conflict(crd: Obj, others: list[Obj]) -> str:
    """Why the CRD's names cannot be accepted ('' when they can): another CRD of the same group
    already accepted one of them (kube's naming controller)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    me = (crd.get("metadata") or {}).get("name")
    for other in others:
        if (other.get("metadata") or {}).get("name") == me or (other.get("spec") or {}).get(
            "group"
        ) != spec.get("group"):
            continue
        taken, kinds = _names_of(other), _kinds_of(other)
        if names.get("plural") in taken:
            return f'"{names.get("plural")}" is already in use'
        if names.get("singular") and names.get("singular") in taken:
            return f'"{names.get("singular")}" is already in use'
        for short in names.get("shortNames") or []:
            if short in taken:
                return f'"{short}" is already in use'
        if names.get("kind") in kinds:
            return f'"{names.get("kind")}" is already in use'
        if names.get("listKind") and names.get("listKind") in kinds:
            return f'"{names.get("listKind")}" is already in use'
    return ""


def _set_condition(
    conditions: list[Obj], kind: str, status: str, reason: str, message: str, now: str
) -> None:
    for c in conditions:
        if c.get("type") == kind:
            if c.get("status") != status:
                c["lastTransitionTime"] = now
            c.update(status=status, reason=reason, message=message)
            return
    conditions.append(
        {"type": kind, "status": status, "lastTransitionTime": now, "reason": reason, "message": message}
    )


def desired_status(crd: Obj, others: list[Obj], now: str) -> Obj:
    """The status kube's CRD controllers converge on, from the CRD and the other CRDs."""
    status = crd.get("status") or {}
    spec = crd.get("spec") or {}
    conditions = [dict(c) for c in status.get("conditions") or [] if isinstance(c, dict)]
    out: Obj = {"conditions": conditions}
    why = names_conflict(crd, others)
    if why:
        _set_condition(conditions, "NamesAccepted", "False", "NameConflict", why, now)
        out["acceptedNames"] = status.get("acceptedNames") or {"plural": "", "kind": ""}
        if condition({"status": out}, "Established") is None:
            _set_condition(
                conditions, "Established", "False", "NotAccepted", "not all names are accepted", now
            )
    else:
        names = dict(spec.get("names") or {})
        names.setdefault("singular", str(names.get("kind", "")).lower())
        names.setdefault("listKind", f"{names.get('kind', '')}List")
        out["acceptedNames"] = names
        _set_condition(conditions, "NamesAccepted", "True", "NoConflicts", "no conflicts found", now)
        _set_condition(
            conditions,
            "Established",
            "True",
            "InitialNamesAccepted",
            "the initial names have been accepted",
            now,
        )
    if (crd.get("metadata") or {}).get("deletionTimestamp"):
        _set_condition(
            conditions,
            "Terminating",
            "True",
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
            now,
        )
    stored = list(status.get("storedVersions") or [])
    for v in spec.get("versions") or []:
        if isinstance(v, dict) and v.get("storage") and v.get("name") not in stored:
            stored.append(v.get("name"))
    out["storedVersions"] = stored
    return out


def status_differs(current: Obj, desired: Obj) -> bool:
    """Whether writing `desired` changes anything but condition timestamps."""

    def strip(s: Obj) -> Obj:
        return {
            **s,
            "conditions": sorted(
                (
                    {k: v for k, v in c.items() if k != "lastTransitionTime"}
                    for c in s.get("conditions") or []
                ),
                key=lambda c: str(c.get("type")),
            ),
        }

    return strip(current or {}) != strip(desired)
