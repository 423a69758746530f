"""`kubectl help [COMMAND...]` (the page `--help` prints) and `kubectl options` (the global flags).

The pages themselves are kubectl.helppage's; `help` hands its words back to main with `--help`.
"""

from __future__ import annotations

from kubectl.env import Env
from kubectl.flags import FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {"help": {}, "options": {}}
HELP = {
    "help": Help(
        summary="Show the help page of any command",
        more="Give the command's words after `help`, as in `kubectl help rollout status`; "
        "the page is the one `--help` prints.",
        usage="[command]",
        examples="""
        # The list of all commands
        kubectl help

        # The page of a subcommand
        kubectl help create secret generic
        """,
    ),
    "options": Help(
        summary="List the flags every command accepts",
        usage="",
        examples="""
        # Every command takes the global flags
        kubectl options
        """,
    ),
}


def help(env: Env, p: Parsed) -> int:
    from kubectl.main import USAGE, main

    if not p.args:
        env.out.write(USAGE)
        return 0
    return main([*p.args, "--help"])


def options(env: Env, p: Parsed) -> int:
    from kubectl.helppage import options_page

    env.out.write(options_page())
    return 0
