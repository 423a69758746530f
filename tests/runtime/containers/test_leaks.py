"""100 run/rm cycles leave nothing behind: netns, veth, overlay mount, cgroup, conmon, IP."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from runtime.network import host_veth_name
from tests.runtime.containers.conftest import Cli, conmons_for

CGROUP_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "cpu,cpuacct", "unified", "devices", "freezer")


def _leftovers(cli: Cli, ids: list[str]) -> list[str]:
    found = []
    links = set(os.listdir("/sys/class/net"))
    with open("/proc/self/mountinfo") as f:
        mounts = f.read()
    if str(cli.root) in mounts:
        found.append("a mount under the runtime root")
    for cid in ids:
        if os.path.exists(f"/run/netns/{cid}"):
            found.append(f"netns {cid[:12]}")
        if host_veth_name(cid) in links:
            found.append(f"veth of {cid[:12]}")
        for ctl in CGROUP_CONTROLLERS:
            if os.path.exists(f"/sys/fs/cgroup/{ctl}/kubelite/{cid}"):
                found.append(f"cgroup {ctl}/kubelite/{cid[:12]}")
        if (cli.root / "containers" / cid).exists():
            found.append(f"state dir of {cid[:12]}")
    ipam = cli.root / "network" / "ipam"
    for d in ipam.iterdir() if ipam.exists() else []:
        taken = [p.name for p in d.iterdir() if p.name != "last" and not p.name.startswith(".")]
        if taken:
            found.append(f"IP allocations {taken}")
    if conmons_for(cli.root):
        found.append("conmon processes")
    return found


def test_hundred_run_rm_cycles_leave_nothing(cli: Cli) -> None:
    ids: list[str] = []
    for i in range(100):
        if i % 10 == 9:  # some detached runs removed with rm -f while running
            cid = cli.ok("run", "-d", "busybox", "sleep", "30").strip()
            cli.ok("rm", "-f", cid)
        else:
            res = subprocess.run(cli.argv("--log-level", "debug", "run", "--rm", "busybox", "true"),
                                 capture_output=True, text=True, env=cli.env, timeout=30)
            assert res.returncode == 0, res.stderr
            cid = re.search(r" -c ([0-9a-f]{64}) ", res.stderr).group(1)  # type: ignore[union-attr]
        ids.append(cid)
    assert cli.ok("ps", "-aq") == ""
    deadline = time.monotonic() + 5  # the kernel reaps veth pairs asynchronously
    while (left := _leftovers(cli, ids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == []
    assert not any((cli.root / "exits").iterdir()) and not any(Path(cli.root / "s").iterdir())
