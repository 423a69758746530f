"""The `format` of a CRD schema's strings, checked as kube-apiserver 1.33 checks it (pure).

apiextensions validates a custom resource with kube-openapi's validator over the strfmt default
registry, after stripping the formats it does not support (StripUnsupportedFormatsPostProcess):

- on a `string` (or untyped) node, the names below are checked, matched after dropping dashes
  (`date-time` is `datetime`); any other name is ignored, and accepted in the CRD without a word
  (kube 1.33 neither refuses nor warns about an unknown format);
- on `integer` and `number` nodes, int32/int64/float/double are kept in the schema but kube 1.33
  does not check them (numeric format validation came with kube 1.36); other types: ignored.

A value that fails is kube-openapi's InvalidType, which kube words
`spec.x: Invalid value: "v": spec.x in body must be of type ipv4: "v"` (the format as written).

How each is checked (the registry's validators): uri Go's url.ParseRequestURI; email
net/mail.ParseAddress (display name and angle brackets allowed; comments are not parsed here);
hostname the RFC 1034 pattern of go-openapi (labels of letters, digits, symbols, a letter-only
top-level label of 2-63, at most 255 bytes and 63 a label); ipv4 ParseIPSloppy (leading zeros
tolerated; an IPv6 form with a dotted part counts); ipv6 net.ParseIP with a colon; cidr
ParseCIDRSloppy; mac net.ParseMAC (6, 8 or 20 octets, `:`/`-`/dotted); uuid, uuid3/4/5 kube's
case-insensitive patterns; isbn10/isbn13/isbn with their check digits; creditcard the documented
pattern plus Luhn; ssn `ddd-dd-dddd` (11 chars); hexcolor, rgbcolor; byte standard base64;
password anything; date RFC 3339 full-date; datetime go-openapi's IsDateTime; duration Go's
time.ParseDuration or go-openapi's `3 days`-style form; bsonobjectid 24 hex digits.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import json
import re
import unicodedata
from collections.abc import Callable

_UUID = r"[0-9a-f]{8}-?[0-9a-f]{4}-?%s[0-9a-f]{3}-?%s[0-9a-f]{3}-?[0-9a-f]{12}"
_UUIDS = {
    "uuid": re.compile(_UUID % ("[0-9a-f]", "[0-9a-f]"), re.I),
    "uuid3": re.compile(_UUID % ("3", "[0-9a-f]"), re.I),
    "uuid4": re.compile(_UUID % ("4", "[89ab]"), re.I),
    "uuid5": re.compile(_UUID % ("5", "[89ab]"), re.I),
}
_HOST = re.compile(r"([a0s]((-?[a0s]{0,62})?)|([a0s](([a0s-]{0,61}[a0s])?)(\.)){1,}([a]){2,63})")
_CREDIT_CARD = re.compile(
    r"(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}"
    r"|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})"
)
_OCTET = r"\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*"
_RGB = re.compile(rf"rgb\({_OCTET},{_OCTET},{_OCTET}\)")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))")
_GO_DURATION = re.compile(r"[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+|[-+]?0")
_SCALA_DURATION = re.compile(r"\s*(?:\d+\s*[A-Za-zµ]+\s*)+")
_SCALA_PART = re.compile(r"(\d+)\s*([A-Za-zµ]+)")
_SCALA_UNITS: tuple[tuple[str, ...], ...] = (("ns", "nano"), ("us", "µs", "micro"), ("ms", "milli"))
_SCALA_UNITS += (("s", "sec"), ("m", "min"), ("h", "hr", "hour"), ("d", "day"), ("w", "wk", "week"))
_ATEXT = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\U0010ffff]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
_QUOTED = r'"(?:[^"\\\r\n]|\\.)*"'
_ADDR = rf"(?:{_DOT_ATOM}|{_QUOTED})@(?:{_DOT_ATOM}|\[[^\[\]\\]*\])"
_EMAIL = re.compile(
    rf"\s*(?:{_ADDR}|(?:(?:{_ATEXT}|{_QUOTED})(?:\s+(?:{_ATEXT}|{_QUOTED}))*\s*)?<{_ADDR}>)\s*"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_ESCAPES = re.compile(r"%(?![0-9A-Fa-f]{2})")
_USERINFO = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:%@]*")
_HOST_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=\[\]<>\"%\u0080-\U0010ffff]*")


def _host_shape(c: str) -> str:
    if c.isalpha():  # ASCII letters and \p{L}
        return "a"
    if c.isascii() and c.isdigit():
        return "0"
    if c in "-.":
        return c
    return "s" if unicodedata.category(c).startswith("S") else "!"


def is_hostname(s: str) -> bool:
    if not _HOST.fullmatch("".join(_host_shape(c) for c in s)):
        return False
    return len(s.encode()) <= 255 and all(len(p.encode()) <= 63 for p in s.split("."))


def _ipv4_sloppy(s: str) -> bool:
    parts = s.split(".")
    return len(parts) == 4 and all(
        p.isascii() and p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts
    )


def _ip_sloppy(s: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if _ipv4_sloppy(s):
        return ipaddress.IPv4Address(".".join(str(int(p)) for p in s.split(".")))
    if ":" not in s or "%" in s:
        return None
    try:
        return ipaddress.IPv6Address(s)
    except ValueError:
        return None


def is_ipv4(s: str) -> bool:
    return _ip_sloppy(s) is not None and "." in s


def is_ipv6(s: str) -> bool:
    if ":" not in s or "%" in s:
        return False
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    return True


def is_cidr(s: str) -> bool:
    address, slash, prefix = s.partition("/")
    ip = _ip_sloppy(address) if slash else None
    return ip is not None and prefix.isascii() and prefix.isdigit() and int(prefix) <= ip.max_prefixlen


def is_mac(s: str) -> bool:
    if len(s) < 14:
        return False
    hexes = set("0123456789abcdefABCDEF")
    if s[2] in ":-" and (len(s) + 1) % 3 == 0 and (len(s) + 1) // 3 in (6, 8, 20):
        groups = [s[i : i + 2] for i in range(0, len(s), 3)]
        seps = {s[i] for i in range(2, len(s), 3)}
        return seps == {s[2]} and all(len(g) == 2 and set(g) <= hexes for g in groups)
    if s[4] == "." and (len(s) + 1) % 5 == 0 and 2 * (len(s) + 1) // 5 in (6, 8, 20):
        groups = [s[i : i + 4] for i in range(0, len(s), 5)]
        seps = {s[i] for i in range(4, len(s), 5)}
        return seps == {"."} and all(len(g) == 4 and set(g) <= hexes for g in groups)
    return False


def is_isbn10(s: str) -> bool:
    d = re.sub(r"[\s-]+", "", s)
    if not re.fullmatch(r"[0-9]{9}X|[0-9]{10}", d):
        return False
    total = sum((i + 1) * int(c) for i, c in enumerate(d[:9])) + 10 * (10 if d[9] == "X" else int(d[9]))
    return total % 11 == 0


def is_isbn13(s: str) -> bool:
    d = re.sub(r"[\s-]+", "", s)
    if not re.fullmatch(r"[0-9]{13}", d):
        return False
    total = sum((1, 3)[i % 2] * int(c) for i, c in enumerate(d[:12]))
    return int(d[12]) == (10 - total % 10) % 10


def is_credit_card(s: str) -> bool:
    d = re.sub(r"[^0-9]+", "", s)
    if not _CREDIT_CARD.fullmatch(d):
        return False
    total = 0
    for i, c in enumerate(reversed(d)):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n >= 10 else n
    return total % 10 == 0


def is_base64(s: str) -> bool:
    if not _BASE64.fullmatch(s):
        return False
    try:
        base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def is_date(s: str) -> bool:
    if not _DATE.fullmatch(s):
        return False
    try:
        datetime.date(int(s[:4]), int(s[5:7]), int(s[8:10]))
    except ValueError:
        return False
    return True


def is_datetime(s: str) -> bool:
    """go-openapi's IsDateTime: a date, a `t` (any case), a time whose fields are not above 23:59:59."""
    if len(s) < 4:
        return False
    parts = s.lower().split("t")
    if len(parts) < 2 or not is_date(parts[0]):
        return False
    m = _TIME.fullmatch(parts[1])
    return m is not None and m.group(1) <= "23" and m.group(2) <= "59" and m.group(3) <= "59"


