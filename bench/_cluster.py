"""Start and stop a throwaway `kubelite server` (and hollow agents) for the benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

KUBELITE = [sys.executable, "-m", "kubelite.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_file(path: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before writing {path}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)


@contextlib.contextmanager
def real_cluster(prefix: str, nodes: int = 1) -> Iterator[Path]:
    """`kubelite up` with `nodes` real nodes in a temp dir (the bench exits saying why when it
    fails); yields the data dir; `kubelite down` after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as d:
        data = Path(d)
        up = subprocess.run(
            [*KUBELITE, "up", "--nodes", str(nodes), "--data-dir", str(data)], capture_output=True, text=True
        )
        if up.returncode != 0:
            sys.exit(f"kubelite up failed: {up.stderr}")
        try:
            yield data
        finally:
            subprocess.run([*KUBELITE, "down", "--data-dir", str(data)], capture_output=True)


@contextlib.contextmanager
def server(*extra: str) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A server in a temp dir; yields (data dir, process). Its log is data_dir/server.log."""
    with tempfile.TemporaryDirectory(prefix="kubelite-bench-") as d:
        data = Path(d)
        log = open(data / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
        proc = subprocess.Popen(
            # the hollow agents name their nodes in a header (kubelite agent --hollow)
            [
                *KUBELITE,
                "server",
                "--data-dir",
                str(data),
                "--listen",
                f"127.0.0.1:{free_port()}",
                "--trust-node-name-header",
                *extra,
            ],
            stdout=log,
            stderr=log,
        )
        try:
            wait_file(data / "kubeconfig.yaml", proc)
            yield data, proc
        finally:
            stop(proc)
            log.close()


@contextlib.contextmanager
def hollow_nodes(data: Path, count: int, name: str = "hollow") -> Iterator[subprocess.Popen[bytes]]:
    import yaml

    server_url = yaml.safe_load((data / "kubeconfig.yaml").read_text())["clusters"][0]["cluster"]["server"]
    log = open(data / ("agent.log" if name == "hollow" else f"agent-{name}.log"), "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            *KUBELITE,
            "agent",
            "--server",
            server_url,
            "--token-file",
            str(data / "node-token"),
            "--node-name",
            name,
            "--data-dir",
            str(data / "agent"),
            "--hollow",
            "--hollow-nodes",
            str(count),
            "--log-level",
            "WARNING",
        ],
        stdout=log,
        stderr=log,
    )
    try:
        yield proc
    finally:
        stop(proc)
        log.close()


@contextlib.contextmanager
def control_loops(data: Path, *controller_flags: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`kubelite controller-manager` and `kubelite scheduler` as processes of their own beside a server
    started with --no-controllers --no-scheduler, as Kubernetes runs its control plane; their logs are
    data_dir/controller-manager.log and scheduler.log."""
    kubeconfig = str(data / "kubeconfig.yaml")
    commands = {
        "controller-manager": ["controller-manager", "--kubeconfig", kubeconfig, *controller_flags],
        "scheduler": ["scheduler", "--kubeconfig", kubeconfig],
    }
    with contextlib.ExitStack() as stack:
        procs = []
        for name, argv in commands.items():
            log = stack.enter_context(open(data / f"{name}.log", "wb"))
            procs.append(subprocess.Popen([*KUBELITE, *argv], stdout=log, stderr=log))
            stack.callback(stop, procs[-1])
        yield procs


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib(pid: int) -> float:
    """The process's high-water resident set so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time the process (or one of its threads, by id) has used so far."""
    stat = Path(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started (a server's control-loop processes)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def env_with_path() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env
