"""Every real kubectl the README claims (1.27 to 1.33) does the core verbs against kubelite: apply
(create, then patch), get as a Table and as JSON, describe, scale, label, wait for a deletion,
and an error read back as kube's Status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.apiserver.conftest import Server
from tests.kubectls import VERSIONS, kubectl

MANIFEST = """apiVersion: v1
kind: ReplicationController
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 1
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "busybox:1.35", command: ["sleep", "3600"]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: "%s"}
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_core_verbs(server: Server, ns: str, version: str, tmp_path: Path) -> None:
    def k(*args: str, input: str | None = None) -> tuple[int, str, str]:
        r = server.kubectl("-n", ns, *args, binary=kubectl(version), input=input)
        return r.returncode, r.stdout, r.stderr

    code, out, err = k("apply", "-f", "-", input=MANIFEST % "fast")
    assert code == 0, err
    assert out.split("\n")[:2] == ["replicationcontroller/web created", "configmap/settings created"]
    code, out, err = k("apply", "-f", "-", input=MANIFEST % "slow")  # client-side apply: a patch now
    assert code == 0 and "configmap/settings configured" in out, err
    code, out, _ = k("get", "rc", "web")
    assert out.split()[:5] == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"] and out.split()[5] == "web"
    code, out, _ = k("get", "configmap", "settings", "-o", "json")
    assert json.loads(out)["data"] == {"mode": "slow"}
    code, out, _ = k("describe", "configmap", "settings")
    assert code == 0 and "Name:" in out and "slow" in out
    assert k("scale", "rc", "web", "--replicas=2")[0] == 0
    code, out, _ = k("get", "rc", "web", "-o", "jsonpath={.spec.replicas}")
    assert out == "2"
    assert k("label", "configmap", "settings", "tier=backend")[0] == 0
    code, out, err = k("get", "configmap", "nope")
    assert code == 1 and err.strip() == 'Error from server (NotFound): configmaps "nope" not found'
    code, out, err = k("delete", "-f", "-", "--wait=true", input=MANIFEST % "slow")
    assert code == 0, err
    assert 'replicationcontroller "web" deleted' in out and 'configmap "settings" deleted' in out
