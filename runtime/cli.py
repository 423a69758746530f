"""`kubelite runtime`: a daemonless docker-style CLI over runc, conmon and the image store.

Global `--root DIR` (default /var/lib/kubelite/runtime) names the state; every verb works from
disk, so nothing runs in between commands except conmon, one per container. Start-up is on the
`run --rm` budget (100 ms): the image verbs (which import asyncio and more) are registered only
when the verb is one of theirs or help is asked for. Errors are one line, exit code 125; a
foreground `run` exits with the container's code.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any

DEFAULT_ROOT = "/var/lib/kubelite/runtime"
CONTAINER_VERBS = (
    "version",
    "info",
    "run",
    "create",
    "ps",
    "logs",
    "exec",
    "start",
    "stop",
    "restart",
    "wait",
    "kill",
    "rm",
    "inspect",
    "build",
    "commit",
)
EXIT_RUNTIME_ERROR = 125


def _run_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--detach", action="store_true", help="run in the background, print the id")
    p.add_argument("-i", "--interactive", action="store_true", help="keep stdin attached")
    p.add_argument("-t", "--tty", action="store_true", help="allocate a terminal")
    p.add_argument("--rm", action="store_true", help="remove the container when it exits")
    p.add_argument("--name", help="container name")
    p.add_argument("--net", "--network", default="bridge", help="bridge | host | none | container:NAME")
    p.add_argument("-v", "--volume", action="append", default=[], help="HOST:CONTAINER[:ro]")
    p.add_argument("--tmpfs", action="append", default=[], help="mount a tmpfs at this path")
    p.add_argument("-e", "--env", action="append", default=[], help="KEY=VALUE (or KEY to copy ours)")
    p.add_argument("-l", "--label", action="append", default=[], help="KEY=VALUE")
    p.add_argument("-p", "--publish", action="append", default=[], help="[IP:]HOSTPORT:CONTAINERPORT[/proto]")
    p.add_argument("-w", "--workdir")
    p.add_argument("-u", "--user", help="uid[:gid] or name[:group] from the image")
    p.add_argument("-h", "--hostname")
    p.add_argument("--entrypoint")
    p.add_argument("-m", "--memory", help="memory limit, e.g. 64m")
    p.add_argument("--cpus", help="CPU quota, e.g. 0.5")
    p.add_argument("--pids-limit", type=int)
    p.add_argument("--privileged", action="store_true")
    p.add_argument("--cap-add", action="append", default=[])
    p.add_argument("--cap-drop", action="append", default=[])
    p.add_argument(
        "--pull", default="missing", choices=("missing", "always", "never"), help="pull the image first"
    )
    p.add_argument("image")
    p.add_argument("command", nargs=argparse.REMAINDER)


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, minus its `import shutil` (for the terminal width), which loads
    bz2, lzma and fnmatch: ~1.5 ms of every start, spent even when no help is printed."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        if width is None:  # what shutil.get_terminal_size() answers, less argparse's margin of 2
            try:
                width = int(os.environ["COLUMNS"]) - 2
            except (KeyError, ValueError):
                try:
                    width = os.get_terminal_size(sys.__stdout__.fileno()).columns - 2  # type: ignore[union-attr]
                except (AttributeError, ValueError, OSError):
                    width = 80 - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose subparsers (made with `type(self)`) all use `_Formatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _untranslated(message: str) -> str:
    return message


def _untranslated_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


# argparse asks gettext for each of its strings (a search of the locale directories for a
# "messages" catalog, and `locale` imported: 2-5 ms of a `run --rm`); Python ships no catalog for
# them, so the answer is the string itself: give it directly
setattr(argparse, "_", _untranslated)  # noqa: B010 (mypy does not know argparse's private names)
setattr(argparse, "ngettext", _untranslated_plural)  # noqa: B010


def build_parser(with_images: bool, only: str = "") -> argparse.ArgumentParser:
    """The whole CLI; with `only=VERB` (a container verb), just that verb: each subparser costs
    ~0.5-1.5 ms to build (argparse looks up translations of its titles), so 17 of them were a
    quarter of a `logs` or `exec`; a verb's own parsing and help do not depend on the others."""
    from runtime.containers import commands as c

    parser = _Parser(prog="kubelite runtime", description="docker-style container runtime")
    parser.add_argument("--root", default=DEFAULT_ROOT, help=f"state directory (default {DEFAULT_ROOT})")
    parser.add_argument("--image-root", help="where images live, when not under --root (shared image stores)")
    parser.add_argument("--log-level", default="warning", help="debug logs every command run")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")

    def want(verb: str) -> bool:
        return not only or verb == only

    if want("version"):
        sub.add_parser("version", help="show versions").set_defaults(func=c.cmd_version)
    if want("info"):
        sub.add_parser("info", help="show runtime information").set_defaults(func=c.cmd_info)
    for verb, func, help_ in (
        ("run", c.cmd_run, "run a command in a new container"),
        ("create", c.cmd_create, "create a container without starting it"),
    ):
        if not want(verb):
            continue
        p = sub.add_parser(verb, help=help_, add_help=False)
        p.add_argument("--help", action="help")
        _run_flags(p)
        p.set_defaults(func=func)

    if want("ps"):
        p = sub.add_parser("ps", help="list containers")
        p.add_argument("-a", "--all", action="store_true")
        p.add_argument("-q", "--quiet", action="store_true")
        p.add_argument("--no-trunc", action="store_true")
        p.set_defaults(func=c.cmd_ps)

    if want("logs"):
        p = sub.add_parser("logs", help="print a container's logs")
        p.add_argument("-f", "--follow", action="store_true")
        p.add_argument("--tail", type=int)
        p.add_argument("-t", "--timestamps", action="store_true")
        p.add_argument("container")
        p.set_defaults(func=c.cmd_logs)

    if want("exec"):
        p = sub.add_parser("exec", help="run a command in a running container")
        p.add_argument("-i", "--interactive", action="store_true")
        p.add_argument("-t", "--tty", action="store_true")
        p.add_argument("-e", "--env", action="append", default=[])
        p.add_argument("-w", "--workdir")
        p.add_argument("-u", "--user")
        p.add_argument("container")
        p.add_argument("command", nargs=argparse.REMAINDER)
        p.set_defaults(func=c.cmd_exec)

    if want("start"):
        p = sub.add_parser("start", help="start stopped containers")
        p.add_argument("-a", "--attach", action="store_true")
        p.add_argument("-i", "--interactive", action="store_true")
        p.add_argument("containers", nargs="+")
        p.set_defaults(func=c.cmd_start)

    for verb, func, help_ in (
        ("stop", c.cmd_stop, "stop containers (stop signal, then SIGKILL)"),
        ("restart", c.cmd_restart, "restart containers"),
    ):
        if not want(verb):
            continue
        p = sub.add_parser(verb, help=help_)
        p.add_argument("-t", "--time", type=float, default=10.0, help="grace period in seconds")
        p.add_argument("containers", nargs="+")
        p.set_defaults(func=func)

    if want("wait"):
        p = sub.add_parser("wait", help="wait for containers to exit, print their exit codes")
        p.add_argument("containers", nargs="+")
        p.set_defaults(func=c.cmd_wait)

    if want("kill"):
        p = sub.add_parser("kill", help="send a signal to containers")
        p.add_argument("-s", "--signal", default="SIGKILL")
        p.add_argument("containers", nargs="+")
        p.set_defaults(func=c.cmd_kill)

    if want("rm"):
        p = sub.add_parser("rm", help="remove containers")
        p.add_argument("-f", "--force", action="store_true")
        p.add_argument("-v", "--volumes", action="store_true", help="accepted for docker compatibility")
        p.add_argument("containers", nargs="+")
        p.set_defaults(func=c.cmd_rm)

    if want("inspect"):
        p = sub.add_parser("inspect", help="show containers or images as JSON")
        p.add_argument("containers", nargs="+")
        p.set_defaults(func=c.cmd_inspect)

    if want("build"):
        p = sub.add_parser("build", help="build an image from a Dockerfile")
        p.add_argument("-t", "--tag", action="append", default=[])
        p.add_argument("-f", "--file")
        p.add_argument("--build-arg", action="append", default=[])
        p.add_argument("--no-cache", action="store_true")
        p.add_argument("-q", "--quiet", action="store_true")
        p.add_argument("context")
        p.set_defaults(func=_lazy("runtime.build", "cmd_build"))

    if want("commit"):
        p = sub.add_parser("commit", help="make an image from a container's changes")
        p.add_argument("container")
        p.add_argument("ref", nargs="?")
        p.add_argument("-m", "--message", default="")
        p.set_defaults(func=_lazy("runtime.build", "cmd_commit"))

    if with_images:  # a broken import fails the command, not hides the verbs
        from runtime import cli_images

        cli_images.register(sub, in_use=c.in_use)
    return parser


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    def call(args: argparse.Namespace) -> int:
        import importlib

        return int(getattr(importlib.import_module(module), name)(args))

    return call


