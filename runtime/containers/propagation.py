"""A bind mount that propagates needs a source that can: refused otherwise, as containerd does.

`rshared` (kube's Bidirectional, docker's `:rshared`) needs the mount holding the source to be
shared; `rslave` (HostToContainer, `:rslave`) needs it shared or a slave. On a private source
runc would make the mount anyway and nothing would ever propagate, so the container would
silently not get what it asked for. The mount holding a path is the longest mount point of
/proc/self/mountinfo above it; its optional fields say `shared:N` or `master:N`. Only a
container with such a mount reads mountinfo (the CLI's start-up path pays nothing else).
"""

from __future__ import annotations

import os

from runtime.containers.errors import InvalidConfig
from runtime.mounts import Mount

_ESCAPES = (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\"))


def mount_table(text: str) -> list[tuple[str, str]]:
    """(mount point, optional fields) per line of a mountinfo, with the kernel's octal escapes of
    space, tab, newline and backslash undone."""
    table = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) < 7:
            continue
        point = fields[4]
        if "\\" in point:
            for code, char in _ESCAPES:
                point = point.replace(code, char)
        end = fields.index("-", 6) if "-" in fields[6:] else len(fields)
        table.append((point, " ".join(fields[6:end])))
    return table


def source_mount(path: str, table: list[tuple[str, str]]) -> tuple[str, str]:
    """The mount holding `path`: the longest mount point that is it or above it (the last one
    listed when a point is mounted over)."""
    best = ("/", "")
    for point, optional in table:
        if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) >= len(best[0]):
            best = (point, optional)
    return best


def propagation_refusal(mounts: list[Mount], table: list[tuple[str, str]]) -> str | None:
    """containerd's words for the first mount whose source cannot propagate as asked."""
    for m in mounts:
        if m.tmpfs or m.propagation == "rprivate":
            continue
        point, optional = source_mount(os.path.realpath(m.host_path), table)
        tags = optional.split()
        shared = any(t.startswith("shared:") for t in tags)
        if m.propagation == "rshared" and not shared:
            return f'path "{m.host_path}" is mounted on "{point}" but it is not a shared mount'
        if m.propagation == "rslave" and not shared and not any(t.startswith("master:") for t in tags):
            return f'path "{m.host_path}" is mounted on "{point}" but it is not a shared or slave mount'
    return None


def check_propagation(mounts: list[Mount]) -> None:
    """Raise InvalidConfig when a propagating mount's source cannot propagate."""
    if all(m.tmpfs or m.propagation == "rprivate" for m in mounts):
        return
    with open("/proc/self/mountinfo") as f:
        table = mount_table(f.read())
    refusal = propagation_refusal(mounts, table)
    if refusal is not None:
        raise InvalidConfig(refusal)
