"""`kubelite runtime` end to end: real runc under conmon, overlay rootfs, bridge networking."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from tests.polling import http_text, wait_for
from tests.runtime.containers.conftest import Cli, conmons_for, leftovers

T = TypeVar("T")


def test_run_rm_echo_streams_and_exit_codes(cli: Cli) -> None:
    res = cli("run", "--rm", "busybox", "sh", "-c", "echo out-line; echo err-line >&2; exit 3")
    assert res.returncode == 3
    assert res.stdout == "out-line\n"
    assert res.stderr == "err-line\n"
    assert cli("run", "--rm", "busybox", "true").returncode == 0
    assert cli("run", "--rm", "busybox", "false").returncode == 1
    assert cli.ok("ps", "-aq") == ""  # --rm left nothing


def test_runtime_errors_are_one_line_with_docker_exit_codes(cli: Cli) -> None:
    res = cli("run", "--rm", "--pull", "never", "no-such-image:1", "true")
    assert res.returncode == 125
    assert res.stderr.startswith("Error: ") and res.stderr.count("\n") == 1 and "no-such-image" in res.stderr
    res = cli("run", "--rm", "busybox", "no-such-command")
    assert res.returncode == 127 and "no-such-command" in res.stderr and res.stderr.count("\n") == 1
    res = cli("rm", "nobody-here")
    assert res.returncode == 125 and "no such container" in res.stderr
    cli.ok("run", "-d", "--name", "taken", "busybox", "sleep", "30")
    res = cli("run", "-d", "--name", "taken", "busybox", "true")
    assert res.returncode == 125 and "already in use" in res.stderr
    assert len(cli.ok("ps", "-aq").split()) == 1  # the failed run left no half-made container


def test_run_pulls_a_missing_image_showing_progress_on_stderr(cli: Cli, tmp_path: Path) -> None:
    import asyncio

    from runtime.images import ImageStore
    from runtime.images.registry import push
    from tests.runtime.images.registry_fixture import run_registry

    with run_registry(tmp_path / "registry") as registry:
        ref = f"{registry.host}/demo/busybox:1"
        asyncio.run(push(ImageStore(cli.image_root), "busybox", ref))
        argv = [sys.executable, "-m", "runtime.cli", "--root", str(cli.root)]  # no shared image root
        res = subprocess.run(
            [*argv, "run", "--rm", "--net", "none", ref, "echo", "hi"],
            capture_output=True,
            text=True,
            env=cli.env,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        assert res.returncode == 0, res.stderr
        assert res.stdout == "hi\n"  # the pull's lines go to stderr, as docker's do
        lines = res.stderr.splitlines()
        assert lines[:2] == [f"Unable to find image '{ref}' locally", "1: Pulling from demo/busybox"]
        assert sum(line.endswith(": Pull complete") for line in lines) == 1  # busybox: one layer
        assert lines[-1] == f"Status: Downloaded newer image for {ref}"
        again = subprocess.run(
            [*argv, "run", "--rm", "--net", "none", ref, "true"], capture_output=True, text=True, env=cli.env
        )
        assert again.returncode == 0 and again.stderr == ""  # present: no pull
        never = subprocess.run(
            [*argv, "run", "--rm", "--pull", "never", f"{registry.host}/demo/other:1", "true"],
            capture_output=True,
            text=True,
            env=cli.env,
        )
        assert never.returncode == 125 and never.stderr.count("\n") == 1 and "demo/other" in never.stderr
        gone = subprocess.run(
            [*argv, "run", "--rm", f"{registry.host}/demo/other:1", "true"],
            capture_output=True,
            text=True,
            env=cli.env,
        )
        assert gone.returncode == 125 and "image not found" in gone.stderr.splitlines()[-1]


def test_detached_logs_exec_stop_rm(cli: Cli) -> None:
    cid = cli.ok(
        "run",
        "-d",
        "--name",
        "worker",
        "-e",
        "GREETING=hello",
        "busybox",
        "sh",
        "-c",
        "echo $GREETING; trap 'echo got-term; exit 0' TERM; while true; do sleep 0.1; done",
    ).strip()
    assert len(cid) == 64
    ps = cli.ok("ps")
    assert cid[:12] in ps and "worker" in ps and "Up" in ps
    assert cli.ok("ps", "-q").split() == [cid[:12]]
    wait_for(lambda: "hello" in cli.ok("logs", "worker"), what="first log line")
    ts = cli.ok("logs", "-t", "worker").splitlines()[0]
    assert ts.split(" ", 1)[0].startswith("20") and ts.endswith("hello")
    assert cli.ok("exec", "worker", "sh", "-c", "echo $GREETING-from-exec") == "hello-from-exec\n"
    assert cli("exec", cid[:8], "sh", "-c", "exit 7").returncode == 7  # id prefix works
    follower = subprocess.Popen(cli.argv("logs", "-f", "worker"), stdout=subprocess.PIPE, env=cli.env)
    cli.ok("stop", "-t", "5", "worker")
    out, _ = follower.communicate(timeout=10)  # -f ends when the container exits
    assert b"got-term" in out
    info = json.loads(cli.ok("inspect", "worker"))[0]
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 0
    assert "Exited (0)" in cli.ok("ps", "-a")
    assert cli.ok("ps", "-q") == ""
    cli.ok("start", "worker")
    wait_for(lambda: cli.ok("logs", "worker").count("hello") == 2, what="second start's output")
    res = cli("rm", "worker")
    assert res.returncode == 125 and "running" in res.stderr
    cli.ok("rm", "-f", "worker")
    assert cli.ok("ps", "-aq") == ""


def test_stop_kills_after_grace_period_and_tail(cli: Cli) -> None:
    cli.ok(
        "run",
        "-d",
        "--name",
        "stubborn",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5; do echo line$i; done; trap '' TERM; sleep 1000",
    )
    wait_for(lambda: "line5" in cli.ok("logs", "stubborn"), what="logs")
    assert cli.ok("logs", "--tail", "2", "stubborn") == "line4\nline5\n"
    t0 = time.monotonic()
    cli.ok("stop", "-t", "1", "stubborn")
    assert time.monotonic() - t0 < 5
    info = json.loads(cli.ok("inspect", "stubborn"))[0]
    assert info["State"]["ExitCode"] == 137


def test_interactive_tty_through_a_pty(cli: Cli) -> None:
    master, slave = os.openpty()
    proc = subprocess.Popen(
        cli.argv("run", "-it", "--rm", "busybox", "sh"),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=cli.env,
        start_new_session=True,
    )
    os.close(slave)
    out = b""

    def read_until(marker: bytes, timeout: float = 15) -> None:
        nonlocal out
        deadline = time.monotonic() + timeout
        while marker not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    return

    read_until(b"# ")
    os.write(master, b"tty; echo hi-$((40+2)); exit 4\n")
    read_until(b"hi-42")
    assert proc.wait(timeout=15) == 4
    os.close(master)
    assert b"hi-42" in out and b"/dev/pts/0" in out


def test_stdin_pipe_reaches_the_container(cli: Cli) -> None:
    res = cli("run", "-i", "--rm", "busybox", "sh", "-c", "tr a-z A-Z", input=b"shout\n")
    assert res.returncode == 0 and res.stdout == "SHOUT\n"


def test_network_modes(cli: Cli) -> None:
    bridge = cli.ok("run", "--rm", "busybox", "ip", "-o", "-4", "addr")
    assert cli.net.prefix in bridge and "eth0" in bridge
    none = cli.ok("run", "--rm", "--net", "none", "busybox", "ip", "-o", "link")
    assert "lo" in none and "eth0" not in none
    host = cli.ok("run", "--rm", "--net", "host", "busybox", "ip", "-o", "link")
    assert cli.net.bridge in host  # the host's interfaces, our test bridge among them
    cli.ok("run", "-d", "--name", "srv", "kubelite/web:1.0")
    ip = json.loads(cli.ok("inspect", "srv"))[0]["NetworkSettings"]["IPAddress"]
    assert ip.startswith(cli.net.prefix)
    shared = cli.ok("run", "--rm", "--net", "container:srv", "busybox", "wget", "-qO-", "localhost:8080")
    assert "kubelite web" in shared
    body = wait_for(lambda: http_text(f"http://{ip}:8080/"), what="httpd from the host")
    assert "kubelite web" in body


def test_run_rm_network_is_complete_before_the_command_runs_and_removal_finishes(cli: Cli) -> None:
    # the veth, address and route are configured while runc creates the container: its very
    # first instruction must already see them and reach the gateway on the bridge
    gateway = f"{cli.net.prefix}1"
    out = cli.ok(
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        f"ip -4 route; ping -c 1 -W 2 {gateway} >/dev/null && echo reached",
    )
    assert f"default via {gateway} dev eth0" in out and out.endswith("reached\n")
    assert not _container_dirs(cli) and not any((cli.root / "network" / "sandboxes").iterdir())


def test_run_rm_returns_once_nothing_of_the_container_remains(cli: Cli) -> None:
    """As with docker and podman, `run --rm` exits after the removal, not before: the moment it has
    returned there is no bundle, overlay mount, cgroup, runc state, netns, IP or conmon left."""
    for net in ("bridge", "none"):
        res = subprocess.run(
            cli.argv(
                "--log-level", "debug", "run", "--rm", "--net", net, "busybox", "sh", "-c", "echo hi; exit 4"
            ),
            capture_output=True,
            text=True,
            env=cli.env,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        assert res.returncode == 4 and res.stdout == "hi\n"
        # a foreground --rm run has no conmon: this process is the monitor and runc create its child
        cid = re.search(r"runc --log \S+ create --bundle \S+ ([0-9a-f]{64})$", res.stderr, re.M).group(1)  # type: ignore[union-attr]
        # the host end of the veth is reaped by the kernel (from a work queue, once the netns is
        # gone), not by us: checked below with a deadline
        assert leftovers(cli, [cid], veths=False) == [], net
        assert not _container_dirs(cli) and cli.ok("ps", "-aq") == ""
        wait_for(
            functools.partial(no_leftovers, cli, cid), what="the kernel to reap the veth pair", timeout=5
        )


def no_leftovers(cli: Cli, cid: str) -> bool:
    return leftovers(cli, [cid]) == []


def test_interrupted_run_rm_kills_and_removes_the_container(cli: Cli) -> None:
    with _foreground_run(cli, "run", "--rm", "busybox", "sh", "-c", "echo up; sleep 60") as proc:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
    assert not _container_dirs(cli)  # removed before the interrupted run returned
    assert cli.ok("ps", "-aq") == ""


def test_foreground_run_rm_is_seen_and_stopped_by_other_verbs(cli: Cli) -> None:
    """A conmon-less `run --rm` (its CLI is the monitor) is a container like any other to `ps`,
    `exec` and `stop`; stopped from outside, its `run` removes it and exits with its code."""
    with _foreground_run(
        cli,
        "run",
        "--rm",
        "--name",
        "fg",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 7' TERM; echo up; while true; do sleep 0.1; done",
    ) as proc:
        assert not conmons_for(cli.root)  # the CLI itself watches the container
        assert "fg" in cli.ok("ps") and "Up" in cli.ok("ps")
        assert cli.ok("exec", "fg", "echo", "inside") == "inside\n"
        logs = cli("logs", "fg")
        assert logs.returncode == 125 and "keeps no log" in logs.stderr
        cli.ok("stop", "-t", "10", "fg")  # returns once its run has removed it
        assert proc.wait(timeout=20) == 7
    assert not _container_dirs(cli) and cli.ok("ps", "-aq") == ""


def test_foreground_run_rm_passes_sigterm_on_and_removes_the_container(cli: Cli) -> None:
    """SIGTERM to a `run --rm` goes to the container (docker proxies it); the container's own exit
    code comes back once it is removed."""
    with _foreground_run(
        cli,
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "trap 'echo got-term; exit 5' TERM; echo up; while true; do sleep 0.1; done",
    ) as proc:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 5
        assert proc.stdout is not None and proc.stdout.read() == b"got-term\n"
    assert not _container_dirs(cli) and cli.ok("ps", "-aq") == ""


def test_run_rm_as_another_user_leaves_our_stdio_alone(cli: Cli, tmp_path: Path) -> None:
    """runc chowns a container's stdio to its user: a file we hand a non-root `run --rm` must keep its
    owner (such a run goes through conmon's pipes instead)."""
    out = tmp_path / "out.txt"
    with out.open("wb") as f:
        res = subprocess.run(
            cli.argv("run", "--rm", "-u", "1000", "busybox", "id", "-u"),
            stdout=f,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=cli.env,
            timeout=60,
        )
    assert res.returncode == 0, res.stderr
    assert out.read_text() == "1000\n" and out.stat().st_uid == os.getuid()


@contextlib.contextmanager
def _foreground_run(cli: Cli, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A foreground `run` whose container has printed its first line, `up`; killed (if still
    running) and its pipes closed on the way out."""
    proc = subprocess.Popen(
        cli.argv(*args),
        env=cli.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"up\n"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _container_dirs(cli: Cli) -> list[Path]:
    return [d for d in (cli.root / "containers").iterdir() if not d.name.startswith(".")]


def test_published_port_reaches_the_container(cli: Cli) -> None:
    port = 20000 + os.getpid() % 20000
    cli.ok("run", "-d", "--name", "pub", "-p", f"{port}:8080", "kubelite/web:1.0")
    body = wait_for(lambda: http_text(f"http://127.0.0.1:{port}/"), what="published port")
    assert "kubelite web" in body


def test_user_workdir_entrypoint_volumes(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("from-host")
    assert cli.ok("run", "--rm", "-u", "nobody", "busybox", "id", "-u") == "65534\n"
    assert cli.ok("run", "--rm", "-u", "1234:5678", "busybox", "id").startswith("uid=1234 gid=5678")
    assert cli.ok("run", "--rm", "-w", "/tmp/x", "busybox", "pwd") == "/tmp/x\n"
    assert cli.ok("run", "--rm", "--entrypoint", "echo", "busybox", "a", "b") == "a b\n"
    out = cli.ok(
        "run", "--rm", "-v", f"{data}:/data", "busybox", "sh", "-c", "cat /data/in.txt; echo new > /data/out"
    )
    assert out == "from-host" and (data / "out").read_text() == "new\n"
    res = cli("run", "--rm", "-v", f"{data}:/data:ro", "busybox", "touch", "/data/nope")
    assert res.returncode != 0 and not (data / "nope").exists()
    assert "tmpfs" in cli.ok(
        "run", "--rm", "--tmpfs", "/scratch", "busybox", "sh", "-c", "grep /scratch /proc/mounts"
    )
    assert cli("run", "--rm", "-u", "nosuchuser", "busybox", "true").returncode == 125


def test_detached_rm_is_removed_when_it_exits(cli: Cli) -> None:
    cid = cli.ok(
        "run", "-d", "--rm", "busybox", "sh", "-c", "while [ ! -e /go ]; do sleep 0.05; done; exit 2"
    ).strip()
    assert cli.ok("ps", "-q") == f"{cid[:12]}\n"
    assert "busybox:latest" in cli.ok("ps")
    cli.ok("exec", cid, "touch", "/go")
    wait_for(lambda: not (cli.root / "containers" / cid).exists(), what="conmon's exit command to remove it")
    assert cli.ok("ps", "-aq") == ""


def test_kill_wait_restart(cli: Cli) -> None:
    cli.ok(
        "run",
        "-d",
        "--name",
        "k",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 9' USR1; echo up; while true; do sleep 0.1; done",
    )
    wait_for(lambda: "up" in cli.ok("logs", "k"), what="start")
    cli.ok("kill", "-s", "USR1", "k")
    assert cli.ok("wait", "k") == "9\n"
    cli.ok("restart", "-t", "1", "k")
    assert "Up" in cli.ok("ps")
    wait_for(lambda: cli.ok("logs", "k").count("up") == 2, what="restart output")
    assert json.loads(cli.ok("inspect", "k"))[0]["RestartCount"] == 1
    cli.ok("kill", "k")
    assert cli.ok("wait", "k") == "137\n"
    assert cli("kill", "k").returncode == 125  # not running any more
