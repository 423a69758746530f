"""What the etcd store writes as a value, and the datastore URL it is opened with.

etcd hands out a write's revision only after the write, but the Store serves stored bytes
with `metadata.resourceVersion` = that revision already inside (LIST splices bytes, no parse
per row). So a value is stored as `<offset>\\n<json without the resourceVersion value>`: the
object is serialised once with a one-off sentinel as its resourceVersion, the sentinel is cut
out, and its byte offset is kept in front. Reading at revision R puts `"R"` back at that offset
(two slices, no parse). A value without the header (written by another tool) is served as is.

URL: `etcd://h1:2379,h2:2379,h3:2379[/key-prefix][?cacert=F&cert=F&key=F]`; `etcds://` or any
TLS file means HTTPS to every member (etcd's --cacert/--cert/--key).
"""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from apiserver.storage.interface import serialise

_SENTINEL = f"kubelite-rv-{uuid.uuid4().hex}"
_QUOTED = f'"{_SENTINEL}"'.encode()


def encode_value(obj: dict[str, Any]) -> bytes:
    """The stored form of `obj`; its metadata.resourceVersion is left as it was."""
    raw = serialise(obj, _SENTINEL, keep=False)
    at = raw.index(_QUOTED)  # the sentinel is unguessable: the first hit is ours
    return b"%d\n" % at + raw[:at] + raw[at + len(_QUOTED) :]


def decode_value(stored: bytes, revision: int) -> bytes:
    """The object's JSON with resourceVersion = `revision`."""
    if stored[:1] == b"{":
        return stored
    nl = stored.find(b"\n", 0, 16)
    if nl < 0:
        return stored
    at = int(stored[:nl]) + nl + 1
    return stored[nl + 1 : at] + b'"%d"' % revision + stored[at:]


def stamp(obj: dict[str, Any], revision: int) -> None:
    """Set the caller's dict's resourceVersion after a successful write (as the SQL store does)."""
    obj["metadata"]["resourceVersion"] = str(revision)


@dataclass(frozen=True)
class EtcdURL:
    endpoints: list[str]
    prefix: str
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    tls: bool = False

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        ctx = ssl.create_default_context(cafile=self.cafile)
        if self.certfile:
            ctx.load_cert_chain(self.certfile, self.keyfile)
        return ctx


def parse_etcd_url(url: str) -> EtcdURL:
    """`etcd://h1:2379,h2:2379/prefix?cacert=..&cert=..&key=..` -> endpoints, key prefix, TLS files.

    Split by hand, not by urlsplit: a list of hosts is no URL authority, and urlsplit (as patched
    in Debian's Python) refuses one with a bracketed IPv6 host after another host."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("etcd", "etcds"):
        raise ValueError(f"not an etcd URL: {url!r}")
    rest = rest.partition("#")[0]
    ends = [i for i in (rest.find("/"), rest.find("?")) if i >= 0]
    netloc, tail = rest[: min(ends, default=len(rest))], rest[min(ends, default=len(rest)) :]
    path, _, query_text = tail.partition("?")
    endpoints = [e.strip() for e in netloc.split(",") if e.strip()]
    if not endpoints:
        raise ValueError("the etcd datastore needs endpoints: etcd://host:2379[,host:2379...]")
    for e in endpoints:
        host, sep, port = e.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"invalid etcd endpoint {e!r}: want HOST:PORT")
    query = {k: v[-1] for k, v in parse_qs(query_text).items()}
    unknown = set(query) - {"cacert", "cert", "key"}
    if unknown:
        raise ValueError(f"unknown etcd URL parameters: {', '.join(sorted(unknown))}")
    prefix = unquote(path).rstrip("/")
    tls = scheme == "etcds" or bool(query)
    return EtcdURL(endpoints, prefix, query.get("cacert"), query.get("cert"), query.get("key"), tls)
