"""Kubernetes' CEL object libraries for cel-python: quantity() and url() (ip() and cidr() are
`netobjects`').

kube-apiserver's CEL environment adds these (k8s.io/apiserver/pkg/cel/library quantity.go,
urls.go, ip.go, cidr.go); CRD rules and policies call them, e.g. `quantity(self.memory)
.isLessThan(quantity('4Gi'))` or `cidr(self.range).containsIP(self.gateway)`. Each value is a
small Python object that cel-python passes to the functions below (a method call `x.f(y)` is
`f(x, y)` to cel-python, so one function serves every receiver of its name):

- quantity(s) / isQuantity(s): kube's resource.Quantity syntax (`1.5Gi`, `500m`, `2e3`), held as
  an exact fraction; sign, isInteger, asInteger (an error when not an int64), asApproximateFloat,
  add/sub (a quantity or an int), compareTo, isLessThan, isGreaterThan; `==` compares values.
- url(s) / isURL(s): Go's url.ParseRequestURI (an absolute URI or an absolute path); getScheme,
  getHost (with its port), getHostname (without port or brackets), getPort, getEscapedPath,
  getQuery (a map of lists).

An invalid argument is an evaluation error, as in kube. Not provided: `string()`/`double()`
conversions of these objects, and the `format` library (refused when written, naming it).
"""

from __future__ import annotations

import re
import urllib.parse
from fractions import Fraction
from typing import Any

from apiserver.cel.library import _str, _string
from apiserver.crd.formats import is_request_uri

_QUANTITY = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?([eEinumkKMGTP]*[-+]?[0-9]*)")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
QUANTITY_FORMAT = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
_INT64 = 2**63


def _celpy() -> Any:
    import celpy

    return celpy


def _error(message: str) -> Any:
    return _celpy().CELEvalError(message)


def _bool(value: bool) -> Any:
    return _celpy().celtypes.BoolType(value)


def _int(value: int) -> Any:
    return _celpy().celtypes.IntType(value)


# --- quantity ------------------------------------------------------------------------------------


class Quantity:
    def __init__(self, value: Fraction) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def parse_quantity(text: str) -> Fraction | None:
    m = _QUANTITY.fullmatch(text)
    if m is None or not (m.group(2) or m.group(3)):
        return None
    sign, whole, frac, suffix = m.groups()
    number = Fraction(int(whole or "0")) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
    if suffix in _BINARY:
        number *= 2 ** _BINARY[suffix]
    elif suffix in _DECIMAL:
        number *= Fraction(10) ** _DECIMAL[suffix]
    elif re.fullmatch(r"[eE][-+]?\d+", suffix):
        number *= Fraction(10) ** int(suffix[1:])
    else:
        return None
    nanos = number * 10**9  # kube keeps nano precision, rounding up (away from zero)
    if nanos.denominator != 1:
        number = Fraction(-(-nanos.numerator // nanos.denominator), 10**9)
    return -number if sign == "-" else number


def quantity(s: Any) -> Any:
    value = parse_quantity(_str(s))
    return _error(QUANTITY_FORMAT) if value is None else Quantity(value)


def is_quantity(s: Any) -> Any:
    return _bool(parse_quantity(_str(s)) is not None)


def _q(value: Any) -> Fraction:
    if isinstance(value, Quantity):
        return value.value
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(int(value))
    raise TypeError("no such overload")


def sign(q: Any) -> Any:
    v = _q(q)
    return _int((v > 0) - (v < 0))


def is_integer(q: Any) -> Any:
    v = _q(q)
    return _bool(v.denominator == 1 and -_INT64 <= v < _INT64)


def as_integer(q: Any) -> Any:
    v = _q(q)
    if v.denominator != 1 or not -_INT64 <= v < _INT64:
        return _error("cannot convert value to integer")
    return _int(int(v))


def as_approximate_float(q: Any) -> Any:
    return _celpy().celtypes.DoubleType(float(_q(q)))


def add(q: Any, other: Any) -> Any:
    return Quantity(_q(q) + _q(other))


def sub(q: Any, other: Any) -> Any:
    return Quantity(_q(q) - _q(other))


def compare_to(q: Any, other: Any) -> Any:
    a, b = _q(q), _q(other)
    return _int((a > b) - (a < b))


def is_less_than(q: Any, other: Any) -> Any:
    return _bool(_q(q) < _q(other))


def is_greater_than(q: Any, other: Any) -> Any:
    return _bool(_q(q) > _q(other))


# --- url -----------------------------------------------------------------------------------------


class URL:
    def __init__(self, text: str) -> None:
        self.text = text
        parts = urllib.parse.urlsplit(text, allow_fragments=False)
        self.scheme, self.host, self.path, self.query = (
            parts.scheme,
            parts.netloc.rpartition("@")[2],
            parts.path,
            parts.query,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, URL) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def url(s: Any) -> Any:
    text = _str(s)
    return (
        URL(text)
        if is_request_uri(text)
        else _error("URL parse error during conversion from string: invalid URI for request")
    )


def is_url(s: Any) -> Any:
    return _bool(is_request_uri(_str(s)))


def _url(u: Any) -> URL:
    if not isinstance(u, URL):
        raise TypeError("no such overload")
    return u


def get_scheme(u: Any) -> Any:
    return _string(_url(u).scheme)


def get_host(u: Any) -> Any:
    return _string(_url(u).host)


def _split_host(host: str) -> tuple[str, str]:
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else ""
    name, colon, port = host.rpartition(":")
    return (name, port) if colon else (host, "")


def get_hostname(u: Any) -> Any:
    return _string(_split_host(_url(u).host)[0])


def get_port(u: Any) -> Any:
    return _string(_split_host(_url(u).host)[1])


def get_escaped_path(u: Any) -> Any:
    return _string(_url(u).path)


def get_query(u: Any) -> Any:
    t = _celpy().celtypes
    parsed = urllib.parse.parse_qs(_url(u).query, keep_blank_values=True, separator="&")
    return t.MapType({t.StringType(k): t.ListType([t.StringType(v) for v in vs]) for k, vs in parsed.items()})


FUNCTIONS = {
    **{"quantity": quantity, "isQuantity": is_quantity, "sign": sign, "isInteger": is_integer},
    **{"asInteger": as_integer, "asApproximateFloat": as_approximate_float, "add": add, "sub": sub},
    **{"compareTo": compare_to, "isLessThan": is_less_than, "isGreaterThan": is_greater_than},
    **{"url": url, "isURL": is_url, "getScheme": get_scheme, "getHost": get_host},
    **{"getHostname": get_hostname, "getPort": get_port, "getEscapedPath": get_escaped_path},
    **{"getQuery": get_query},
}
