"""Exec over WebSocket, kube's remotecommand channel protocol (`v5.channel.k8s.io`, `v4.channel.k8s.io`).

Every binary frame starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize
(JSON `{"Width":W,"Height":H}`), and in v5 only 255 close (`\\xff\\x00`: the client has no more
stdin). The server ends with one status frame on channel 3 — `{"metadata":{},"status":"Success"}`
or a `NonZeroExitCode` Failure whose cause carries the exit code, which kubectl exits with —
then a normal close. The framing and the statuses are pure functions; `serve_exec` is the thin
shell that bridges an accepted ASGI WebSocket and a runtime `ExecSession`, and it forwards all
of the command's output before the status, so nothing printed just before the exit is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from runtime.interface import ExecSession

log = logging.getLogger(__name__)

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)  # in order of preference
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


class ExecOptionError(ValueError):
    """The exec query is unusable (answered as 400 before the upgrade)."""


@dataclass(frozen=True)
class ExecOptions:
    command: list[str]
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


def _flag(pairs: list[tuple[str, str]], *names: str) -> bool:
    return any(k in names and v.lower() in ("1", "true") for k, v in pairs)


def parse_exec_query(pairs: list[tuple[str, str]]) -> ExecOptions:
    """The exec options from the query: the API's names (`stdin=true`) or the kubelet's (`input=1`)."""
    command = [v for k, v in pairs if k == "command"]
    if not command:
        raise ExecOptionError("you must specify at least 1 command")
    return _stream_options(command, pairs)


def parse_attach_query(pairs: list[tuple[str, str]]) -> ExecOptions:
    """An attach's options: an exec's without a command (the container's own process)."""
    return _stream_options([], pairs)


def _stream_options(command: list[str], pairs: list[tuple[str, str]]) -> ExecOptions:
    stdin, stdout = _flag(pairs, "stdin", "input"), _flag(pairs, "stdout", "output")
    stderr, tty = _flag(pairs, "stderr", "error"), _flag(pairs, "tty")
    if not (stdin or stdout or stderr):
        raise ExecOptionError("you must specify at least 1 of stdin, stdout, stderr")
    # as the kubelet does: a terminal has one output stream, stderr goes to it
    return ExecOptions(command, stdin, stdout, stderr and not tty, tty)


def choose_protocol(offered: list[str]) -> str | None:
    for p in PROTOCOLS:
        if p in offered:
            return p
    return None


def frame(channel: int, data: bytes) -> bytes:
    return bytes((channel,)) + data


def success_status() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_status(code: int, command: list[str]) -> dict[str, Any]:
    """The status frame for an exit code, worded as the kubelet words it."""
    if code == 0:
        return success_status()
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command "
        f"[{' '.join(command)}], exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def error_status(message: str) -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }


def status_frame(status: dict[str, Any]) -> bytes:
    return frame(STATUS, json.dumps(status, separators=(",", ":")).encode())


def parse_resize(payload: bytes) -> tuple[int, int] | None:
    """(cols, rows) of a resize frame, None when it is not one kubectl would send."""
    try:
        size = json.loads(payload)
        cols, rows = int(size["Width"]), int(size["Height"])
    except (ValueError, KeyError, TypeError):
        return None
    return (cols, rows) if cols > 0 and rows > 0 else None


async def _pump_input(
    receive: Callable[[], Awaitable[dict[str, Any]]],
    session: ExecSession,
    opts: ExecOptions,
    gone: asyncio.Event,
) -> None:
    """Client frames to the session until the client goes; stdin is closed on `\\xff\\x00` or on leaving."""
    stdin_open = opts.stdin
    try:
        while True:
            msg = await receive()
            if msg["type"] == "websocket.disconnect":
                gone.set()
                return
            data = msg.get("bytes") or (msg.get("text") or "").encode()
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == STDIN and stdin_open and payload:
                await session.write_stdin(payload)
            elif channel == CLOSE and payload[:1] == bytes((STDIN,)) and stdin_open:
                stdin_open = False
                await session.close_stdin()
            elif channel == RESIZE and opts.tty and (size := parse_resize(payload)) is not None:
                await session.resize(*size)
    finally:
        if stdin_open:
            with contextlib.suppress(Exception):
                await session.close_stdin()


async def _pump_output(
    send: Callable[[dict[str, Any]], Awaitable[None]], session: ExecSession, opts: ExecOptions
) -> None:
    async for stream, data in session.output():
        if (stream == STDOUT and opts.stdout) or (
            stream == STDERR and (opts.stderr or (opts.tty and opts.stdout))
        ):
            await send({"type": "websocket.send", "bytes": frame(stream, data)})


async def serve_exec(
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
    session: ExecSession,
    opts: ExecOptions,
) -> None:
    """Bridge an accepted WebSocket and a started session until the command exits or the client goes."""
    gone = asyncio.Event()
    inputs = asyncio.create_task(_pump_input(receive, session, opts, gone))
    outputs = asyncio.create_task(_pump_output(send, session, opts))
    gone_wait = asyncio.create_task(gone.wait())
    try:
        await asyncio.wait([outputs, gone_wait], return_when=asyncio.FIRST_COMPLETED)
        if gone.is_set():
            return  # nobody to report to; stdin was closed, which ends most interactive commands
        outputs.result()
        code = await session.wait()
        await send({"type": "websocket.send", "bytes": status_frame(exit_status(code, opts.command))})
        await send({"type": "websocket.close", "code": 1000})
    except Exception as e:  # the runtime failed mid-session: say so on the status channel
        log.warning("exec %s failed: %s", opts.command, e)
        if not gone.is_set():
            with contextlib.suppress(Exception):
                await send({"type": "websocket.send", "bytes": status_frame(error_status(str(e)))})
                await send({"type": "websocket.close", "code": 1000})
    finally:
        for t in (inputs, outputs, gone_wait):
            t.cancel()
        await asyncio.gather(inputs, outputs, gone_wait, return_exceptions=True)
