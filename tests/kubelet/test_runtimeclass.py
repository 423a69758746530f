"""The kubelet's runtime handlers: a pod's RuntimeClass resolved to its handler when the sandbox
is made. runc (and no class, the default) runs; any other handler fails the sandbox in
containerd's words and a class deleted since the pod was admitted in the lister's, both as
kube's kubelet reports them: no sandbox, the pod Pending in ContainerCreating, a
FailedCreatePodSandBox warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.containerconfig import refuse_runtime_handler
from kubelet.podobjects import ContainerConfigError
from runtime.fake import FakeRuntime
from tests.controller.fakeapi import FakeApi
from tests.kubelet.loop import pod, running_kubelet, status
from tests.polling import until

pytestmark = pytest.mark.anyio
BUSYBOX = [{"name": "a", "image": "busybox:1.35"}]


def runtime_class(name: str, handler: str) -> dict[str, object]:
    return {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {"name": name},
        "handler": handler,
    }


def test_only_runc_and_the_default_have_a_runtime() -> None:
    refuse_runtime_handler("")
    refuse_runtime_handler("runc")
    with pytest.raises(ContainerConfigError, match='no runtime for "kata" is configured'):
        refuse_runtime_handler("kata")


async def test_a_runc_class_runs_and_an_unknown_handler_waits(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    await api.create("runtimeclasses", runtime_class("plain", "runc"))
    await api.create("runtimeclasses", runtime_class("vm", "kata"))
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", pod("runs", BUSYBOX, runtimeClassName="plain"))
        await api.create("pods", pod("waits", BUSYBOX, runtimeClassName="vm"))
        await until(lambda: status(api, "runs").get("phase") == "Running", 10, "the runc pod running")
        message = (
            "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to get sandbox "
            'runtime: no runtime for "kata" is configured'
        )
        event = await until(
            lambda: next((e for e in api.objs("events") if e.get("message") == message), None), 10
        )
        assert event["reason"] == "FailedCreatePodSandBox" and event["type"] == "Warning"
        assert event["involvedObject"]["name"] == "waits"
        st = await until(lambda: status(api, "waits").get("containerStatuses") and status(api, "waits"), 10)
        assert st["phase"] == "Pending"
        assert st["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
        assert [s.config.name for s in rt.sandboxes.values()] == ["runs"]


async def test_a_class_deleted_since_fails_the_sandbox(tmp_path: Path) -> None:
    api, rt = FakeApi(), FakeRuntime()
    async with running_kubelet(api, rt, tmp_path):
        await api.create("pods", pod("gone", BUSYBOX, runtimeClassName="deleted"))
        message = 'Failed to create pod sandbox: runtimeclass.node.k8s.io "deleted" not found'
        await until(lambda: any(e.get("message") == message for e in api.objs("events")), 10)
        assert status(api, "gone").get("phase") in (None, "Pending") and not rt.sandboxes
