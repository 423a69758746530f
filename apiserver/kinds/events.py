"""The strategy row of events.k8s.io/v1 Event: the core Events, seen and written in the new shape.

kube serves one event storage in two groups (pkg/registry/events/rest reuses the core event
REST storage): an object written through either is read through both. Here the core Events stay
stored as they are and this row is a `View` over them (`api.eventsv1`): every read converts the
stored object, every write converts the served one back, and selectors name events.k8s.io's
labels (`regarding.name`, `reportingController` ...) matched on the stored fields.

Validation is kube's for a request of this group: the legacy rules of every Event plus the strict
ones of events.k8s.io (`apiserver.validation.events`), on the core shape with kube's internal field
names. As for core Events, a PUT of a missing Event creates it (AllowCreateOnUpdate).
"""

from __future__ import annotations

from api import eventsv1
from apiserver.kinds import View, row
from apiserver.validation import events

# every selectable label but metadata's (allowed for every kind)
_LABELS = frozenset(k for k in eventsv1.FIELD_LABELS if not k.startswith("metadata."))

row(
    "events",
    "events.k8s.io",
    create_on_update=True,
    validate=lambda obj: events.legacy(eventsv1.to_core(obj)),
    validate_create=lambda obj: events.strict_create(eventsv1.to_core(obj)),
    validate_update=lambda new, old: events.strict_update(eventsv1.to_core(new), eventsv1.to_core(old)),
    field_paths=_LABELS,
    view=View(eventsv1.from_core, eventsv1.to_core, eventsv1.FIELD_LABELS),
)
