"""A small resource.Quantity parser for the scheduler (`100m`, `1.5`, `128Mi`, `1G`, `2e3`).

Private to the scheduler until `api.quantity` lands; only what filters need: CPU in
millicores and everything else in whole units, rounded up as Kubernetes rounds requests.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_SUFFIX = {
    "": Decimal(1), "m": Decimal("0.001"), "u": Decimal("0.000001"), "n": Decimal("0.000000001"),
    "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}
_RE = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


def parse(q: str | int | float) -> Decimal:
    if isinstance(q, int | float):
        return Decimal(str(q))
    m = _RE.match(q.strip())
    if not m or m.group(2) not in _SUFFIX:
        raise ValueError(f"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {q!r}")
    try:
        return Decimal(m.group(1)) * _SUFFIX[m.group(2)]
    except InvalidOperation as e:
        raise ValueError(f"invalid quantity {q!r}") from e


def milli(q: str | int | float) -> int:
    """CPU in millicores, rounded up (`100m` -> 100, `0.5` -> 500)."""
    return math.ceil(parse(q) * 1000)


def units(q: str | int | float) -> int:
    """Memory, pods, ... in whole units, rounded up (`128Mi` -> 134217728)."""
    return math.ceil(parse(q))
