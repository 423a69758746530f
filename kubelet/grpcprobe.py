"""The gRPC probe: one `grpc.health.v1.Health/Check` call over cleartext HTTP/2 (h2c).

As the kubelet's: the target is the pod IP and the probe's `port`, the request names the probe's
`service` ("" asks about the server as a whole); SERVING is success, any other answer, an error
status, a refused connection or no answer within `timeoutSeconds` is failure.

Why not grpcio: `import grpc, grpc.aio` plus the health stubs costs ~110 ms and protobuf, and its
C core brings its own threads and poller into the kubelet's (uv)loop, all for one unary call with
a one-field message each way. The protocol needed is small: the HTTP/2 preface and frames, the
request headers as HPACK literals (no table, no Huffman: a valid encoding any decoder accepts),
gRPC's 5-byte message prefix, and a hand-coded protobuf field. The answer's headers are never
decoded: SERVING only travels in a response message, and an error status (unknown service:
NOT_FOUND) comes with no message (trailers-only) or an empty one (status UNKNOWN), which are
failures either way, as they are for the kubelet.
"""

from __future__ import annotations

import asyncio
import struct

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20
STREAM = 1
SERVING = 1
STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
USER_AGENT = "kube-probe/1.30"


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes((kind, flags)) + struct.pack(">I", stream) + payload


def hpack_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    """RFC 7541 5.1 integer with an N-bit prefix (`first` holds the pattern bits above it)."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((first | value,))
    out = bytearray((first | limit,))
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name: str, value: str) -> bytes:
    """A literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    n, v = name.encode(), value.encode()
    return b"\x00" + hpack_int(len(n), 7) + n + hpack_int(len(v), 7) + v


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def grpc_timeout(seconds: float) -> str:
    """The `grpc-timeout` header: at most 8 digits and a unit."""
    ms = max(1, int(seconds * 1000))
    return f"{ms}m" if ms < 10**8 else f"{min(int(seconds), 10**8 - 1)}S"


def check_request(host: str, port: int, service: str, timeout: float) -> bytes:
    """Everything the client sends, in one write: preface, SETTINGS, HEADERS, DATA (end of stream)."""
    headers = b"".join(
        hpack_literal(k, v)
        for k, v in (
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/grpc.health.v1.Health/Check"),
            (":authority", f"{host}:{port}"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("user-agent", USER_AGENT),
            ("grpc-timeout", grpc_timeout(timeout)),
        )
    )
    svc = service.encode()
    message = (b"\x0a" + varint(len(svc)) + svc) if svc else b""  # HealthCheckRequest.service = 1
    body = b"\x00" + struct.pack(">I", len(message)) + message  # uncompressed gRPC message
    return (
        PREFACE
        + frame(SETTINGS, 0, 0)
        + frame(HEADERS, END_HEADERS, STREAM, headers)
        + frame(DATA, END_STREAM, STREAM, body)
    )


def serving_status(data: bytes) -> int | None:
    """HealthCheckResponse.status from the response's DATA bytes; None when there is no message."""
    if len(data) < 5 or data[0] != 0:
        return None
    size = struct.unpack(">I", data[1:5])[0]
    msg, i, status = data[5 : 5 + size], 0, 0  # proto3: an absent field is 0 (UNKNOWN)
    while i < len(msg):
        tag, i = _read_varint(msg, i)
        if tag & 7 == 0:
            value, i = _read_varint(msg, i)
            if tag >> 3 == 1:
                status = value
        elif tag & 7 == 2:
            length, i = _read_varint(msg, i)
            i += length
        else:
            return None  # no other wire types in this message
    return status


def _read_varint(b: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while i < len(b):
        byte = b[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i
    raise ValueError("truncated varint")


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """Read frames until stream 1 ends; answer the server's SETTINGS and PINGs; return its DATA."""
    data = bytearray()
    while True:
        head = await reader.readexactly(9)
        length = int.from_bytes(head[:3], "big")
        kind, flags, stream = head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
        payload = await reader.readexactly(length)
        if kind == SETTINGS and not flags & ACK:
            writer.write(frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            writer.write(frame(PING, ACK, 0, payload))
        elif kind == GOAWAY or (kind == RST_STREAM and stream == STREAM):
            raise ConnectionError("stream reset by the server")
        elif stream == STREAM and kind in (DATA, HEADERS):
            if kind == DATA:
                pad = payload[0] if flags & PADDED else 0
                data += payload[1 if flags & PADDED else 0 : len(payload) - pad]
            if flags & END_STREAM:
                return bytes(data)


async def grpc_check(host: str, port: int, service: str, timeout: float) -> tuple[bool, str]:
    """(success, what happened) of one health check, as the kubelet words it."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(check_request(host, port, service, timeout))
                data = await _exchange(reader, writer)
            finally:
                writer.close()
    except TimeoutError:
        return False, f"timeout: health rpc did not complete within {timeout:g}s"
    except (OSError, asyncio.IncompleteReadError, ValueError) as e:
        return False, f"error: health rpc probe failed: {e!r}"
    status = serving_status(data)
    if status is None:
        return False, f"error: health rpc probe failed: no response for service {service!r}"
    if status != SERVING:
        return False, f"service unhealthy (responded with {STATUS_NAMES.get(status, str(status))!r})"
    return True, ""