def is_duration(s: str) -> bool:
    if _GO_DURATION.fullmatch(s):
        return True
    if not _SCALA_DURATION.fullmatch(s):
        return False
    for _, unit in _SCALA_PART.findall(s):
        unit = unit.lower()
        for variants in _SCALA_UNITS:
            if unit in variants or unit.startswith(variants[-1]):
                return True
    return False


def is_email(s: str) -> bool:
    return _EMAIL.fullmatch(s) is not None


def is_request_uri(s: str) -> bool:
    """Go's url.ParseRequestURI: an absolute URI or an absolute path (no fragment split)."""
    if not s or any(ord(c) < 0x20 or ord(c) == 0x7F for c in s) or _ESCAPES.search(s):
        return False
    if s == "*":
        return True
    rest = s
    scheme = _SCHEME.match(s)
    if scheme and s[scheme.end() : scheme.end() + 1] == ":":
        rest = s[scheme.end() + 1 :]
    elif s.startswith(":"):
        return False
    else:
        scheme = None
    rest = rest.split("?", 1)[0]
    if not rest.startswith("/"):
        return scheme is not None  # rootless after a scheme: opaque
    if scheme is not None and rest.startswith("//"):
        authority = rest[2:].split("/", 1)[0]
        userinfo, at, host = authority.rpartition("@")
        if at and not _USERINFO.fullmatch(userinfo):
            return False
        return _valid_host(host)
    return True


