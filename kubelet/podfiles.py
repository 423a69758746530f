"""Where the files the kubelet makes for a pod live: on disk for a real node, in memory for a hollow one.

A kubelet writes, per pod, its configMap/secret/downwardAPI/projected volume files (atomically,
`projection.write_atomic`), its emptyDir directories, its /etc/resolv.conf and /etc/hosts, and a
termination-message file per container instance; a container is then given bind mounts of those
paths. Termination-message files follow the instances the kubelet keeps: a removed instance's
goes with it, and a restart's new file drops those older than the instance before it. A hollow
node's fake runtime mounts nothing, so disk files would be written and read back for no reader:
at a few hundred pods per second the directory churn (mkdir, symlink, rename, the read-back that
decides "unchanged") cost the hollow agent more CPU than all its API work. `MemoryFiles` keeps
the same contents per pod, decided by the same pure functions, and answers the same "changed?"
question; the paths it returns are the ones a disk kubelet would mount. The API work (token
requests, object reads, events) is the same.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from kubelet.projection import Files, write_atomic

MAX_TERMINATION_MESSAGE = 4096  # kube's cap on a container's termination message


def pod_dir(data_dir: Path, uid: str) -> Path:
    return data_dir / "pods" / uid


def termination_log_path(data_dir: Path, uid: str, name: str, restarts: int) -> Path:
    return pod_dir(data_dir, uid) / "containers" / name / str(restarts)


def outlived_termination_logs(restarts: int, held: Iterable[str]) -> list[str]:
    """Of a container's termination-log file names (restart counts), those a new instance
    `restarts` makes useless: all but its own and the previous instance's, which lastState reads
    (kube's container GC keeps one dead instance per container; older instances' messages are
    reported nowhere)."""
    kept = {str(restarts), str(restarts - 1)}
    return [n for n in held if n not in kept]


class PodFiles(Protocol):
    """The writer behind a pod's kubelet-made files."""

    blocking: bool  # whether calls touch the disk (callers on the event loop move them to a thread)

    def volume(self, data_dir: Path, uid: str, name: str, files: Files) -> Path:
        """Show exactly `files` in the pod's volume `name` (atomically); its path."""
        ...

    def empty_dir(self, data_dir: Path, uid: str, name: str, memory: bool, size: int | None = None) -> Path:
        """The pod's emptyDir `name` (a tmpfs when `memory`, of `size` bytes at most), made once; its path."""
        ...

    def etc_file(self, data_dir: Path, uid: str, name: str, content: str) -> Path:
        """One file of the pod's directory (resolv.conf, etc-hosts), rewritten in place when changed."""
        ...

    def remove_pod(self, data_dir: Path, uid: str) -> None:
        """Everything of the pod goes (a tmpfs emptyDir is unmounted first)."""
        ...

    def termination_log(self, data_dir: Path, uid: str, name: str, restarts: int) -> Path:
        """An empty file, writable by any user, for one container instance's termination message;
        the container's files older than the previous instance's go (`outlived_termination_logs`)."""
        ...

    def remove_termination_log(self, data_dir: Path, uid: str, name: str, restarts: int) -> None:
        """That instance's file goes (its container was removed; gone already is fine)."""
        ...

    def termination_message(self, data_dir: Path, uid: str, name: str, restarts: int) -> str:
        """What that container instance wrote there, up to kube's 4096 bytes ("" when nothing)."""
        ...


