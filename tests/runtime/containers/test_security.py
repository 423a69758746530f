"""Hardening like Docker's defaults, checked from inside real containers."""

from __future__ import annotations

import json
import os
import time

from tests.runtime.containers.conftest import Cli

DOCKER_DEFAULT_CAPEFF = "00000000a80425fb"


def _status(cli: Cli, *flags: str) -> dict[str, str]:
    out = cli.ok("run", "--rm", *flags, "busybox", "cat", "/proc/self/status")
    return {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in out.splitlines())}


def test_default_capabilities_and_no_new_privs(cli: Cli) -> None:
    st = _status(cli)
    assert st["CapEff"] == DOCKER_DEFAULT_CAPEFF
    assert st["CapBnd"] == DOCKER_DEFAULT_CAPEFF
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"
    dropped = int(_status(cli, "--cap-drop", "NET_RAW")["CapEff"], 16)
    assert dropped == int(DOCKER_DEFAULT_CAPEFF, 16) & ~(1 << 13)
    added = int(_status(cli, "--cap-add", "net_admin")["CapEff"], 16)
    assert added == int(DOCKER_DEFAULT_CAPEFF, 16) | (1 << 12)
    priv = _status(cli, "--privileged")
    assert int(priv["CapEff"], 16) & (1 << 21)  # CAP_SYS_ADMIN
    assert priv["NoNewPrivs"] == "0" and priv["Seccomp"] == "0"
    assert cli("run", "--rm", "--cap-add", "NOT_A_CAP", "busybox", "true").returncode == 125


def test_proc_is_masked_and_read_only(cli: Cli) -> None:
    # /proc/kcore where this kernel has one; /proc/timer_list and /proc/keys (non-empty on the host) always
    script = (
        "for f in /proc/kcore /proc/timer_list /proc/keys; do [ -e $f ] && echo $f $(wc -c < $f); done; true"
    )
    host_has = [p for p in ("/proc/kcore", "/proc/timer_list", "/proc/keys") if os.path.exists(p)]
    out = cli.ok("run", "--rm", "busybox", "sh", "-c", script).splitlines()
    assert [ln.split()[0] for ln in out[: len(host_has)]] == host_has
    assert all(ln.split()[1] == "0" for ln in out[: len(host_has)])  # masked: reads as empty
    res = cli("run", "--rm", "busybox", "sh", "-c", "echo 1 > /proc/sys/kernel/domainname")
    assert res.returncode != 0 and "Read-only file system" in res.stderr
    assert cli("run", "--rm", "busybox", "sh", "-c", "echo x > /sys/kernel/uevent_helper").returncode != 0


def test_seccomp_blocks_dangerous_syscalls(cli: Cli) -> None:
    res = cli("run", "--rm", "busybox", "unshare", "-U", "true")
    assert res.returncode != 0 and "Operation not permitted" in res.stderr
    # even with CAP_SYS_ADMIN granted, the profile refuses mount(2) (privileged drops the profile)
    mount = "mkdir -p /m && mount -t tmpfs none /m"
    res = cli("run", "--rm", "--cap-add", "SYS_ADMIN", "busybox", "sh", "-c", mount)
    assert res.returncode != 0 and "permission denied" in res.stderr.lower()  # EPERM from the filter
    assert cli("run", "--rm", "--privileged", "busybox", "sh", "-c", mount).returncode == 0


def test_pids_limit_stops_a_fork_bomb(cli: Cli) -> None:
    t0 = time.monotonic()
    res = cli(
        "run",
        "--rm",
        "--pids-limit",
        "20",
        "busybox",
        "sh",
        "-c",
        "for i in $(seq 60); do sleep 30 & done; echo all-forked",
    )
    assert res.returncode != 0 and "all-forked" not in res.stdout
    assert "Resource temporarily unavailable" in res.stderr
    assert time.monotonic() - t0 < 20  # the shell gave up; the sleeps died with the pid namespace
    # the same loop under a higher limit forks them all
    res = cli(
        "run",
        "--rm",
        "--pids-limit",
        "100",
        "busybox",
        "sh",
        "-c",
        "for i in $(seq 60); do sleep 30 & done; echo all-forked",
    )
    assert res.returncode == 0 and "all-forked" in res.stdout


def test_memory_limit_oom_kills_only_its_own_container(cli: Cli) -> None:
    cli.ok("run", "-d", "--name", "bystander", "busybox", "sleep", "300")
    cli.ok(
        "run",
        "-d",
        "--name",
        "hog",
        "-m",
        "16m",
        "busybox",
        "sh",
        "-c",
        "x=aaaaaaaa; while true; do x=$x$x; done",
    )
    deadline = time.monotonic() + 30
    state: dict = {}
    while time.monotonic() < deadline:
        state = json.loads(cli.ok("inspect", "hog"))[0]["State"]
        if state["Status"] == "exited":
            break
        time.sleep(0.05)
    assert state["Status"] == "exited"
    assert state["OOMKilled"] is True and state["Reason"] == "OOMKilled" and state["ExitCode"] == 137
    other = json.loads(cli.ok("inspect", "bystander"))[0]["State"]
    assert other["Status"] == "running"
