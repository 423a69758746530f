"""What the runtime is asked to run for a container: `$(VAR)` in command, args and subPathExpr
is the container's own variable, as kube's ExpandContainerCommandAndArgs and
ExpandContainerVolumeMounts make it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelet.containerconfig import container_config
from kubelet.projection import VolumeError
from runtime.interface import SandboxConfig, SandboxInfo

SANDBOX = SandboxInfo(
    "sb1", SandboxConfig("web", "apps", "u1", "web"), "10.244.1.7", "/run/netns/x", "ready", 1.0
)


def pod(container: dict[str, Any]) -> dict[str, Any]:
    env = [
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "GREETING", "value": "hello $(POD_NAME)"},
    ]
    return {
        "metadata": {"name": "web", "namespace": "apps", "uid": "u1"},
        "spec": {
            "containers": [{"name": "c", "image": "busybox", "env": env, **container}],
            "volumes": [{"name": "logs", "emptyDir": {}}],
        },
    }


def config(p: dict[str, Any], tmp_path: Path) -> Any:
    return container_config(p, p["spec"]["containers"][0], SANDBOX, 0, tmp_path, "10.250.0.2", lambda ns: [])


def test_command_and_args_get_the_containers_variables(tmp_path: Path) -> None:
    p = pod(
        {
            "command": ["sh", "-c", "echo $(GREETING) at $(POD_IP); echo $$(POD_IP) $(UNSET)"],
            "args": ["--advertise=$(POD_IP):8080", "--name=$(POD_NAME)"],
        }
    )
    got = config(p, tmp_path)
    assert got.command == ["sh", "-c", "echo hello web at 10.244.1.7; echo $(POD_IP) $(UNSET)"]
    assert got.args == ["--advertise=10.244.1.7:8080", "--name=web"]
    assert config(pod({}), tmp_path).command is None  # none given: the image's entrypoint


def test_a_subpathexpr_mounts_the_expanded_directory(tmp_path: Path) -> None:
    p = pod({"volumeMounts": [{"name": "logs", "mountPath": "/logs", "subPathExpr": "pods/$(POD_NAME)"}]})
    (mount,) = config(p, tmp_path).mounts
    assert mount.container_path == "/logs" and mount.host_path.endswith("/volumes/logs/pods/web")
    assert Path(mount.host_path).is_dir()


def test_a_subpathexpr_that_expands_out_of_its_volume_is_refused(tmp_path: Path) -> None:
    p = pod(
        {
            "env": [{"name": "UP", "value": "../.."}],
            "volumeMounts": [{"name": "logs", "mountPath": "/l", "subPathExpr": "$(UP)"}],
        }
    )
    with pytest.raises(VolumeError, match=r"must not contain '\.\.'"):
        config(p, tmp_path)
