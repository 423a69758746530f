"""Termination-message files follow the container instances the kubelet keeps, and the messages
in status (state and lastState) still come from them."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest

from kubelet.containerconfig import RESTART_COUNT
from kubelet.podfiles import DISK, MemoryFiles, PodFiles
from runtime.fake import FakeRuntime
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import pod, running_kubelet, status, statuses
from tests.polling import until

pytestmark = pytest.mark.anyio

LOG = "/dev/termination-log"


def test_disk_and_memory_files_keep_the_same_termination_logs(tmp_path: Path) -> None:
    mem = MemoryFiles()

    def held(files: PodFiles) -> list[str]:
        if files is mem:
            return sorted(rel.removeprefix("containers/c/") for rel in mem.pods["u1"])
        return sorted(os.listdir(tmp_path / "pods/u1/containers/c"))

    for files in (DISK, mem):
        for n in range(3):
            files.termination_log(tmp_path, "u1", "c", n)
        assert held(files) == ["1", "2"]  # the previous instance's stays, for lastState
        files.remove_termination_log(tmp_path, "u1", "c", 1)
        files.remove_termination_log(tmp_path, "u1", "c", 1)  # gone already: fine
        assert held(files) == ["2"]
    (tmp_path / "pods/u1/containers/c/2").write_text("old")
    for files in (DISK, mem):
        files.termination_log(tmp_path, "u1", "c", 0)  # a new sandbox counts from 0 again
        assert held(files) == ["0"]
        files.termination_log(tmp_path, "u1", "c", 0)
        assert files.termination_message(tmp_path, "u1", "c", 0) == ""


async def test_a_restarted_container_keeps_only_the_kept_instances_files(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    spec = [{"name": "c", "image": "busybox:1.35", "terminationMessagePath": LOG}]
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", pod("crash", spec, restartPolicy="OnFailure"))

        def running(n: int) -> tuple[str, str] | None:
            """Instance n of the container once it runs: its id and its termination-log file."""
            for cid, c in rt.containers.items():
                if c.info.labels[RESTART_COUNT] == str(n) and c.info.state == "running":
                    return cid, next(m.host_path for m in c.config.mounts if m.container_path == LOG)
            return None

        def last_message_is(text: str) -> bool:
            last = statuses(api, "crash").get("c", {}).get("lastState", {})
            return bool(last.get("terminated", {}).get("message") == text)

        for n in range(3):  # three crashes, each leaving its own message
            cid, log = await until(partial(running, n), 10, f"instance {n} running")
            Path(log).write_text(f"bye {n}")
            rt.exit(cid, 1)
            await until(partial(last_message_is, f"bye {n}"), 10, f"lastState of instance {n}")
        cid, log = await until(lambda: running(3), 10, "instance 3 running")
        Path(log).write_text("done")
        rt.exit(cid, 0)
        await until(lambda: status(api, "crash").get("phase") == "Succeeded", 10)
        cs = statuses(api, "crash")["c"]
        assert (cs["state"]["terminated"]["message"], cs["state"]["terminated"]["exitCode"]) == ("done", 0)
        assert (cs["lastState"]["terminated"]["message"], cs["lastState"]["terminated"]["exitCode"]) == (
            "bye 2",
            1,
        )
        uid = api.objects[("pods", "default", "crash")]["metadata"]["uid"]
        kept = sorted(c.info.labels[RESTART_COUNT] for c in rt.containers.values())
        assert kept == ["2", "3"]  # the newest instance and the one before it
        assert sorted(os.listdir(tmp_path / "pods" / uid / "containers" / "c")) == kept


async def test_removed_instances_take_their_files_with_them(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    spec = [{"name": "c", "image": "app:1", "imagePullPolicy": "Always", "terminationMessagePath": LOG}]
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", pod("lost", spec))
        await until(lambda: "running" in statuses(api, "lost").get("c", {}).get("state", {}), 10)
        uid = api.objects[("pods", "default", "lost")]["metadata"]["uid"]
        files = tmp_path / "pods" / uid / "containers" / "c"
        assert os.listdir(files) == ["0"]
        # the sandbox dies and the next start cannot pull: the old instance is removed, no new one made
        rt.unpullable.add("app:1")
        (sandbox,) = rt.sandboxes
        await rt.stop_sandbox(sandbox)
        await until(
            lambda: (
                not rt.containers
                and statuses(api, "lost")["c"]["state"].get("waiting", {}).get("reason")
                in ("ErrImagePull", "ImagePullBackOff")
            ),
            10,
        )
        assert os.listdir(files) == []
