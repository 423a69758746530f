"""LimitRange's v1 defaulting and validation, as kube-apiserver does them (pkg/apis/core/v1:
SetDefaults_LimitRangeItem; pkg/apis/core/validation: ValidateLimitRange).

Defaulting fills a Container item from itself and is stored: a default limit from the max, a
default request from the default limit, else from the min. So the item a LimitRanger reads says
what every container without its own values gets. Validation keeps the numbers in order
(min <= default request <= default <= max), a ratio of at least 1 and no more than max/min, no
defaults on a Pod item, and a storage bound on a PersistentVolumeClaim item.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.errors import (
    Cause,
    field_duplicate,
    field_forbidden,
    field_invalid,
    field_not_supported,
    field_required,
)
from api.quantity import parse_quantity

Obj = dict[str, Any]

CONTAINER, POD, CLAIM = "Container", "Pod", "PersistentVolumeClaim"
_TYPES = [CONTAINER, CLAIM, POD]
_BOUNDS = ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")


def items(obj: Obj) -> list[Obj]:
    limits = (obj.get("spec") or {}).get("limits")
    return [i for i in limits if isinstance(i, dict)] if isinstance(limits, list) else []


def default_limit_range(obj: Obj) -> None:
    """SetDefaults_LimitRangeItem on every Container item (in place, idempotent), and every item's
    quantities in their canonical text."""
    from apiserver.defaults import canonical_quantities

    for item in items(obj):
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            canonical_quantities(item.get(key))
        if item.get("type") != CONTAINER:
            continue
        default = item.setdefault("default", {})
        request = item.setdefault("defaultRequest", {})
        if not all(isinstance(m, dict) for m in (default, request)):
            continue
        for name, value in (item.get("max") or {}).items():
            default.setdefault(name, value)
        for name, value in default.items():
            request.setdefault(name, value)
        for name, value in (item.get("min") or {}).items():
            request.setdefault(name, value)
        for key in ("default", "defaultRequest"):  # kube omits what stayed empty
            if not item[key]:
                del item[key]


def _quantities(item: Obj, key: str) -> dict[str, tuple[Any, Decimal]]:
    """The item's `key` map as name -> (as written, value); what does not parse is the type check's."""
    out: dict[str, tuple[Any, Decimal]] = {}
    raw = item.get(key)
    for name, value in raw.items() if isinstance(raw, dict) else []:
        try:
            out[name] = (value, parse_quantity(value))
        except (TypeError, ValueError, ArithmeticError):
            continue
    return out


# the order each item's numbers must keep, as kube checks it: (lower map, its word, upper map, its
# word, the map whose field the cause names)
_ORDER = (
    ("min", "min", "max", "max", "min"),
    ("min", "min", "defaultRequest", "default request", "defaultRequest"),
    ("defaultRequest", "default request", "max", "max", "defaultRequest"),
    ("defaultRequest", "default request", "default", "default limit", "defaultRequest"),
    ("min", "min", "default", "default", "default"),
    ("default", "default", "max", "max", "default"),
)


def _ratio_text(value: Decimal) -> str:
    """Go's %f of a float64."""
    return f"{float(value):f}"


def validate_limit_range(obj: Obj) -> list[Cause]:
    out: list[Cause] = []
    seen: set[str] = set()
    for i, item in enumerate(items(obj)):
        path = f"spec.limits[{i}]"
        kind = item.get("type")
        if kind not in _TYPES:  # kube takes any name and applies none but these: refused, not ignored
            out.append(field_not_supported(f"{path}.type", kind, _TYPES))
        if kind in seen:
            out.append(field_duplicate(f"{path}.type", kind))
        seen.add(str(kind))
        q = {key: _quantities(item, key) for key in _BOUNDS}
        if kind == POD:
            for key in ("default", "defaultRequest"):
                if item.get(key):
                    out.append(field_forbidden(f"{path}.{key}", "may not be specified when `type` is 'Pod'"))
        for low, low_word, high, high_word, shown_at in _ORDER:
            for name, (shown, _) in q[shown_at].items():
                a, b = q[low].get(name), q[high].get(name)
                if a is not None and b is not None and a[1] > b[1]:
                    out.append(
                        field_invalid(
                            f"{path}.{shown_at}[{name}]",
                            shown,
                            f"{low_word} value {a[0]} is greater than {high_word} value {b[0]}",
                        )
                    )
        for name, (shown, ratio) in q["maxLimitRequestRatio"].items():
            if ratio < 1:
                out.append(
                    field_invalid(
                        f"{path}.maxLimitRequestRatio[{name}]", shown, f"ratio {shown} is less than 1"
                    )
                )
            if name in q["max"] and name in q["min"] and q["min"][name][1] > 0:
                most = q["max"][name][1] / q["min"][name][1]
                if ratio > most:
                    out.append(
                        field_invalid(
                            f"{path}.maxLimitRequestRatio[{name}]",
                            shown,
                            f"ratio {shown} is greater than max/min = {_ratio_text(most)}",
                        )
                    )
        if kind == CLAIM and "storage" not in q["min"] and "storage" not in q["max"]:
            out.append(
                field_required(
                    f"{path}.limits",
                    "either minimum or maximum storage value is required, but neither was provided",
                )
            )
    return out
