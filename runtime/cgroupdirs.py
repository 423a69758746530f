"""A pod's cgroup directories, for what runc does not manage: moving a process of ours into them
(a sandbox's pause process, runtime/podpid.py) and removing them when the pod goes.

runc makes and removes each container's own cgroup (`<pod cgroup>/<container>`) in every
hierarchy; the pod's directory above them, and anything placed in it without runc, are ours. The
machines this runs on have hybrid cgroups (RUNTIME-FACTS.md): one directory per v1 hierarchy
under /sys/fs/cgroup (cpu and cpuacct may be one directory under two names: a symlink is skipped)
plus cgroup2 at `unified`. A host with cgroup2 alone has a single hierarchy at /sys/fs/cgroup.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CPUSET_FILES = ("cpuset.cpus", "cpuset.mems")  # empty in a new v1 cpuset: nothing may join it then


def hierarchies(root: Path = ROOT) -> list[Path]:
    """The mounted hierarchies: the cgroup2 root alone, or one directory per v1 hierarchy."""
    if (root / "cgroup.controllers").exists():
        return [root]
    try:
        return sorted(d for d in root.iterdir() if d.is_dir() and not d.is_symlink())
    except OSError:
        return []


def _make(hierarchy: Path, path: str) -> Path:
    """mkdir -p of `path` in one hierarchy; in a v1 cpuset, a level without CPUs or memory nodes
    (a new one) gets its parent's, as runc fills the ones it makes, or no process could join it."""
    here = hierarchy
    for part in path.strip("/").split("/"):
        parent, here = here, here / part
        here.mkdir(exist_ok=True)
        for name in CPUSET_FILES:
            if (here / name).exists() and not (here / name).read_text().strip():
                (here / name).write_text((parent / name).read_text())
    return here


def join(path: str, pids: list[int], root: Path = ROOT) -> None:
    """Move the processes into cgroup `path` (e.g. /kubepods/pod<uid>/pause) of every hierarchy,
    making it where it is missing. OSError when a hierarchy refuses them."""
    for hierarchy in hierarchies(root):
        target = _make(hierarchy, path) / "cgroup.procs"
        for pid in pids:
            target.write_text(str(pid))


def remove(path: str, root: Path = ROOT) -> None:
    """rmdir cgroup `path` in every hierarchy (runc removes only each container's own); one that
    still has members or children stays."""
    for hierarchy in hierarchies(root):
        try:
            os.rmdir(hierarchy / path.strip("/"))
        except OSError:
            pass
