"""Field table of events.k8s.io/v1 Event, in the compact notation of `types.py` (k8s.io/api
events/v1 as of Kubernetes 1.33).

Its types are named `Event` and `EventSeries` in their package, as the core ones are in theirs;
the table is keyed by type name, so here they are `EventsV1Event` and `EventsV1EventSeries`, and
`NAMES` gives the name kube uses (OpenAPI's `io.k8s.api.events.v1.Event`, decode errors' Go type).
`regarding`, `related` and `deprecatedSource` are the core ObjectReference and EventSource.
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META

EVENTS = "io.k8s.api.events.v1"

EVENTS_TYPES: dict[str, dict[str, str]] = {
    "EventsV1Event": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "eventTime!": "MicroTime",
        "series": "EventsV1EventSeries",
        "reportingController": "string",
        "reportingInstance": "string",
        "action": "string",
        "reason": "string",
        "regarding": "ObjectReference",
        "related": "ObjectReference",
        "note": "string",
        "type": "string",
        "deprecatedSource": "EventSource",
        "deprecatedFirstTimestamp": "Time",
        "deprecatedLastTimestamp": "Time",
        "deprecatedCount": "integer",
    },
    "EventsV1EventSeries": {"count!": "integer", "lastObservedTime!": "MicroTime"},
}

EVENTS_KINDS: dict[str, str] = {"EventsV1Event": "events.k8s.io/v1"}
EVENTS_LISTED_KINDS = tuple(EVENTS_KINDS)
# type name here -> kube's name of the type (and of its List)
NAMES = {
    "EventsV1Event": "Event",
    "EventsV1EventSeries": "EventSeries",
    "EventsV1EventList": "EventList",
}
