"""Just enough of Kubernetes' protobuf encoding to read what kubectl's generators send.

`kubectl create namespace` and `kubectl create service ...` use typed clients that POST
`application/vnd.kubernetes.protobuf`: the magic `k8s\\0`, then a runtime.Unknown envelope
(typeMeta=1 {apiVersion=1, kind=2}, raw=2) whose `raw` is the object in the generated.proto
encoding of k8s.io/api. Field numbers below are those of that file for the fields the
generators fill; others are skipped. Zero values are dropped, as Go's `omitempty` would.
Everything else answers JSON (the clients also accept it).
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError, bad_request, unsupported_media_type

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

# message -> field number -> (json name, type, repeated); type is a scalar kind or a message name
Field = tuple[str, str, bool]
_S, _I = "string", "int"
SCHEMAS: dict[str, dict[int, Field]] = {
    "Unknown": {1: ("typeMeta", "TypeMeta", False), 2: ("raw", "bytes", False)},
    "TypeMeta": {1: ("apiVersion", _S, False), 2: ("kind", _S, False)},
    "ObjectMeta": {
        1: ("name", _S, False),
        2: ("generateName", _S, False),
        3: ("namespace", _S, False),
        11: ("labels", "map", False),
        12: ("annotations", "map", False),
        14: ("finalizers", _S, True),
    },
    "MapEntry": {1: ("key", _S, False), 2: ("value", _S, False)},
    "Namespace": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "NamespaceSpec", False)},
    "NamespaceSpec": {1: ("finalizers", _S, True)},
    "Service": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "ServiceSpec", False)},
    "ServiceSpec": {
        1: ("ports", "ServicePort", True),
        2: ("selector", "map", False),
        3: ("clusterIP", _S, False),
        4: ("type", _S, False),
        5: ("externalIPs", _S, True),
        7: ("sessionAffinity", _S, False),
        10: ("externalName", _S, False),
        11: ("externalTrafficPolicy", _S, False),
        17: ("ipFamilyPolicy", _S, False),
        18: ("clusterIPs", _S, True),
        19: ("ipFamilies", _S, True),
    },
    "ServicePort": {
        1: ("name", _S, False),
        2: ("protocol", _S, False),
        3: ("port", _I, False),
        4: ("targetPort", "IntOrString", False),
        5: ("nodePort", _I, False),
        6: ("appProtocol", _S, False),
    },
    "IntOrString": {1: ("type", _I, False), 2: ("intVal", _I, False), 3: ("strVal", _S, False)},
}
KINDS = {"Namespace", "Service"}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(buf):
            raise bad_request("malformed protobuf: truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise bad_request("malformed protobuf: varint too long")


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = _varint(buf, pos)
            out.append((num, val))
        elif wire == 2:
            n, pos = _varint(buf, pos)
            if pos + n > len(buf):
                raise bad_request("malformed protobuf: truncated field")
            out.append((num, buf[pos : pos + n]))
            pos += n
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise bad_request(f"malformed protobuf: wire type {wire}")
    return out


def _message(buf: bytes, name: str, depth: int = 0) -> Any:
    if depth > 20:
        raise bad_request("malformed protobuf: nested too deeply")
    schema = SCHEMAS[name]
    obj: dict[str, Any] = {}
    for num, raw in _fields(buf):
        spec = schema.get(num)
        if spec is None:
            continue
        key, kind, repeated = spec
        value: Any
        if kind == _S:
            value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        elif kind == _I:
            value = raw if isinstance(raw, int) else 0
            if value >= 1 << 63:
                value -= 1 << 64
        elif kind == "bytes":
            value = raw
        elif kind == "map":
            entry = _message(raw, "MapEntry", depth + 1) if isinstance(raw, bytes) else {}
            obj.setdefault(key, {})[entry.get("key", "")] = entry.get("value", "")
            continue
        else:
            value = _message(raw, kind, depth + 1) if isinstance(raw, bytes) else {}
        if repeated:
            obj.setdefault(key, []).append(value)
        else:
            obj[key] = value
    if name == "IntOrString":
        return obj.get("strVal", "") if obj.get("type") == 1 else obj.get("intVal", 0)
    return {k: v for k, v in obj.items() if v not in ("", 0, None)}


def decode(body: bytes) -> dict[str, Any]:
    """The JSON-shaped object a protobuf request body carries; 415 for kinds not understood here."""
    if not body.startswith(MAGIC):
        raise bad_request("the protobuf body does not start with the Kubernetes magic number")
    try:
        env = _message(body[len(MAGIC) :], "Unknown")
        tm = env.get("typeMeta") or {}
        kind = tm.get("kind", "")
        if kind not in KINDS:
            raise unsupported_media_type(f"{CONTENT_TYPE} (kind {kind or '?'}; send JSON)")
        obj = _message(env.get("raw") or b"", kind)
    except ApiError:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise bad_request(f"malformed protobuf: {e}") from None
    return {"apiVersion": tm.get("apiVersion", "v1"), "kind": kind, **obj}
