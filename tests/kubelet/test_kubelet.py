"""The kubelet's loop on the fake API and the fake runtime: start, restart, back-off, delete, adopt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api import jsonutil
from kubelet.containerconfig import RESTART_COUNT
from runtime.fake import FakeRuntime
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import NODE, delete, failing_probe, pod, running_kubelet, status, statuses
from tests.polling import until

pytestmark = pytest.mark.anyio


def status_writes(api: FakeApi, name: str) -> int:
    return sum(1 for c in api.calls if c[0] == "patch/status" and c[2] == name)


async def test_runs_a_pod_and_reports_running(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods",
            pod(
                "web",
                [
                    {"name": "a", "image": "busybox:1.35"},
                    {
                        "name": "b",
                        "image": "busybox:1.35",
                        "env": [{"name": "ME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    },
                ],
            ),
        )
        await until(lambda: status(api, "web").get("phase") == "Running")
        st = status(api, "web")
        assert st["podIP"].startswith("10.200.") and st["hostIP"] == "192.0.2.10"
        assert {c["type"]: c["status"] for c in st["conditions"]}["Ready"] == "True"
        assert all("running" in cs["state"] for cs in st["containerStatuses"])
        b = next(c for c in rt.containers.values() if c.config.name == "b")
        assert b.config.env["ME"] == "web"
        node = api.objects[("nodes", "", NODE)]
        assert node["status"]["nodeInfo"]["kubeletVersion"]
        await until(lambda: ("leases", "kube-node-lease", NODE) in api.objects)
        # what `kubectl describe pod` shows: the kubelet's events about the pod
        await until(
            lambda: (
                {"Pulled", "Created", "Started"}
                <= {e["reason"] for e in api.objs("events") if e["involvedObject"]["name"] == "web"}
            )
        )


async def test_crashing_container_restarts_with_back_off(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    rt.exit_after_start["crasher:1"] = 1
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", pod("crash", [{"name": "c", "image": "crasher:1"}]))
        await until(lambda: statuses(api, "crash").get("c", {}).get("restartCount", 0) >= 2, 10)
        cs = await until(
            lambda: (s := statuses(api, "crash").get("c", {})).get("state", {}).get("waiting") and s, 10
        )
        assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert "back-off" in cs["state"]["waiting"]["message"]
        assert cs["lastState"]["terminated"]["exitCode"] == 1
        assert status(api, "crash")["phase"] == "Running"  # restartPolicy Always
        counts = sorted(int(c.info.labels[RESTART_COUNT]) for c in rt.containers.values())
        assert len(counts) <= 3 and counts == list(range(counts[0], counts[-1] + 1))  # older ones removed


async def test_never_policy_ends_succeeded_or_failed(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    rt.exit_after_start["ok:1"] = 0
    rt.exit_after_start["bad:1"] = 3
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", pod("job-ok", [{"name": "c", "image": "ok:1"}], restartPolicy="Never"))
        await api.create("pods", pod("job-bad", [{"name": "c", "image": "bad:1"}], restartPolicy="Never"))
        await until(lambda: status(api, "job-ok").get("phase") == "Succeeded")
        await until(lambda: status(api, "job-bad").get("phase") == "Failed")
        term = statuses(api, "job-bad")["c"]["state"]["terminated"]
        assert (term["exitCode"], term["reason"]) == (3, "Error")
        assert sum(1 for c in rt.calls if c[0] == "start_container") == 2  # never restarted


async def test_init_containers_run_first_in_order(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    rt.exit_after_start["init:1"] = 0
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods",
            pod(
                "init",
                [{"name": "main", "image": "busybox:1.35"}],
                initContainers=[{"name": "i1", "image": "init:1"}, {"name": "i2", "image": "init:1"}],
            ),
        )
        await until(lambda: status(api, "init").get("phase") == "Running")
        created = [name for verb, name in rt.calls if verb == "create_container"]
        assert created == ["i1", "i2", "main"]
        st = status(api, "init")
        assert [s["state"]["terminated"]["reason"] for s in st["initContainerStatuses"]] == ["Completed"] * 2


async def test_image_pull_failure_backs_off(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    rt.unpullable.add("nope:1")
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods", pod("nopull", [{"name": "c", "image": "nope:1", "imagePullPolicy": "Always"}])
        )

        def reasons() -> list[str]:  # every status the kubelet wrote, in order
            out: list[str] = []
            for _, plural, _, obj in api.history:
                for cs in (obj.get("status") or {}).get("containerStatuses") or []:
                    r = cs["state"].get("waiting", {}).get("reason")
                    if plural == "pods" and r and (not out or out[-1] != r):
                        out.append(r)
            return out

        await until(lambda: reasons()[:2] == ["ErrImagePull", "ImagePullBackOff"], 10)
        await until(
            lambda: sum(1 for v, _ in rt.calls if v == "pull_image") >= 2, 10
        )  # retried after back-off
        assert status(api, "nopull")["phase"] == "Pending"


async def test_liveness_failure_restarts_the_container(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    probe = failing_probe(rt, "fail")
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods", pod("live", [{"name": "c", "image": "busybox:1.35", "livenessProbe": probe}])
        )
        await until(lambda: statuses(api, "live").get("c", {}).get("restartCount", 0) >= 1, 10)


async def test_deletion_stops_everything_and_confirms(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods",
            pod(
                "gone",
                [{"name": "c", "image": "busybox:1.35"}],
                volumes=[{"name": "scratch", "emptyDir": {}}],
            ),
        )
        await until(lambda: status(api, "gone").get("phase") == "Running")
        uid = api.objects[("pods", "default", "gone")]["metadata"]["uid"]
        assert (tmp_path / "pods" / uid / "volumes" / "scratch").is_dir()
        # the API server's graceful deletion: deletionTimestamp set, the kubelet confirms
        await delete(api, "gone", 1)
        await until(lambda: ("pods", "default", "gone") not in api.objects)
        await until(lambda: not rt.containers and not rt.sandboxes)
        assert ("stop_container", next(c for v, c in rt.calls if v == "start_container")) in rt.calls
        assert not (tmp_path / "pods" / uid).exists()


async def test_restarted_kubelet_adopts_and_cleans_orphans(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", pod("keep", [{"name": "c", "image": "busybox:1.35"}]))
        await api.create("pods", pod("orphan", [{"name": "c", "image": "busybox:1.35"}]))
        await until(
            lambda: (
                status(api, "keep").get("phase") == "Running"
                and status(api, "orphan").get("phase") == "Running"
            )
        )
    before = {c.info.id for c in rt.containers.values() if c.info.labels["io.kubernetes.pod.name"] == "keep"}
    starts = sum(1 for c in rt.calls if c[0] == "start_container")
    del api.objects[("pods", "default", "orphan")]  # deleted while the kubelet was down
    reports = status_writes(api, "keep")
    async with running_kubelet(api, rt, tmp_path):
        await until(
            lambda: all(c.info.labels["io.kubernetes.pod.name"] == "keep" for c in rt.containers.values())
        )
        # the new kubelet's first sync of the pod ends with a status write (it remembers none):
        # by then it has adopted its container, or wrongly restarted it
        await until(lambda: status_writes(api, "keep") > reports)
        assert {c.info.id for c in rt.containers.values()} == before
        assert sum(1 for c in rt.calls if c[0] == "start_container") == starts
        assert statuses(api, "keep")["c"]["restartCount"] == 0


@pytest.mark.parametrize("n", [1])
async def test_status_written_only_on_change(tmp_path: Path, n: int) -> None:
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path) as k:
        await api.create("pods", pod("quiet", [{"name": "c", "image": "busybox:1.35"}]))
        await until(lambda: status(api, "quiet").get("phase") == "Running")
        writes = status_writes(api, "quiet")
        uid = api.objects[("pods", "default", "quiet")]["metadata"]["uid"]
        decided = 0  # syncs that got to the status decision (the end of a sync)
        report = k.syncer._report

        async def counted(*args: Any) -> None:
            nonlocal decided
            await report(*args)
            decided += 1

        k.syncer._report = counted  # type: ignore[method-assign,assignment]
        for i in range(5):
            k.workers.wake(uid)
            await until(lambda: decided > i)  # noqa: B023 - awaited within the iteration
        assert status_writes(api, "quiet") == writes


async def test_status_stays_written_while_the_informer_lags(tmp_path: Path) -> None:
    """Syncs that still see the pod without the status this kubelet wrote (a lagging watch) do not
    write again with conditions' lastTransitionTime moved to now: the kubelet's own last write is
    what a condition transitions from."""

    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path) as k:
        await api.create("pods", pod("lagged", [{"name": "c", "image": "busybox:1.35"}]))
        await until(lambda: status(api, "lagged").get("phase") == "Running")
        writes = status_writes(api, "lagged")
        uid = api.objects[("pods", "default", "lagged")]["metadata"]["uid"]
        decided = 0
        report = k.syncer._report

        async def stale(pod_seen: dict[str, Any], *args: Any) -> None:
            nonlocal decided
            await report({**pod_seen, "status": {"phase": "Pending"}}, *args)
            decided += 1

        k.syncer._report = stale  # type: ignore[method-assign,assignment]
        first = jsonutil.now_str()
        for i in range(3):  # across a change of the clock's second, which a new transition would show
            k.workers.wake(uid)
            await until(lambda: decided > i)  # noqa: B023 - awaited within the iteration
            await until(lambda: jsonutil.now_str() != first)
        k.workers.wake(uid)
        await until(lambda: decided > 3)
        assert status_writes(api, "lagged") == writes


async def test_pre_stop_hook_runs_before_the_stop(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    hook = {"preStop": {"exec": {"command": ["drain"]}}}
    async with running_kubelet(api, rt, tmp_path):
        # a finalizer keeps the object while the kubelet terminates it, as the API server's graceful
        # deletion does (the fake API deletes at once otherwise, and the kubelet sees a vanished pod)
        await api.create(
            "pods",
            dict(
                pod("hooked", [{"name": "c", "image": "busybox:1.35", "lifecycle": hook}]),
                metadata={"name": "hooked", "namespace": "default", "finalizers": ["kubelite.io/test"]},
            ),
        )
        await until(lambda: status(api, "hooked").get("phase") == "Running")
        await delete(api, "hooked", 5)
        await until(lambda: not rt.containers)
        verbs = [v for v, _ in rt.calls]
        assert verbs.index("exec_sync") < verbs.index("stop_container")


async def test_a_started_pod_is_synced_once_not_again_for_its_own_containers(tmp_path: Path) -> None:
    """The sync that starts the containers reports them; neither its own status write coming back
    (a RECONCILE) nor the relist that then sees the containers it started wakes the pod again."""
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path) as k:
        synced: list[str] = []
        relists = 0
        sync, relist = k.workers._sync, k.relist

        async def counting_sync(p: dict[str, Any]) -> float:
            synced.append(p["metadata"]["name"])
            return await sync(p)

        async def counting_relist(first: bool = False) -> None:
            nonlocal relists
            relists += 1
            await relist(first)

        k.workers._sync = counting_sync
        k.relist = counting_relist  # type: ignore[method-assign]
        await api.create("pods", pod("once", [{"name": "c", "image": "busybox:1.35"}]))
        await until(lambda: status(api, "once").get("phase") == "Running", 10)
        seen = relists
        await until(lambda: relists >= seen + 5, 10)  # the containers' start was relisted by now
        assert synced == ["once"]
        rt.exit(statuses(api, "once")["c"]["containerID"].split("//")[-1], 1)  # a change after it: a sync
        await until(lambda: len(synced) >= 2, 10)


async def test_a_readiness_gate_holds_ready_until_its_condition_is_true(tmp_path: Path) -> None:
    """Another writer's condition is kept in the kubelet's status writes, and setting the gate's
    condition (a status-only update) makes the kubelet work out Ready again."""
    api, rt = FakeApi(), FakeRuntime()
    gate = "lb.example.com/ready"
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods",
            pod("gated", [{"name": "c", "image": "busybox:1.35"}], readinessGates=[{"conditionType": gate}]),
        )

        def ready() -> dict[str, Any]:
            return {c["type"]: c for c in status(api, "gated").get("conditions") or []}.get("Ready") or {}

        await until(lambda: ready().get("reason") == "ReadinessGatesNotReady", 10)
        assert status(api, "gated")["phase"] == "Running" and ready()["status"] == "False"
        conditions = [*status(api, "gated")["conditions"], {"type": gate, "status": "True"}]
        await api.patch(
            "pods", "gated", {"status": {"conditions": conditions}}, namespace="default", subresource="status"
        )
        await until(lambda: ready().get("status") == "True", 10)
        assert {"type": gate, "status": "True"} in status(api, "gated")["conditions"]


async def test_a_pod_past_its_active_deadline_is_stopped_and_failed(tmp_path: Path) -> None:
    """activeDeadlineSeconds counts from the pod's startTime; then the kubelet stops its containers
    (kept, for their logs), records DeadlineExceeded and reports the pod Failed with kube's words."""
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods",
            pod(
                "bounded",
                [{"name": "a", "image": "busybox:1.35"}],
                activeDeadlineSeconds=2,
                terminationGracePeriodSeconds=0,
            ),
        )
        await api.create("pods", pod("free", [{"name": "a", "image": "busybox:1.35"}]))
        await until(lambda: status(api, "bounded").get("phase") == "Running")
        st = await until(lambda: (s := status(api, "bounded")).get("phase") == "Failed" and s, 10)
        assert (st["reason"], st["message"]) == (
            "DeadlineExceeded",
            "Pod was active on the node longer than the specified deadline",
        )
        started = jsonutil.parse_time(st["startTime"]).timestamp()
        ended = jsonutil.parse_time(
            st["containerStatuses"][0]["state"]["terminated"]["finishedAt"]
        ).timestamp()
        assert 2 <= ended - started < 5
        assert {c["type"]: c["status"] for c in st["conditions"]}["Ready"] == "False"
        events = [e for e in api.objs("events") if e["involvedObject"]["name"] == "bounded"]
        assert [e["message"] for e in events if e["reason"] == "DeadlineExceeded"] == [
            "Pod was active on the node longer than the specified deadline"
        ]
        assert [
            c.info.state
            for c in rt.containers.values()
            if c.info.labels.get("io.kubernetes.pod.name") == "bounded"
        ] == ["exited"]
        assert status(api, "free")["phase"] == "Running"


