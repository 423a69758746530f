"""Errors worded as kubectl words them (cmdutil.CheckErr), one line where kubectl has one.

`Error from server (NotFound): pods "x" not found`; a 422 as `The Pod "x" is invalid: <field>: <why>`
(a bulleted list when there are several causes); a refused connection as kubectl's
`The connection to the server H:P was refused - did you specify the right host or port?`.
Never a traceback: anything unforeseen is still one `error: ...` line.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError


def causes_of(err: ApiError) -> list[str]:
    details: dict[str, Any] = err.details or {}
    out = []
    for c in details.get("causes") or []:
        out.append(f"{c['field']}: {c.get('message', '')}" if c.get("field") else str(c.get("message", "")))
    return out


def api_error_text(err: ApiError) -> str:
    """The text kubectl prints for a Status error (without trailing newline)."""
    details: dict[str, Any] = err.details or {}
    if err.reason == "Invalid" and err.details is not None:
        kind, name = details.get("kind", ""), details.get("name", "")
        prefix = f'The {kind} "{name}" is invalid' if kind or name else "The request is invalid"
        causes = causes_of(err)
        if len(causes) == 1:
            return f"{prefix}: {causes[0]}"
        if causes:
            return f"{prefix}: \n" + "\n".join(f"* {c}" for c in causes)
        return f"{prefix}: {err.message}"
    if err.code == 401:
        return "error: You must be logged in to the server (Unauthorized)"
    if err.reason:
        return f"Error from server ({err.reason}): {err.message}"
    return f"Error from server: {err.message}"


def connection_text(exc: BaseException) -> str:
    cause = exc.__cause__
    msg = str(exc)
    if isinstance(cause, ConnectionRefusedError):
        where = msg.split("server: ", 1)[-1].split(": ", 1)[0]
        return f"The connection to the server {where} was refused - did you specify the right host or port?"
    return msg
