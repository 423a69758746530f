"""Named network namespaces the way `ip netns add` makes them, and netlink sockets inside them.

A named netns is a new net namespace kept alive by a bind mount of its nsfs file onto
`/run/netns/NAME`, so `ip netns list` / `ip netns exec` see it and runc can join it by path.
`/run/netns` itself is made a shared mount (bind-mounted onto itself first when it is not a
mount point), as iproute2 does, so the netns mounts propagate into mount namespaces made later.

Namespaces are per thread on Linux: creation and entering happen in a short-lived helper
thread, so the calling thread (and process) never leaves the network namespace it runs in.
A netlink socket opened in that thread stays bound to the new namespace after the thread
ends, which is how the sandbox's links are configured without `setns` in the caller.
A process meant to run "inside" a node netns should join it with `nsenter --net=PATH` (or setns),
not `ip netns exec`: the latter also unshares the mount namespace, so the sandbox netns mounts it
makes under /run/netns would be invisible outside it.
Python 3.11 has no os.unshare/os.setns/mount: libc is reached through runtime/libc.py (not ctypes).
"""

from __future__ import annotations

import _socket  # not `socket`: its enum tables cost ~2 ms of every `run`
import _thread  # not `threading`: ~1.5 ms of imports on `run`'s path
import errno
import os

from runtime import libc

NETNS_DIR = "/run/netns"  # str paths: pathlib costs ~10 ms of a `run` (re, urllib.parse, ipaddress)

CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SHARED = 1 << 20
MNT_DETACH = 0x2

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from runtime.containers.rootfs import StrPath

    T = TypeVar("T")
_check = libc.check


def in_thread(fn: Callable[[], T]) -> T:
    """Run fn in a fresh thread (whose namespace changes die with it) and return its result."""
    box: dict[str, Any] = {}
    done = _thread.allocate_lock()
    done.acquire()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.release()

    _thread.start_new_thread(run, ())
    done.acquire()  # the thread's end (its release); its namespace changes died with it
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def path_of(name: str) -> str:
    return f"{NETNS_DIR}/{name}"


def _ensure_shared_dir() -> None:
    os.makedirs(NETNS_DIR, exist_ok=True)
    mount = libc.function("mount")
    if mount(b"none", os.fsencode(NETNS_DIR), None, MS_SHARED | MS_REC, None) == 0:
        return
    if libc.get_errno() != errno.EINVAL:  # EINVAL: not a mount point yet
        _check(-1, f"make {NETNS_DIR} shared")
    _check(
        mount(os.fsencode(NETNS_DIR), os.fsencode(NETNS_DIR), b"none", MS_BIND | MS_REC, None),
        f"bind {NETNS_DIR}",
    )
    _check(
        mount(b"none", os.fsencode(NETNS_DIR), None, MS_SHARED | MS_REC, None),
        f"make {NETNS_DIR} shared",
    )


def create(name: str) -> _socket.socket:
    """Create netns `name` (FileExistsError if present); return a NETLINK_ROUTE socket inside it."""
    _ensure_shared_dir()
    target = path_of(name)
    fd = os.open(target, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
    os.close(fd)

    def make() -> _socket.socket:
        _check(libc.function("unshare")(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        src = f"/proc/self/task/{_thread.get_native_id()}/ns/net".encode()
        _check(
            libc.function("mount")(src, os.fsencode(target), b"none", MS_BIND, None),
            f"bind-mount netns onto {target}",
        )
        return _rtnl_socket()

    try:
        return in_thread(make)
    except BaseException:
        remove(name)
        raise


def open_socket(name: str) -> _socket.socket:
    """A NETLINK_ROUTE socket inside the existing netns `name`."""
    return run_in(path_of(name), _rtnl_socket)


def run_in(netns_path: StrPath, fn: Callable[[], T]) -> T:
    """fn() called inside the network namespace at `netns_path`, from a helper thread: a socket
    it makes stays in that namespace; the caller's thread never leaves its own."""
    fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)

    def enter() -> T:
        _check(libc.function("setns")(fd, CLONE_NEWNET), f"setns({netns_path})")
        return fn()

    try:
        return in_thread(enter)
    finally:
        os.close(fd)


def _rtnl_socket() -> _socket.socket:
    sock = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_RAW | _socket.SOCK_CLOEXEC, 0)
    sock.bind((0, 0))
    return sock


def remove(name: str) -> bool:
    """Unmount and delete netns `name`; False when there was nothing. Idempotent."""
    target = path_of(name)
    unmounted = libc.function("umount2")(os.fsencode(target), MNT_DETACH) == 0
    if not unmounted and libc.get_errno() not in (errno.EINVAL, errno.ENOENT):  # EINVAL: not mounted
        _check(-1, f"umount {target}")
    try:
        os.unlink(target)
    except FileNotFoundError:
        return False
    return True


def exists(name: str) -> bool:
    return os.path.exists(path_of(name))


def names() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []
