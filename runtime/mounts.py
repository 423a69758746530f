"""`Mount`, the one type of the runtime seam that `kubelite runtime run` needs.

It lives apart from runtime/interface.py (which re-exports it, so it is the same class) because
that module also builds six more dataclasses and two Protocols: ~2-3 ms of every CLI start.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Mount:
    """A bind mount of a host path into a container, or a fresh tmpfs."""

    container_path: str
    host_path: str
    read_only: bool = False
    tmpfs: bool = False  # a fresh tmpfs instead of a bind (emptyDir medium: Memory)
