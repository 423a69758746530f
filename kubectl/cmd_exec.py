"""`kubectl exec POD [-c C] [-i] [-t] -- CMD...` over WebSocket `v5.channel.k8s.io`.

Frames carry a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 status (a Status JSON: Success,
or NonZeroExitCode with the code in `details.causes[ExitCode]`), 4 resize, 255 close (v5:
`\\xff\\x00` says our stdin is done). The remote exit code becomes ours. With `-t` the local
terminal goes to raw mode for the session and its size is sent at start and on SIGWINCH.
`websockets` is imported only here.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any
from urllib.parse import urlencode

from kubectl.env import CommandError, Env
from kubectl.flags import FlagSpec, Help, Parsed

_FLAGS: FlagSpec = {
    "container": ("str", None, "c"),
    "stdin": ("bool", False, "i"),
    "tty": ("bool", False, "t"),
    "quiet": ("bool", False, "q", "Print only what the remote command prints."),
    "pod-running-timeout": ("str", "1m0s", ""),
}
FLAGS: dict[str, FlagSpec] = {
    "exec": {**_FLAGS, "filename": ("list", [], "f", "A manifest naming the pod to run the command in.")},
    "attach": _FLAGS,
}
HELP = {
    "exec": Help(
        summary="Run a command in a container",
        more="Runs the command after -- in a running container of the pod, with its output here "
        "and its exit status as kubectl's. -i passes this terminal's input, -t gives it a "
        "terminal.",
        usage="(POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...]",
        examples="""
        # Print the date in a pod's default container
        kubectl exec web-1 -- date

        # In another container of the pod
        kubectl exec web-1 -c sidecar -- ls /

        # An interactive shell
        kubectl exec -it web-1 -- sh

        # Input from a pipe
        echo hello | kubectl exec -i web-1 -- cat
        """,
    ),
    "attach": Help(
        summary="Connect to the streams of a running container",
        more="Connects to the standard streams of a container's main process, as opposed to "
        "starting a new one as exec does.",
        usage="(POD | TYPE/NAME) -c CONTAINER",
        examples="""
        # The output of a pod's default container
        kubectl attach web-1

        # Interactive, to a container started with stdin and tty
        kubectl attach web-1 -c shell -i -t
        """,
    ),
}
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
PROTOCOL = "v5.channel.k8s.io"


def exit_code_of(status: dict[str, Any]) -> tuple[int, str]:
    """(exit code, message for stderr) from the status channel's Status."""
    if status.get("status") == "Success":
        return 0, ""
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                code = int(cause.get("message") or 1)
                return code, f"command terminated with exit code {code}"
    return 1, f"error: {status.get('message') or 'command failed'}"


def exec_url(server: str, path: str, command: list[str], container: str, stdin: bool, tty: bool) -> str:
    """The WebSocket URL of pods/exec (or pods/attach, with no command)."""
    q: list[tuple[str, str]] = [("command", c) for c in command]
    q.append(("container", container))
    if stdin:
        q.append(("stdin", "true"))
    q.append(("stdout", "true"))
    if not tty:
        q.append(("stderr", "true"))
    if tty:
        q.append(("tty", "true"))
    base = "wss" + server[5:] if server.startswith("https") else "ws" + server[4:]
    return f"{base}{path}?{urlencode(q)}"


def _terminal_size() -> tuple[int, int]:
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
        return size.columns, size.lines
    except OSError:
        return 80, 24


def exec(env: Env, p: Parsed) -> int:
    from kubectl.targets import pick_container

    args = list(p.args)
    command = list(p.command)
    if not args:
        raise CommandError(
            "error: expected 'exec (POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...]'.\n"
            "POD or TYPE/NAME is a required argument for the exec command\n"
            "See 'kubectl exec -h' for help and examples"
        )
    if len(args) > 1 and not command:
        command = args[1:]
    if not command:
        raise CommandError("error: you must specify at least one command for the container")
    name = args[0].split("/", 1)[1] if args[0].startswith(("pod/", "pods/", "po/")) else args[0]
    pod = env.client.get("pods", name, env.namespace)
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise CommandError(
            f"error: cannot exec into a container in a completed pod; current phase is {phase}"
        )
    container = pick_container(env, pod, p["container"])
    tty = p["tty"]
    if tty and not (p["stdin"] and sys.stdin.isatty()):
        if not p["quiet"]:
            print("Unable to use a TTY - input is not a terminal or the right kind of file", file=env.err)
        tty = False
    from api.requests import resource

    path = resource("pods").object_path(name, env.namespace, "exec")
    url = exec_url(env.config.server, path, command, container, p["stdin"], tty)
    return run_session(env, url, p["stdin"], tty)


