"""Kubernetes Status errors, one exception type for both sides of the wire.

The server raises `ApiError` and answers its `status` dict; the client turns a non-2xx answer
back into the same `ApiError` (`from_status`). Reasons and codes follow metav1.StatusReason, so
kubectl prints `Error from server (NotFound): pods "x" not found` for us as for a real cluster.
"""

from __future__ import annotations

from typing import Any

from api.jsonutil import as_object

Cause = dict[str, str]


class ApiError(Exception):
    """A failed API call, carrying the Kubernetes Status body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    @property
    def status(self) -> dict[str, Any]:
        """The Status as kube-apiserver writes it: metav1.Status field order, empty fields omitted."""
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
        if self.message:
            body["message"] = self.message
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:  # a pointer in Go: omitted when nil, `{}` when empty
            body["details"] = status_details(self.details)
        if self.code:
            body["code"] = self.code
        return body

    def body(self) -> bytes:
        """The Status body, byte for byte as kube-apiserver's JSON serializer (Go's json.Encoder) writes it."""
        return go_json(self.status) + b"\n"

    @classmethod
    def from_status(cls, code: int, body: Any) -> ApiError:
        """Rebuild the error a server answered; tolerate non-Status bodies (proxies, crashes)."""
        if isinstance(body, dict) and body.get("kind") == "Status":
            return cls(
                int(body.get("code") or code),
                str(body.get("reason") or ""),
                str(body.get("message") or ""),
                body.get("details"),
            )
        text = body if isinstance(body, str) else repr(body)
        return cls(code, _REASON_BY_CODE.get(code, "Unknown"), text.strip() or f"HTTP {code}")

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


# metav1.StatusDetails and StatusCause in their Go field order; every field is omitempty
_DETAIL_KEYS = ("name", "group", "kind", "uid")
_CAUSE_KEYS = ("reason", "message", "field")


def status_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """StatusDetails reordered as Go marshals them (name, group, kind, uid, causes, retryAfterSeconds)."""
    if not details:
        return {}
    # (empty fields are omitted: every StatusDetails and StatusCause field is omitempty)
    out: dict[str, Any] = {k: details[k] for k in _DETAIL_KEYS if details.get(k)}
    causes = [
        {k: c[k] for k in _CAUSE_KEYS if c.get(k)} for c in details.get("causes") or [] if isinstance(c, dict)
    ]
    if causes:
        out["causes"] = causes
    if details.get("retryAfterSeconds"):
        out["retryAfterSeconds"] = details["retryAfterSeconds"]
    return out


# Go's json.Encoder escapes these even inside strings (SetEscapeHTML defaults to true); in JSON
# text they can only occur inside strings, so replacing the bytes is exact
_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def go_json(obj: Any) -> bytes:
    """Compact JSON as Go's encoding/json writes it: key order kept, HTML characters escaped."""
    import orjson

    data = orjson.dumps(obj)
    for raw, escaped in _GO_ESCAPES:
        if raw in data:
            data = data.replace(raw, escaped)
    return data


_REASON_BY_CODE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def _details(name: str | None, kind: str, group: str = "") -> dict[str, Any]:
    d: dict[str, Any] = {"kind": kind}
    if name is not None:
        d = {"name": name, **d}
    if group:
        d["group"] = group
    return d


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        404, "NotFound", f'{_qualified(resource, group)} "{name}" not found', _details(name, resource, group)
    )


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{_qualified(resource, group)} "{name}" already exists',
        _details(name, resource, group),
    )


def conflict(resource: str, name: str, why: str, group: str = "") -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {why}',
        _details(name, resource, group),
    )


def stale_conflict(resource: str, name: str, group: str = "") -> ApiError:
    return conflict(
        resource,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
        group,
    )


def invalid(kind: str, name: str, causes: list[Cause], group: str = "") -> ApiError:
    """422 Invalid; each cause is {"reason": "FieldValueInvalid"|..., "message": ..., "field": ...}."""
    summary = ", ".join(f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes)
    label = f"{kind}.{group}" if group else kind
    return ApiError(
        422,
        "Invalid",
        f'{label} "{name}" is invalid: {summary}'
        if len(causes) == 1
        else f'{label} "{name}" is invalid: [{summary}]',
        {"name": name, "group": group, "kind": kind, "causes": causes}
        if group
        else {"name": name, "kind": kind, "causes": causes},
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def admission_forbidden(plural: str, group: str, name: str, why: str) -> ApiError:
    """An admission plugin's 403 (admission.NewForbidden): `<plural>[.<group>] "<name>" is
    forbidden: <why>`, the details naming the object."""
    err = forbidden(f'{_qualified(plural, group)} "{name}" is forbidden: {why}')
    err.details = _details(name, plural, group)
    return err


def object_name(obj: dict[str, Any]) -> str:
    """How admission names an object not yet created: its name, else its generateName."""
    meta = as_object(obj.get("metadata"))
    return str(meta.get("name") or meta.get("generateName") or "Unknown")


def unauthorized(message: str = "Unauthorized") -> ApiError:
    return ApiError(401, "Unauthorized", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "Forbidden", message)


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_large(message: str = "the request body is too large") -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", message)


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {content_type}"
    )


def service_unavailable(message: str) -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}")


def field_invalid(field: str, value: Any, detail: str) -> Cause:
    """A cause worded like field.Invalid: `Invalid value: "x": detail`."""
    shown = (
        f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else value
    )
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {shown}: {detail}", "field": field}


def field_required(field: str, detail: str = "") -> Cause:
    return {
        "reason": "FieldValueRequired",
        "message": "Required value" + (f": {detail}" if detail else ""),
        "field": field,
    }


def field_duplicate(field: str, value: Any) -> Cause:
    shown = f'"{value}"' if isinstance(value, str) else value
    return {"reason": "FieldValueDuplicate", "message": f"Duplicate value: {shown}", "field": field}


def field_duplicates(values: list[tuple[str, Any]]) -> list[Cause]:
    """field.Duplicate at each (path, value) whose value came before (empty values skipped)."""
    causes: list[Cause] = []
    seen: set[str] = set()
    for path, value in values:
        if value in (None, ""):
            continue
        key = str(value)
        if key in seen:
            causes.append(field_duplicate(path, value))
        seen.add(key)
    return causes


def field_not_supported(field: str, value: Any, supported: list[str]) -> Cause:
    shown = f'"{value}"' if isinstance(value, str) else value
    opts = ", ".join(f'"{s}"' for s in supported)
    return {
        "reason": "FieldValueNotSupported",
        "message": f"Unsupported value: {shown}: supported values: {opts}",
        "field": field,
    }


def field_too_many(field: str, count: int, limit: int) -> Cause:
    return {
        "reason": "FieldValueTooMany",
        "message": f"Too many: {count}: must have at most {limit} items",
        "field": field,
    }


def field_forbidden(field: str, detail: str) -> Cause:
    return {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": field}


def field_unknown(field: str) -> Cause:
    return {"reason": "FieldValueInvalid", "message": f'unknown field "{field}"', "field": field}
