"""The flags of `run` and `create`: one table, read by argparse and by a parse that needs no argparse.

`kubelite runtime run --rm IMAGE CMD` is on a 100 ms budget, and argparse is ~3 ms of it here
(the module and gettext imported, a parser and a subparser built, the command line matched). The
common command lines are plain: known options spelt in full, each value in its own word or after
`=`, then the image and its command. `parse_plain` reads exactly those from `RUN_FLAGS`, the table
`add_run_flags` gives argparse, and answers None for anything else (an abbreviation, bundled short
flags, `-eVALUE`, `--`, a value that looks like an option, a bad choice or number, `--help`), which
then goes to argparse, so every command line means what argparse makes of it, errors included.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    import argparse
    from typing import Any

# what a flag takes: nothing (store_true), one value, one value per use (append), an int, a choice
FLAG, VALUE, APPEND, INT, CHOICE = "flag", "value", "append", "int", "choice"
PULL_CHOICES = ("missing", "always", "never")

# (option strings, kind, default, help); argparse's dest is the first long option, `-` -> `_`
RUN_FLAGS: tuple[tuple[tuple[str, ...], str, Any, str], ...] = (
    (("-d", "--detach"), FLAG, False, "run in the background, print the id"),
    (("-i", "--interactive"), FLAG, False, "keep stdin attached"),
    (("-t", "--tty"), FLAG, False, "allocate a terminal"),
    (("--rm",), FLAG, False, "remove the container when it exits"),
    (("--name",), VALUE, None, "container name"),
    (("--net", "--network"), VALUE, "bridge", "bridge | host | none | container:NAME"),
    (("-v", "--volume"), APPEND, None, "HOST:CONTAINER[:ro]"),
    (("--tmpfs",), APPEND, None, "mount a tmpfs at this path"),
    (("-e", "--env"), APPEND, None, "KEY=VALUE (or KEY to copy ours)"),
    (("-l", "--label"), APPEND, None, "KEY=VALUE"),
    (("-p", "--publish"), APPEND, None, "[IP:]HOSTPORT:CONTAINERPORT[/proto]"),
    (("-w", "--workdir"), VALUE, None, ""),
    (("-u", "--user"), VALUE, None, "uid[:gid] or name[:group] from the image"),
    (("-h", "--hostname"), VALUE, None, ""),
    (("--entrypoint",), VALUE, None, ""),
    (("-m", "--memory"), VALUE, None, "memory limit, e.g. 64m"),
    (("--cpus",), VALUE, None, "CPU quota, e.g. 0.5"),
    (("--pids-limit",), INT, None, ""),
    (("--privileged",), FLAG, False, ""),
    (("--cap-add",), APPEND, None, ""),
    (("--cap-drop",), APPEND, None, ""),
    (("--read-only",), FLAG, False, "mount the container's root filesystem read-only"),
    (("--pid",), VALUE, None, "host: the node's process namespace"),
    (("--ipc",), VALUE, None, "host: the node's IPC namespace"),
    (("--pull",), CHOICE, "missing", "pull the image first"),
)
# the top-level options that may come before the verb, each with one value
GLOBAL_OPTIONS = ("--root", "--image-root", "--log-level")


def dest_of(names: tuple[str, ...]) -> str:
    """argparse's attribute name for an option: its first long spelling, without dashes."""
    return next(n for n in names if n.startswith("--"))[2:].replace("-", "_")


def add_run_flags(p: argparse.ArgumentParser) -> None:
    """The table as argparse arguments, then the image and its command."""
    import argparse

    for names, kind, default, help_ in RUN_FLAGS:
        kw: dict[str, Any] = {"help": help_} if help_ else {}
        if kind == FLAG:
            p.add_argument(*names, action="store_true", **kw)
        elif kind == APPEND:
            p.add_argument(*names, action="append", default=[], **kw)
        elif kind == INT:
            p.add_argument(*names, type=int, **kw)
        elif kind == CHOICE:
            p.add_argument(*names, default=default, choices=PULL_CHOICES, **kw)
        else:
            p.add_argument(*names, **({"default": default} if default is not None else {}), **kw)
    p.add_argument("image")
    p.add_argument("command", nargs=argparse.REMAINDER)


def _options() -> dict[str, tuple[str, str]]:
    """Each spelling of each option -> (dest, kind)."""
    table: dict[str, tuple[str, str]] = {}
    for names, kind, _, _ in RUN_FLAGS:
        dest = dest_of(names)
        for name in names:
            table[name] = (dest, kind)
    return table


def parse_plain(argv: list[str], verb: str, defaults: dict[str, Any]) -> dict[str, Any] | None:
    """`[GLOBAL OPTIONS] VERB [FLAGS] IMAGE [COMMAND...]` as argparse's namespace would hold it (its
    attributes as a dict, `defaults` holding the global options'), or None when argparse must read
    the line (see the module doc)."""
    if "--" in argv:
        return None
    values = dict(defaults)
    i, n = 0, len(argv)
    while i < n and argv[i] != verb:  # the global options (the verb is the first other word)
        name, eq, value = argv[i].partition("=")
        if name not in GLOBAL_OPTIONS:
            return None
        if not eq:
            if i + 1 >= n or argv[i + 1].startswith("-"):
                return None
            i, value = i + 1, argv[i + 1]
        values[name[2:].replace("-", "_")] = value
        i += 1
    if i >= n:
        return None
    values["verb"] = verb
    for names, kind, default, _ in RUN_FLAGS:
        values[dest_of(names)] = [] if kind == APPEND else default
    options = _options()
    i += 1
    while i < n and argv[i].startswith("-"):
        word = argv[i]
        name, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
        known = options.get(name)
        if known is None:
            return None  # an abbreviation, bundled short flags, -eVALUE, --help, a typo: argparse's
        dest, kind = known
        if kind == FLAG:
            if eq:
                return None
            values[dest] = True
            i += 1
            continue
        if not eq:
            if i + 1 >= n or argv[i + 1].startswith("-"):
                return None
            i, value = i + 1, argv[i + 1]
        if kind == APPEND:
            values[dest].append(value)
        elif kind == INT:
            if not value.isdigit():
                return None
            values[dest] = int(value)
        elif kind == CHOICE:
            if value not in PULL_CHOICES:
                return None
            values[dest] = value
        else:
            values[dest] = value
        i += 1
    if i >= n or not argv[i]:
        return None
    values["image"] = argv[i]
    values["command"] = argv[i + 1 :]
    return values
