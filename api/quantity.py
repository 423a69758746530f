"""Resource quantities (`100m`, `1.5Gi`, `2`, `1e3`) as exact decimals.

Kubernetes `resource.Quantity`: a signed decimal number followed by a binary-SI suffix
(Ki Mi Gi Ti Pi Ei), a decimal-SI suffix (n u m "" k M G T P E) or a decimal exponent (`e3`,
`E-2`). The API server validates requests and limits with it; the scheduler sums requests and
the kubelet turns limits into cgroup values, so it lives in `api`. JSON numbers are accepted
as well as strings (the wire allows both). Values are `Decimal`, so `0.1` + `0.2` cpu is exact.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

QUANTITY_PATTERN = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
QUANTITY_ERROR = f"quantities must match the regular expression '{QUANTITY_PATTERN}'"

_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}
_EXPONENT = re.compile(r"^[eE][+-]?[0-9]+$")


def parse_quantity(value: str | int | float) -> Decimal:
    """The exact value of a quantity; ValueError (with the API server's wording) if malformed."""
    if isinstance(value, bool):
        raise ValueError(QUANTITY_ERROR)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(QUANTITY_ERROR)
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise ValueError(QUANTITY_ERROR)
    s = value.strip()
    m = _NUMBER.match(s)
    if not m:
        raise ValueError(QUANTITY_ERROR)
    number, suffix = m.group(0), s[m.end() :]
    try:
        base = Decimal(number)
    except InvalidOperation:
        raise ValueError(QUANTITY_ERROR) from None
    if suffix in _BINARY:
        return base * _BINARY[suffix]
    if suffix in _DECIMAL:
        return base * _DECIMAL[suffix]
    if _EXPONENT.match(suffix):
        return base.scaleb(int(suffix[1:]))
    raise ValueError(QUANTITY_ERROR)


def quantity_or_none(value: object) -> Decimal | None:
    """The quantity, None when `value` is not one (what validation reports; admission skips it)."""
    if isinstance(value, Decimal):
        return value
    try:
        return parse_quantity(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ArithmeticError):
        return None


def is_quantity(value: object) -> bool:
    try:
        parse_quantity(value)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def to_int(value: str | int | float) -> int:
    """The value rounded up to a whole unit (Quantity.Value): bytes, whole cpus."""
    return math.ceil(parse_quantity(value))


def to_milli(value: str | int | float) -> int:
    """The value in thousandths rounded up (Quantity.MilliValue): millicpus."""
    return math.ceil(parse_quantity(value) * 1000)


def format_whole(value: int, like: str = "") -> str:
    """A whole number as Quantity.String() writes it in the format of `like` (the quantity it was
    summed from): the largest binary suffix that divides it exactly when `like` has one (BinarySI),
    else the largest decimal one (DecimalSI); `1536Mi`, `2Gi`, `3G`, `1500`."""
    binary = like[-2:] in _BINARY
    steps = (
        sorted(_BINARY.items(), key=lambda kv: -kv[1])
        if binary
        else [(s, int(f)) for s, f in sorted(_DECIMAL.items(), key=lambda kv: -kv[1]) if f >= 1000]
    )
    for suffix, factor in steps:
        if value and value % factor == 0:
            return f"{value // factor}{suffix}"
    return str(value)
