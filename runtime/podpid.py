"""The process namespace a pod's containers share (shareProcessNamespace): one per sandbox, whose
PID 1 is a pause process that reaps.

Why a process: unlike the IPC namespace (podipc.py), a PID namespace cannot be kept by a bind
mount: once its PID 1 exits the kernel kills whatever is left in it and nothing can enter it
again. So a sandbox that shares one has a pause process, as kube's runtimes give one to every
pod (containerd's and CRI-O's infra container; CRI-O drops it, as here, for the pods that do not
share a PID namespace: their sandboxes keep having no process). The pause is Debian's catatonit
in pause mode (`catatonit -P`, podman's pause): PID 1 of the namespace, it reaps the orphans the
kernel reparents to it, so zombies never pile up in a pod whose own processes do not wait.

How it runs: util-linux `unshare --pid --fork --kill-child catatonit -P` makes catatonit PID 1 of
a new namespace, its unshare parent waiting for it (and taking it along if killed). A shell
starts that pair in the background, prints the parent's pid and exits: like conmon, which
daemonizes, the pair is no child of ours and outlives a kubelet restart (the node's init reaps
it in the end). It runs in the sandbox's network and IPC namespaces (nsenter), where kube's pause
runs, and both processes are moved into the pod's cgroup `<pod cgroup>/pause`. Their pids and
start times are recorded at `<sandbox dir>/pause.json`: a restarted kubelet finds them there, and
a pid the kernel gave to another process since is never taken for them. Containers join
`/proc/<pause pid>/ns/pid` (runc joins a namespace by path). Removing the sandbox SIGKILLs the
pause, which takes along whatever still runs in the namespace.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from runtime import cgroupdirs
from runtime.containers import proc
from runtime.containers.errors import ContainerError

if TYPE_CHECKING:
    from collections.abc import Callable

RECORD = "pause.json"
LOG = "pause.log"  # what unshare, nsenter or catatonit said on stderr
CGROUP_LEAF = "pause"
# the pair in the background, its stdout not ours (we read to EOF), its pid printed; then exit
LAUNCH = 'cd / && { "$@" </dev/null >/dev/null & echo $!; }'
START_TIMEOUT = 2.0  # seconds for unshare to fork catatonit (a few ms here)
STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class Pause:
    pid: int  # catatonit, PID 1 of the pod's namespace (as seen from ours)
    start: int  # its start time, clock ticks since boot (/proc/<pid>/stat)
    parent: int  # the unshare process waiting for it
    parent_start: int


def launch_argv(netns: str, ipc: str, find: Callable[[str], str] = proc.which) -> list[str]:
    """The pause's command line: in the sandbox's network and IPC namespaces (when it has them),
    PID 1 of a namespace of its own."""
    enter = [f"--net={netns}"] if netns else []
    enter += [f"--ipc={ipc}"] if ipc else []
    pause = [find("unshare"), "--pid", "--fork", "--kill-child", find("catatonit"), "-P"]
    return [find("nsenter"), *enter, *pause] if enter else pause


def parse_stat(raw: bytes) -> tuple[str, int]:
    """(state, start time) of a /proc/<pid>/stat line (the command may hold spaces and
    parentheses: the fields are those after its last ')')."""
    fields = raw.rsplit(b")", 1)[1].split()
    return fields[0].decode(), int(fields[19])


def ns_pids(status: str) -> list[int]:
    """The NSpid line of /proc/<pid>/status: the process's pid in each namespace, outermost first."""
    for line in status.splitlines():
        if line.startswith("NSpid:"):
            return [int(p) for p in line.split()[1:]]
    return []


def _stat(pid: int) -> tuple[str, int] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return parse_stat(f.read())
    except (OSError, ValueError, IndexError):
        return None


def same_process(pid: int, start: int) -> bool:
    """Process `pid` still runs and is the one that started at `start` (not a zombie, not a
    process that got the pid since)."""
    seen = _stat(pid)
    return seen is not None and seen[1] == start and seen[0] not in ("Z", "X")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _spawn_detached(argv: list[str], log_path: str) -> int:
    """Start argv in the background of a shell that exits at once; the pid of argv's process."""
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    rfd, wfd = os.pipe()
    try:
        sh = proc.spawn(
            ["/bin/sh", "-c", LAUNCH, "sh", *argv], dict(os.environ), {1: wfd, 2: log}, setsid=True
        )
        os.close(wfd)
        wfd = -1
        out = b""
        while chunk := os.read(rfd, 64):
            out += chunk
        os.waitpid(sh, 0)
    finally:
        os.close(rfd)
        os.close(log)
        if wfd >= 0:
            os.close(wfd)
    try:
        return int(out)
    except ValueError:
        raise ContainerError(f"could not start the pause process: {_log(log_path)}") from None


