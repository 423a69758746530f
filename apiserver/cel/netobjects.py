"""Kubernetes' ip() and cidr() CEL objects for cel-python (kube's library/ip.go, cidr.go).

ip(s): no zones, no IPv4-mapped IPv6 form, no leading zeros (netip.ParseAddr); family,
isUnspecified, isLoopback, isLinkLocalMulticast, isLinkLocalUnicast, isGlobalUnicast with Go's
netip meanings; `ip.isCanonical(s)` through the namespace object `IP_NAMESPACE` that
`expressions` binds to the name `ip`. cidr(s): netip.ParsePrefix; containsIP and containsCIDR (an
object or a string), ip, masked, prefixLength. `ip` serves both `ip(string)` and `<cidr>.ip()`.
An invalid argument is an evaluation error, as in kube.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from apiserver.cel.kubetypes import URL, Quantity, _bool, _error, _int
from apiserver.cel.library import _ip, _str, is_cidr

# --- ip and cidr ---------------------------------------------------------------------------------

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class IP:
    def __init__(self, address: Address) -> None:
        self.address = address

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IP) and other.address == self.address

    def __hash__(self) -> int:
        return hash(self.address)


class CIDR:
    def __init__(self, address: Address, prefix: int) -> None:
        self.address, self.prefix = address, prefix
        self.network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CIDR) and (other.address, other.prefix) == (self.address, self.prefix)

    def __hash__(self) -> int:
        return hash((self.address, self.prefix))


class IPNamespace:
    """What the name `ip` is in `ip.isCanonical(...)`."""


IP_NAMESPACE = IPNamespace()


def ip(value: Any) -> Any:
    """`ip(string)` parses; `<cidr>.ip()` is the CIDR's address."""
    if isinstance(value, CIDR):
        return IP(value.address)
    address = _ip(_str(value))
    return (
        _error(f"IP Address {str(value)!r} parse error during conversion from string")
        if address is None
        else IP(address)
    )


def _cidr(text: str) -> CIDR | None:
    if not is_cidr(text):
        return None
    address, _, prefix = text.partition("/")
    parsed = _ip(address)
    if parsed is None or (len(prefix) > 1 and prefix.startswith("0")):
        return None
    return CIDR(parsed, int(prefix))


def cidr(s: Any) -> Any:
    value = _cidr(_str(s))
    return (
        _error(f"network address {str(s)!r} parse error during conversion from string")
        if value is None
        else value
    )


def _addr(value: Any) -> Address:
    if isinstance(value, IP):
        return value.address
    if isinstance(value, IPNamespace | CIDR | URL | Quantity):
        raise TypeError("no such overload")
    parsed = _ip(_str(value))
    if parsed is None:
        raise ValueError(f"IP Address {str(value)!r} parse error during conversion from string")
    return parsed


def is_canonical(namespace: Any, s: Any) -> Any:
    if not isinstance(namespace, IPNamespace):
        raise TypeError("no such overload")
    try:
        return _bool(str(_addr(s)) == _str(s))
    except ValueError as e:
        return _error(str(e))


def family(value: Any) -> Any:
    return _int(_addr(value).version)


def is_unspecified(value: Any) -> Any:
    return _bool(_addr(value).is_unspecified)


def is_loopback(value: Any) -> Any:
    a = _addr(value)
    return _bool(
        a in ipaddress.ip_network("127.0.0.0/8") if a.version == 4 else a == ipaddress.IPv6Address("::1")
    )


def is_link_local_multicast(value: Any) -> Any:
    a = _addr(value)
    if a.version == 4:
        return _bool(a in ipaddress.ip_network("224.0.0.0/24"))
    return _bool(int(a) >> 112 & 0xFF0F == 0xFF02)


def is_link_local_unicast(value: Any) -> Any:
    a = _addr(value)
    return _bool(
        a in (ipaddress.ip_network("169.254.0.0/16") if a.version == 4 else ipaddress.ip_network("fe80::/10"))
    )


def is_global_unicast(value: Any) -> Any:
    a = _addr(value)
    special = (
        a.is_unspecified or a.is_multicast or bool(is_loopback(IP(a))) or bool(is_link_local_unicast(IP(a)))
    )
    return _bool(not special and a != ipaddress.IPv4Address("255.255.255.255"))


def _prefix(value: Any) -> CIDR:
    if isinstance(value, CIDR):
        return value
    parsed = _cidr(_str(value))
    if parsed is None:
        raise ValueError(f"network address {str(value)!r} parse error during conversion from string")
    return parsed


def contains_ip(c: Any, value: Any) -> Any:
    try:
        return _bool(_addr(value) in _prefix(c).network)
    except ValueError as e:
        return _error(str(e))


def contains_cidr(c: Any, value: Any) -> Any:
    try:
        outer, inner = _prefix(c), _prefix(value)
    except ValueError as e:
        return _error(str(e))
    same = outer.address.version == inner.address.version
    return _bool(same and inner.prefix >= outer.prefix and inner.network.network_address in outer.network)


def masked(c: Any) -> Any:
    p = _prefix(c)
    return CIDR(p.network.network_address, p.prefix)


def prefix_length(c: Any) -> Any:
    return _int(_prefix(c).prefix)


FUNCTIONS = {
    **{"ip": ip, "cidr": cidr, "isCanonical": is_canonical, "family": family},
    **{"isUnspecified": is_unspecified, "isLoopback": is_loopback},
    **{"isLinkLocalMulticast": is_link_local_multicast, "isLinkLocalUnicast": is_link_local_unicast},
    **{"isGlobalUnicast": is_global_unicast, "containsIP": contains_ip, "containsCIDR": contains_cidr},
    **{"masked": masked, "prefixLength": prefix_length},
}
