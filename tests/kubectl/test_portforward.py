"""kubectl port-forward's decisions: port specs, which pod, which container port, where to listen."""

from __future__ import annotations

import pytest

from kubectl.cmd_portforward import listen_hosts, parse_port_specs, pick_pod, pod_port, service_target_port
from kubectl.env import CommandError

POD = {
    "metadata": {"name": "web-1"},
    "spec": {"containers": [{"name": "web", "ports": [{"name": "http", "containerPort": 8080}]}]},
}


def test_port_specs() -> None:
    assert parse_port_specs(["8080", "18080:80", ":80", "0:http"]) == [
        ("8080", "8080"),
        ("18080", "80"),
        ("0", "80"),
        ("0", "http"),
    ]
    with pytest.raises(CommandError, match="Error parsing local port 'x'"):
        parse_port_specs(["x:80"])
    with pytest.raises(CommandError, match="remote port"):
        parse_port_specs(["80:"])


def test_pod_and_service_ports() -> None:
    assert pod_port(POD, "80") == 80 and pod_port(POD, "http") == 8080
    with pytest.raises(CommandError, match="does not have a named port 'https'"):
        pod_port(POD, "https")
    svc = {
        "metadata": {"name": "web"},
        "spec": {
            "ports": [
                {"name": "web", "port": 80, "targetPort": "http"},
                {"port": 81, "targetPort": 9090},
                {"port": 82},
            ]
        },
    }
    assert service_target_port(svc, POD, "80") == 8080  # named target port, looked up in the pod
    assert service_target_port(svc, POD, "web") == 8080  # the service port by its name
    assert service_target_port(svc, POD, "81") == 9090
    assert service_target_port(svc, POD, "82") == 82  # no targetPort: the port itself
    with pytest.raises(CommandError, match="Service web does not have a service port 83"):
        service_target_port(svc, POD, "83")


def test_pick_pod_prefers_running_ready_then_oldest() -> None:
    def pod(name: str, phase: str, ready: bool, created: str, deleting: bool = False) -> dict[str, object]:
        meta: dict[str, object] = {"name": name, "creationTimestamp": created}
        if deleting:
            meta["deletionTimestamp"] = created
        return {
            "metadata": meta,
            "status": {
                "phase": phase,
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }

    pods = [
        pod("pending", "Pending", False, "2026-01-01T00:00:00Z"),
        pod("old-unready", "Running", False, "2026-01-01T00:00:01Z"),
        pod("gone", "Running", True, "2026-01-01T00:00:00Z", deleting=True),
        pod("new-ready", "Running", True, "2026-01-02T00:00:00Z"),
        pod("old-ready", "Running", True, "2026-01-01T00:00:02Z"),
    ]
    chosen = pick_pod(pods)
    assert chosen is not None and chosen["metadata"]["name"] == "old-ready"
    assert pick_pod([]) is None


def test_listen_hosts() -> None:
    assert listen_hosts([]) == ["127.0.0.1", "::1"]
    assert listen_hosts(["localhost,10.0.0.1"]) == ["127.0.0.1", "::1", "10.0.0.1"]
    assert listen_hosts(["0.0.0.0"]) == ["0.0.0.0"]
