"""The nginx process of a node's ingress controller: config written atomically, seamless
reloads, supervised, and nothing left behind.

- `install(conf, certs)`: certificates are written first (each to a temp file, then renamed), the
  candidate file is checked with `nginx -t`, and only a file nginx accepts replaces `nginx.conf`
  (rename: nginx never reads half a file). A rejected file keeps the running one.
- `reload()` sends the master SIGHUP (what `nginx -s reload` does): new workers take the new
  file while the old ones finish the requests they hold, so no request in flight is dropped (an
  idle keep-alive connection is closed, which HTTP clients answer by reconnecting; a request
  sent on one at the very moment of the close can see a reset, as with any nginx reload).
- `supervise()` runs nginx in the foreground as a child (its own session, so its workers are one
  process group) and starts it again after a pause if it dies.
- `stop()` asks for a graceful quit, then kills the group; `kill_leftover(state_dir)` does the
  same from the pid file for `kubelite down` after an agent that died.

Why nginx and not HAProxy: measured side by side (`bench/ingress.py --haproxy`, same pods, same
Host routing, a loaded 2-core machine) the two were level in one run (1,740 vs 1,737 requests/s)
and HAProxy ahead in another (887 vs 1,325); both stay within the backends' own rate (busybox
httpd, a fork per request), which is what limits an ingress here. So the choice fell on the rest:
a reload is one SIGHUP with old workers draining (HAProxy 2.6 needs master-worker mode and
listener hand-over for the same), `nginx -t` vets a candidate file before it is used, and kube's
Exact/Prefix rules are nginx's `=` and `^~` locations with its longest-match order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)
NGINX = "/usr/sbin/nginx"


def _write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def kill_leftover(state_dir: Path, grace: float = 5.0) -> None:
    """Stop an nginx a dead agent left (its master's pid file names the process group)."""
    pid_file = state_dir / "nginx.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGQUIT)
        for _ in range(int(grace * 10)):
            os.killpg(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


class Nginx:
    def __init__(self, state_dir: Path, binary: str = NGINX, restart_delay: float = 1.0) -> None:
        self.dir = state_dir
        self.binary = binary
        self.restart_delay = restart_delay
        self.proc: asyncio.subprocess.Process | None = None
        self.reloads = 0
        self.starts = 0
        self._stopping = False
        self.installed = ""
        for sub in ("certs", "logs", "tmp"):
            (state_dir / sub).mkdir(parents=True, exist_ok=True)
        (state_dir / "tmp").chmod(0o1777)  # workers drop root (nginx's `user`) and buffer bodies here

    @property
    def conf(self) -> Path:
        return self.dir / "nginx.conf"

    def check(self, conf_path: Path) -> str:
        """nginx's verdict on a file: "" when it accepts it, its complaint otherwise."""
        r = subprocess.run(
            [self.binary, "-t", "-q", "-p", f"{self.dir}/", "-c", str(conf_path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return "" if r.returncode == 0 else (r.stderr.strip() or f"nginx -t exited {r.returncode}")

    def install(self, conf: str, certs: dict[str, bytes]) -> bool:
        """Write certificates and the file if nginx accepts them; True when the file changed."""
        for name, pem in certs.items():
            path = self.dir / name
            if not path.exists() or path.read_bytes() != pem:
                _write_atomic(path, pem)
        if conf == self.installed:
            return False
        candidate = self.dir / ".nginx.conf.new"
        _write_atomic(candidate, conf.encode(), 0o644)
        complaint = self.check(candidate)
        if complaint:
            candidate.unlink(missing_ok=True)
            raise ValueError(f"nginx refused the generated configuration: {complaint}")
        os.replace(candidate, self.conf)
        self.installed = conf
        keep = {self.dir / name for name in certs}
        for old in (self.dir / "certs").glob("*.pem"):
            if old not in keep:
                old.unlink(missing_ok=True)
        return True

    def reload(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGHUP)
            self.reloads += 1

    async def supervise(self) -> None:
        """Run nginx until cancelled, starting it again when it exits."""
        kill_leftover(self.dir)  # an earlier agent's, still holding the ports
        while not self._stopping:
            self.proc = await asyncio.create_subprocess_exec(
                self.binary,
                "-p",
                f"{self.dir}/",
                "-c",
                str(self.conf),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=open(self.dir / "logs" / "stderr.log", "ab"),  # noqa: SIM115
                start_new_session=True,
            )
            self.starts += 1
            try:
                code = await self.proc.wait()
            except asyncio.CancelledError:
                self.stop()
                raise
            if self._stopping:
                return
            log.warning("nginx exited with %s; starting it again in %.1fs", code, self.restart_delay)
            await asyncio.sleep(self.restart_delay)

    def stop(self, grace: float = 5.0) -> None:
        """Graceful quit, then the whole group killed (workers included)."""
        self._stopping = True
        proc = self.proc
        if proc is None or proc.returncode is not None:
            kill_leftover(self.dir, grace)
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGQUIT)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            try:  # reap the master (asyncio's child watcher may be gone when this runs at exit)
                os.waitpid(proc.pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        (self.dir / "nginx.pid").unlink(missing_ok=True)
