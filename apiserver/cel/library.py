"""Kubernetes' CEL libraries that CRD rules and admission expressions most call, for cel-python.

kube-apiserver's CEL environment adds to CEL's standard functions the extended strings library
of cel-go (`charAt`, `indexOf`, `lastIndexOf`, `lowerAscii`, `upperAscii`, `replace`, `split`,
`substring`, `trim`, `join`), kube's lists library (`isSorted`, `sum`, `min`, `max`, `indexOf`,
`lastIndexOf`), its regex library (`find`, `findAll`) and the IP and CIDR predicates (`isIP`,
`isCIDR`). Real CRDs call them: Gateway API's Gateway checks a label key's prefix with
`key.split("/")[0].size() < 253`. They are given here with cel-go's semantics (indices count
code points; `split` and `replace` take Go's optional count, negative meaning all; `lowerAscii`
changes ASCII letters only; an index out of range is an error, not a clamp).

The quantity(), url(), ip() and cidr() objects are `kubetypes`'. What neither gives stays
refused when an expression is written (`expressions.unsupported`): `format`, `quote`, `reverse`,
the `format.named` library and the authorizer (optional types are `optional`'s). Arguments of a
wrong type are cel-python's "no such overload" at evaluation (kube would refuse the expression
when it is compiled, where the schema gives the types).
Regular expressions are Python's, as for `matches` (kube's are RE2: the same for the patterns
these manifests use).
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any


def _celpy() -> Any:
    import celpy  # imported by expressions before any of these runs

    return celpy


def _error(message: str) -> Any:
    return _celpy().CELEvalError(message)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return str(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, got {type(value).__name__}")
    return int(value)


def _string(value: str) -> Any:
    return _celpy().celtypes.StringType(value)


def _integer(value: int) -> Any:
    return _celpy().celtypes.IntType(value)


# --- strings (cel-go ext.Strings) ---------------------------------------------------------------


def char_at(s: Any, i: Any) -> Any:
    text, index = _str(s), _int(i)
    if index < 0 or index > len(text):
        return _error(f"index out of range: {index}")
    return _string(text[index : index + 1])


def _index_of_string(text: str, sub: str, offset: int) -> Any:
    if offset < 0 or offset > len(text):
        return _error(f"index out of range: {offset}")
    return _integer(text.find(sub, offset))


def _last_index_of_string(text: str, sub: str, offset: int | None) -> Any:
    end = len(text) if offset is None else offset
    if end < 0 or end > len(text):
        return _error(f"index out of range: {end}")
    return _integer(text.rfind(sub, 0, end + len(sub)))


def index_of(target: Any, value: Any, offset: Any = None) -> Any:
    """A string's `indexOf(sub[, offset])`, or a list's `indexOf(value)` (kube's lists library)."""
    if isinstance(target, list):
        if offset is not None:
            raise TypeError("a list's indexOf takes one argument")
        return _integer(next((i for i, x in enumerate(target) if x == value), -1))
    return _index_of_string(_str(target), _str(value), 0 if offset is None else _int(offset))


def last_index_of(target: Any, value: Any, offset: Any = None) -> Any:
    if isinstance(target, list):
        if offset is not None:
            raise TypeError("a list's lastIndexOf takes one argument")
        found = [i for i, x in enumerate(target) if x == value]
        return _integer(found[-1] if found else -1)
    return _last_index_of_string(_str(target), _str(value), None if offset is None else _int(offset))


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def lower_ascii(s: Any) -> Any:
    return _string(_str(s).translate(_ASCII_LOWER))


def upper_ascii(s: Any) -> Any:
    return _string(_str(s).translate(_ASCII_UPPER))


def replace(s: Any, old: Any, new: Any, n: Any = None) -> Any:
    count = -1 if n is None else _int(n)
    text, before, after = _str(s), _str(old), _str(new)
    if count == 0:
        return _string(text)
    if before == "":  # Go: inserted before every code point and at the end
        parts = list(text)
        limit = len(parts) + 1 if count < 0 else count
        out = "".join((after if i < limit else "") + c for i, c in enumerate(parts))
        return _string(out + (after if limit > len(parts) else ""))
    return _string(text.replace(before, after, count if count > 0 else -1))


def split(s: Any, sep: Any, n: Any = None) -> Any:
    """Go's strings.SplitN: n < 0 all the pieces, 0 none, n at most n (the last holds the rest)."""
    text, separator = _str(s), _str(sep)
    count = -1 if n is None else _int(n)
    if count == 0:
        return _celpy().celtypes.ListType([])
    if separator == "":
        pieces = list(text)
        if 0 < count < len(pieces):
            pieces = [*pieces[: count - 1], "".join(pieces[count - 1 :])]
    else:
        pieces = text.split(separator, count - 1 if count > 0 else -1)
    return _celpy().celtypes.ListType([_string(p) for p in pieces])


def substring(s: Any, start: Any, end: Any = None) -> Any:
    text = _str(s)
    first = _int(start)
    last = len(text) if end is None else _int(end)
    if first < 0 or first > len(text):
        return _error(f"index out of range: {first}")
    if last < 0 or last > len(text):
        return _error(f"index out of range: {last}")
    if first > last:
        return _error(f"invalid substring range. start: {first}, end: {last}")
    return _string(text[first:last])


def trim(s: Any) -> Any:
    return _string(_str(s).strip())


def join(values: Any, sep: Any = None) -> Any:
    if not isinstance(values, list):
        raise TypeError("join is called on a list of strings")
    return _string(("" if sep is None else _str(sep)).join(_str(v) for v in values))


# --- lists (kube's library) ---------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return list(value)


def is_sorted(values: Any) -> Any:
    items = _list(values)
    return _celpy().celtypes.BoolType(all(a <= b for a, b in itertools.pairwise(items)))


def sum_(values: Any) -> Any:
    items = _list(values)
    if not items:
        return _integer(0)
    total = items[0]
    for item in items[1:]:
        total = total + item
    return total


def min_(values: Any) -> Any:
    items = _list(values)
    return min(items) if items else _error("min called on empty list")


def max_(values: Any) -> Any:
    items = _list(values)
    return max(items) if items else _error("max called on empty list")


# --- regex (kube's library) ---------------------------------------------------------------------


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def find(s: Any, pattern: Any) -> Any:
    try:
        match = _regex(_str(pattern)).search(_str(s))
    except re.error as e:
        return _error(f"invalid regex: {e}")
    return _string(match.group(0) if match else "")


def find_all(s: Any, pattern: Any, n: Any = None) -> Any:
    limit = -1 if n is None else _int(n)
    try:
        matches = [m.group(0) for m in _regex(_str(pattern)).finditer(_str(s))]
    except re.error as e:
        return _error(f"invalid regex: {e}")
    if limit >= 0:
        matches = matches[:limit]
    return _celpy().celtypes.ListType([_string(m) for m in matches])


# --- IP and CIDR predicates (kube's library) ----------------------------------------------------


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """kube's IP parse: no zone, no IPv4-mapped IPv6 form, no leading zeros in IPv4 octets."""
    if "%" in text:
        return None
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None and "." in text:
        return None
    return addr


def is_ip(s: Any) -> Any:
    return _celpy().celtypes.BoolType(_ip(_str(s)) is not None)


def is_cidr(s: Any) -> Any:
    text = _str(s)
    address, slash, prefix = text.partition("/")
    ok = bool(slash) and prefix.isdigit() and _ip(address) is not None
    if ok:
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            ok = False
    return _celpy().celtypes.BoolType(ok)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "charAt": char_at,
    "indexOf": index_of,
    "lastIndexOf": last_index_of,
    "lowerAscii": lower_ascii,
    "upperAscii": upper_ascii,
    "replace": replace,
    "split": split,
    "substring": substring,
    "trim": trim,
    "join": join,
    "isSorted": is_sorted,
    "sum": sum_,
    "min": min_,
    "max": max_,
    "find": find,
    "findAll": find_all,
    "isIP": is_ip,
    "isCIDR": is_cidr,
}
