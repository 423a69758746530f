"""events.k8s.io/v1 Event <-> core v1 Event: the field renames between the two shapes of one object.

kube-apiserver serves Event in two groups over one storage (`/registry/events/<ns>/<name>`), and
converts between them (pkg/apis/events/v1 `Convert_v1_Event_To_core_Event` and back): `regarding`
is `involvedObject`, `note` is `message`, `reportingController` is `reportingComponent`,
`deprecatedSource`, `deprecatedFirstTimestamp`, `deprecatedLastTimestamp` and `deprecatedCount`
are `source`, `firstTimestamp`, `lastTimestamp` and `count`; every other field (`reason`, `type`,
`action`, `eventTime`, `series`, `related`, `reportingInstance`, `metadata`) has the same name and
shape in both. So a conversion is a rename of top-level keys, nothing deeper: it keeps the keys an
object has (and their order), adds none, and the two directions are inverses.

kubelite stores the core shape. The API server converts on every read and write of
events.k8s.io (`apiserver.kinds.events`); kubectl's printer converts to show an events.k8s.io
Event in the columns of a core one, as kube's printer does on its internal type. Pure; these
functions own no I/O and never mutate their argument.
"""

from __future__ import annotations

from typing import Any

CORE_API_VERSION = "v1"
API_VERSION = "events.k8s.io/v1"

# events.k8s.io/v1 name -> core v1 name, for the fields that differ
_TO_CORE = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
_FROM_CORE = {core: v1 for v1, core in _TO_CORE.items()}

# kube's field label conversion for events.k8s.io/v1 (AddFieldLabelConversionsForEvent): the
# selectable labels of the events.k8s.io shape -> the core fields a selector is matched on
FIELD_LABELS = {
    "reason": "reason",
    "regarding.kind": "involvedObject.kind",
    "regarding.namespace": "involvedObject.namespace",
    "regarding.name": "involvedObject.name",
    "regarding.uid": "involvedObject.uid",
    "regarding.apiVersion": "involvedObject.apiVersion",
    "regarding.resourceVersion": "involvedObject.resourceVersion",
    "regarding.fieldPath": "involvedObject.fieldPath",
    "reportingController": "reportingComponent",
    "source": "source",
    "type": "type",
    "metadata.namespace": "metadata.namespace",
    "metadata.name": "metadata.name",
}


def _renamed(obj: dict[str, Any], names: dict[str, str], api_version: str) -> dict[str, Any]:
    out = {names.get(k, k): v for k, v in obj.items()}
    if "apiVersion" in obj:
        out["apiVersion"] = api_version
    return out


def to_core(event: dict[str, Any]) -> dict[str, Any]:
    """An events.k8s.io/v1 Event in the core v1 shape."""
    return _renamed(event, _TO_CORE, CORE_API_VERSION)


def from_core(event: dict[str, Any]) -> dict[str, Any]:
    """A core v1 Event in the events.k8s.io/v1 shape."""
    return _renamed(event, _FROM_CORE, API_VERSION)
