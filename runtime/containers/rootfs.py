"""Container root filesystems: one overlay mount per container over the image's layer dirs.

mount(2)/umount2(2) through runtime/libc.py (about 0.1 ms; a `mount` process costs a few ms on the
`run` hot path). runc rejects a rootfs reached through a symlink, so every path is resolved first.
"""

from __future__ import annotations

import errno
import os

from runtime import libc
from runtime.containers.errors import ContainerError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TypeAlias

    StrPath: TypeAlias = str | os.PathLike[str]  # paths are str here: pathlib costs ~10 ms of `run`

MNT_DETACH = 2


def mount_overlay(
    lower_lowest_first: Sequence[StrPath],
    upper: StrPath,
    work: StrPath,
    target: StrPath,
    volatile: bool = False,
) -> None:
    """Mount overlay(lower..., upper) at target; an image without layers gets an empty lower dir.

    `volatile` (Linux 5.10) skips every sync of the upper dir, including the one on unmount, which
    syncs the whole filesystem holding it (~7 ms of `run --rm` here). For containers that are
    thrown away when they exit: after a host crash, overlay refuses to mount a volatile upper dir
    again (its contents may be torn)."""
    upper, work, target = os.fspath(upper), os.fspath(work), os.fspath(target)
    if volatile and os.path.lexists(f"{work}/work/incompat/volatile"):
        # left by the last mount (overlay keeps the marker even after a clean unmount, and then
        # refuses the workdir): a restart of the container in this boot; the workdir holds no data
        from runtime.containers.store import remove_tree

        remove_tree(work)
    for d in (upper, work, target):
        os.makedirs(d, exist_ok=True)
    lowers = [os.path.realpath(p) for p in reversed(lower_lowest_first)]
    if not lowers:
        empty = os.path.join(os.path.dirname(target), "empty")
        try:
            os.mkdir(empty)
        except FileExistsError:
            pass
        lowers = [os.path.realpath(empty)]
    data = f"lowerdir={':'.join(lowers)},upperdir={os.path.realpath(upper)},workdir={os.path.realpath(work)}"
    if volatile:
        data += ",volatile"
    if len(data) > 4000:
        raise ContainerError(f"too many image layers to mount ({len(lowers)})")
    rc = libc.function("mount")(b"overlay", os.path.realpath(target).encode(), b"overlay", 0, data.encode())
    if rc != 0:
        err = libc.get_errno()
        raise ContainerError(f"mount overlay at {target}: {os.strerror(err)}")


# what runc mounts over in every container (spec.py's mounts and etc files): present in the lowest
# layer, runc finds its mountpoints and creates none in the container's upper dir, so a `run --rm`
# writes and removes six fewer entries (each a journal write on the host's disk)
SKELETON_DIRS = ("proc", "sys", "dev", "etc")
SKELETON_FILES = ("etc/hosts", "etc/hostname", "etc/resolv.conf")


def skeleton(root: StrPath) -> str:
    """`<root>/skeleton`: the mountpoints' layer, made once (atomically: a rename of a complete dir),
    to go below every image's layers so that an image's own files win."""
    target = os.path.join(root, "skeleton")
    if os.path.isdir(target):
        return target
    tmp = os.path.join(root, f".skeleton-{os.getpid()}")
    for d in SKELETON_DIRS:
        os.makedirs(f"{tmp}/{d}", exist_ok=True)
    for f in SKELETON_FILES:
        os.close(os.open(f"{tmp}/{f}", os.O_WRONLY | os.O_CREAT, 0o666))  # Path.touch()
    try:
        os.rename(tmp, target)
    except OSError:  # made meanwhile by another process
        from runtime.containers.store import remove_tree

        remove_tree(tmp)
    return target


def unmount(target: StrPath) -> None:
    """Detach the mount at target; quiet when nothing is mounted there."""
    rc = libc.function("umount2")(os.path.realpath(target).encode(), MNT_DETACH)
    if rc != 0:
        err = libc.get_errno()
        if err not in (errno.EINVAL, errno.ENOENT):
            raise ContainerError(f"unmount {target}: {os.strerror(err)}")


def is_mounted(target: StrPath) -> bool:
    """Is something mounted at target? Two stat calls (its device differs from its parent's), not a
    read of /proc/self/mountinfo, which lists every container of the host (~1 ms with a few dozen)."""
    return os.path.ismount(target)
