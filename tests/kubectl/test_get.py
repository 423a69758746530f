"""`kubectl get` against a real `kubelite server`, output compared with the real kubectl 1.33."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.kubectl.helpers import RC_AND_SERVICE, same, write

FORMS = [
    ("get", "pods"),
    ("get", "po", "-o", "wide"),
    ("get", "pods", "--show-labels"),
    ("get", "pods", "solo"),
    ("get", "pod/solo", "rc/web"),
    ("get", "rc"),
    ("get", "rc", "-o", "wide"),
    ("get", "svc", "-o", "wide"),
    ("get", "all"),
    ("get", "pods,svc"),
    ("get", "pods", "-l", "tier=cache"),
    ("get", "pods", "-l", "tier!=cache"),
    ("get", "pods", "--field-selector", "metadata.name=solo"),
    ("get", "pods", "--no-headers"),
    ("get", "pods", "-o", "name"),
    ("get", "all", "-o", "name"),
    ("get", "pods", "solo", "-o", "yaml"),
    ("get", "pods", "-o", "json"),
    ("get", "rc", "web", "-o", "json"),
    ("get", "pods", "-o", "jsonpath={.items[*].metadata.name}"),
    (
        "get",
        "pods",
        "-o",
        'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.containers[0].image}{"\\n"}{end}',
    ),
    (
        "get",
        "pods",
        "-o",
        "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[*].image,NODE:.spec.nodeName",
    ),
    ("get", "svc", "--sort-by=.metadata.name"),
    ("get", "ns", "default"),
    ("get", "pods", "nope"),
    ("get", "pods", "solo", "nope"),
    ("get", "nonsense"),
    ("get", "svc", "-L", "app"),
]


@pytest.fixture
def objects(ns, tmp_path, kubectl):
    r = kubectl("apply", "-f", str(write(tmp_path, "app.yaml", RC_AND_SERVICE)))
    assert r.code == 0, r.err
    return ns


@pytest.mark.parametrize("args", FORMS, ids=[" ".join(f) for f in FORMS])
def test_get_matches_real_kubectl(objects, kubectl, real, args):
    same(kubectl, real, *args)


def test_empty_namespace_message_on_stderr(ns, kubectl, real):
    r = same(kubectl, real, "get", "pods")
    assert r.out == "" and r.err == f"No resources found in {ns} namespace.\n" and r.code == 0
    same(kubectl, real, "get", "all")


def test_all_namespaces_and_cluster_scoped(objects, kubectl, real):
    r = kubectl("get", "pods", "-A")
    lines = r.out.splitlines()
    assert lines[0].split()[:3] == ["NAMESPACE", "NAME", "READY"]
    assert any(line.split()[:2] == [objects, "solo"] for line in lines[1:])
    same(kubectl, real, "get", "pods", "-A", "--field-selector", f"metadata.namespace={objects}")
    same(kubectl, real, "get", "ns", objects, "-o", "wide")


def test_nodes(server, kubectl, real, tmp_path):
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "kt-node", "labels": {"node-role.kubernetes.io/worker": ""}},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "ok",
                    "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                }
            ],
            "addresses": [{"type": "InternalIP", "address": "10.1.2.3"}],
            "nodeInfo": {
                "kubeletVersion": "v1.33.0",
                "osImage": "Debian",
                "kernelVersion": "6.1",
                "containerRuntimeVersion": "runc://1.1",
                "machineID": "m",
                "systemUUID": "s",
                "bootID": "b",
                "kubeProxyVersion": "v1.33.0",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }
    import json

    path = write(tmp_path, "node.json", json.dumps(node))
    kc = str(server.kubeconfig)
    assert kubectl("--kubeconfig", kc, "create", "-f", str(path)).code == 0
    try:
        same(kubectl, real, "--kubeconfig", kc, "get", "nodes", "kt-node")
        same(kubectl, real, "--kubeconfig", kc, "get", "no", "kt-node", "-o", "wide")
        same(kubectl, real, "--kubeconfig", kc, "describe", "node", "kt-node")
    finally:
        kubectl("--kubeconfig", kc, "delete", "node", "kt-node")


def test_watch_prints_rows_as_changes_happen(objects, kubectl, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubectl.main", "get", "pods", "-w", "--request-timeout=20s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        header = proc.stdout.readline()
        assert header.split()[:2] == ["NAME", "READY"]
        assert proc.stdout.readline().startswith("solo ")
        deadline = time.monotonic() + 20
        assert kubectl("label", "pod", "solo", "seen=yes").code == 0
        line = proc.stdout.readline()
        assert line.startswith("solo ") and time.monotonic() < deadline
        assert kubectl("run", "late", "--image=busybox").code == 0
        assert proc.stdout.readline().startswith("late ")
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def test_watch_only_with_name_output(objects, server):
    """--watch-only starts from "now": keep changing the pod until the watcher reports it."""
    import threading

    from api.client import Client
    from api.config import from_kubeconfig

    proc = subprocess.Popen(
        [sys.executable, "-m", "kubectl.main", "get", "pods", "--watch-only", "-o", "name"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    stop = threading.Event()

    def touch() -> None:
        with Client(from_kubeconfig([server.kubeconfig])) as c:
            n = 0
            while not stop.wait(0.2):
                n += 1
                c.patch("pods", "solo", {"metadata": {"labels": {"n": str(n)}}}, namespace=objects)

    t = threading.Thread(target=touch, daemon=True)
    t.start()
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "pod/solo\n"
    finally:
        stop.set()
        t.join(5)
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
