"""Container lifecycle through conmon and runc, exactly as RUNTIME-FACTS.md shows it working here.

create: overlay rootfs + config.json, then conmon (which runs `runc create` and reports the
container pid on its sync pipe); start: `runc start`; stop: the stop signal, wait up to the grace
period, SIGKILL; finish: `runc kill` + wait, then runc's state and cgroups removed (`delete_stopped`, what `runc
delete` does without a process start; `delete -f` sleeps ~100 ms, so it is only a fallback). Waiting
never polls: a pidfd on the conmon process becomes readable when it exits, right after it wrote
the exit file. conmon is a subreaper that outlives us, so a restarted caller adopts containers
from their records and exit files alone. Everything here is synchronous; async callers use threads.
"""

from __future__ import annotations

import os
import time

from runtime import cjson as json  # not `json` (it imports re and enum: ~15 ms of `run`)
from runtime.containers import proc, rootfs
from runtime.containers.errors import (
    CommandNotExecutable,
    CommandNotFound,
    ContainerError,
    ContainerStateError,
)
from runtime.containers.store import ContainerStore, Record
from runtime.textfile import read_file, unlink_missing_ok, write_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    import _socket
    from typing import Any

    from runtime.containers.rootfs import StrPath

LIVE = ("created", "running")


def parse_signal(name: str | int) -> int:
    """`SIGTERM`, `TERM`, `15` -> 15; ContainerError for an unknown one."""
    text = str(name).strip().upper()
    if text.isdigit():
        return int(text)
    import signal  # not at the top: building its enums costs ~1 ms of every `run`

    try:
        return int(signal.Signals[text if text.startswith("SIG") else f"SIG{text}"])
    except (KeyError, ValueError):
        raise ContainerError(f"invalid signal: {name}") from None


