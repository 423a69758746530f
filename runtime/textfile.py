"""Small text files by str path: the one place the runtime reads, writes and unlinks them, and
the lazy Path view of a str path (PathOf).

The container engine, the address allocator and the network records keep their state in small
files. They use these three functions instead of pathlib, which (with re, urllib.parse and
ipaddress behind it) costs a foreground `run --rm` ~17 ms of imports before any work.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from pathlib import Path


def read_file(path: str) -> str:
    with open(path) as f:
        return f.read()


def write_file(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def unlink_missing_ok(path: str) -> None:
    """Path.unlink(missing_ok=True): a file already gone is what the caller wanted."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class PathOf:
    """A `pathlib.Path` view of a str attribute, built when read: classes on `run`'s path keep
    str paths and still offer the Path attributes the other callers use."""

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def __get__(self, obj: object, owner: type | None = None) -> Path:
        from pathlib import Path

        return Path(getattr(obj, self.attr))
