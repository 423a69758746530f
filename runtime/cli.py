"""`kubelite runtime`: a daemonless docker-style CLI over runc, conmon and the image store.

Global `--root DIR` (default /var/lib/kubelite/runtime) names the state; every verb works from
disk, so nothing runs in between commands except conmon, one per container. Start-up is on the
`run --rm` budget (100 ms): the image verbs (which import asyncio and more) are registered only
when the verb is one of theirs or help is asked for. Errors are one line, exit code 125; a
foreground `run` exits with the container's code.
"""

from __future__ import annotations

import gc
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
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


def build_parser(with_images: bool, only: str = "") -> argparse.ArgumentParser:
    """The whole CLI; with `only=VERB` (a container verb), just that verb: each subparser costs
    ~0.5-1.5 ms to build (argparse looks up translations of its titles), so 17 of them were a
    quarter of a `logs` or `exec`; a verb's own parsing and help do not depend on the others."""
    import argparse

    from runtime.cli_argparse import Parser
    from runtime.containers import commands as c
    from runtime.runflags import add_run_flags

    parser = Parser(prog="kubelite runtime", description="docker-style container runtime")
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
        add_run_flags(p)
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


def _plain_run(argv: list[str], verb: str) -> Any:
    """A plain `run`/`create` command line read without argparse (runflags.py), else None."""
    from runtime.runflags import parse_plain

    values = parse_plain(argv, verb, {"root": DEFAULT_ROOT, "image_root": None, "log_level": "warning"})
    if values is None:
        return None
    from runtime.containers import commands as c

    return _Args(**values, func=c.cmd_run if verb == "run" else c.cmd_create)


class _Args:
    """A command line read by `_plain_run`: its values as attributes, as argparse's Namespace has
    them (types.SimpleNamespace would import `types`, on nothing else of a `run`'s path)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"_Args({self.__dict__!r})"


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
    args = _plain_run(argv, verb) if verb in ("run", "create") else None
    if args is None:
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
    if _verb(argv) not in QUICK_EXIT_VERBS:
        return main(argv)
    # the cyclic GC stays off to the end (see `main`): enabled again, it would collect every start-up
    # object on the next allocation before the exit (~2 ms of a `run --rm`), for nothing
    gc.disable()
    code = _main(argv)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code & 0xFF if code >= 0 else 1)


if __name__ == "__main__":
    sys.exit(entry())
