"""Validation of Events written through events.k8s.io/v1, as kube's pkg/apis/core/validation/events.go.

kube validates an Event in its internal (core) shape whatever group it came through, and the
request's group decides how strictly: `ValidateEventCreate` and `ValidateEventUpdate` hold every
Event to `legacyValidateEvent`, and one written through events.k8s.io/v1 to more (eventTime
required, a known type, no deprecated fields on create; only the series may change on update).
So these rules take the core shape (`api.eventsv1.to_core` of the body) and name fields by their
internal names, as kube's causes do: `reportingController`, `message`, `firstTimestamp`, `count`,
`source`, `involvedObject.namespace`, even for a body that said `note` or `deprecatedCount`.

Core v1 writes keep their own rules (`apiserver.validation.others.validate_event`).
"""

from __future__ import annotations

from typing import Any

from api import names
from api.errors import Cause, field_invalid, field_required
from api.jsonutil import as_object
from apiserver.validation.meta import immutable

REPORTING_INSTANCE_LIMIT = 128
ACTION_LIMIT = 128
REASON_LIMIT = 128
NOTE_LIMIT = 1024
TYPES = ("Normal", "Warning")

Obj = dict[str, Any]


def _text(event: Obj, key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""


def _at_most(path: str, value: str, limit: int) -> list[Cause]:
    return [field_invalid(path, "", f"can have at most {limit} characters")] if len(value) > limit else []


def legacy(event: Obj) -> list[Cause]:
    """legacyValidateEvent: what every Event is held to; an Event with an eventTime (one of the new
    API's) must name its reporter, action and reason."""
    namespace = _text(as_object(event.get("metadata")), "namespace")
    involved_ns = _text(as_object(event.get("involvedObject")), "namespace")
    mismatch = field_invalid("involvedObject.namespace", involved_ns, "does not match event.namespace")
    causes: list[Cause] = []
    if not event.get("eventTime"):
        if (not involved_ns and namespace not in ("", "default")) or (
            involved_ns and involved_ns != namespace
        ):
            causes.append(mismatch)
        return causes
    if not involved_ns and namespace not in ("default", "kube-system"):
        causes.append(mismatch)
    controller = _text(event, "reportingComponent")
    if not controller:
        causes.append(field_required("reportingController"))
    causes += names.check("reportingController", controller, names.is_qualified_name)
    for path, limit in (
        ("reportingInstance", REPORTING_INSTANCE_LIMIT),
        ("action", ACTION_LIMIT),
        ("reason", REASON_LIMIT),
    ):
        value = _text(event, path)
        if not value:
            causes.append(field_required(path))
        causes += _at_most(path, value, limit)
    causes += _at_most("message", _text(event, "message"), NOTE_LIMIT)
    return causes


def _series(event: Obj) -> list[Cause]:
    series = event.get("series")
    if series is None:
        return []
    series = as_object(series)
    count = series.get("count")
    causes: list[Cause] = []
    if not isinstance(count, int) or count < 2:
        causes.append(field_invalid("series.count", "", "should be at least 2"))
    if not series.get("lastObservedTime"):
        causes.append(field_required("series.lastObservedTime"))
    return causes


def strict_create(event: Obj) -> list[Cause]:
    """ValidateEventCreate's rules for an events.k8s.io/v1 create beyond the legacy ones (the
    metadata is checked for every kind already)."""
    causes = _series(event)
    if not event.get("eventTime"):
        causes.append(field_required("eventTime"))
    kind = event.get("type")
    if kind not in TYPES:
        causes.append(field_invalid("type", "", f"has invalid value: {kind if kind is not None else ''}"))
    for path in ("firstTimestamp", "lastTimestamp"):
        if event.get(path):
            causes.append(field_invalid(path, "", "needs to be unset"))
    if event.get("count"):
        causes.append(field_invalid("count", "", "needs to be unset"))
    source = as_object(event.get("source"))
    if source.get("component") or source.get("host"):
        causes.append(field_invalid("source", "", "needs to be unset"))
    return causes


# what an events.k8s.io/v1 update may not change: (internal name, core v1 field)
_IMMUTABLE = (
    ("involvedObject", "involvedObject"),
    ("reason", "reason"),
    ("message", "message"),
    ("source", "source"),
    ("firstTimestamp", "firstTimestamp"),
    ("lastTimestamp", "lastTimestamp"),
    ("count", "count"),
    ("type", "type"),
    ("eventTime", "eventTime"),
    ("action", "action"),
    ("related", "related"),
    ("reportingController", "reportingComponent"),
    ("reportingInstance", "reportingInstance"),
)


def _unset(value: Any) -> Any:
    """Go compares zero values: an absent field, null, "", 0 and {} are one value."""
    return value or None


def strict_update(new: Obj, old: Obj) -> list[Cause]:
    """ValidateEventUpdate's rules for an events.k8s.io/v1 update beyond the legacy ones: a changed
    series is checked, and nothing else of the Event may change."""
    causes = _series(new) if new.get("series") != old.get("series") else []
    for path, key in _IMMUTABLE:
        causes += immutable(path, _unset(new.get(key)), _unset(old.get(key)))
    return causes
