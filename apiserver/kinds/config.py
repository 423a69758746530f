"""Rows of ConfigMap, Secret and ServiceAccount (core/v1).

A Secret's `stringData` is write-only, as in kube's v1 conversion: its values are base64-encoded
into `data` (overriding a key of the same name) and the field is not stored. `data` values must
be base64 on the wire: kube's decoder refuses anything else with 400 before validation does.
"""

from __future__ import annotations

import base64
import binascii

from api.errors import bad_request
from apiserver.kinds import HookContext, Obj, WriteHooks, row
from apiserver.validation.config import (
    validate_config_map,
    validate_config_map_update,
    validate_secret,
    validate_secret_update,
)


def _secret_defaults(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")
    data = obj.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return  # the type check names it
    for value in data.values():
        if not isinstance(value, str):
            continue
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(
                f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte '
                f"{_bad_byte(value)}"
            ) from None
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = dict(data)
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
    if data or "data" in obj:
        obj["data"] = data


def _bad_byte(value: str) -> int:
    """Where Go's base64 decoder stops: the first byte outside the alphabet, else the length."""
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    for i, ch in enumerate(value):
        if ch not in alphabet:
            return i
    return len(value) - len(value) % 4 if len(value) % 4 else len(value)


row("configmaps", validate=validate_config_map, validate_update=validate_config_map_update)
row(
    "secrets",
    defaults=_secret_defaults,
    validate=validate_secret,
    validate_update=validate_secret_update,
    field_paths=frozenset({"type"}),
)


class ServiceAccountHooks(WriteHooks):
    """Every ServiceAccount write of this server reaches ServiceAccount admission's cache at once."""

    def wrote(self, ctx: HookContext, key: str, value: bytes | None) -> None:
        ctx.service_accounts.note(key, value)


row("serviceaccounts", hooks=ServiceAccountHooks())
