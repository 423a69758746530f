"""A byte-level pre-test for selectors, so rows and events that cannot match are never parsed.

A stored object is orjson output: compact, keys and strings as sent, no whitespace. If a
selector requires `app=web` (label) or `spec.nodeName=n1` (a string field), a matching object's
bytes necessarily contain `"app":"web"` / `"nodeName":"n1"`. Missing needle -> no match, no
parse. A needle that is present proves nothing (it may sit in another field), so the full
selector still decides. Only `=`/`in`-with-one-value terms on string-valued paths give needles.
"""

from __future__ import annotations

from collections.abc import Callable

from api import jsonutil
from api.selectors import FieldSelector, LabelSelector

# field-selector paths whose values are JSON strings in the stored object
STRING_PATHS = frozenset(
    {
        "metadata.name",
        "metadata.namespace",
        "spec.nodeName",
        "status.phase",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.podIP",
        "status.nominatedNodeName",
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "type",
        "spec.clusterIP",
        "spec.type",
    }
)


def _needle(key: str, value: str) -> bytes:
    return jsonutil.dumps(key) + b":" + jsonutil.dumps(value)


def needles(labels: LabelSelector, fields: FieldSelector) -> list[bytes]:
    out = []
    for r in labels.requirements:
        if r.op in ("=", "in") and len(r.values) == 1 and r.values[0]:
            out.append(_needle(r.key, r.values[0]))
    for f in fields.requirements:
        if f.op == "=" and f.value and f.path in STRING_PATHS:
            out.append(_needle(f.path.rsplit(".", 1)[-1], f.value))
    return out


def may_match(labels: LabelSelector, fields: FieldSelector) -> Callable[[bytes], bool] | None:
    """`test(value) -> False` only when the object cannot match; None when there is nothing to test."""
    ns = needles(labels, fields)
    if not ns:
        return None
    if len(ns) == 1:
        one = ns[0]
        return lambda value: one in value
    return lambda value: all(n in value for n in ns)
