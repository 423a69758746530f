"""Typed errors of the container side: each str() is one line a user can act on.

The CLI maps every `ContainerError` to `Error: <msg>` and exit code 125, as docker does for its
own failures; callers branch on the class, never on the message.
"""

from __future__ import annotations


class ContainerError(Exception):
    """Base class: a runtime failure that is not the container's own exit code."""

    exit_code = 125  # docker's code for its own failures


class CommandNotFound(ContainerError):
    """The container's command does not exist in its image (docker exits 127)."""

    exit_code = 127


class CommandNotExecutable(ContainerError):
    exit_code = 126


class NoSuchContainer(ContainerError):
    pass


class AmbiguousContainer(ContainerError):
    pass


class NameInUse(ContainerError):
    pass


class InvalidConfig(ContainerError):
    """The request cannot become a valid OCI bundle (bad user, bad mount, bad limit ...)."""


class ContainerStateError(ContainerError):
    """The operation does not fit the container's state (exec into a stopped one, rm a running one)."""


class CommandFailed(ContainerError):
    """An external command (runc, conmon, mount) exited non-zero; carries its argv and stderr."""

    def __init__(self, argv: list[str], returncode: int, stderr: str) -> None:
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr
        tail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {returncode}"
        super().__init__(f"{argv[0].rsplit('/', 1)[-1]} {argv[1] if len(argv) > 1 else ''}: {tail}".strip())