def conditions_of(api: FakeApi, name: str) -> dict[str, str]:
    return {c["type"]: c["status"] for c in status(api, name).get("conditions") or []}


async def test_a_sidecar_starts_in_its_turn_and_keeps_running_beside_the_app(tmp_path: Path) -> None:
    """A restartable init container starts before the init containers after it, which run while
    it does; the app starts once they are done; the sidecar is restarted when it exits, without
    holding the app back, and on deletion it is stopped after the app."""
    api, rt = FakeApi(), FakeRuntime()
    rt.exit_after_start["init:1"] = 0
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods",
            pod(
                "meshed",
                [{"name": "app", "image": "busybox:1.35"}],
                initContainers=[
                    {"name": "proxy", "image": "envoy:1", "restartPolicy": "Always"},
                    {"name": "setup", "image": "init:1"},
                ],
            ),
        )
        await until(lambda: status(api, "meshed").get("phase") == "Running")
        await until(lambda: conditions_of(api, "meshed").get("Ready") == "True")
        created = [name for verb, name in rt.calls if verb == "create_container"]
        assert created == ["proxy", "setup", "app"]
        st = status(api, "meshed")
        inits = {s["name"]: s for s in st["initContainerStatuses"]}
        assert "running" in inits["proxy"]["state"] and inits["proxy"]["started"] is True
        assert inits["setup"]["state"]["terminated"]["reason"] == "Completed"
        assert conditions_of(api, "meshed")["Initialized"] == "True"
        proxy = next(c for c in rt.containers.values() if c.config.name == "proxy")
        rt.exit(proxy.info.id, 1)  # the sidecar dies: restarted, the app untouched
        await until(lambda: sum(1 for c in rt.containers.values() if c.config.name == "proxy") == 2, 10)
        assert [name for verb, name in rt.calls if verb == "create_container"] == [
            "proxy",
            "setup",
            "app",
            "proxy",
        ]
        app = next(c for c in rt.containers.values() if c.config.name == "app")
        assert app.info.state == "running"
        proxy_now = next(
            c for c in rt.containers.values() if c.config.name == "proxy" and c.info.state == "running"
        )
        rt.calls.clear()
        await delete(api, "meshed", 0)
        await until(lambda: not rt.containers)
        stopped = [cid for verb, cid in rt.calls if verb == "stop_container"]
        assert stopped == [app.info.id, proxy_now.info.id]  # the app first, then its sidecar


