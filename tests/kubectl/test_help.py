"""Every command's `--help` page: for each verb of main.VERBS, each subverb of main.SUBVERBS and
each subcommand a verb module's HELP names (so a verb added later is covered without editing
this file): exit 0, a description, Examples, an Options section with every flag the command
takes (each with a description, and each accepted by the parser as documented), Usage naming
the command; parents list their subcommands; and what we document is what the real kubectl 1.33
documents for the same command. No server is needed: help never talks to one.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kubectl import main as kubectl_main
from kubectl.flags import GLOBAL_FLAGS, Help, UsageError, parse
from tests.apiserver.conftest import KUBECTL as REAL_KUBECTL

REPO = Path(__file__).resolve().parents[2]
OPTION = re.compile(r"^    (?:-(\w), )?--([\w-]+)=(.*):$")


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _commands() -> list[tuple[str, str, str]]:
    """(command words as typed, canonical command, module) for every command there is."""
    out: dict[str, tuple[str, str, str]] = {}
    for verb, mod in kubectl_main.VERBS.items():
        out[verb] = (verb, verb, mod)
    for (verb, sub), mod in kubectl_main.SUBVERBS.items():
        typed = f"{verb} {sub}"
        out[typed] = (typed, f"{verb} {kubectl_main.SUBVERB_NAMES.get(sub, sub)}", mod)
    for mod in sorted({*kubectl_main.VERBS.values(), *kubectl_main.SUBVERBS.values()}):
        for key in getattr(_module(mod), "HELP", {}):
            out.setdefault(key, (key, key, mod))
    return sorted(out.values())


COMMANDS = _commands()
IDS = [typed for typed, _, _ in COMMANDS]


def _help_of(command: str, module: str) -> Help | None:
    helps: dict[str, Help] = getattr(_module(module), "HELP", {})
    return helps.get(command)


def _takes(command: str, module: str) -> dict[str, Any]:
    """The flags a command accepts: its verb's FLAGS table, narrowed by its Help.flags if given."""
    table = _module(module).FLAGS[command.split()[0]]
    h = _help_of(command, module)
    return table if h is None or h.flags is None else {n: table[n] for n in h.flags}


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = kubectl_main.main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _options(page: str) -> dict[str, tuple[str, str, str]]:
    """long name -> (short letter, default as printed, description) from a page's Options."""
    if "\nOptions:\n" not in page:
        return {}
    lines = page.split("\nOptions:\n", 1)[1].split("\nUsage:\n", 1)[0].splitlines()
    out = {}
    for i, line in enumerate(lines):
        m = OPTION.match(line)
        if m:
            desc = lines[i + 1] if i + 1 < len(lines) else ""
            assert desc.startswith("\t"), line
            out[m.group(2)] = (m.group(1) or "", m.group(3), desc.strip())
    return out


def _children(page: str) -> dict[str, str]:
    if "\nAvailable Commands:\n" not in page:
        return {}
    block = page.split("\nAvailable Commands:\n", 1)[1].split("\n\n", 1)[0]
    return dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in block.splitlines())


@pytest.mark.parametrize(("typed", "command", "module"), COMMANDS, ids=IDS)
def test_every_command_has_a_full_help_page(
    capsys: pytest.CaptureFixture[str], typed: str, command: str, module: str
) -> None:
    code, out, err = _run(capsys, *typed.split(), "--help")
    assert code == 0 and not err, err
    first = out.partition("\n")[0]
    assert first.endswith(".") and len(first) > 10, first  # a description opens the page
    assert "\nExamples:\n  # " in out and f"\n  kubectl {command}" in out.split("\nExamples:\n")[1]
    assert f"\nUsage:\n  kubectl {command} " in out and out.rstrip().endswith(
        'Use "kubectl options" for a list of global command-line options (applies to all commands).'
    )
    documented = _options(out)
    assert set(documented) == set(_takes(command, module))
    assert all(desc for _, _, desc in documented.values()), documented
    assert "help" not in documented


@pytest.mark.parametrize(("typed", "command", "module"), COMMANDS, ids=IDS)
def test_documented_flags_parse_as_documented(
    capsys: pytest.CaptureFixture[str], typed: str, command: str, module: str
) -> None:
    _, out, _ = _run(capsys, *typed.split(), "--help")
    table = _module(module).FLAGS[command.split()[0]]
    defaults = parse([], table).flags
    for name, (short, default, _) in _options(out).items():
        kind = table[name][0]
        value = "2" if kind == "int" else "x"
        given = [f"--{name}"] if kind == "bool" else [f"--{name}={value}"]
        if short:
            given.append(f"-{short}" if kind == "bool" else f"-{short}{value}")
        for arg in given:
            try:
                parsed = parse([arg], table)
            except UsageError as e:  # pragma: no cover - the failure message is the point
                pytest.fail(f"{typed}: documented {arg} refused: {e}")
            want = True if kind == "bool" else 2 if kind == "int" else [value] if kind == "list" else value
            assert parsed.flags[name] == want and name in parsed.seen, arg
        shown = default.strip("'")
        actual = defaults[name]
        if kind == "bool":
            assert shown == str(actual).lower(), name
        elif kind == "list":
            assert shown == "[" + ",".join(actual) + "]", name
        else:
            assert shown == ("" if actual is None else str(actual)), name


