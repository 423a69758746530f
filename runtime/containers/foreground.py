"""`run --rm` in the foreground without conmon: the CLI process itself is the container's monitor.

conmon exists so that a container outlives whoever started it, keeps its output in a log and
records its exit code for later readers. A foreground `run --rm` needs none of that: its caller
waits, its output goes to the caller's terminal or pipe, and the container is removed the moment
it exits. conmon there costs a process start, an attach-socket relay of every byte and five state
files on the `run --rm` budget. So, as `runc run` does it but keeping our network overlap:

- `runc create` with our own stdin and stdout passed through; its stderr is a pipe we relay,
  because runc prints its own failure there too (read back as one typed error line, as conmon's
  sync pipe gives it); this process is a child subreaper, so the container's init becomes our
  child when `runc create` exits;
- start is the engine's (read the exec fifo), the exit code comes from wait4, and removal is
  in-house (`delete_stopped`, unmount, bundle, network): nothing is left when the CLI returns.

Signals a caller sends us (SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2) go on to the container, as `docker
run` proxies them; ^C kills it. Other verbs see such a container through its record: `monitor_pid`
names this process (its start time guards against pid reuse), so `ps`, `exec`, `kill`, `stop` and
`rm -f` work as for a conmon container and `wait` returns once it is gone (with 255: its exit code
is its `run`'s exit status, kept nowhere else); `logs` has nothing (the output was never
captured). Taken only when runc's
`fixStdioPermissions` would change nothing: runc chowns a container's stdio to its user, which
for a conmon pipe is harmless but for the caller's own terminal or file is not.
"""

from __future__ import annotations

import _thread
import os

from runtime import cjson as json  # not `json` (it imports re and enum: ~15 ms of `run`)
from runtime import libc
from runtime.containers import proc, rootfs
from runtime.containers.engine import (
    RUNC_STATE,
    Engine,
    create_error,
    delete_stopped,
    started_at,
    write_file,
)
from runtime.containers.errors import ContainerError
from runtime.containers.store import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any

PR_SET_CHILD_SUBREAPER = 36


def stdio_owned_by(uid: int, interactive: bool) -> bool:
    """Would runc leave our stdio alone for a container running as `uid`? (see the module doc)"""
    try:
        null = os.stat(os.devnull).st_rdev  # runc skips /dev/null
        for fd in (0, 1) if interactive else (1,):
            st = os.fstat(fd)
            if st.st_uid != uid and st.st_rdev != null:
                return False
    except OSError:
        return False  # a closed stdio fd: leave it to conmon
    return True


def _init_pid(container_id: str) -> int:
    """The container's init pid from runc's state.json, found by its key rather than by decoding the
    whole file (it holds the full config, seccomp profile included: tens of kB)."""
    with open(f"{RUNC_STATE}/{container_id}/state.json", "rb") as f:
        data = f.read()
    key = b'"init_process_pid":'
    at = data.find(key)
    if at < 0:
        return int(json.loads(data).get("init_process_pid") or 0)
    digits = data[at + len(key) :].lstrip()
    end = 0
    while end < len(digits) and digits[end : end + 1].isdigit():
        end += 1
    return int(digits[:end] or 0)


