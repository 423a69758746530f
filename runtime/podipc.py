"""The IPC a pod's containers share: one IPC namespace and one /dev/shm per sandbox.

In kube every container of a pod joins its sandbox's IPC namespace (the pause container holds
it) and containerd mounts one /dev/shm tmpfs of the sandbox into each of them, so System V
IPC and POSIX shared memory work between a pod's containers. Here a sandbox has no process of
its own: its IPC namespace is kept alive by a bind mount of its nsfs file onto
`<sandbox dir>/ipc` (as a named netns is, see runtime/network/netns.py), which runc joins by
path, and its /dev/shm is a tmpfs mounted at `<sandbox dir>/shm` (64 MiB, docker's and
containerd's default size), bound into each container. Both are unmounted when the sandbox is
removed. A hostIPC pod uses the node's IPC namespace and /dev/shm instead, and needs neither.
"""

from __future__ import annotations

import _thread
import os

from runtime import libc
from runtime.network.netns import in_thread

CLONE_NEWIPC = 0x08000000
MS_BIND, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1000, 0x2, 0x4, 0x8
MNT_DETACH = 0x2
SHM_OPTIONS = b"mode=1777,size=65536k"


def ipc_path(sandbox_dir: str) -> str:
    return f"{sandbox_dir}/ipc"


def shm_path(sandbox_dir: str) -> str:
    return f"{sandbox_dir}/shm"


def create(sandbox_dir: str) -> None:
    """A new IPC namespace bound at `ipc_path` and a fresh tmpfs at `shm_path`."""
    os.makedirs(shm_path(sandbox_dir), exist_ok=True)
    target = ipc_path(sandbox_dir)
    os.close(os.open(target, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o444))
    mount = libc.function("mount")

    def make() -> None:  # in a thread of its own: its namespace change dies with it
        libc.check(libc.function("unshare")(CLONE_NEWIPC), "unshare(CLONE_NEWIPC)")
        src = f"/proc/self/task/{_thread.get_native_id()}/ns/ipc".encode()
        libc.check(
            mount(src, os.fsencode(target), b"none", MS_BIND, None), f"bind-mount ipc ns onto {target}"
        )

    try:
        in_thread(make)
        libc.check(
            mount(
                b"shm",
                os.fsencode(shm_path(sandbox_dir)),
                b"tmpfs",
                MS_NOSUID | MS_NODEV | MS_NOEXEC,
                SHM_OPTIONS,
            ),
            f"mount the pod's shm at {shm_path(sandbox_dir)}",
        )
    except BaseException:
        remove(sandbox_dir)
        raise


def remove(sandbox_dir: str) -> None:
    """Unmount both (lazily: a container still holding them keeps them until it goes); idempotent."""
    umount2 = libc.function("umount2")
    for path in (ipc_path(sandbox_dir), shm_path(sandbox_dir)):
        if os.path.exists(path):
            umount2(os.fsencode(path), MNT_DETACH)  # EINVAL when not mounted: nothing to do
