"""A plain `run`/`create` read without argparse (runtime/runflags.py) means what argparse makes of it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from runtime import cli
from runtime.runflags import parse_plain

DEFAULTS = {"root": cli.DEFAULT_ROOT, "image_root": None, "log_level": "warning"}

# command lines the plain parse reads itself (each checked against argparse below)
PLAIN = [
    ["run", "--rm", "busybox", "true"],
    ["--root", "/r", "run", "--rm", "busybox", "true"],
    ["--root=/r", "--image-root", "/i", "--log-level=debug", "run", "busybox"],
    ["run", "--rm", "--net", "none", "busybox", "sh", "-c", "echo --rm -e x"],
    ["run", "--network=host", "-e", "A=1", "-e", "B", "--env=C=3", "-l", "k=v", "busybox"],
    ["run", "-d", "-i", "--name", "web", "-p", "8080:80", "-v", "/a:/b:ro", "--tmpfs", "/t", "img:1"],
    ["run", "-w", "/tmp", "-u", "1000:1000", "-h", "host", "--entrypoint", "sh", "busybox", "-c", "id"],
    ["run", "-m", "64m", "--cpus", "0.5", "--pids-limit", "10", "--privileged", "busybox"],
    ["run", "--cap-add", "NET_ADMIN", "--cap-drop=ALL", "--pull", "never", "busybox"],
    ["run", "--rm", "--rm", "--name", "a", "--name", "b", "busybox"],
    ["run", "--name=", "--name=-x", "busybox", "-1", "--help"],
    ["create", "--name", "c1", "busybox", "sleep", "10"],
    ["--log-level", "run", "run", "busybox"],
]

# left to argparse: each would be read differently (or rejected) by argparse than a word-by-word parse
FOR_ARGPARSE = [
    ["run", "-it", "busybox"],  # bundled short flags
    ["run", "-eA=1", "busybox"],  # a value glued to a short option
    ["run", "-e=A", "busybox"],
    ["run", "--na", "x", "busybox"],  # an abbreviation
    ["run", "--", "busybox"],
    ["run", "busybox", "--", "true"],  # argparse drops the --
    ["run", "--name", "-x", "busybox"],  # a value that looks like an option
    ["run", "--pids-limit", "-1", "busybox"],
    ["run", "--pids-limit", "ten", "busybox"],
    ["run", "--pull", "sometimes", "busybox"],
    ["run", "--rm=yes", "busybox"],
    ["run", "--help"],
    ["run", "--rm"],  # no image
    ["run", "", "true"],
    ["--root", "run", "--rm", "busybox"],  # the verb is the value of --root: no verb left
    ["--bogus", "run", "busybox"],
]


def argparse_reads(argv: list[str]) -> dict[str, Any]:
    verb = cli._verb(argv)
    values = vars(cli.build_parser(with_images=False, only=verb).parse_args(argv))
    values.pop("func")
    return values


@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_a_plain_command_line_reads_as_argparse_reads_it(argv: list[str]) -> None:
    plain = parse_plain(argv, cli._verb(argv), DEFAULTS)
    assert plain is not None
    assert plain == argparse_reads(argv)


@pytest.mark.parametrize("argv", FOR_ARGPARSE, ids=" ".join)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert parse_plain(argv, cli._verb(argv) or "run", DEFAULTS) is None


def test_the_namespace_carries_the_verbs_handler() -> None:
    from runtime.containers import commands

    args = cli._plain_run(["run", "--rm", "busybox", "true"], "run")
    assert (args.func, args.verb, args.rm, args.image, args.command) == (
        commands.cmd_run,
        "run",
        True,
        "busybox",
        ["true"],
    )
    assert cli._plain_run(["create", "busybox"], "create").func is commands.cmd_create


def test_a_plain_run_never_imports_argparse() -> None:
    code = (
        "import sys\nfrom runtime import cli\n"
        "cli._plain_run(['run', '--rm', 'busybox', 'true'], 'run')\n"
        "print([m for m in ('argparse', 'gettext') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_a_plain_run_imports_no_heavy_stdlib() -> None:
    """What a `run --rm` imports (the CLI, the container, image and network modules) stands on none
    of the stdlib modules that cost it most of its start-up: re and enum, json, pathlib, ipaddress,
    collections (through functools), argparse, logging, threading, subprocess, ctypes (runtime/libc.py
    calls libc through _ctypes), types."""
    code = (
        "import sys\nfrom runtime import cli\n"
        "cli._plain_run(['run', '--rm', 'busybox', 'true'], 'run')\n"
        "import runtime.containers.foreground, runtime.images, runtime.network.bridge, runtime.network.etcfiles\n"
        "heavy = ('re', 'enum', 'json', 'pathlib', 'ipaddress', 'functools', 'collections', 'argparse',\n"
        "         'logging', 'threading', 'subprocess', 'ctypes', 'types')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
