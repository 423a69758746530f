"""Command-line parsing the way kubectl (cobra/pflag) does it, in a few dozen lines.

argparse would do, but kubectl's habits do not fit it well: flags anywhere among the
positional arguments, `-oyaml`, `-it`, `--flag=value`, `--bool=false`, `--` handing the rest to
a container command, and its own wording for errors (`error: unknown flag: --x`). A verb
declares its flags as a dict; the result is a `Parsed` with `.flags`, `.args` and `.command`
(what followed `--`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# kind: "bool", "str", "int", "list" (repeatable str). A flag only this verb has carries its
# one-line help as a fourth item; a name many verbs share is described once, in kubectl.helppage.
Flag = tuple[str, Any, str] | tuple[str, Any, str, str]
FlagSpec = dict[str, Flag]  # long name -> (kind, default, short letter or ""[, help])


@dataclass(frozen=True)
class Help:
    """A command's help page, laid out by kubectl.helppage as kubectl lays out its own.

    Keyed in a verb module's `HELP` by the command's words ("get", "rollout status",
    "create secret generic"); a key with more words is a subcommand of the shorter one.
    """

    summary: str  # one line: the page's opening and its line in the parent's command list
    usage: str  # the argument shape after `kubectl COMMAND`
    examples: str  # "# what it does" / "kubectl ..." lines, a blank line between examples
    more: str = ""  # further paragraphs of description, a blank line between them
    aliases: tuple[str, ...] = ()
    flags: tuple[str, ...] | None = None  # the names of FLAGS[verb] it takes; None: all of them
    commands: dict[str, str] = field(default_factory=dict)  # subcommands kept in other modules


class UsageError(Exception):
    """Bad command line: printed as `error: ...`, exit 1 (as cobra does)."""


GLOBAL_FLAGS: FlagSpec = {
    "kubeconfig": ("str", None, ""),
    "context": ("str", None, ""),
    "cluster": ("str", None, ""),
    "user": ("str", None, ""),
    "namespace": ("str", None, "n"),
    "server": ("str", None, "s"),
    "token": ("str", None, ""),
    "as": ("str", None, ""),
    "as-group": ("list", [], ""),
    "as-uid": ("str", None, ""),
    "certificate-authority": ("str", None, ""),
    "insecure-skip-tls-verify": ("bool", False, ""),
    "request-timeout": ("str", "0", ""),
    "v": ("str", "0", "v"),
    "cache-dir": ("str", None, ""),
    "help": ("bool", False, "h"),
}

# What every verb that creates an object takes (kubectl's AddDryRunFlag, the printer's -o,
# AddValidateFlags, AddFieldManagerFlagVar, --save-config): create, apply, the `create <kind>`
# generators and autoscale.
WRITE_FLAGS: FlagSpec = {
    "dry-run": ("str", "none", ""),
    "output": ("str", "", "o"),
    "validate": ("str", "strict", ""),
    "field-manager": ("str", "", ""),
    "save-config": ("bool", False, ""),
}
# Manifests named by -f (files, directories with -R, URLs or `-`).
FILE_FLAGS: FlagSpec = {"filename": ("list", [], "f"), "recursive": ("bool", False, "R")}


@dataclass
class Parsed:
    flags: dict[str, Any]
    args: list[str] = field(default_factory=list)
    command: list[str] = field(default_factory=list)  # after `--`
    seen: set[str] = field(default_factory=set)  # flags given explicitly

    def __getitem__(self, name: str) -> Any:
        return self.flags[name]


def _bool(name: str, text: str) -> bool:
    low = text.lower()
    if low in ("true", "t", "1"):
        return True
    if low in ("false", "f", "0"):
        return False
    raise UsageError(
        f'invalid argument "{text}" for "--{name}" flag: strconv.ParseBool: parsing "{text}": invalid syntax'
    )


def _store(out: Parsed, spec: Mapping[str, Flag], name: str, value: Any) -> None:
    kind = spec[name][0]
    if kind == "int":
        try:
            value = int(value)
        except ValueError:
            raise UsageError(
                f'invalid argument "{value}" for "--{name}" flag: strconv.ParseInt: parsing '
                f'"{value}": invalid syntax'
            ) from None
    if kind == "list":
        out.flags.setdefault(name, [])
        out.flags[name] = [*out.flags[name], *(value.split(",") if name in ("filename",) else [value])]
    else:
        out.flags[name] = value
    out.seen.add(name)


def parse(argv: list[str], spec: Mapping[str, Flag]) -> Parsed:
    """Parse argv against spec (the verb's flags merged with the global ones)."""
    spec = {**GLOBAL_FLAGS, **spec}
    shorts = {f[2]: n for n, f in spec.items() if f[2]}
    out = Parsed({n: (list(f[1] or []) if f[0] == "list" else f[1]) for n, f in spec.items()})
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            out.command = argv[i:]
            break
        if a.startswith("--") and len(a) > 2:
            name, eq, value = a[2:].partition("=")
            if name not in spec:
                raise UsageError(f"unknown flag: --{name}")
            kind = spec[name][0]
            if kind == "bool":
                _store(out, spec, name, _bool(name, value) if eq else True)
                continue
            if not eq:
                if i >= len(argv):
                    raise UsageError(f"flag needs an argument: --{name}")
                value = argv[i]
                i += 1
            _store(out, spec, name, value)
        elif a.startswith("-") and len(a) > 1 and a != "-":
            j = 1
            while j < len(a):
                letter = a[j]
                name = shorts.get(letter, "")
                if not name:
                    raise UsageError(f"unknown shorthand flag: '{letter}' in {a}")
                kind = spec[name][0]
                j += 1
                if kind == "bool":
                    if j < len(a) and a[j] == "=":
                        _store(out, spec, name, _bool(name, a[j + 1 :]))
                        break
                    _store(out, spec, name, True)
                    continue
                value = a[j:].removeprefix("=")
                if not value:
                    if i >= len(argv):
                        raise UsageError(f"flag needs an argument: '{letter}' in -{letter}")
                    value = argv[i]
                    i += 1
                _store(out, spec, name, value)
                break
        else:
            out.args.append(a)
    return out
