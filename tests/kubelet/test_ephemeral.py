"""Ephemeral containers on the kubelet's loop with the fake runtime (as a hollow node runs them):
started once in the pod's sandbox, in the target container's process namespace, reported in
ephemeralContainerStatuses with their events, never restarted, never counted for readiness, and
killed with the pod."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelet import ephemeral as eph
from kubelet.status import ContainerView
from runtime.fake import FakeRuntime
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import delete, events, pod, running_kubelet, status
from tests.polling import until

pytestmark = pytest.mark.anyio


def ephemeral(api: FakeApi, name: str) -> dict[str, dict[str, Any]]:
    return {cs["name"]: cs for cs in status(api, name).get("ephemeralContainerStatuses") or []}


def state_of(api: FakeApi, pod_name: str, name: str) -> str:
    return next(iter(ephemeral(api, pod_name).get(name, {}).get("state") or {"": None}))


def instances(rt: FakeRuntime, name: str) -> list[Any]:
    return [c for c in rt.containers.values() if c.config.name == name]


async def add(api: FakeApi, pod_name: str, *containers: dict[str, Any]) -> None:
    """What the API server stores after `kubectl debug`: the pod's ephemeral containers, grown."""
    spec = api.objects[("pods", "default", pod_name)]["spec"]
    grown = [*(spec.get("ephemeralContainers") or []), *containers]
    await api.patch("pods", pod_name, {"spec": {"ephemeralContainers": grown}}, namespace="default")


async def running_web(api: FakeApi, rt: FakeRuntime) -> None:
    """Pod `web`: container `app` running, init container `setup` done."""
    init = [{"name": "setup", "image": "busybox:1.35"}]
    await api.create("pods", pod("web", [{"name": "app", "image": "busybox:1.35"}], initContainers=init))
    (setup,) = await until(lambda: instances(rt, "setup") or None)
    rt.exit(setup.info.id, 0)
    await until(lambda: status(api, "web").get("phase") == "Running")


def debugger(name: str, target: str = "app", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox:1.35", "targetContainerName": target, **fields}


@pytest.mark.parametrize("hollow", [False, True], ids=["disk", "hollow"])
async def test_started_once_in_the_targets_namespace_and_never_restarted(
    tmp_path: Path, hollow: bool
) -> None:
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path, files_in_memory=hollow):
        await running_web(api, rt)
        await add(api, "web", debugger("debug", stdin=True, tty=True))
        await until(lambda: state_of(api, "web", "debug") == "running")
        (app,) = instances(rt, "app")
        (debug,) = instances(rt, "debug")
        assert debug.config.pid_target == app.info.id
        assert (debug.config.stdin, debug.config.tty) == (True, True)
        assert debug.info.sandbox_id == app.info.sandbox_id
        cs = ephemeral(api, "web")["debug"]
        assert (cs["ready"], cs["restartCount"], cs["image"]) == (False, 0, "busybox:1.35")
        assert cs["containerID"].endswith(debug.info.id)
        st = status(api, "web")
        assert [c["name"] for c in st["containerStatuses"]] == ["app"]
        assert {c["type"]: c["status"] for c in st["conditions"]}["Ready"] == "True"
        started = [m for r, m in events(api, "web") if r in ("Created", "Started") and "debug" in m]
        assert started == ["Created container debug", "Started container debug"]

        rt.exit(debug.info.id, 3)
        ended = await until(lambda: ephemeral(api, "web")["debug"]["state"].get("terminated"))
        assert ended["exitCode"] == 3 and ended["reason"] == "Error"
        assert status(api, "web")["phase"] == "Running"
        # a later debugger starts (so the pod was synced again) and the first one stays as it ended
        await add(api, "web", debugger("again", target=""))
        await until(lambda: state_of(api, "web", "again") == "running")
        assert instances(rt, "again")[0].config.pid_target == ""
        assert len(instances(rt, "debug")) == 1
        assert state_of(api, "web", "debug") == "terminated"
        assert [c["name"] for c in status(api, "web")["ephemeralContainerStatuses"]] == ["debug", "again"]

        await delete(api, "web", 1)
        await until(lambda: not rt.containers)


async def test_a_target_that_does_not_run_holds_back_only_that_one(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await running_web(api, rt)
        await add(api, "web", debugger("late", target="setup"), debugger("fine"))
        await until(lambda: state_of(api, "web", "fine") == "running")
        waiting = await until(lambda: ephemeral(api, "web")["late"]["state"].get("waiting"))
        assert waiting == {
            "reason": "CreateContainerConfigError",
            "message": "unable to find target container setup",
        }
        assert ("Failed", "Error: unable to find target container setup") in events(api, "web")
        assert not instances(rt, "late")


def test_one_that_ran_is_not_started_again_when_its_instance_is_gone() -> None:
    """A lost sandbox takes the instances with it: the status last reported still says it ran."""
    the_pod = pod("web", [{"name": "app", "image": "busybox:1.35"}])
    the_pod["spec"]["ephemeralContainers"] = [debugger("ran"), debugger("ended"), debugger("new")]
    running = {
        "name": "ran",
        "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
        "containerID": "x://1",
    }
    ended = {"name": "ended", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    never = {"name": "new", "state": {"waiting": {"reason": "ErrImagePull"}}}
    reported = {"ephemeralContainerStatuses": [running, ended, never]}
    assert [c["name"] for c in eph.to_start(the_pod, {}, reported)] == ["new"]
    views = [ContainerView(n, "busybox:1.35", "waiting") for n in ("ran", "ended", "new")]
    ran, still_ended, waiting = eph.statuses(views, reported)
    assert ran["state"] == {
        "terminated": {
            **eph.LOST,
            "startedAt": "2026-01-01T00:00:00Z",
            "finishedAt": None,
            "containerID": "x://1",
        }
    }
    assert still_ended == ended
    assert waiting["state"] == {"waiting": {"reason": "ContainerCreating"}} and waiting["ready"] is False