class Engine:
    # paths are str (os.path), not pathlib: it imports re, urllib.parse and ipaddress (~10 ms of `run`)
    def __init__(self, root: StrPath) -> None:
        self.root = os.fspath(root)
        self.store = ContainerStore(f"{self.root}/containers")
        self.exits = f"{self.root}/exits"
        self.socks = f"{self.root}/s"

    # ---- paths
    def bundle(self, container_id: str) -> str:
        return self.store.dir(container_id)

    def rootfs(self, container_id: str) -> str:
        return f"{self.bundle(container_id)}/rootfs"

    # ---- create / start
    def mount_rootfs(self, rec: Record) -> str:
        d = self.bundle(rec.id)
        target = f"{d}/rootfs"
        if not rootfs.is_mounted(target):
            lowers = [rootfs.skeleton(self.root), *rec.layer_dirs]
            rootfs.mount_overlay(
                lowers, f"{d}/upper", f"{d}/work", target, volatile=rec.auto_remove
            )  # its writes die with it: no syncs
        return os.path.realpath(target)

    def create(self, rec: Record, spec: dict[str, Any] | None = None) -> Record:
        """Write the bundle (when `spec` is given) and have conmon `runc create` it."""
        d = self.bundle(rec.id)
        if spec is not None:
            write_file(f"{d}/config.json", json.dumps(spec))
        self.mount_rootfs(rec)
        for stale in ("pidfile", "conmon.pid", "oom"):
            unlink_missing_ok(f"{d}/{stale}")
        unlink_missing_ok(f"{self.exits}/{rec.id}")
        os.makedirs(self.exits, exist_ok=True)
        os.makedirs(self.socks, exist_ok=True)
        os.makedirs(
            os.path.dirname(rec.log_path) or ".", exist_ok=True
        )  # conmon creates the file, not its dir
        try:
            os.unlink(f"{self.socks}/{rec.short_id}")
        except OSError:
            pass
        # through `env -C BUNDLE`: conmon also drops its `oom` marker into its working directory
        # (CRI-O starts it there), and posix_spawn cannot change directory
        argv = [
            proc.which("env"),
            "-C",
            str(d),
            proc.which("conmon"),
            "--api-version",
            "1",
            "-c",
            rec.id,
            "-u",
            rec.short_id,
            "-n",
            rec.name,
            "-r",
            proc.which("runc"),
            "-b",
            str(d),
            "-p",
            f"{d}/pidfile",
            "-P",
            f"{d}/conmon.pid",
            "-l",
            f"k8s-file:{rec.log_path}",
            "--exit-dir",
            str(self.exits),
            "--socket-dir-path",
            str(self.socks),
            "--log-level",
            "error",
            "-0",
            str(d),
            "--no-sync-log",
        ]  # a sync(2) of every filesystem per container exit costs more than it saves
        if rec.terminal:
            argv.append("-t")
        if rec.stdin:
            argv.append("-i")
            if not rec.stdin_once:
                argv.append("--leave-stdin-open")  # CRI-O's choice for a container without stdinOnce
        if rec.exit_command:
            argv += ["--exit-command", rec.exit_command[0]]
            for arg in rec.exit_command[1:]:
                argv += ["--exit-command-arg", arg]
        rfd, wfd = os.pipe()
        try:
            sync_fd = 3 if wfd != 3 else 4  # where conmon finds the pipe's write end
            # LC_ALL=C: `env` would load every locale file of the caller's locale (~1.2 ms here);
            # conmon and runc print untranslated messages anyway, and the container's environment
            # is config.json's, not this one
            env = dict(os.environ, _OCI_SYNCPIPE=str(sync_fd), LC_ALL="C")
            proc.log_command(argv)
            pid = proc.spawn(argv, env, {sync_fd: wfd})
            os.close(wfd)
            wfd = -1
            os.waitpid(pid, 0)  # the parent exits once its daemonized child runs
            raw = os.read(rfd, 65536)
        finally:
            os.close(rfd)
            if wfd >= 0:
                os.close(wfd)
        try:
            msg = json.loads(raw.decode().splitlines()[0]) if raw else {}
        except (ValueError, IndexError):
            msg = {}
        pid = int(msg.get("data", -1)) if isinstance(msg.get("data", -1), int) else -1
        if pid <= 0:
            detail = str(msg.get("message") or "conmon exited without reporting the container").strip()
            rootfs.unmount(self.rootfs(rec.id))
            raise create_error(detail)
        rec.pid = pid
        rec.state = "created"
        rec.exit_code = None
        rec.reason = ""
        rec.finished_at = 0.0
        self.store.save(rec)
        return rec

    def start(self, rec: Record) -> Record:
        if rec.state != "created":
            raise ContainerStateError(f"container {rec.short_id} is {rec.state}, not created")
        started = time.time()  # before: a short command may have exited by the time start returns
        if not _open_exec_fifo(rec.id):
            proc.runc("start", rec.id)
        rec.state = "running"
        rec.started_at = started
        self.store.save(rec)
        return rec

    # ---- observe
    def conmon_pid(self, rec: Record) -> int:
        """The pid of the container's monitor while it runs: conmon, or the foreground CLI that runs
        it without conmon (foreground.py) as seen from any other process; 0 when gone."""
        if rec.monitor_pid:
            pid = rec.monitor_pid
            return pid if pid != os.getpid() and started_at(pid) == rec.monitor_started else 0
        try:
            pid = int(read_file(f"{self.bundle(rec.id)}/conmon.pid").strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return pid if rec.id.encode() in f.read() else 0  # guard against pid reuse
        except (OSError, ValueError):
            return 0

    def wait_exit(self, rec: Record, timeout: float | None = None) -> bool:
        """Block until conmon is gone (it writes the exit file first); False on timeout."""
        if os.path.exists(f"{self.exits}/{rec.id}"):
            return True
        pid = self.conmon_pid(rec)
        if not pid:  # no monitor (conmon killed, or we are the foreground monitor): the init itself
            return _wait_pid(rec.pid, timeout)
        return _wait_pid(pid, timeout)

    def exit_code(self, rec: Record) -> int | None:
        """The code conmon recorded, without finishing the container (None: not exited yet)."""
        try:
            return int(read_file(f"{self.exits}/{rec.id}").strip())
        except (OSError, ValueError):
            return None

    def refresh(self, rec: Record) -> Record:
        """Merge the kernel's view in: a container whose exit file exists is finished (and cleaned)."""
        if rec.state not in LIVE:
            return rec
        exited = self._exit_record(rec)
        if exited is None:
            if self.conmon_pid(rec) or _alive(rec.pid):
                return rec
            # conmon writes the exit file and then exits: both may have happened since the read
            # above, so read again before calling the monitor lost (a 255 for a command that
            # exited 3 otherwise, seen on a container that ran for a few milliseconds)
            exited = self._exit_record(rec) or (255, time.time())  # conmon vanished without a word
        self._finish(rec, *exited)
        return rec

    def _exit_record(self, rec: Record) -> tuple[int, float] | None:
        """The exit code conmon wrote and when, or None while it has not written one."""
        exit_file = f"{self.exits}/{rec.id}"
        try:
            code = int(read_file(exit_file).strip() or "255")
            # the file's mtime is the kernel's coarse clock (a few ms behind time.time()): never
            # before the start we recorded, for a command that ran less than that
            return code, max(os.stat(exit_file).st_mtime, rec.started_at)
        except (OSError, ValueError):
            return None

    def _oom_killed(self, rec: Record) -> bool:
        if os.path.exists(f"{self.bundle(rec.id)}/oom"):
            return True
        path = f"/sys/fs/cgroup/memory/{rec.cgroups_path.strip('/')}/memory.oom_control"
        try:
            for line in read_file(path).splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1]) > 0
        except (OSError, ValueError):
            pass
        return False

    def _finish(self, rec: Record, code: int, finished: float) -> None:
        oom = self._oom_killed(rec)
        if not delete_stopped(rec.id):
            proc.runc("delete", "-f", rec.id, check=False)
        rootfs.unmount(self.rootfs(rec.id))
        rec.state = "exited"
        rec.exit_code = code
        rec.finished_at = finished
        rec.pid = 0
        rec.reason = "OOMKilled" if oom else ("Completed" if code == 0 else "Error")
        # not into a directory removed meanwhile (a foreground `run --rm`, `rm -f`, a pod's deletion)
        self.store.update(rec)

    # ---- stop / kill / remove
    def kill(self, rec: Record, sig: str | int = "SIGKILL") -> None:
        rec = self.refresh(rec)
        if rec.state not in LIVE:
            raise ContainerStateError(f"container {rec.short_id} is not running")
        proc.runc("kill", rec.id, str(parse_signal(sig)), check=False)

    def stop(self, rec: Record, timeout: float = 10.0) -> Record:
        rec = self.refresh(rec)
        if rec.state not in LIVE:
            return rec
        if timeout > 0 and rec.state == "running":
            proc.runc("kill", rec.id, str(parse_signal(rec.stop_signal or "SIGTERM")), check=False)
            if self.wait_exit(rec, timeout):
                return self.refresh(rec)
        proc.runc("kill", rec.id, "9", check=False)
        if not self.wait_exit(rec, 10.0):
            raise ContainerError(f"container {rec.short_id} did not exit after SIGKILL")
        return self.refresh(rec)

    def remove(self, rec: Record, force: bool = False) -> None:
        rec = self.refresh(rec)
        if rec.state == "running" and not force:
            raise ContainerStateError(
                f"cannot remove container {rec.short_id}: it is running (stop it first or use -f)"
            )
        if rec.state in LIVE:
            self.stop(rec, 0)
        rootfs.unmount(self.rootfs(rec.id))
        unlink_missing_ok(f"{self.exits}/{rec.id}")
        try:
            os.unlink(f"{self.socks}/{rec.short_id}")
        except OSError:
            pass
        self.store.delete(rec)

    # ---- stdio
    def attach(self, rec: Record) -> _socket.socket:
        """Connect to conmon's attach socket (frames: 1 byte stream 2=stdout 3=stderr, then data)."""
        import _socket  # not `socket` (its enum tables: ~2 ms); and only here: a foreground run needs none

        dirfd = os.open(self.bundle(rec.id), os.O_PATH)
        try:
            sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
            sock.connect(f"/proc/self/fd/{dirfd}/attach")  # sidesteps the 108-byte sun_path limit
            return sock
        finally:
            os.close(dirfd)

    def resize(self, rec: Record, cols: int, rows: int) -> None:
        try:
            fd = os.open(f"{self.bundle(rec.id)}/ctl", os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return
        try:
            os.write(fd, f"1 {rows} {cols}\n".encode())
        finally:
            os.close(fd)

    # ---- exec
    def exec_argv(
        self,
        rec: Record,
        cmd: list[str],
        tty: bool = False,
        env: list[str] | None = None,
        workdir: str = "",
        user: str = "",
    ) -> list[str]:
        rec = self.refresh(rec)
        if rec.state != "running":
            raise ContainerStateError(f"container {rec.short_id} is not running")
        if not cmd:
            raise ContainerError("exec: no command given")
        argv = [proc.which("runc"), "exec"]
        if tty:
            argv.append("-t")  # attached: runc allocates the pty and proxies it over its own stdio
        for e in env or []:
            argv += ["--env", e]
        if workdir:
            argv += ["--cwd", workdir]
        if user:
            argv += ["--user", user]
        return [*argv, rec.id, *cmd]

    def exec_sync(
        self, rec: Record, cmd: list[str], timeout: float | None = None
    ) -> tuple[int, bytes, bytes]:
        import subprocess  # not at the top: `run` never needs it (start-up cost)

        argv = self.exec_argv(rec, cmd)
        try:
            res = proc.run(argv, check=False, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ContainerError(f"exec in {rec.short_id} timed out after {timeout} s") from None
        return res.returncode, res.stdout, res.stderr

    def logs_path(self, rec: Record) -> str:
        return rec.log_path

    def list(self) -> list[Record]:
        return [self.refresh(r) for r in self.store.all()]


RUNC_STATE = "/run/runc"


def _open_exec_fifo(container_id: str) -> bool:
    """What `runc start` does, minus a Go process start (~5 ms): read runc init's exec fifo.

    runc init blocks writing one byte to `<state>/exec.fifo` until someone reads it, then execs
    the container process; runc reports "created" while the fifo exists, so it is removed after.
    False (and nothing done) when the fifo is not there, so the caller can fall back to `runc start`.
    """
    fifo = f"{RUNC_STATE}/{container_id}/exec.fifo"
    try:
        fd = os.open(fifo, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        data = os.read(fd, 1)
    finally:
        os.close(fd)
    try:
        os.unlink(fifo)
    except OSError:
        pass
    if not data:
        raise ContainerError(f"container {container_id[:12]} failed to start (its init exited)")
    return True


def delete_stopped(container_id: str) -> bool:
    """What `runc delete` does for a stopped container, minus a Go process start (~8 ms of `run --rm`):
    rmdir the cgroup in every hierarchy runc recorded, then remove runc's state dir.

    Only for the plain case this runtime makes: False, with at most some empty cgroups removed, when
    the container has hooks or an Intel RDT group, its init is still alive, a cgroup is still busy, or
    the state is unreadable; the caller then runs `runc delete -f`, which handles all of that.
    True when runc has no such container (already deleted)."""
    state_dir = f"{RUNC_STATE}/{container_id}"
    try:
        with open(f"{state_dir}/state.json", "rb") as f:
            state = json.loads(f.read())
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    if any(((state.get("config") or {}).get("Hooks") or {}).values()) or state.get("intel_rdt_path"):
        return False
    if started_at(int(state.get("init_process_pid") or 0)) == state.get("init_process_start"):
        return False  # init runs yet (conmon was killed, not the container)
    for path in (state.get("cgroup_paths") or {}).values():
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass  # cpu and cpuacct name one directory
        except OSError:
            return False
    try:
        for name in os.listdir(state_dir):
            os.unlink(f"{state_dir}/{name}")
        os.rmdir(state_dir)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def _wait_pid(pid: int, timeout: float | None) -> bool:
    """Block until process `pid` exits (reaping it if it is our child); False on timeout."""
    if pid <= 0:
        return True
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        import select  # only here: a foreground `run --rm` never waits through a pidfd

        ready, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    if ready:
        try:
            os.waitpid(pid, os.WNOHANG)  # a foreground container's init is our child
        except ChildProcessError:
            pass
    return bool(ready)


def started_at(pid: int) -> int | None:
    """A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), None if gone."""
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat.rsplit(b")", 1)[1].split()[19])


def create_error(detail: str) -> ContainerError:
    """runc's `time=... level=error msg="..."` line -> the error a user should read."""
    line = detail.splitlines()[-1] if detail else "unknown error"
    found = _quoted_msg(line)
    text = found.replace('\\"', '"') if found is not None else line
    text = text.removeprefix("runc create failed: ")
    if "executable file not found" in text or ("no such file or directory" in text and "exec:" in text):
        return CommandNotFound(text)
    if "permission denied" in text and "exec:" in text:
        return CommandNotExecutable(text)
    return ContainerError(text)


def _quoted_msg(line: str) -> str | None:
    """The first `msg="..."` value of a logrus line, backslash escapes kept (without `re`: it costs
    ~10 ms of a `run`, and only this failure path here would use it)."""
    at = line.find('msg="')
    while at >= 0:
        i = at + 5
        while i < len(line):
            if line[i] == "\\":
                if i + 1 >= len(line):
                    break  # a trailing backslash escapes nothing: this msg= does not match
                i += 2
            elif line[i] == '"':
                return line[at + 5 : i]
            else:
                i += 1
        at = line.find('msg="', at + 1)
    return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
