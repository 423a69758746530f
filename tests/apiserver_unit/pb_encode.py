"""A small protobuf encoder for the decoder's tests, written from the decoder's own tables.

`encode(obj, message)` writes a JSON-shaped object as Go's gogo-protobuf marshals the k8s.io/api
type: with `go_zeros` (the default), every non-pointer field the object leaves out is written too,
as its zero (Go writes them all), so a test sees what the decoder must drop; pointer fields are
written only when present, as Go writes a non-nil pointer. `envelope` wraps an object's bytes as
a request body: the `k8s\\0` magic and a runtime.Unknown.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from apiserver.handlers import protobuf
from apiserver.handlers.protobuf_pod import INLINE, POINTER, QUANTITIES, SKIP, B, N, S

# the zero of a message whose JSON form is a scalar (a non-pointer Quantity is written "0")
_SCALAR_ZEROS: dict[str, Any] = {"IntOrString": 0, "Time": "", "Quantity": "0", "FieldsV1": {}}
_ZEROS: dict[str, Any] = {S: "", N: 0, B: False, "bytes": b"", protobuf.BASE64: ""}


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # a negative int64 (or int32) is written as its 64-bit two's complement
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def length_delimited(num: int, payload: bytes) -> bytes:
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def number(num: int, value: int) -> bytes:
    return varint(num << 3) + varint(value)


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = length_delimited(1, api_version.encode()) + length_delimited(2, kind.encode())
    return protobuf.MAGIC + length_delimited(1, type_meta) + length_delimited(2, raw)


def _scalar_message(obj: Any, name: str) -> bytes:
    if name == "IntOrString":
        if isinstance(obj, str):
            return number(1, 1) + number(2, 0) + length_delimited(3, obj.encode())
        return number(1, 0) + number(2, obj) + length_delimited(3, b"")
    if name == "Time":  # meta/v1 Time: Go writes nothing for the zero time
        if not obj:
            return b""
        seconds = int(dt.datetime.fromisoformat(obj.replace("Z", "+00:00")).timestamp())
        return number(1, seconds) + number(2, 0)
    if name == "Quantity":
        return length_delimited(1, obj.encode())
    return length_delimited(1, json.dumps(obj).encode()) if obj else b""  # FieldsV1


def _field(num: int, kind: str, value: Any, go_zeros: bool) -> bytes:
    if kind == S:
        return length_delimited(num, value.encode())
    if kind in (N, B):
        return number(num, int(value))
    if kind == "bytes":
        return length_delimited(num, value)
    if kind == protobuf.BASE64:
        return length_delimited(num, base64.b64decode(value))
    if kind in ("map", "bytesmap", QUANTITIES):
        out = b""
        for k, v in value.items():
            if kind == "bytesmap":
                v = base64.b64decode(v)
            elif kind == QUANTITIES:
                v = length_delimited(1, v.encode())
            else:
                v = v.encode()
            out += length_delimited(num, length_delimited(1, k.encode()) + length_delimited(2, v))
        return out
    return length_delimited(num, encode(value, kind, go_zeros))


def encode(obj: Any, name: str, go_zeros: bool = True) -> bytes:
    if name in _SCALAR_ZEROS:
        return _scalar_message(obj, name)
    out = b""
    for num, (key, kind, repeated, *flags) in sorted(protobuf.SCHEMAS[name].items()):
        if INLINE in flags:  # an embedded struct: its fields are the object's own
            out += length_delimited(num, encode(obj, kind, go_zeros))
        elif kind == SKIP:
            out += length_delimited(num, b"") if go_zeros else b""
        elif key in obj:
            for value in obj[key] if repeated else [obj[key]]:
                out += _field(num, kind, value, go_zeros)
        elif (
            go_zeros and not repeated and POINTER not in flags and kind not in ("map", "bytesmap", QUANTITIES)
        ):
            out += _field(num, kind, _ZEROS.get(kind, _SCALAR_ZEROS.get(kind, {})), go_zeros)
    return out