class Monitor:
    """One foreground container run by this process: create, wait (relaying stderr), remove."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rec: Record | None = None
        self._stderr = -1  # read end of the container's stderr pipe

    def accepts(self, uid: int, interactive: bool) -> bool:
        return stdio_owned_by(uid, interactive)

    def claim(self, rec: Record) -> None:
        """Make this process the record's monitor (before the record is first saved)."""
        rec.monitor_pid = os.getpid()
        rec.monitor_started = started_at(rec.monitor_pid) or 0
        self.rec = rec

    def create(self, rec: Record, spec: dict[str, Any]) -> Record:
        """Write the bundle and `runc create` it; the init is our child from here on."""
        d = self.engine.bundle(rec.id)
        write_file(f"{d}/config.json", json.dumps(spec))
        self.engine.mount_rootfs(rec)
        if libc.function("prctl")(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise ContainerError("cannot become the container's subreaper (prctl)")
        argv = [proc.which("runc"), "--log", os.devnull, "create", "--bundle", d, rec.id]
        rfd, wfd = os.pipe()
        try:
            proc.log_command(argv)
            keep = (0, 1) if rec.stdin else (1,)  # docker run without -i: the command reads nothing
            pid = proc.spawn(argv, dict(os.environ, LC_ALL="C"), {2: wfd}, keep_stdio=keep)
            os.close(wfd)
            wfd = -1
            _, status = os.waitpid(pid, 0)
            if status != 0:
                # a failed init is gone; read what runc said without waiting for an EOF
                os.set_blocking(rfd, False)
                try:
                    said = os.read(rfd, 65536).decode(errors="replace").strip()
                except BlockingIOError:
                    said = ""
                rootfs.unmount(self.engine.rootfs(rec.id))
                raise create_error(said or f"runc create exited with {os.waitstatus_to_exitcode(status)}")
            self._stderr, rfd = rfd, -1
        finally:
            if rfd >= 0:
                os.close(rfd)
            if wfd >= 0:
                os.close(wfd)
        rec.pid = _init_pid(rec.id)
        rec.state = "created"
        import _signal  # the C module, loaded at start-up: `signal` builds enums (~1 ms)

        for name in ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"):  # before it can run
            _signal.signal(getattr(_signal, name), self._forward)
        return rec

    def wait(self) -> int:
        """Relay the container's stderr until every writer is gone, then reap its init: its exit
        code (128+N for signal N, as docker reports it). SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2 sent to
        us go on to the container, as `docker run` proxies them (a `timeout` around the CLI stops
        the container the way it would stop the command); interrupted (^C), the container is
        killed and reaped first, then the interrupt goes on."""
        assert self.rec is not None
        try:
            self._relay_stderr()
            _, status = os.waitpid(self.rec.pid, 0)
        except ChildProcessError:
            return 255  # not ours to reap (cannot happen while we are its only subreaper)
        except BaseException:
            self._kill_and_reap()
            raise
        self.rec.pid = 0  # reaped: the number may name another process from now on
        code = os.waitstatus_to_exitcode(status)
        return 128 - code if code < 0 else code

    def _forward(self, signum: int, frame: object) -> None:
        if self.rec is not None and self.rec.pid > 0:
            try:
                os.kill(self.rec.pid, signum)
            except ProcessLookupError:
                pass

    def _relay_stderr(self) -> None:
        while self._stderr >= 0:
            chunk = os.read(self._stderr, 65536)
            if not chunk:
                os.close(self._stderr)
                self._stderr = -1
                return
            try:
                os.write(2, chunk)
            except OSError:
                pass  # our stderr is gone: the container's writes still must not block

    def _kill_and_reap(self) -> None:
        """SIGKILL the init (its pid namespace dies with it) and reap it; quiet when it is gone."""
        assert self.rec is not None
        if self.rec.pid <= 0:
            return
        try:
            os.kill(self.rec.pid, 9)  # SIGKILL, without importing signal (its enums: ~1 ms)
            os.waitpid(self.rec.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.rec.pid = 0

    def remove(self) -> None:
        """Everything of the exited (or still running: killed first) container: runc's state and
        cgroups, the rootfs mount, the bundle and record; the caller tears the network down."""
        assert self.rec is not None
        rec = self.rec
        self._kill_and_reap()  # a no-op after wait(); needed after an error between start and exit
        if self._stderr >= 0:
            os.close(self._stderr)
            self._stderr = -1
        # runc's side (its state dir, a cgroup per hierarchy) and ours (the rootfs mount, the bundle on
        # the store's disk) share nothing once the init is reaped: removed side by side, each mostly
        # waiting in the kernel. `_thread`, loaded at start-up, rather than `threading` (~1 ms import)
        done = _thread.allocate_lock()
        done.acquire()
        failed: list[BaseException] = []
        _thread.start_new_thread(_remove_runc_state, (rec.id, done, failed))
        try:
            rootfs.unmount(self.engine.rootfs(rec.id))
            self.engine.store.delete(rec)
        finally:
            done.acquire()  # released by the thread when it is done
        if failed:
            raise failed[0]


def _remove_runc_state(container_id: str, done: _thread.LockType, failed: list[BaseException]) -> None:
    """What `runc delete` does for a stopped container, in-house when it can (engine.delete_stopped)."""
    try:
        if not delete_stopped(container_id):
            proc.runc("delete", "-f", container_id, check=False)
    except BaseException as e:  # re-raised by the caller once its own side is done
        failed.append(e)
    finally:
        done.release()
