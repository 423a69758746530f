"""SPDY/3.1 framing, the subset kubectl's port-forward speaks (pure: bytes in, frames out).

kubectl 1.31+ tunnels SPDY inside a WebSocket (subprotocol `SPDY/3.1+portforward.k8s.io`:
binary messages, read as one byte stream); older kubectl upgrades a plain HTTP/1.1 connection
to `SPDY/3.1`. Either way the peer is moby/spdystream, which opens streams with SYN_STREAM,
waits for a SYN_REPLY, sends DATA (FIN half-closes), may PING, and ends with GOAWAY or by
closing. This module parses and builds exactly those frames; the session logic that uses them
is `kubelet.portforward`.

Wire facts (SPDY/3 draft, section 2): a control frame starts with the bit 1, version 3 and a
16-bit type; a data frame with a 31-bit stream id; both then carry 8 bits of flags and a 24-bit
length. Header blocks are (count, then length-prefixed name and value) in 32-bit big-endian,
zlib-compressed with one context per direction for the whole connection, seeded with the
SPDY/3 dictionary below, and sync-flushed after each block. Names are lowercase.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
DATA = 0  # our tag for data frames (they have no type on the wire)
FLAG_FIN = 0x01
RST_PROTOCOL_ERROR, RST_INVALID_STREAM, RST_REFUSED_STREAM, RST_CANCEL = 1, 2, 3, 5
MAX_DATA = 32 * 1024  # what we put in one DATA frame


_DICTIONARY_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language "
    "accept-ranges age allow authorization cache-control connection content-base content-encoding "
    "content-language content-length content-location content-md5 content-range content-type date "
    "etag expect expires from host if-match if-modified-since if-none-match if-range "
    "if-unmodified-since last-modified location max-forwards pragma proxy-authenticate "
    "proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status"
)


def _dictionary() -> bytes:
    """The SPDY/3 header dictionary: length-prefixed header words, then status lines, dates, types."""
    words = _DICTIONARY_WORDS.split()
    words += ["200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
    tail = (
        "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
        "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
        "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
        "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
        "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
        "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
        "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
    )
    return b"".join(struct.pack(">I", len(w)) + w.encode() for w in words) + tail.encode()


DICTIONARY = _dictionary()


class SpdyError(Exception):
    """The peer sent something that is not SPDY/3.1 as we speak it: the connection is dropped."""


@dataclass
class Frame:
    kind: int  # DATA or a control frame type
    stream_id: int = 0
    flags: int = 0
    data: bytes = b""  # DATA payload
    headers: dict[str, list[str]] = field(default_factory=dict)  # SYN_STREAM, SYN_REPLY, HEADERS
    value: int = 0  # PING id, RST/GOAWAY status, WINDOW_UPDATE delta

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""


def encode_header_block(headers: dict[str, list[str]]) -> bytes:
    out = [struct.pack(">I", len(headers))]
    for name, values in headers.items():
        n, v = name.lower().encode(), b"\x00".join(x.encode() for x in values)
        out += [struct.pack(">I", len(n)), n, struct.pack(">I", len(v)), v]
    return b"".join(out)


def decode_header_block(block: bytes) -> dict[str, list[str]]:
    try:
        (count,), pos = struct.unpack_from(">I", block), 4
        headers: dict[str, list[str]] = {}
        for _ in range(count):
            (n,), pos = struct.unpack_from(">I", block, pos), pos + 4
            name, pos = block[pos : pos + n].decode(), pos + n
            (n,), pos = struct.unpack_from(">I", block, pos), pos + 4
            value, pos = block[pos : pos + n].decode(), pos + n
            if name != name.lower() or name in headers:
                raise SpdyError(f"bad header name {name!r}")
            headers[name] = value.split("\x00")
        return headers
    except (struct.error, UnicodeDecodeError) as e:
        raise SpdyError(f"malformed header block: {e}") from None


class Framer:
    """One side of a SPDY/3.1 connection: `feed` bytes as they come, `encode_*` frames to send.

    Holds the two zlib contexts, so one Framer serves one connection, and frames must be sent
    in the order they were encoded."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames = []
        while len(self._buf) >= 8:
            length = int.from_bytes(self._buf[5:8], "big")
            if len(self._buf) < 8 + length:
                break
            head, payload = bytes(self._buf[:8]), bytes(self._buf[8 : 8 + length])
            del self._buf[: 8 + length]
            frames.append(self._parse(head, payload))
        return frames

    def _parse(self, head: bytes, payload: bytes) -> Frame:
        word, flags = struct.unpack_from(">I", head)[0], head[4]
        if not word & 0x80000000:
            return Frame(DATA, word & 0x7FFFFFFF, flags, data=payload)
        version, kind = (word >> 16) & 0x7FFF, word & 0xFFFF
        if version != VERSION:
            raise SpdyError(f"unsupported SPDY version {version}")
        try:
            if kind == SYN_STREAM:
                return Frame(kind, _id(payload), flags, headers=self._headers(payload[10:]))
            if kind in (SYN_REPLY, HEADERS):
                return Frame(kind, _id(payload), flags, headers=self._headers(payload[4:]))
            if kind in (RST_STREAM, WINDOW_UPDATE):
                return Frame(kind, _id(payload), flags, value=struct.unpack_from(">I", payload, 4)[0])
            if kind == PING:
                return Frame(kind, flags=flags, value=struct.unpack_from(">I", payload)[0])
            if kind == GOAWAY:
                return Frame(kind, _id(payload), flags, value=struct.unpack_from(">I", payload, 4)[0])
        except struct.error:
            raise SpdyError(f"short control frame of type {kind}") from None
        return Frame(kind, flags=flags, data=payload)  # SETTINGS and anything newer: noted, ignored

    def _headers(self, compressed: bytes) -> dict[str, list[str]]:
        try:
            return decode_header_block(self._inflate.decompress(compressed))
        except zlib.error as e:
            raise SpdyError(f"header block does not inflate: {e}") from None

    def _compress(self, headers: dict[str, list[str]]) -> bytes:
        block = encode_header_block(headers)
        return self._deflate.compress(block) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    # --- frames we send ---
    def syn_reply(
        self, stream_id: int, headers: dict[str, list[str]] | None = None, fin: bool = False
    ) -> bytes:
        return _control(
            SYN_REPLY, FLAG_FIN if fin else 0, struct.pack(">I", stream_id) + self._compress(headers or {})
        )

    def syn_stream(self, stream_id: int, headers: dict[str, list[str]], fin: bool = False) -> bytes:
        body = struct.pack(">IIBB", stream_id, 0, 0, 0) + self._compress(headers)
        return _control(SYN_STREAM, FLAG_FIN if fin else 0, body)


