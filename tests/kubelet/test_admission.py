"""The kubelet's admission: which pods are failed before anything is made, in kube's words."""

from __future__ import annotations

from typing import Any

import pytest

from kubelet import admission


def pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "uid": "u"}, "spec": {"containers": [{"name": "c"}], **spec}}


def sysctls(*names: str) -> dict[str, Any]:
    return {"sysctls": [{"name": n, "value": "1"} for n in names]}


def test_a_plain_pod_and_safe_sysctls_are_admitted() -> None:
    assert admission.refusal(pod()) is None
    assert admission.refusal(pod(os={"name": "linux"})) is None
    assert (
        admission.refusal(pod(securityContext=sysctls("net.ipv4.tcp_syncookies", "kernel/shm_rmid_forced")))
        is None
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"securityContext": sysctls("net.ipv4.tcp_syncookies", "kernel.msgmax")},
            'forbidden sysctl: "kernel.msgmax" not allowlisted',
        ),
        (
            {"securityContext": sysctls("net.ipv4.tcp_syncookies"), "hostNetwork": True},
            'forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host net enabled',
        ),
        (  # the slash form is the same sysctl, reported in the dotted form
            {"securityContext": sysctls("net/ipv4/tcp_syncookies"), "hostNetwork": True},
            'forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host net enabled',
        ),
        (  # an IPC sysctl is refused in the host's IPC namespace, a net one is not
            {
                "securityContext": sysctls("net.ipv4.tcp_syncookies", "kernel.shm_rmid_forced"),
                "hostIPC": True,
            },
            'forbidden sysctl: "kernel.shm_rmid_forced" not allowed with host ipc enabled',
        ),
    ],
)
def test_a_sysctl_the_node_does_not_allow_fails_the_pod(spec: dict[str, Any], message: str) -> None:
    assert admission.refusal(pod(**spec)) == ("SysctlForbidden", message)


def test_a_pod_for_another_os_is_refused() -> None:
    assert admission.refusal(pod(os={"name": "windows"})) == (
        "PodOSNotSupported",
        "Failed to admit pod as the OS field doesn't match node OS",
    )
