"""A disk emptyDir's `sizeLimit`, enforced as kube's eviction manager does: by evicting the pod.

A memory emptyDir is a tmpfs of that size (the kernel refuses more); a disk one is a directory
on the node's filesystem, which nothing bounds. kube's kubelet measures each such volume every
eviction pass (10 s) and evicts the pod whose volume outgrew its limit: phase Failed, reason
Evicted, `Usage of EmptyDir volume "cache" exceeds the limit "1Mi". `, and a warning event. The
usage is what `du` counts: the blocks of every file and directory below, each inode once,
symlinks not followed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from api.quantity import to_int

EVICTED = "Evicted"
CHECK_EVERY = 10.0  # seconds: kube's eviction monitoring interval


def limited_disk_empty_dirs(pod: dict[str, Any]) -> list[tuple[str, str]]:
    """(volume name, sizeLimit as written) of the pod's disk emptyDirs that have a limit."""
    out = []
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        empty = vol.get("emptyDir") if isinstance(vol, dict) else None
        if isinstance(empty, dict) and empty.get("sizeLimit") and (empty.get("medium") or "") != "Memory":
            out.append((str(vol.get("name")), str(empty["sizeLimit"])))
    return out


def usage_bytes(path: Path) -> int:
    """Bytes of disk below `path` as `du` counts them (0 when it does not exist)."""
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


def eviction_message(volumes_dir: Path, limited: list[tuple[str, str]]) -> str | None:
    """kube's message for the first volume over its limit, None when all fit."""
    for name, limit in limited:
        try:
            allowed = to_int(limit)
        except ValueError:
            continue  # validation refuses such a quantity
        if allowed > 0 and usage_bytes(volumes_dir / name) > allowed:
            return f'Usage of EmptyDir volume "{name}" exceeds the limit "{limit}". '
    return None