def _log(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip() or "no message"
    except OSError:
        return "no message"


def start(sandbox_dir: str, cgroup: str, netns: str = "", ipc: str = "") -> Pause:
    """Start the sandbox's pause (see the module's doc), record it, move it into `cgroup`/pause.
    ContainerError when it does not come up; what was started is then stopped."""
    argv = launch_argv(netns, ipc)
    proc.log_command(argv)
    parent = _spawn_detached(argv, f"{sandbox_dir}/{LOG}")
    deadline = time.monotonic() + START_TIMEOUT
    while not (kids := _children(parent)):
        seen = _stat(parent)
        if seen is None or seen[0] in ("Z", "X") or time.monotonic() > deadline:  # it failed
            _kill(parent)
            raise ContainerError(f"the pause process did not start: {_log(f'{sandbox_dir}/{LOG}')}")
        time.sleep(0.001)
    parent_stat, pid_stat = _stat(parent), _stat(kids[0])
    if parent_stat is None or pid_stat is None:
        _kill(parent)
        raise ContainerError(f"the pause process exited at once: {_log(f'{sandbox_dir}/{LOG}')}")
    pause = Pause(kids[0], pid_stat[1], parent, parent_stat[1])
    _save(sandbox_dir, pause)  # before anything else can fail: stop() finds it by its record
    try:
        if cgroup:
            cgroupdirs.join(f"{cgroup.rstrip('/')}/{CGROUP_LEAF}", [parent, pause.pid])
    except OSError as e:
        stop(sandbox_dir, cgroup)
        raise ContainerError(f"cannot move the pause process into cgroup {cgroup}: {e}") from None
    return pause


def _save(sandbox_dir: str, pause: Pause) -> None:
    tmp = f"{sandbox_dir}/{RECORD}.tmp"
    with open(tmp, "w") as f:
        json.dump(asdict(pause), f)
    os.replace(tmp, f"{sandbox_dir}/{RECORD}")


def recorded(sandbox_dir: str) -> Pause | None:
    try:
        with open(f"{sandbox_dir}/{RECORD}") as f:
            return Pause(**json.load(f))
    except (OSError, ValueError, TypeError):
        return None


def running(sandbox_dir: str) -> int:
    """The pid of the sandbox's pause while it runs, else 0 (none recorded, or it is gone)."""
    pause = recorded(sandbox_dir)
    return pause.pid if pause is not None and same_process(pause.pid, pause.start) else 0


def ns_path(sandbox_dir: str) -> str:
    """The sandbox's process namespace, for a container to join; ContainerError when it has none
    (it was made without one, or its pause is gone, and the namespace with it)."""
    if recorded(sandbox_dir) is None:
        raise ContainerError("the sandbox has no process namespace to share (made without one)")
    pid = running(sandbox_dir)
    if not pid:
        raise ContainerError("the sandbox's pause process is gone, and its process namespace with it")
    return f"/proc/{pid}/ns/pid"


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout: float) -> None:
    """Until `pid` exits (a pidfd turns readable); it is no child of ours to reap."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        import select

        select.select([fd], [], [], timeout)
    finally:
        os.close(fd)


def stop(sandbox_dir: str, cgroup: str) -> None:
    """SIGKILL the pause (its namespace's processes go with it), wait for it and its parent to be
    gone, remove its cgroup and its record; idempotent, and a no-op for a sandbox without one."""
    pause = recorded(sandbox_dir)
    if pause is None:
        return
    # the pause alone: its parent reaps it and exits (killed together, both could be left as
    # zombies for the node's init, which reaps slowly here); the parent alone if the pause is gone
    if same_process(pause.pid, pause.start):
        _kill(pause.pid)
        _wait_gone(pause.pid, STOP_TIMEOUT)
    elif same_process(pause.parent, pause.parent_start):
        _kill(pause.parent)
    if same_process(pause.parent, pause.parent_start):
        _wait_gone(pause.parent, STOP_TIMEOUT)
    if cgroup:
        cgroupdirs.remove(f"{cgroup.rstrip('/')}/{CGROUP_LEAF}")
    try:
        os.unlink(f"{sandbox_dir}/{RECORD}")
    except FileNotFoundError:
        pass
