"""The server's control loops as child processes: the child runs the loop with the client and
options it was handed (the token on stdin, not on its command line), is started again when it
ends, is stopped when the server stops, and dies with a server killed by SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from api.config import ClientConfig
from api.gctuning import YOUNG_THRESHOLD
from apiserver.loopprocess import LoopProcess
from tests.apiserver_unit.loop_targets import record_and_wait
from tests.polling import until, wait_for

CLIENT = ClientConfig(server="http+unix://%2Ftmp%2Fx%2Fapi.sock", token="s3cret", ca_data=b"PEM")


def starts(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie has ended too
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_the_child_runs_the_loop_and_stops_with_the_server(tmp_path: Path) -> None:
    out = tmp_path / "starts"

    async def run() -> None:
        metrics = str(tmp_path / "m.sock")
        child = LoopProcess("test-loop", record_and_wait, CLIENT, {"out": str(out)}, False, metrics)
        task = asyncio.create_task(child.run())
        await until(lambda: len(starts(out)) == 1, timeout=30)
        deadline = asyncio.get_running_loop().time() + 30
        scraped = await child.scrape()
        while b"scheduler_schedule_attempts_total{" not in scraped:  # its socket opens just after
            assert asyncio.get_running_loop().time() < deadline, "the child's metrics never answered"
            await asyncio.sleep(0.01)
            scraped = await child.scrape()
        assert b'result="scheduled"' in scraped
        (got,) = starts(out)
        assert got == {
            "server": CLIENT.server,
            "token": "s3cret",
            "ca": "PEM",
            "pid": child.pid,
            "gc_young": YOUNG_THRESHOLD,
        }
        assert child.pid is not None
        assert b"s3cret" not in Path(f"/proc/{child.pid}/cmdline").read_bytes()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert not alive(child.pid)
        assert await child.scrape() == b""  # nobody answers: nothing, and no error

    asyncio.run(run())


def test_a_child_that_ends_is_started_again(tmp_path: Path) -> None:
    out = tmp_path / "starts"

    async def run() -> None:
        child = LoopProcess(
            "test-loop", record_and_wait, CLIENT, {"out": str(out), "end": True}, verbose=False
        )
        task = asyncio.create_task(child.run())
        await until(lambda: len(starts(out)) >= 2, timeout=30)
        pids = [s["pid"] for s in starts(out)]
        assert len(set(pids)) == len(pids) and child.starts >= 2
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())


PARENT = """
import asyncio, sys
from api.config import ClientConfig
from apiserver.loopprocess import LoopProcess
from tests.apiserver_unit.loop_targets import record_and_wait
asyncio.run(LoopProcess("orphan", record_and_wait, ClientConfig(server="x"), {"out": sys.argv[1]}, False).run())
"""


def test_a_child_dies_with_a_killed_server(tmp_path: Path) -> None:
    out = tmp_path / "starts"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(out)])
    try:
        wait_for(lambda: len(starts(out)) == 1, what="the child's start")
        pid = int(str(starts(out)[0]["pid"]))
        assert alive(pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_for(lambda: not alive(pid), what="the orphaned child's end")
    finally:
        parent.kill()
        parent.wait()