async def test_a_jobs_sidecar_is_stopped_when_the_app_is_done(tmp_path: Path) -> None:
    """Under restartPolicy Never the app's exit ends the pod: the sidecar is stopped, not
    restarted, and its exit code does not count (Succeeded)."""
    api, rt = FakeApi(), FakeRuntime()
    rt.exit_after_start["task:1"] = 0
    async with running_kubelet(api, rt, tmp_path):
        await api.create(
            "pods",
            pod(
                "batch",
                [{"name": "task", "image": "task:1"}],
                restartPolicy="Never",
                initContainers=[{"name": "logger", "image": "fluent:1", "restartPolicy": "Always"}],
            ),
        )
        await until(lambda: status(api, "batch").get("phase") == "Succeeded", 10)
        logger = [c for c in rt.containers.values() if c.config.name == "logger"]
        assert len(logger) == 1 and logger[0].info.state == "exited"
        st = status(api, "batch")
        assert "terminated" in st["initContainerStatuses"][0]["state"]
        assert st["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


async def test_a_pod_for_another_os_is_failed_not_run(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", pod("win", [{"name": "a", "image": "busybox:1.35"}], os={"name": "windows"}))
        st = await until(lambda: (s := status(api, "win")).get("phase") == "Failed" and s, 10)
        assert (st["reason"], st["message"]) == (
            "PodOSNotSupported",
            "Failed to admit pod as the OS field doesn't match node OS",
        )
        assert not rt.containers


async def test_a_pod_with_a_forbidden_sysctl_is_failed_before_its_sandbox(tmp_path: Path) -> None:
    """kube's sysctl admit handler: the pod is Failed (SysctlForbidden), nothing is made for it."""
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        unsafe = {"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}
        await api.create(
            "pods", pod("tuned", [{"name": "a", "image": "busybox:1.35"}], securityContext=unsafe)
        )
        st = await until(lambda: (s := status(api, "tuned")).get("phase") == "Failed" and s, 10)
        assert (st["reason"], st["message"]) == (
            "SysctlForbidden",
            'forbidden sysctl: "kernel.msgmax" not allowlisted',
        )
        assert not rt.containers and not rt.sandboxes


async def test_a_pod_asking_for_a_user_namespace_waits_with_its_sandbox_failed(tmp_path: Path) -> None:
    """kube's words when the runtime makes no user namespaces: no sandbox, the pod Pending in
    ContainerCreating, a FailedCreatePodSandBox warning."""
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", pod("userns", [{"name": "a", "image": "busybox:1.35"}], hostUsers=False))
        message = "Failed to create pod sandbox: can't set `spec.hostUsers: false`, runtime does not support user namespaces"
        await until(lambda: any(e.get("message") == message for e in api.objs("events")), 10)
        st = status(api, "userns")
        assert st.get("phase") == "Pending" and not rt.sandboxes and not rt.containers
