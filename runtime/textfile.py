"""Small text files by str path: the one place the runtime reads, writes and unlinks them.

The container engine, the address allocator and the network records keep their state in small
files. They use these three functions instead of pathlib, which (with re, urllib.parse and
ipaddress behind it) costs a foreground `run --rm` ~17 ms of imports before any work.
"""

from __future__ import annotations

import os


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
