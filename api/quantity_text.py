"""A quantity's canonical text, as a Go client writes a `resource.Quantity` it parsed.

`kubectl create quota --hard=cpu=1000m` sends `cpu: "1"`: the Go client parses each value into a
Quantity and marshals it back. The text a user gave is kept when apimachinery judges it already
canonical (a small integer mantissa whose exponent is a multiple of three and has no trailing
`000`, or a binary value not divisible by 8); otherwise the value is written again: the mantissa
with its factors of ten moved into an exponent that is a multiple of three and named by its SI
suffix (`1500m`, `2k`), or a whole binary value named by its power of 1024 (`1536Mi`). Values
below a nano round up to one. `api.quantity` holds the arithmetic; this module only the text.
"""

from __future__ import annotations

from decimal import ROUND_UP, Context, Decimal

from api.quantity import QUANTITY_ERROR

SUFFIX_ERROR = "unable to parse quantity's suffix"
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_NAMES = {e: s for s, e in _DECIMAL.items()}
_BINARY_NAMES = {e // 10: s for s, e in _BINARY.items()}
_DIGITS = "0123456789"
_INT64 = 2**63


def _split(text: str) -> tuple[bool, str, str, str]:
    """(positive, integer digits, fraction digits, suffix) as apimachinery's parseQuantityString."""
    if not text:
        raise ValueError(QUANTITY_ERROR)
    positive, pos, end = text[0] != "-", 0, len(text)
    if text[0] in "+-":
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        start = pos = pos + 1
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
    suffix = text[pos:]
    rest = suffix.lstrip("eEinumkKMGTP")
    rest = rest[1:] if rest[:1] in ("+", "-") else rest
    if rest.strip(_DIGITS):
        raise ValueError(QUANTITY_ERROR)
    return positive, num, denom, suffix


def _interpret(suffix: str) -> tuple[int, int, str]:
    """(base, exponent, format) of a suffix."""
    if suffix in _DECIMAL:
        return 10, _DECIMAL[suffix], "DecimalSI"
    if suffix in _BINARY:
        return 2, _BINARY[suffix], "BinarySI"
    if len(suffix) > 1 and suffix[0] in "eE":
        try:
            return 10, int(suffix[1:]), "DecimalExponent"
        except ValueError:
            pass
    raise ValueError(SUFFIX_ERROR)


def canonical_quantity(text: str) -> str:
    """The text a Go client sends for `text`; ValueError with apimachinery's wording if malformed."""
    positive, num, denom, suffix = _split(text)
    base, exponent, fmt = _interpret(suffix)
    if fmt == "BinarySI":
        fast = exponent >= 0 and not denom
        precision = 15 - len(num) - int(exponent * 3 / 10) - 1 if fast else -1
        scale, mantissa = 0, (1 << exponent if fast else 1)
    else:
        precision = 18 - len(num) - len(denom)
        scale, mantissa = exponent, 1
    value: Decimal | None = None
    if precision >= 0 and scale - len(denom) >= -9:
        scale -= len(denom)
        shifted = num + denom
        whole = int(shifted) * mantissa
        if whole < _INT64:
            reusable = (
                exponent % 10 == 0 and int(shifted) & 7 != 0
                if fmt == "BinarySI"
                else scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
            )
            if reusable:
                return text
            value = Decimal(whole if positive else -whole).scaleb(scale)
    if value is None:
        ctx = Context(prec=200)
        amount = Decimal(f"{'' if positive else '-'}{num}.{denom or '0'}")
        amount = ctx.multiply(amount, ctx.power(Decimal(base), exponent))
        if amount != 0 and amount.as_tuple().exponent < -9:  # type: ignore[operator]
            amount = amount.quantize(Decimal("1e-9"), rounding=ROUND_UP, context=ctx)
        if fmt == "BinarySI" and amount > _INT64 - 1:  # apimachinery's cap
            amount = Decimal(_INT64 - 1)
        value = amount
    return _format(value, fmt)


def _format(value: Decimal, fmt: str) -> str:
    if value == 0:
        return "0"
    if fmt == "BinarySI":
        if abs(value) < 1024 or value != value.to_integral_value():
            fmt = "DecimalSI"
        else:
            whole, times = int(value), 0
            while abs(whole) >= 1024 and whole % 1024 == 0:
                whole, times = whole // 1024, times + 1
            return f"{whole}{_BINARY_NAMES.get(times, '')}"
    sign, digits, exp = value.as_tuple()
    m, e = int("".join(map(str, digits))), int(exp)
    while m >= 10 and m % 10 == 0:
        m, e = m // 10, e + 1
    while e % 3:
        m, e = m * 10, e - 1
    text = f"{'-' if sign else ''}{m}"
    if fmt == "DecimalExponent":
        return text + (f"e{e}" if e else "")
    return text + _DECIMAL_NAMES.get(e, "")  # apimachinery writes no suffix beyond E
