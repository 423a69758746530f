"""argparse as `kubelite runtime` uses it: a help formatter and a parser class without start-up waste.

Imported only when a command line needs argparse (runtime/runflags.py reads a plain `run` without
it). argparse's own defaults cost here: its formatter imports `shutil` for the terminal width, and
it asks gettext to translate each of its strings.
"""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any


class Formatter(argparse.HelpFormatter):
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


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose subparsers (made with `type(self)`) all use `Formatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
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
