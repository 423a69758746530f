"""ConfigMaps and Secrets in pods on real nodes: env and files from them, files following an
update within the kubelet's sync period, and a missing key keeping the container in
CreateContainerConfigError until the ConfigMap exists (the real kubectl drives it)."""

from __future__ import annotations

import json

from tests.e2e.conftest import Cluster
from tests.polling import wait_for

POD = """
apiVersion: v1
kind: Pod
metadata: {name: cfg-reader}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox:1.35
    command: ["sleep", "3600"]
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: app-config, key: mode}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: app-secret, key: password}}
    envFrom:
    - configMapRef: {name: app-config}
      prefix: CFG_
    volumeMounts:
    - {name: config, mountPath: /etc/app}
    - {name: secret, mountPath: /etc/secret}
  volumes:
  - name: config
    configMap: {name: app-config}
  - name: secret
    secret: {secretName: app-secret, defaultMode: 0400}
"""

NEEDS_MISSING = """
apiVersion: v1
kind: Pod
metadata: {name: cfg-waiting}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox:1.35
    command: ["sleep", "3600"]
    env:
    - name: LATER
      valueFrom: {configMapKeyRef: {name: later-config, key: value}}
"""


def _pod(c: Cluster, name: str) -> dict:
    r = c.kubectl("get", "pod", name, "-o", "json", check=False, real=True)
    return json.loads(r.stdout) if r.returncode == 0 else {}


def _running(c: Cluster, name: str) -> bool:
    return _pod(c, name).get("status", {}).get("phase") == "Running"


def test_pod_reads_config_map_and_secret_and_sees_updates(cluster: Cluster) -> None:
    c = cluster
    c.kubectl(
        "create", "configmap", "app-config", "--from-literal=mode=fast", "--from-literal=level=3", real=True
    )
    c.kubectl("create", "secret", "generic", "app-secret", "--from-literal=password=s3cret", real=True)
    c.kubectl("apply", "-f", "-", input=POD, real=True)
    wait_for(lambda: _running(c, "cfg-reader"), 60, what="cfg-reader Running")
    env = c.kubectl("exec", "cfg-reader", "--", "env", real=True).stdout
    for line in ("MODE=fast", "PASSWORD=s3cret", "CFG_mode=fast", "CFG_level=3"):
        assert line in env.splitlines(), env
    assert c.kubectl("exec", "cfg-reader", "--", "cat", "/etc/app/mode", real=True).stdout == "fast"
    assert c.kubectl("exec", "cfg-reader", "--", "cat", "/etc/secret/password", real=True).stdout == "s3cret"
    listing = c.kubectl("exec", "cfg-reader", "--", "ls", "-la", "/etc/app/", real=True).stdout
    assert "..data ->" in listing and "mode -> ..data/mode" in listing
    assert (
        c.kubectl(
            "exec", "cfg-reader", "--", "sh", "-c", "echo x > /etc/app/mode", check=False, real=True
        ).returncode
        != 0
    )  # read-only, as kubelet mounts it
    c.kubectl("patch", "configmap", "app-config", "--type=merge", "-p", '{"data":{"mode":"slow"}}', real=True)
    wait_for(
        lambda: c.kubectl("exec", "cfg-reader", "--", "cat", "/etc/app/mode", real=True).stdout == "slow",
        30,
        what="the mounted file follows the update",
    )
    # env is fixed at container start, as in Kubernetes
    assert "MODE=fast" in c.kubectl("exec", "cfg-reader", "--", "env", real=True).stdout.splitlines()
    c.kubectl("delete", "pod", "cfg-reader", "--grace-period=1", real=True)
    c.kubectl("delete", "configmap", "app-config", real=True)
    c.kubectl("delete", "secret", "app-secret", real=True)


def test_missing_config_map_is_create_container_config_error(cluster: Cluster) -> None:
    c = cluster
    c.kubectl("apply", "-f", "-", input=NEEDS_MISSING, real=True)

    def waiting() -> dict:
        for cs in _pod(c, "cfg-waiting").get("status", {}).get("containerStatuses") or []:
            return (cs.get("state") or {}).get("waiting") or {}
        return {}

    state = wait_for(
        lambda: waiting().get("reason") == "CreateContainerConfigError" and waiting(),
        60,
        what="CreateContainerConfigError",
    )
    assert state["message"] == 'configmap "later-config" not found'
    table = c.kubectl("get", "pod", "cfg-waiting", real=True).stdout
    assert "CreateContainerConfigError" in table
    c.kubectl("create", "configmap", "later-config", "--from-literal=value=now", real=True)
    wait_for(lambda: _running(c, "cfg-waiting"), 60, what="Running once the ConfigMap exists")
    assert "LATER=now" in c.kubectl("exec", "cfg-waiting", "--", "env", real=True).stdout.splitlines()
    c.kubectl("delete", "pod", "cfg-waiting", "--grace-period=1", real=True)
    c.kubectl("delete", "configmap", "later-config", real=True)
