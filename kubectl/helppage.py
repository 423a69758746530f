"""Every command's `--help` page, laid out as kubectl lays out its own, and `kubectl options`'s.

A page is built from two things the command's module declares: its `FLAGS[verb]` table (names,
shorthand letters, defaults, and for flags of its own a one-line help as the fourth item) and a
`HELP[command]` entry (`kubectl.flags.Help`: summary, argument shape, examples, aliases, and
which of the table's flags the command takes when several commands share one table). A flag
name several verbs share (`--output`, `--selector`, `--dry-run` ...) is described once, here in
`SHARED`, so a new verb gets those lines for free. Only the asked-for command's module is ever
imported: a parent lists the subcommands of its own module from its `HELP` keys, and those kept
elsewhere from its entry's `commands`.
"""

from __future__ import annotations

import re
from typing import Any

from kubectl.flags import GLOBAL_FLAGS, Flag, FlagSpec, Help

GLOBAL_NOTE = 'Use "kubectl options" for a list of global command-line options (applies to all commands).'

SHARED: dict[str, str] = {
    # global flags (`kubectl options`)
    "kubeconfig": "Path of the kubeconfig file to read instead of $KUBECONFIG or ~/.kube/config.",
    "context": "Name of the kubeconfig context to use.",
    "as": "User to act as for this request (sent as the Impersonate-User header).",
    "as-group": "Group to act as; repeat for several groups (needs --as).",
    "as-uid": "UID to act as (needs --as).",
    "cluster": "Name of the kubeconfig cluster to use.",
    "user": "Name of the kubeconfig user to use.",
    "namespace": "Namespace to work in, instead of the current context's.",
    "server": "Address and port of the API server.",
    "token": "Bearer token to authenticate to the API server with.",
    "certificate-authority": "Path of a CA certificate file to verify the API server with.",
    "insecure-skip-tls-verify": "Do not check the API server's certificate (insecure: HTTPS without trust).",
    "request-timeout": "How long to wait for one server request before giving up (e.g. 5s, 2m); 0 waits forever.",
    "v": "Log verbosity level.",
    "cache-dir": "Directory for cached discovery data and kubeconfig.",
    # flags many verbs share
    "output": "Output format: json, yaml, name, wide, jsonpath=..., custom-columns=... (as the command supports).",
    "dry-run": 'One of "none", "server" or "client": with "server" the server checks the request without '
    'persisting it, with "client" only the object that would be sent is printed.',
    "filename": "File, directory or URL of manifests naming the objects to work on ('-' for stdin).",
    "recursive": "Walk directories given with -f/--filename, subdirectories included.",
    "selector": "Label selector (e.g. app=web,tier!=db) choosing the objects to work on.",
    "field-selector": "Field selector (e.g. metadata.name=web,status.phase=Running); only =, == and != work.",
    "field-manager": "Name recorded as the manager of the fields this command sets.",
    "validate": 'How to check the object against its schema: "strict" refuses unknown or duplicate '
    'fields, "warn" only warns, "ignore" skips the check.',
    "save-config": "Store the object's configuration in its last-applied annotation, so a later "
    "`kubectl apply` can compute differences.",
    "all": "Work on every object of the given types in the namespace.",
    "all-namespaces": "Work across all namespaces; the namespace of -n or the context is ignored.",
    "timeout": "How long to wait before giving up (e.g. 30s, 5m); 0 means the command's own rule.",
    "no-headers": "Leave out the header line of table output.",
    "sort-by": "Sort the rows by this field (a JSONPath expression such as '{.metadata.name}').",
    "image": "Container image to run.",
    "container": "Name of the container to use; by default the pod's annotated default or first one.",
    "force": "Delete and re-create what cannot be updated in place; with a zero grace period, delete "
    "at once without waiting for the kubelet.",
    "overwrite": "Allow replacing existing values.",
    "replicas": "Number of replicas.",
    "port": "Port the container exposes.",
    "ignore-not-found": "Treat an object that does not exist as success (exit status 0).",
    "stdin": "Keep the container's standard input open and pass this terminal's to it.",
    "tty": "Allocate a terminal for the container (needs -i/--stdin).",
    "pod-running-timeout": "How long to wait for at least one pod to be running (e.g. 5s, 2m).",
    "image-pull-policy": "Image pull policy of the container: Always, IfNotPresent or Never.",
}


