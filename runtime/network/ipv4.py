"""Dotted-quad IPv4 addresses and prefixes as ints, for `run`'s path: `ipaddress` brings functools
and collections with it, ~4 ms of a `kubelite runtime run --rm` (a 100 ms budget).

Each parser accepts exactly what `ipaddress` accepts in the plain spelling (`a.b.c.d`, `a.b.c.d/n`)
and answers None for anything else, so its caller hands that text to `ipaddress`, which then gives
its own answer: the netmask spelling of a prefix, IPv6, or its error message.
"""

from __future__ import annotations

_DIGITS = frozenset("0123456789")


def parse_address(text: str) -> int | None:
    """`ipaddress.IPv4Address(text)` as an int, or None where that raises (four decimal octets of at
    most three digits, 0-255, no leading zeros)."""
    octets = text.split(".")
    if len(octets) != 4:
        return None
    value = 0
    for octet in octets:
        if not 0 < len(octet) <= 3 or not _DIGITS.issuperset(octet) or (octet[0] == "0" and octet != "0"):
            return None
        n = int(octet)
        if n > 255:
            return None
        value = value << 8 | n
    return value


def parse_network(text: str) -> tuple[int, int] | None:
    """`ipaddress.IPv4Network(text, strict=True)` as (network address, prefix length) when `text` is
    `a.b.c.d/n` with a decimal n; None for every other spelling and wherever ipaddress would raise
    (host bits set, n above 32)."""
    address, slash, prefix = text.partition("/")
    if not slash or not prefix or not _DIGITS.issuperset(prefix):
        return None
    value = parse_address(address)
    prefixlen = int(prefix)
    if value is None or prefixlen > 32:
        return None
    if value & host_mask(prefixlen):
        return None  # strict: ipaddress's "has host bits set"
    return value, prefixlen


def host_mask(prefixlen: int) -> int:
    return (1 << (32 - prefixlen)) - 1


def to_text(value: int) -> str:
    """`str(ipaddress.IPv4Address(value))`."""
    return f"{value >> 24 & 255}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"