def _id(payload: bytes) -> int:
    return int(struct.unpack_from(">I", payload)[0]) & 0x7FFFFFFF


def _control(kind: int, flags: int, body: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body


def data_frames(stream_id: int, data: bytes, fin: bool = False) -> list[bytes]:
    """DATA frames carrying `data` (at most MAX_DATA each); the last one has FIN when asked."""
    chunks = [data[i : i + MAX_DATA] for i in range(0, len(data), MAX_DATA)] or [b""]
    return [
        struct.pack(
            ">II", stream_id & 0x7FFFFFFF, ((FLAG_FIN if fin and i == len(chunks) - 1 else 0) << 24) | len(c)
        )
        + c
        for i, c in enumerate(chunks)
    ]


def rst_stream(stream_id: int, status: int) -> bytes:
    return _control(RST_STREAM, 0, struct.pack(">II", stream_id, status))


def ping(ping_id: int) -> bytes:
    return _control(PING, 0, struct.pack(">I", ping_id))


def goaway(last_stream_id: int, status: int = 0) -> bytes:
    return _control(GOAWAY, 0, struct.pack(">II", last_stream_id, status))


__all__ = ["DICTIONARY", "Frame", "Framer", "SpdyError", "data_frames", "goaway", "ping", "rst_stream"]