class DiskFiles:
    blocking = True

    def volume(self, data_dir: Path, uid: str, name: str, files: Files) -> Path:
        path = pod_dir(data_dir, uid) / "volumes" / name
        write_atomic(path, files)
        return path

    def empty_dir(self, data_dir: Path, uid: str, name: str, memory: bool, size: int | None = None) -> Path:
        path = pod_dir(data_dir, uid) / "volumes" / name
        try:
            path.mkdir(parents=True)
            path.chmod(0o777)  # as kube's emptyDir: whatever user the pod's containers run as writes
        except FileExistsError:
            pass
        if memory and not path.is_mount():
            options = "mode=1777" + (f",size={size}" if size else "")  # sizeLimit: the kernel's ENOSPC
            subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
        return path

    def etc_file(self, data_dir: Path, uid: str, name: str, content: str) -> Path:
        base = pod_dir(data_dir, uid)
        base.mkdir(parents=True, exist_ok=True)
        path = base / name
        write_if_changed(path, content.encode())
        return path

    def remove_pod(self, data_dir: Path, uid: str) -> None:
        base = pod_dir(data_dir, uid)
        vols = base / "volumes"
        if vols.is_dir():
            for path in vols.iterdir():
                if path.is_mount():
                    subprocess.run(["umount", "-l", str(path)], check=False)
        shutil.rmtree(base, ignore_errors=True)

    def termination_log(self, data_dir: Path, uid: str, name: str, restarts: int) -> Path:
        path = termination_log_path(data_dir, uid, name, restarts)
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in outlived_termination_logs(restarts, os.listdir(path.parent)):
            (path.parent / old).unlink(missing_ok=True)
        path.write_bytes(b"")  # emptied: a new sandbox counts restarts from 0 again, names recur
        path.chmod(0o666)  # kube's: the container's user, whoever it is, writes its message
        return path

    def remove_termination_log(self, data_dir: Path, uid: str, name: str, restarts: int) -> None:
        termination_log_path(data_dir, uid, name, restarts).unlink(missing_ok=True)

    def termination_message(self, data_dir: Path, uid: str, name: str, restarts: int) -> str:
        try:
            with open(termination_log_path(data_dir, uid, name, restarts), "rb") as f:
                return f.read(MAX_TERMINATION_MESSAGE).decode(errors="replace")
        except OSError:
            return ""


class MemoryFiles:
    """Per pod UID: relative path -> contents (a volume's files, a directory marker, a file's text)."""

    blocking = False

    def __init__(self) -> None:
        self.pods: dict[str, dict[str, object]] = {}

    def _put(self, uid: str, rel: str, content: object) -> None:
        self.pods.setdefault(uid, {})[rel] = content

    def volume(self, data_dir: Path, uid: str, name: str, files: Files) -> Path:
        self._put(uid, f"volumes/{name}", dict(files))
        return pod_dir(data_dir, uid) / "volumes" / name

    def empty_dir(self, data_dir: Path, uid: str, name: str, memory: bool, size: int | None = None) -> Path:
        self._put(uid, f"volumes/{name}", "tmpfs" if memory else "dir")
        return pod_dir(data_dir, uid) / "volumes" / name

    def etc_file(self, data_dir: Path, uid: str, name: str, content: str) -> Path:
        self._put(uid, name, content)
        return pod_dir(data_dir, uid) / name

    def remove_pod(self, data_dir: Path, uid: str) -> None:
        self.pods.pop(uid, None)

    def termination_log(self, data_dir: Path, uid: str, name: str, restarts: int) -> Path:
        held = self.pods.setdefault(uid, {})
        prefix = f"containers/{name}/"
        names = [rel.removeprefix(prefix) for rel in held if rel.startswith(prefix)]
        for old in outlived_termination_logs(restarts, names):
            del held[prefix + old]
        held[f"{prefix}{restarts}"] = ""  # a fake container writes nothing there
        return termination_log_path(data_dir, uid, name, restarts)

    def remove_termination_log(self, data_dir: Path, uid: str, name: str, restarts: int) -> None:
        self.pods.get(uid, {}).pop(f"containers/{name}/{restarts}", None)

    def termination_message(self, data_dir: Path, uid: str, name: str, restarts: int) -> str:
        return str(self.pods.get(uid, {}).get(f"containers/{name}/{restarts}", ""))


DISK = DiskFiles()


def write_if_changed(path: Path, data: bytes) -> None:
    """Created whole when missing (no container sees it yet); in place when it exists (a bind mount
    follows the inode, so running containers see the change); nothing when the content is there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        with open(path, "r+b") as f:
            if f.read() != data:
                f.seek(0)
                f.write(data)
                f.truncate()
        return
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
