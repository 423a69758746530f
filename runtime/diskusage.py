"""Disk used below a path, counted as `du` counts it: the blocks of every file and directory,
each inode once, symlinks not followed. What the kubelet's eviction checks measure (a disk
emptyDir, a container's writable layer) and the runtime reports (CRI's writable-layer usage)."""

from __future__ import annotations

import os


def usage_bytes(path: str | os.PathLike[str]) -> int:
    """Bytes of disk below `path` (0 when it does not exist)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, dirs, files in os.walk(path):
        for name in (".", *dirs, *files):
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue  # gone meanwhile
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total
