"""100 run/rm cycles leave nothing behind: netns, veth, overlay mount, cgroup, conmon, IP."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.polling import wait_for
from tests.runtime.containers.conftest import Cli, created_id, leftovers


def test_hundred_run_rm_cycles_leave_nothing(cli: Cli) -> None:
    ids: list[str] = []
    for i in range(100):
        if i % 10 == 9:  # some detached runs removed with rm -f while running
            cid = cli.ok("run", "-d", "busybox", "sleep", "30").strip()
            cli.ok("rm", "-f", cid)
        else:
            res = subprocess.run(
                cli.argv("--log-level", "debug", "run", "--rm", "busybox", "true"),
                capture_output=True,
                text=True,
                env=cli.env,
                timeout=30,
            )
            assert res.returncode == 0, res.stderr
            cid = created_id(res.stderr)
        ids.append(cid)
    assert cli.ok("ps", "-aq") == ""
    wait_for(
        lambda: leftovers(cli, ids) == [],
        what="nothing left (the kernel reaps veth pairs asynchronously)",
        timeout=5,
    )
    assert not any((cli.root / "exits").iterdir()) and not any(Path(cli.root / "s").iterdir())