def _valid_host(host: str) -> bool:
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return False
        port = host[end + 1 :]
        return port == "" or (port.startswith(":") and (port[1:] == "" or port[1:].isdigit()))
    name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    if colon and not (port == "" or port.isdigit()):
        return False
    return _HOST_CHARS.fullmatch(name) is not None


def _matcher(rx: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda s: rx.fullmatch(s) is not None


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "bsonobjectid": lambda s: re.fullmatch(r"[0-9a-fA-F]{24}", s) is not None,
    "uri": is_request_uri,
    "email": is_email,
    "hostname": is_hostname,
    "ipv4": is_ipv4,
    "ipv6": is_ipv6,
    "cidr": is_cidr,
    "mac": is_mac,
    **{name: _matcher(rx) for name, rx in _UUIDS.items()},
    "isbn": lambda s: is_isbn10(s) or is_isbn13(s),
    "isbn10": is_isbn10,
    "isbn13": is_isbn13,
    "creditcard": is_credit_card,
    "ssn": lambda s: len(s) == 11 and re.fullmatch(r"\d{3}[- ]?\d{2}[- ]?\d{4}", s) is not None,
    "hexcolor": lambda s: re.fullmatch(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", s) is not None,
    "rgbcolor": lambda s: _RGB.fullmatch(s) is not None,
    "byte": is_base64,
    "password": lambda s: True,
    "date": is_date,
    "datetime": is_datetime,
    "duration": is_duration,
}


def checked(schema_type: object, fmt: object) -> str | None:
    """The registry name kube checks for `format` on a node of `schema_type`, or None (ignored)."""
    if not isinstance(fmt, str) or schema_type not in (None, "", "string"):
        return None
    name = fmt.replace("-", "")
    return name if name in VALIDATORS else None


def format_error(fmt: str, value: str, path: str) -> str | None:
    """kube-openapi's words for `value` not in `fmt` at `path`, or None when it is."""
    name = checked("string", fmt)
    if name is None or VALIDATORS[name](value):
        return None
    return f"{path or 'body'} in body must be of type {fmt}: {json.dumps(value, ensure_ascii=False)}"