def _verb(argv: list[str]) -> str:
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--root", "--log-level", "--image-root"):
            skip = True
            continue
        if not a.startswith("-"):
            return a
        if a.startswith(("--root=", "--log-level=", "--image-root=")):
            continue
        return ""
    return ""


def main(argv: list[str] | None = None) -> int:
    """Run one verb. The cyclic GC is paused meanwhile: start-up allocates ~20k objects (modules,
    classes) that are never garbage, and collecting them costs 2-3 ms of a `run --rm`; what a
    verb frees later is freed by reference counting (its loops make no cycles)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if was_enabled:
            gc.enable()


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    verb = _verb(argv)
    parser = build_parser(
        with_images=verb not in CONTAINER_VERBS, only=verb if verb in CONTAINER_VERBS else ""
    )
    args = parser.parse_args(argv)
    if str(args.log_level).lower() != "warning":  # `logging` costs ~5 ms of the run --rm budget
        import logging

        logging.basicConfig(
            level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if getattr(args, "command", None) is not None and args.verb in ("exec",) and not args.command:
        parser.error("exec needs a command")
    from runtime.containers.errors import ContainerError

    try:
        return int(args.func(args))
    except ContainerError as e:
        print(f"Error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    except Exception as e:  # image and network errors: one line, no traceback
        if type(e).__module__.startswith(("runtime.images", "runtime.network")):
            print(f"Error: {e}", file=sys.stderr)
            return EXIT_RUNTIME_ERROR
        raise


# verbs that leave no file open but stdout and stderr (build and the image verbs write files)
QUICK_EXIT_VERBS = frozenset(CONTAINER_VERBS) - {"build", "commit"}


def entry(argv: list[str] | None = None) -> int:
    """`main` as a process: after a container verb, exit without the interpreter's teardown (freeing
    every module's objects: 5-10 ms of a `run --rm` here); stdout and stderr are flushed first. Only
    for a process that is this CLI (`kubelite runtime`, `python -m runtime.cli`), never in-process."""
    argv = sys.argv[1:] if argv is None else list(argv)
    code = main(argv)
    if _verb(argv) in QUICK_EXIT_VERBS:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code & 0xFF if code >= 0 else 1)
    return code


if __name__ == "__main__":
    sys.exit(entry())
