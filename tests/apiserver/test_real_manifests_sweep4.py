"""Real install manifests of a fourth sweep, applied with the real kubectl 1.33 and stored as sent.

Trimmed from the projects' install files under `manifests/` (their parts that are not CRDs):
kube-prometheus (node-exporter's host-namespace DaemonSet, prometheus-adapter's Deployment, PDB
and aggregated metrics.k8s.io APIService), KEDA (its metrics server's Deployment and aggregated
external.metrics.k8s.io APIService, a validating webhook, roles aggregated to edit and view),
Longhorn (PriorityClass, a privileged DaemonSet with Bidirectional mount propagation, a
Service port with `nodePort: null`, a StorageClass's parameters), Strimzi's cluster operator (a
Lease with MicroTime times, its Deployment) and Kyverno's webhook naming only v1beta1
AdmissionReviews (kubelite refused it before it sent v1beta1 reviews). Each is applied
server-side twice and read back as in `test_real_manifests`, whose helpers these use; the
controllers then act on what was applied.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.apiserver.conftest import KUBECTL_127, Server, free_port
from tests.apiserver.test_real_manifests import MANIFESTS, apply_twice, assert_stored_as_sent
from tests.polling import wait_for

NAMES = [
    "sweep4-kube-prometheus.yaml",
    "sweep4-keda.yaml",
    "sweep4-longhorn.yaml",
    "sweep4-strimzi.yaml",
    "sweep4-kyverno.yaml",
]


@pytest.mark.parametrize("name", NAMES)
def test_applied_server_side_twice_and_stored_as_sent(srv: Server, name: str) -> None:
    apply_twice(srv, name)
    assert_stored_as_sent(srv, name)


def _pods(api: httpx.Client, namespace: str, selector: str) -> list[dict[str, object]]:
    return list(
        api.get(f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": selector}).json()["items"]
    )


def test_controllers_act_on_what_was_applied(tmp_path: Path) -> None:
    """With the control loops running, the Deployments' pods are made (Pending: no nodes here),
    at the PriorityClass's priority, and KEDA's roles aggregate into edit and view."""
    srv = Server(tmp_path / "data", free_port(), control_loops=True)
    srv.start()
    try:
        with srv.client() as api:
            for name in NAMES[:4]:
                apply_twice(srv, name)
            _acted_on(srv, api)
    finally:
        srv.stop()


def _acted_on(srv: Server, api: httpx.Client) -> None:
    wait_for(
        lambda: len(_pods(api, "monitoring", "app.kubernetes.io/name=prometheus-adapter")) == 2, timeout=20
    )
    wait_for(lambda: len(_pods(api, "longhorn-system", "app=longhorn-ui")) == 2, timeout=20)
    ui = _pods(api, "longhorn-system", "app=longhorn-ui")[0]["spec"]
    assert isinstance(ui, dict) and ui["priority"] == 1000000000
    wait_for(lambda: len(_pods(api, "default", "name=strimzi-cluster-operator")) == 1, timeout=20)

    def aggregated(role: str) -> bool:
        rules = api.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{role}").json().get("rules") or []
        return any("keda.sh" in (r.get("apiGroups") or []) for r in rules)

    wait_for(lambda: aggregated("edit") and aggregated("view"), timeout=20)
    got = json.loads(
        srv.kubectl("get", "apiservice", "v1beta1.external.metrics.k8s.io", "-o", "json", check=True).stdout
    )
    assert got["spec"]["service"] == {"name": "keda-metrics-apiserver", "namespace": "keda", "port": 443}


def test_kubectl_127_applies_them_client_side(srv: Server) -> None:
    for name in ("sweep4-longhorn.yaml", "sweep4-strimzi.yaml"):
        for _ in range(2):
            r = srv.kubectl("apply", "-f", str(MANIFESTS / name), binary=KUBECTL_127)
            assert r.returncode == 0, r.stderr