def attach(env: Env, p: Parsed) -> int:
    """`kubectl attach POD [-c C] [-i] [-t]`: the container's own stdio, same channels as exec."""
    from kubectl.targets import pick_container, resolve_pod

    pod = resolve_pod(env, p.args)
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise CommandError(f"error: cannot attach a container in a completed pod; current phase is {phase}")
    container = pick_container(env, pod, p["container"])
    tty = p["tty"] and p["stdin"] and sys.stdin.isatty()
    if not p["quiet"] and not tty:
        print("If you don't see a command prompt, try pressing enter.", file=env.err)
    from api.requests import resource

    name = pod["metadata"]["name"]
    path = resource("pods").object_path(name, env.namespace, "attach")
    return run_session(
        env, exec_url(env.config.server, path, [], container, p["stdin"], tty), p["stdin"], tty
    )


def run_session(env: Env, url: str, stdin: bool, tty: bool) -> int:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    cfg = env.config
    headers = {"Authorization": f"Bearer {cfg.token}"} if cfg.token else {}
    try:
        ws = connect(
            url,
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            additional_headers=headers,
            ssl=cfg.ssl_context() if url.startswith("wss") else None,
            max_size=None,
            open_timeout=cfg.timeout or 30,
            user_agent_header=cfg.user_agent,
        )
    except InvalidStatus as e:
        from api.client import decode_error

        resp = e.response
        body = bytes(resp.body or b"")
        if b'"kind":"Status"' not in body.replace(b" ", b""):
            # a refused upgrade without a Status body (e.g. an ASGI server's bare 403)
            raise CommandError(
                f"error: unable to upgrade connection: {resp.status_code} {resp.reason_phrase}"
                + (f": {body.decode(errors='replace').strip()}" if body.strip() else "")
            ) from e
        raise decode_error(resp.status_code, resp.headers.get("Content-Type", ""), body) from e
    except OSError as e:
        raise CommandError(f"error: unable to upgrade connection: {e}") from e
    with ws:  # websockets wants the connection used as a context manager
        status = _relay(env, ws, stdin, tty)
    code, message = exit_code_of(status or {"status": "Success"})
    if message:
        if code == 1 and message.startswith("error:"):
            raise CommandError(message)
        print(message, file=env.err)
    return code


def _relay(env: Env, ws: Any, stdin: bool, tty: bool) -> dict[str, Any] | None:
    """Copy frames to stdout/stderr (stdin the other way) until the status or the close."""
    from websockets.exceptions import ConnectionClosed

    from api import jsonutil

    restore = _raw_mode() if tty else None
    out = getattr(env.out, "buffer", None)
    err = getattr(env.err, "buffer", None)
    status: dict[str, Any] | None = None
    try:
        if tty:
            _send_size(ws)
            _watch_resize(ws)
        if stdin:
            threading.Thread(target=_pump_stdin, args=(ws,), daemon=True).start()
        while True:
            try:
                frame = ws.recv()
            except ConnectionClosed:
                break
            if isinstance(frame, str):
                frame = frame.encode()
            if not frame:
                continue
            channel, data = frame[0], frame[1:]
            if channel == STDOUT:
                _write(out, env.out, data)
            elif channel == STDERR:
                _write(err, env.err, data)
            elif channel == STATUS:
                status = jsonutil.loads(data) if data else {"status": "Success"}
    finally:
        if restore:
            restore()
    return status


def _write(raw: Any, text: Any, data: bytes) -> None:
    if raw is not None:
        raw.write(data)
        raw.flush()
    else:
        text.write(data.decode(errors="replace"))
        text.flush()


def _pump_stdin(ws: Any) -> None:
    try:
        fd = sys.stdin.fileno()
        while True:
            data = os.read(fd, 32 * 1024)
            if not data:
                break
            ws.send(bytes([STDIN]) + data)
        ws.send(bytes([CLOSE, STDIN]))
    except Exception:  # the session ended first
        return


def _send_size(ws: Any) -> None:
    from api import jsonutil

    cols, rows = _terminal_size()
    ws.send(bytes([RESIZE]) + jsonutil.dumps({"Width": cols, "Height": rows}))


def _watch_resize(ws: Any) -> None:
    import signal

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGWINCH, lambda *_: _send_size(ws))


def _raw_mode() -> Any:
    import termios
    import tty as tty_mod

    fd = sys.stdin.fileno()
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        return None
    tty_mod.setraw(fd)
    return lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved)
