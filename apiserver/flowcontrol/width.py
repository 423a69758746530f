"""How many seats a request takes: kube-apiserver's work estimator (Kubernetes 1.33), pure.

- A LIST takes one seat per 100 objects it is estimated to process (kube's objectsPerSeat),
  at least 1 and at most the level's max seats: one object when a field selector names it
  (`metadata.name=`), all the stored objects when served from the watch cache, those plus the
  limit when a selector filters what storage returns, twice the limit otherwise. kube counts
  the stored objects of each resource periodically (its object count tracker); a resource
  not counted yet takes the minimum, as kube does for a count it does not have.
- A create, update, patch or delete takes 1 seat while it runs and, once 10 or more watches
  may see its event, ceil(watches / 10) seats (kube's watchesPerSeat) for an additional
  5 ms per seat of event fan-out after it answers, capped at the level's max seats with the
  latency stretched to keep the same seat-seconds. A ServiceAccount token request makes no
  event and takes 1 seat. Which watches may see it is kube's watch tracker (`watch_identity`):
  those of the resource everywhere, in the write's namespace, or of the written object by name;
  a kubelet's watch of its own pods (`spec.nodeName=<node>`) is not counted, as kube's
  watch cache indexes those and does not fan a pod's event out to the other nodes' watches.
- Anything else (get, watch, non-resource paths) takes 1 seat.
- A level's max seats: max(1, min(ceil(0.15 * NominalCL), NominalCL / handSize)) for a
  queuing level, and no more than 10 (kube's MaximumSeats); 10 for a Reject level.

Left out: kube 1.34's size-based list estimate (SizeBasedListCostEstimate) is not in 1.33.
"""

from __future__ import annotations

import math

MIN_SEATS = 1
MAX_SEATS = 10
OBJECTS_PER_SEAT = 100.0
WATCHES_PER_SEAT = 10.0
EVENT_LATENCY = 0.005  # seconds per final seat (kube's eventAdditionalDuration)
MAX_SEATS_PERCENT = 0.15  # of the nominal limit (kube's priorityLevelMaxSeatsPercent)
MUTATING = frozenset({"create", "update", "patch", "delete"})


def level_max_seats(nominal: int, hand_size: int, queuing: bool) -> int:
    """The widest request of a level (kube's MaxSeatsTracker, capped at MaximumSeats)."""
    if not queuing:
        return MAX_SEATS
    return min(MAX_SEATS, max(1, min(math.ceil(nominal * MAX_SEATS_PERCENT), nominal // max(1, hand_size))))


def makes_event(verb: str, resource: str, subresource: str | None) -> bool:
    """Whether a request writes something watches see (kube's isRequestExemptFromWatchEvents: a
    ServiceAccount token request makes no event)."""
    return verb in MUTATING and not (subresource == "token" and resource == "serviceaccounts")


def list_from_cache(query: dict[str, str]) -> bool:
    """Whether kube would serve this LIST from its watch cache (1.33, with ConsistentListFromCache):
    not a continuation, not a limited list at a resourceVersion other than 0, and not an exact or
    unsupported resourceVersionMatch."""
    rv = query.get("resourceVersion", "")
    match = query.get("resourceVersionMatch", "")
    limited = _int(query.get("limit")) > 0
    if query.get("continue"):
        return False
    if limited and rv not in ("", "0"):
        return False
    return match in ("", "NotOlderThan")


def list_seats(stored: int | None, query: dict[str, str], max_seats: int) -> int:
    """A LIST's seats from the number of objects stored of its resource (None: not counted)."""
    if stored is None:
        return MIN_SEATS
    limit = _int(query.get("limit"))
    limited = limit if 0 < limit < stored else stored
    fields, labels = query.get("fieldSelector", ""), query.get("labelSelector", "")
    if _exact(fields, "metadata.name"):
        objects = 1
    elif list_from_cache(query):
        objects = stored
    elif fields or labels:
        objects = stored + limited
    else:
        objects = 2 * limited
    return max(MIN_SEATS, min(max_seats, math.ceil(objects / OBJECTS_PER_SEAT)))


# the watch tracker's identity of a watch, or of a write's object: (group, resource, namespace, name)
WatchIdentity = tuple[str, str, str, str]
# kube's built-in watch cache indexes: a watch naming a value of this field sees only its objects
INDEXED_FIELDS = {("", "pods"): "spec.nodeName"}


def watch_identity(group: str, resource: str, namespace: str, query: dict[str, str]) -> WatchIdentity | None:
    """How kube's watch tracker counts a watch: by resource, namespace and the one name its
    `metadata.name` field selector asks for; None for a watch of an indexed field's value
    (a kubelet's `spec.nodeName=<node>`), which kube leaves uncounted."""
    fields = query.get("fieldSelector", "")
    indexed = INDEXED_FIELDS.get((group, resource))
    if indexed is not None and _exact(fields, indexed):
        return None
    return group, resource, namespace, _exact(fields, "metadata.name")


def interested(counts: dict[WatchIdentity, int], group: str, resource: str, namespace: str, name: str) -> int:
    """The watches that may see a write's event (kube's GetInterestedWatchCount): of the resource
    everywhere, in the write's namespace, and of the written object by name (a create names none)."""
    n = counts.get((group, resource, "", ""), 0)
    if namespace:
        n += counts.get((group, resource, namespace, ""), 0)
    if name:
        n += counts.get((group, resource, namespace, name), 0)
    return n


def mutating_work(watches: int, max_seats: int) -> tuple[int, float]:
    """A write's (final seats, additional latency in seconds) from the watches that see its event."""
    if watches < WATCHES_PER_SEAT:
        return 0, 0.0
    final = math.ceil(watches / WATCHES_PER_SEAT)
    work = final * EVENT_LATENCY  # seat-seconds, kept when the seats are capped
    final = min(final, max_seats)
    return final, work / final


def _exact(field_selector: str, field: str) -> str:
    """The value a field selector requires `field` to equal ('' if none): kube's RequestInfo takes
    a LIST's or a watch's name from `metadata.name=`, and its watch tracker an index's value so."""
    for term in field_selector.split(","):
        if "!=" in term:
            continue
        key, op, value = term.partition("==" if "==" in term else "=")
        if op and key.strip() == field:
            return value.strip()
    return ""


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