def test_every_flag_a_verb_accepts_is_documented_somewhere(capsys: pytest.CaptureFixture[str]) -> None:
    """Subcommands that share one table (rollout, create service ...) between them document all of it."""
    documented: dict[tuple[str, str], set[str]] = {}
    for typed, command, module in COMMANDS:
        _, out, _ = _run(capsys, *typed.split(), "--help")
        documented.setdefault((module, command.split()[0]), set()).update(_options(out))
    for (module, verb), names in documented.items():
        assert set(_module(module).FLAGS[verb]) <= names, (module, verb)


def test_parents_list_their_subcommands_with_the_childrens_summaries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    summaries = {}
    for typed, command, _ in COMMANDS:
        _, out, _ = _run(capsys, *typed.split(), "--help")
        summaries[command] = out.partition("\n")[0].rstrip(".")
    parents = {c.rpartition(" ")[0] for c in summaries if " " in c}
    assert {"create", "create secret", "create service", "rollout", "set", "config", "top"} <= parents
    for parent in parents:
        _, out, _ = _run(capsys, *parent.split(), "--help")
        children = {c.rpartition(" ")[2]: s for c, s in summaries.items() if c.rpartition(" ")[0] == parent}
        assert _children(out) == children, parent
        assert f'Use "kubectl {parent} <command> --help"' in out


def test_a_subcommand_shows_its_own_page_not_its_parents(capsys: pytest.CaptureFixture[str]) -> None:
    _, parent, _ = _run(capsys, "rollout", "--help")
    code, status, _ = _run(capsys, "rollout", "status", "deployment/web", "--help")
    assert code == 0 and status != parent and "\nUsage:\n  kubectl rollout status (TYPE NAME" in status
    assert set(_options(status)) == {"filename", "recursive", "revision", "selector", "timeout", "watch"}
    _, image, _ = _run(capsys, "set", "image", "--help")
    assert "\nUsage:\n  kubectl set image " in image and "--local=false:" in image
    _, generic, _ = _run(capsys, "create", "secret", "generic", "--help")
    assert "\n    --from-literal=[]:\n" in generic and "--docker-server" not in generic
    _, alias, _ = _run(capsys, "create", "deploy", "--help")
    assert "\nAliases:\ndeployment, deploy\n" in alias and "\n    -r, --replicas=1:\n" in alias


def test_help_verb_and_global_flags_first(capsys: pytest.CaptureFixture[str]) -> None:
    for words in (["get"], ["rollout", "status"], ["create", "service", "nodeport"], ["config", "view"]):
        assert _run(capsys, "help", *words)[1] == _run(capsys, *words, "--help")[1]
    assert _run(capsys, "-n", "x", "top", "pod", "-h")[1] == _run(capsys, "top", "pod", "--help")[1]
    code, out, _ = _run(capsys, "help")
    assert code == 0 and out == kubectl_main.USAGE


def test_options_lists_the_global_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "options")
    assert code == 0 and out.startswith("The following options can be passed to any command:")
    listed = _options("\nOptions:\n" + out)
    assert set(listed) == set(GLOBAL_FLAGS) - {"help"}
    assert listed["namespace"][0] == "n" and all(desc for _, _, desc in listed.values())


def test_help_imports_only_the_asked_for_verb_module() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from kubectl.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(sys.argv[1:])\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('kubectl.cmd_') or m in "
        "('kubectl.describe', 'kubectl.rolling_update'))))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args, want in (
        (["get", "--help"], "kubectl.cmd_get"),
        (["create", "deployment", "--help"], "kubectl.cmd_create_deployment"),
        (["create", "--help"], "kubectl.cmd_apply"),
        (["help", "rollout", "status"], "kubectl.cmd_help kubectl.cmd_rollout"),
    ):
        r = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
        assert r.stdout.split() == want.split(), (args, r.stdout, r.stderr)


# Flags our kubectl accepts that kubectl 1.33 has dropped or never had for that command.
OURS_ONLY = {"apply": {"save-config"}, "autoscale": {"validate"}, "version": {"short"}}
# Commands of ours that kubectl 1.33 has no page of its own for (gone from it, or a page of ours only).
NO_REAL_PAGE = {"rolling-update", "options"}


@pytest.mark.parametrize(("typed", "command", "module"), COMMANDS, ids=IDS)
def test_documented_flags_are_the_real_kubectls(
    capsys: pytest.CaptureFixture[str], typed: str, command: str, module: str
) -> None:
    real = subprocess.run([REAL_KUBECTL, *command.split(), "--help"], capture_output=True, text=True)
    has_page = f"\nUsage:\n  kubectl {command} " in real.stdout
    assert has_page == (command not in NO_REAL_PAGE), command
    if not has_page:
        return
    theirs = _options(real.stdout)
    _, out, _ = _run(capsys, *typed.split(), "--help")
    ours = _options(out)
    assert set(ours) - set(theirs) <= OURS_ONLY.get(command, set())
    for name in set(ours) & set(theirs):
        assert ours[name][0] == theirs[name][0], (command, name)  # the same shorthand letter
