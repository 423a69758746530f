"""The one subprocess entry point of the container side: logs the full command, types failures.

Every runc/conmon/helper call goes through `run()` so a failing command becomes a
`CommandFailed` carrying argv and stderr (and the command line is in the debug log), and a
missing binary becomes a one-line `ContainerError` instead of a traceback. `spawn()` starts
conmon without `subprocess`, which `kubelite runtime run` never imports otherwise (~2 ms).
"""

from __future__ import annotations

import os
import sys

from runtime.containers.errors import CommandFailed, ContainerError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Mapping, Sequence  # `collections` is ~1.5 ms of a `run`'s start
    from typing import Any

LOGGER = "kubelite.runtime.proc"


def log_command(argv: Sequence[str]) -> None:
    """Debug-log a command line; `logging` is imported only when someone configured it (start-up cost)."""
    if "logging" not in sys.modules:
        return
    import logging

    logger = logging.getLogger(LOGGER)
    if logger.isEnabledFor(logging.DEBUG):
        import shlex

        logger.debug("exec: %s", shlex.join(argv))


_paths: dict[str, str] = {}


def which(name: str) -> str:
    """Absolute path of a helper binary (cached: the hot path resolves runc once)."""
    path = _paths.get(name)
    if path is None:
        for candidate in (f"/usr/sbin/{name}", f"/usr/bin/{name}", f"/usr/local/bin/{name}"):
            if os.access(candidate, os.X_OK):
                path = candidate
                break
        else:
            import shutil  # only here: it loads bz2 and lzma (start-up cost)

            found = shutil.which(name)
            if found is None:
                raise ContainerError(f"{name} is not installed (looked in PATH, /usr/sbin, /usr/bin)")
            path = found
        _paths[name] = path
    return path


def run(
    argv: Sequence[str],
    *,
    input: bytes | None = None,
    check: bool = True,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run argv to completion; CommandFailed on a non-zero exit when `check`."""
    import subprocess

    args = list(argv)
    log_command(args)
    try:
        result = subprocess.run(
            args,
            input=input,
            timeout=timeout,
            env=env,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise ContainerError(f"{args[0]} is not installed") from None
    if check and result.returncode != 0:
        raise CommandFailed(args, result.returncode, (result.stderr or b"").decode(errors="replace"))
    return result


def runc(*args: str, check: bool = True, timeout: float | None = 30) -> subprocess.CompletedProcess[bytes]:
    return run([which("runc"), *args], check=check, timeout=timeout)


def spawn(
    argv: Sequence[str],
    env: Mapping[str, str],
    fds: Mapping[int, int],
    keep_stdio: tuple[int, ...] = (),
    setsid: bool = False,
) -> int:
    """Start argv with stdio on /dev/null (but the `keep_stdio` fds, shared with us) and `fds`
    ({child fd: our fd}) passed; return its pid. `setsid`: in a session of its own (no terminal,
    so a Ctrl-C meant for us never reaches it).

    What subprocess.Popen(..., pass_fds, close_fds=True) does, through os.posix_spawn: any other
    fd we inherited as inheritable is closed in the child (ours are all close-on-exec), so a
    long-lived child such as conmon holds nothing of our caller's."""
    actions: list[tuple[Any, ...]] = [(os.POSIX_SPAWN_DUP2, ours, child) for child, ours in fds.items()]
    for child in (0, 1, 2):
        if child not in keep_stdio and child not in fds:
            actions.append(
                (os.POSIX_SPAWN_OPEN, child, os.devnull, os.O_RDONLY if child == 0 else os.O_WRONLY, 0)
            )
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in fds:
            try:
                if os.get_inheritable(fd):
                    actions.append((os.POSIX_SPAWN_CLOSE, fd))
            except OSError:
                pass  # the listing's own directory fd, closed by now
    try:
        return os.posix_spawn(argv[0], list(argv), dict(env), file_actions=actions, setsid=setsid)
    except FileNotFoundError:
        raise ContainerError(f"{argv[0]} is not installed") from None
