"""A sandbox that shares one process namespace among its containers (shareProcessNamespace), with
real runc and conmon: PID 1 is the sandbox's pause, which reaps orphans; a container sees, signals
and reads the files of another's processes; the pause outlives its caller and is found again;
when it dies the sandbox is not ready; removing the sandbox leaves no process, cgroup or record."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from runtime import podpid
from runtime.containers.errors import ContainerError
from runtime.interface import ContainerConfig
from runtime.real import RealRuntime
from tests.polling import until
from tests.runtime.containers.test_real import pod, run_to_exit, sync

# a container whose own files and signal handling another container can check
WEB = "echo mine > /tmp/mine; trap 'echo hup > /tmp/hup' HUP; while :; do sleep 1 & wait $!; done"
LOOK = """
echo "$(tr '\\0' ' ' < /proc/1/cmdline)"
readlink /proc/self/ns/pid
for p in /proc/[0-9]*; do [ -f $p/root/tmp/mine ] && [ "$(cat $p/comm)" = sh ] && pid=${p#/proc/}; done
cat /proc/$pid/root/tmp/mine
kill -HUP $pid
for i in $(seq 20); do [ -e /proc/$pid/root/tmp/hup ] && break; sleep 0.1; done
cat /proc/$pid/root/tmp/hup
"""


async def joined(
    rt: RealRuntime, sandbox_id: str, name: str, script: str, pod_pid: bool = True, start: bool = True
) -> str:
    """A busybox container running `sh -c script`, in the sandbox's process namespace (`pod_pid`),
    its log at <root>/<name>.log; started unless `start` is false."""
    cid = await rt.create_container(
        sandbox_id,
        ContainerConfig(
            name=name,
            image="busybox",
            pod_pid=pod_pid,
            log_path=str(rt.root / f"{name}.log"),
            command=["sh", "-c", script],
        ),
    )
    if start:
        await rt.start_container(cid)
    return cid


async def output(rt: RealRuntime, sandbox_id: str, name: str, script: str, pod_pid: bool = True) -> list[str]:
    """The lines such a container writes, once it has exited (with 0)."""
    cid = await joined(rt, sandbox_id, name, script, pod_pid, start=False)
    assert (await run_to_exit(rt, cid)).exit_code == 0
    return [line.split(" ", 3)[3] for line in (rt.root / f"{name}.log").read_text().splitlines()]


def pause_cgroup(runtime: RealRuntime, uid: str, controller: str = "memory") -> Path:
    return Path(f"/sys/fs/cgroup/{controller}/kubelite/pod{uid}/{podpid.CGROUP_LEAF}")


@sync
async def test_the_pods_containers_share_one_namespace_whose_pid_1_is_the_pause(runtime: RealRuntime) -> None:
    sb = await runtime.run_sandbox(pod("p1", share_pid=True))
    where = str(runtime.sandbox_dir / sb.id)
    pause = podpid.recorded(where)
    assert pause is not None and podpid.running(where) == pause.pid
    with open(f"/proc/{pause.pid}/status") as f:
        assert podpid.ns_pids(f.read())[-1] == 1  # PID 1 of a namespace of its own
    assert os.stat(f"/proc/{pause.pid}/ns/net").st_ino == os.stat(sb.netns_path).st_ino  # the pod's network
    assert pause_cgroup(runtime, sb.config.uid).is_dir()  # and in the pod's cgroup

    await joined(runtime, sb.id, "web", WEB)
    first, ns, mine, hup = await output(runtime, sb.id, "look", LOOK)
    assert first.startswith("/usr/bin/catatonit -P")  # the pause is PID 1 for every container
    assert ns == os.readlink(f"/proc/{pause.pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    assert (mine, hup) == ("mine", "hup")  # the other's files through /proc/PID/root, its signal handled
    # a container not asking for it keeps a namespace of its own, where it is PID 1
    assert await output(runtime, sb.id, "own", "echo $$", pod_pid=False) == ["1"]

    await runtime.remove_sandbox(sb.id)
    assert not podpid.same_process(pause.pid, pause.start)
    assert not pause_cgroup(runtime, sb.config.uid).exists()
    assert not pause_cgroup(runtime, sb.config.uid).parent.exists()


@sync
async def test_orphans_are_reaped_by_the_pause(runtime: RealRuntime) -> None:
    """A process whose parent exits is the pause's child; killed, it is reaped, no zombie stays."""
    sb = await runtime.run_sandbox(pod("p2", share_pid=True))
    await joined(runtime, sb.id, "parent", "(sleep 1000 &); exec sleep 1001")
    script = """
for i in $(seq 50); do
  for p in /proc/[0-9]*; do [ "$(tr '\\0' ' ' < $p/cmdline)" = "sleep 1000 " ] && pid=${p#/proc/}; done
  [ -n "$pid" ] && break; sleep 0.1
done
awk '{print $4}' /proc/$pid/stat
kill $pid
for i in $(seq 50); do [ -e /proc/$pid ] || break; sleep 0.1; done
[ -e /proc/$pid ] && echo left || echo reaped
"""
    assert await output(runtime, sb.id, "check", script) == [
        "1",
        "reaped",
    ]  # the orphan's parent was PID 1, which reaped it


@sync
async def test_the_pause_is_found_again_and_its_death_makes_the_sandbox_not_ready(
    runtime: RealRuntime, tmp_path: Path, image_root: Path
) -> None:
    sb = await runtime.run_sandbox(pod("p3", share_pid=True))
    app = await joined(runtime, sb.id, "app", "sleep 300")
    # another runtime on the same root (a restarted kubelet) finds the sandbox ready and joins it
    again = RealRuntime(runtime.root, network=runtime.network, image_root=image_root)
    assert [(s.id, s.state) for s in await again.list_sandboxes()] == [(sb.id, "ready")]
    late = await joined(again, sb.id, "late", "sleep 300")
    pids = {(await again.container_status(c)).pid for c in (app, late)}
    assert len({os.readlink(f"/proc/{p}/ns/pid") for p in pids}) == 1

    pause = podpid.recorded(str(runtime.sandbox_dir / sb.id))
    assert pause is not None
    os.kill(pause.pid, 9)  # the namespace dies with its PID 1, and every process in it
    await until(lambda: not podpid.same_process(pause.pid, pause.start))
    assert [s.state for s in await again.list_sandboxes()] == ["notready"]

    async def exited(cid: str) -> None:
        while (await again.container_status(cid)).state != "exited":
            await asyncio.sleep(0.05)

    for cid in (app, late):  # killed with it (bounded: a hang fails the test, not the run)
        await asyncio.wait_for(exited(cid), 30)
    with pytest.raises(ContainerError, match="pause process is gone"):
        await again.create_container(sb.id, ContainerConfig(name="x", image="busybox", pod_pid=True))
    await again.remove_sandbox(sb.id)
    assert not podpid.same_process(pause.parent, pause.parent_start)
    assert await again.list_sandboxes() == []


@sync
async def test_a_sandbox_made_without_sharing_has_no_process_and_none_to_join(runtime: RealRuntime) -> None:
    sb = await runtime.run_sandbox(pod("p4"))
    assert podpid.recorded(str(runtime.sandbox_dir / sb.id)) is None
    assert not pause_cgroup(runtime, sb.config.uid).exists()
    with pytest.raises(ContainerError, match="no process namespace to share"):
        await runtime.create_container(sb.id, ContainerConfig(name="x", image="busybox", pod_pid=True))
    assert [s.state for s in await runtime.list_sandboxes()] == ["ready"]


def test_a_pause_that_cannot_start_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ContainerError, match=r"did not start: nsenter: .*/no/such/netns"):
        podpid.start(str(tmp_path), "", netns="/no/such/netns")
    assert podpid.recorded(str(tmp_path)) is None
