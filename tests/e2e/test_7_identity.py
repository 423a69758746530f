"""A pod's own identity on real nodes: the ServiceAccount token the kubelet mounts (with the
cluster CA and the namespace) authenticates to the API server, and RBAC decides what it may do:
a list of pods is refused until a RoleBinding grants `view`.

The request is made with the token read from the pod's mount, from the test (busybox's built-in
TLS client sends no signature_algorithms extension, so OpenSSL's server side refuses it; the
pod's reach to the API service is checked at the TCP level)."""

from __future__ import annotations

import json

from tests.e2e.conftest import Cluster
from tests.polling import wait_for

POD = """
apiVersion: v1
kind: Pod
metadata: {name: api-reader}
spec:
  serviceAccountName: reader
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox:1.35
    command: ["sleep", "3600"]
"""
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# connected: nc ends when the server closes after our EOF (0); refused or unroutable: 1, or 143 on timeout
REACH = "timeout 3 nc $KUBERNETES_SERVICE_HOST $KUBERNETES_SERVICE_PORT </dev/null; echo rc=$?"


def _phase(c: Cluster) -> str:
    r = c.kubectl("get", "pod", "api-reader", "-o", "json", check=False, real=True)
    return json.loads(r.stdout).get("status", {}).get("phase", "") if r.returncode == 0 else ""


def test_mounted_token_is_allowed_only_what_bindings_grant(cluster: Cluster) -> None:
    c = cluster
    c.kubectl("create", "serviceaccount", "reader", real=True)
    c.kubectl("apply", "-f", "-", input=POD, real=True)
    try:
        wait_for(lambda: _phase(c) == "Running", 90, what="api-reader Running")
    except AssertionError:
        raise AssertionError(
            c.kubectl("describe", "pod", "api-reader", real=True, check=False).stdout
        ) from None
    assert c.kubectl("exec", "api-reader", "--", "cat", f"{SA_DIR}/namespace", real=True).stdout == "default"
    ca = c.kubectl("exec", "api-reader", "--", "cat", f"{SA_DIR}/ca.crt", real=True).stdout
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    token = c.kubectl("exec", "api-reader", "--", "cat", f"{SA_DIR}/token", real=True).stdout
    assert token.count(".") == 2
    assert "rc=0" in c.kubectl("exec", "api-reader", "--", "sh", "-c", REACH, real=True).stdout
    denied = c.kubectl("--token", token, "get", "pods", check=False, real=True)
    assert denied.returncode == 1
    assert denied.stderr.strip() == (
        "Error from server (Forbidden): pods is forbidden: User "
        '"system:serviceaccount:default:reader" cannot list resource "pods" in API group '
        '"" in the namespace "default"'
    )
    c.kubectl(
        "create",
        "rolebinding",
        "reader-view",
        "--clusterrole=view",
        "--serviceaccount=default:reader",
        real=True,
    )
    listed = wait_for(
        lambda: (
            (r := c.kubectl("--token", token, "get", "pods", check=False, real=True)).returncode == 0
            and r.stdout
        ),
        30,
        what="the token lists pods once bound to view",
    )
    assert "api-reader" in listed
    assert (
        c.kubectl("--token", token, "get", "pods", "-n", "kube-system", check=False, real=True).returncode
        == 1
    )
    c.kubectl("delete", "pod", "api-reader", "--grace-period=1", real=True)
    c.kubectl("delete", "rolebinding", "reader-view", real=True)
    c.kubectl("delete", "serviceaccount", "reader", real=True)