def describe(name: str, flag: Flag) -> str:
    return flag[3] if len(flag) > 3 else SHARED.get(name, "")


def default_text(kind: str, value: Any) -> str:
    """A default as kubectl prints it: `false`, `-1`, `[]`, `0s` (durations bare), `'text'`."""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "int":
        return str(value)
    if kind == "list":
        return "[" + ",".join(value or []) + "]"
    text = "" if value is None else str(value)
    return text if re.fullmatch(r"(\d+(\.\d+)?(ms|s|m|h))+", text) else f"'{text}'"


def option_lines(spec: FlagSpec) -> str:
    lines = []
    for name in sorted(spec):
        flag = spec[name]
        short = f"-{flag[2]}, " if flag[2] else ""
        lines.append(f"    {short}--{name}={default_text(flag[0], flag[1])}:\n\t{describe(name, flag)}\n")
    return "\n".join(lines)


def command_spec(help: Help | None, table: FlagSpec) -> FlagSpec:
    """The flags one command takes: its `Help.flags` out of its verb's table, or the whole table."""
    if help is None or help.flags is None:
        return table
    return {n: table[n] for n in help.flags}


def render(command: str, help: Help | None, spec: FlagSpec, children: dict[str, str]) -> str:
    if help is None:  # a verb whose module has no HELP entry yet: at least its flags and shape
        help = Help(summary="", usage="[flags]", examples="")
    parts = [help.summary.rstrip(".") + "." if help.summary else ""]
    parts += [" " + p.strip() for p in help.more.strip().split("\n\n") if p.strip()]
    if help.aliases:
        parts.append("Aliases:\n" + ", ".join((command.rsplit(" ", 1)[-1], *help.aliases)))
    if help.examples.strip():
        lines = help.examples.strip().splitlines()
        parts.append("Examples:\n" + "\n".join("  " + line.strip() for line in lines))
    if children:
        width = max(len(n) for n in children) + 3
        rows = "\n".join(f"  {n.ljust(width)}{s}" for n, s in sorted(children.items()))
        parts.append("Available Commands:\n" + rows)
    if spec:
        parts.append("Options:\n" + option_lines(spec).rstrip("\n"))
    parts.append(f"Usage:\n  kubectl {command} {help.usage} [options]".replace("  [options]", " [options]"))
    tail = f'Use "kubectl {command} <command> --help" for more information about a given command.\n'
    parts.append((tail if children else "") + GLOBAL_NOTE)
    return "\n\n".join(p for p in parts if p) + "\n"


def find(helps: dict[str, Help], verb: str, args: list[str]) -> str:
    """The deepest command of `helps` that `verb args...` names (subcommands by name or alias)."""
    command = verb
    for arg in args:
        child = next(
            (
                key
                for key, h in helps.items()
                if key.rpartition(" ")[0] == command and arg in (key.rpartition(" ")[2], *h.aliases)
            ),
            None,
        )
        if child is None:
            break
        command = child
    return command


def page(helps: dict[str, Help], flags: dict[str, FlagSpec], verb: str, args: list[str]) -> str:
    """The help page of `kubectl VERB ARGS... --help`, from the verb module's HELP and FLAGS."""
    command = find(helps, verb, args)
    help = helps.get(command)
    children = {
        key.rpartition(" ")[2]: h.summary for key, h in helps.items() if key.rpartition(" ")[0] == command
    }
    children.update(help.commands if help else {})
    return render(command, help, command_spec(help, flags[verb]), children)


def options_page() -> str:
    spec = {n: f for n, f in GLOBAL_FLAGS.items() if n != "help"}
    return "The following options can be passed to any command:\n\n" + option_lines(spec)
