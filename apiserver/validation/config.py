"""Validation of ConfigMap, Secret and ServiceAccount as kube-apiserver words it
(pkg/apis/core/validation: ValidateConfigMap, ValidateSecret and their Update forms).

Keys of `data`/`binaryData` are config keys (`[-._a-zA-Z0-9]+`, not `.`/`..`, not starting with
`..`); all values together stay under 1 MiB; an `immutable` object keeps its data and stays
immutable; a Secret's `type` never changes and the well-known types carry their required keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from api.errors import Cause, field_forbidden, field_invalid, field_required
from api.jsonutil import as_object
from apiserver.validation.meta import immutable

MAX_SIZE = 1024 * 1024  # corev1.MaxSecretSize, also the ConfigMap limit
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)
IMMUTABLE_SET = "field is immutable when `immutable` is set"
REDACTED = "<secret contents redacted>"

# kubernetes.io/<type> -> keys of which at least the first is required
SECRET_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def config_key_errors(key: str) -> list[str]:
    """validation.IsConfigMapKey."""
    out = []
    if len(key) > 253:
        out.append("must be no more than 253 characters")
    if not _CONFIG_KEY.match(key):
        out.append(CONFIG_KEY_MSG)
    if key == ".":
        out.append("must not be '.'")
    elif key == "..":
        out.append("must not be '..'")
    elif key.startswith(".."):
        out.append("must not start with '..'")
    return out


def _keys(section: str, values: dict[str, Any]) -> list[Cause]:
    return [field_invalid(f"{section}[{key}]", key, m) for key in values for m in config_key_errors(key)]


def _size_cause(total: int) -> list[Cause]:
    if total > MAX_SIZE:
        return [
            {
                "reason": "FieldValueTooLong",
                "message": f"Too long: may not be more than {MAX_SIZE} bytes",
                "field": "",
            }
        ]
    return []


def validate_config_map(obj: dict[str, Any]) -> list[Cause]:
    data, binary = as_object(obj.get("data")), as_object(obj.get("binaryData"))
    causes = _keys("data", data) + _keys("binaryData", binary)
    causes += [
        {
            "reason": "FieldValueInvalid",
            "message": f'Invalid value: "{key}": duplicate of key present in data',
            "field": f"binaryData[{key}]",
        }
        for key in binary
        if key in data
    ]
    total = sum(len(str(v).encode()) for v in data.values()) + sum(len(decoded(v)) for v in binary.values())
    return causes + _size_cause(total)


def decoded(value: Any) -> bytes:
    """A base64 value as stored; undecodable ones count as their text (defaulting refused them)."""
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return str(value).encode()


def _immutable_data(obj: dict[str, Any], old: dict[str, Any], sections: tuple[str, ...]) -> list[Cause]:
    if old.get("immutable") is not True:
        return []
    causes = [field_forbidden(s, IMMUTABLE_SET) for s in sections if (obj.get(s) or {}) != (old.get(s) or {})]
    if obj.get("immutable") is not True:
        causes.append(field_forbidden("immutable", IMMUTABLE_SET))
    return causes


def validate_config_map_update(obj: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    return _immutable_data(obj, old, ("data", "binaryData"))


def validate_secret(obj: dict[str, Any]) -> list[Cause]:
    data = as_object(obj.get("data"))
    causes = _keys("data", data)
    kind = obj.get("type") or "Opaque"
    if kind == "kubernetes.io/service-account-token":
        annotations = as_object(as_object(obj.get("metadata")).get("annotations"))
        if not annotations.get("kubernetes.io/service-account.name"):
            causes.append(field_required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif kind == "kubernetes.io/basic-auth" and not data.get("username") and not data.get("password"):
        causes.append(field_required("data[username]"))
    for key in SECRET_REQUIRED_KEYS.get(kind, ()):
        if not data.get(key):
            causes.append(field_required(f"data[{key}]"))
    for key in (".dockercfg", ".dockerconfigjson"):
        if key in SECRET_REQUIRED_KEYS.get(kind, ()) and data.get(key):
            try:
                json.loads(decoded(data[key]))
            except ValueError as e:
                causes.append(field_invalid(f"data[{key}]", REDACTED, str(e)))
    return causes + _size_cause(sum(len(decoded(v)) for v in data.values()))


def validate_secret_update(obj: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    causes = immutable("type", obj.get("type"), old.get("type"))
    return causes + _immutable_data(obj, old, ("data",))
