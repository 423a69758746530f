"""What the runtime is asked to run for a container: `$(VAR)` in command, args and subPathExpr
is the container's own variable, as kube's ExpandContainerCommandAndArgs and
ExpandContainerVolumeMounts make it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelet.containerconfig import container_config
from kubelet.podobjects import ContainerConfigError
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


def secured(pod_sec: dict[str, Any], sec: dict[str, Any] | None = None) -> dict[str, Any]:
    p = pod({} if sec is None else {"securityContext": sec})
    p["spec"]["securityContext"] = pod_sec
    return p


def test_the_pods_security_context_applies_where_the_container_sets_none(tmp_path: Path) -> None:
    got = config(
        secured({"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "supplementalGroups": [4000]}),
        tmp_path,
    )
    assert (got.user, got.groups, got.read_only_rootfs) == ("1000:3000", [4000, 2000], False)
    own = config(
        secured({"runAsUser": 1000, "runAsGroup": 3000}, {"runAsUser": 7, "readOnlyRootFilesystem": True}),
        tmp_path,
    )
    assert (own.user, own.groups, own.read_only_rootfs) == ("7:3000", [], True)  # the container's wins
    assert config(pod({}), tmp_path).user == ""  # the image's USER


def test_a_run_as_group_alone_keeps_the_images_user(tmp_path: Path) -> None:
    p = secured({"runAsGroup": 3000})
    c = p["spec"]["containers"][0]
    assert (
        container_config(p, c, SANDBOX, 0, tmp_path, "10.250.0.2", lambda ns: [], image_user="nginx").user
        == "nginx:3000"
    )
    assert config(p, tmp_path).user == "0:3000"  # no USER: root, in the group


@pytest.mark.parametrize(
    ("pod_sec", "sec", "image_user", "refusal"),
    [
        ({"runAsNonRoot": True}, None, "", "container has runAsNonRoot and image will run as root"),
        ({"runAsNonRoot": True}, None, "0:0", "container has runAsNonRoot and image will run as root"),
        (
            {},
            {"runAsNonRoot": True},
            "app",
            "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root",
        ),
        (
            {"runAsNonRoot": True, "runAsUser": 0},
            None,
            "1000",
            "container's runAsUser breaks non-root policy",
        ),
        ({"runAsNonRoot": True}, None, "1000", None),
        ({"runAsNonRoot": True}, {"runAsUser": 1000}, "", None),
        ({"runAsNonRoot": True}, {"runAsNonRoot": False}, "", None),  # the container's own word wins
    ],
)
def test_run_as_non_root_is_checked_before_a_start(
    tmp_path: Path, pod_sec: dict[str, Any], sec: dict[str, Any] | None, image_user: str, refusal: str | None
) -> None:
    p = secured(pod_sec, sec)
    c = p["spec"]["containers"][0]

    def make() -> Any:
        return container_config(
            p, c, SANDBOX, 0, tmp_path, "10.250.0.2", lambda ns: [], image_user=image_user
        )

    if refusal is None:
        make()
        return
    with pytest.raises(ContainerConfigError) as e:
        make()
    assert str(e.value) == f'{refusal} (pod: "web_apps(u1)", container: c)'


def test_the_termination_log_is_a_file_any_user_writes_read_back_capped(tmp_path: Path) -> None:
    from kubelet.podfiles import DISK, MAX_TERMINATION_MESSAGE

    p = pod({"terminationMessagePath": "/dev/termination-log"})
    got = config(p, tmp_path)
    (mount,) = [m for m in got.mounts if m.container_path == "/dev/termination-log"]
    host = Path(mount.host_path)
    assert not mount.read_only and host.is_file() and host.stat().st_mode & 0o777 == 0o666
    host.write_bytes(b"x" * (MAX_TERMINATION_MESSAGE + 10))
    assert DISK.termination_message(tmp_path, "u1", "c", 0) == "x" * MAX_TERMINATION_MESSAGE
    assert DISK.termination_message(tmp_path, "u1", "c", 1) == ""  # the next instance's, not written
    assert not [m for m in config(pod({}), tmp_path).mounts if m.container_path.startswith("/dev")]


def test_host_ports_are_published_unless_the_pod_is_on_the_nodes_network() -> None:
    from kubelet.containerconfig import host_ports

    ports = [
        {"containerPort": 8080, "hostPort": 18080},
        {"containerPort": 53, "hostPort": 5353, "protocol": "UDP", "hostIP": "10.0.0.5"},
        {"containerPort": 9090},  # no hostPort: nothing on the node
        {"containerPort": 7, "hostPort": 7, "protocol": "SCTP"},
    ]
    spec: dict[str, Any] = {"containers": [{"name": "c", "ports": ports}]}
    assert host_ports(spec) == [("", 18080, 8080, "tcp"), ("10.0.0.5", 5353, 53, "udp")]
    assert host_ports({**spec, "hostNetwork": True}) == []


def test_privilege_escalation_seccomp_and_sysctls_map_onto_the_runtime(tmp_path: Path) -> None:
    plain = config(pod({}), tmp_path)
    assert (plain.no_new_privileges, plain.seccomp_unconfined, plain.sysctls) == (False, False, {})
    p = pod({"securityContext": {"allowPrivilegeEscalation": False}})
    p["spec"]["securityContext"] = {
        "seccompProfile": {"type": "Unconfined"},
        "sysctls": [
            {"name": "net.ipv4.ip_local_port_range", "value": "20000 21000"},
            {"name": "kernel/shm_rmid_forced", "value": "1"},
        ],
    }
    got = config(p, tmp_path)
    assert (got.no_new_privileges, got.seccomp_unconfined) == (True, True)
    assert got.sysctls == {"net.ipv4.ip_local_port_range": "20000 21000", "kernel.shm_rmid_forced": "1"}
    own = pod({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}})
    own["spec"]["securityContext"] = {"seccompProfile": {"type": "Unconfined"}}
    assert config(own, tmp_path).seccomp_unconfined is False  # the container's own profile wins


@pytest.mark.parametrize(
    ("pod_sec", "host_network", "refusal"),
    [
        (
            {"seccompProfile": {"type": "Localhost", "localhostProfile": "my.json"}},
            False,
            'seccomp profile "localhost/my.json": Localhost profiles are not supported',
        ),
    ],
)
def test_what_the_node_cannot_apply_is_refused(
    tmp_path: Path, pod_sec: dict[str, Any], host_network: bool, refusal: str
) -> None:
    p = pod({})
    p["spec"]["securityContext"] = pod_sec
    if host_network:
        p["spec"]["hostNetwork"] = True
    with pytest.raises(ContainerConfigError) as e:
        config(p, tmp_path)
    assert str(e.value) == refusal


def test_a_memory_emptydir_is_a_tmpfs_of_its_size_limit(tmp_path: Path) -> None:
    from kubelet.podfiles import DISK

    path = DISK.empty_dir(tmp_path, "u1", "cache", memory=True, size=1024 * 1024)
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        (line,) = [m for m in mounts if m.split()[1] == str(path)]
        assert line.split()[2] == "tmpfs" and "size=1024k" in line.split()[3]
    finally:
        DISK.remove_pod(tmp_path, "u1")
    assert not any(m.split()[1] == str(path) for m in Path("/proc/self/mounts").read_text().splitlines())


def test_the_hostname_is_the_fqdn_when_asked_and_short_enough() -> None:
    from kubelet.containerconfig import kernel_hostname

    p = pod({})
    assert kernel_hostname(p, "cluster.local") == "web"
    p["spec"].update(hostname="db-0", subdomain="db", setHostnameAsFQDN=True)
    assert kernel_hostname(p, "cluster.local") == "db-0.db.apps.svc.cluster.local"
    p["spec"]["subdomain"] = "a-rather-long-headless-service-name-for-this"
    with pytest.raises(
        ContainerConfigError,
        match=r"FQDN .* is too long \(64 characters is the max, 72 characters requested\)",
    ):
        kernel_hostname(p, "cluster.local")
    del p["spec"]["subdomain"]
    assert kernel_hostname(p, "cluster.local") == "db-0"  # no subdomain: no FQDN


def test_a_claim_mounted_read_only_is_read_only(tmp_path: Path) -> None:
    from kubelet.volumes import read_only_volumes

    p = pod({})
    p["spec"]["volumes"] += [
        {"name": "ro", "persistentVolumeClaim": {"claimName": "a", "readOnly": True}},
        {"name": "rw", "persistentVolumeClaim": {"claimName": "b"}},
        {"name": "cm", "configMap": {"name": "c"}},
    ]
    assert read_only_volumes(p) == {"ro", "cm"}


@pytest.mark.parametrize(
    ("container", "pod_spec", "refusal"),
    [
        ({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}, {}, "Cannot enforce AppArmor"),
        (
            {},
            {"securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}},
            "AppArmor",
        ),
        ({"securityContext": {"procMount": "Unmasked"}}, {}, "procMount 'Unmasked' is not supported"),
        (
            {"volumeDevices": [{"name": "blk", "devicePath": "/dev/xvda"}]},
            {},
            "volumeDevices are not supported",
        ),
        (
            {"ports": [{"containerPort": 9, "hostPort": 9, "protocol": "SCTP"}]},
            {},
            "hostPort 9/SCTP cannot be published",
        ),
    ],
)
def test_what_this_node_cannot_do_is_refused_not_ignored(
    tmp_path: Path, container: dict[str, Any], pod_spec: dict[str, Any], refusal: str
) -> None:
    p = pod(container)
    p["spec"].update(pod_spec)
    with pytest.raises(ContainerConfigError, match=refusal):
        config(p, tmp_path)
    unconfined = pod({"securityContext": {"appArmorProfile": {"type": "Unconfined"}, "procMount": "Default"}})
    config({**unconfined, "spec": {**unconfined["spec"], "hostUsers": True}}, tmp_path)  # what it can do
