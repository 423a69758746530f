"""Persistent storage on a real 2-node cluster, driven by the real kubectl: a claim of the default
`local-path` class is provisioned on the node the scheduler picks for its first pod (a directory
under that node's data dir, made by its kubelet), the data a pod wrote there is read by a new pod
placed on the same node after the first is deleted, and deleting the claim removes the volume and
its directory (the provisioner's helper pod on that node). A StatefulSet's volumeClaimTemplates
give each pod its own claim, `<template>-<set>-<ordinal>`, kept when the set is deleted."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Cluster
from tests.polling import wait_for

NS = "storage-e2e"
Obj = dict[str, Any]

CLAIM = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "notes", "namespace": NS},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}},
}


def bound_claim(c: Cluster, name: str) -> dict[str, Any] | None:
    p = get(c, "pvc", name)
    return p if p and p["status"]["phase"] == "Bound" else None


def pod(name: str, command: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "app",
                    "image": "busybox:1.35",
                    "command": ["sh", "-c", command],
                    "volumeMounts": [{"name": "notes", "mountPath": "/notes"}],
                }
            ],
            "volumes": [{"name": "notes", "persistentVolumeClaim": {"claimName": "notes"}}],
        },
    }


def apply(c: Cluster, obj: Obj) -> None:
    c.kubectl("apply", "-f", "-", real=True, input=json.dumps(obj))


def get(c: Cluster, kind: str, name: str, ns: str | None = NS) -> Obj:
    args = ["get", kind, name, "-o", "json"] + (["-n", ns] if ns else [])
    r = c.kubectl(*args, real=True, check=False)
    return json.loads(r.stdout) if r.returncode == 0 else {}


def running(c: Cluster, name: str) -> Obj:
    p = get(c, "pod", name)
    return p if (p.get("status") or {}).get("phase") == "Running" else {}


def test_claim_data_survives_its_pod_on_the_same_node(cluster: Cluster) -> None:
    c = cluster
    c.kubectl("create", "namespace", NS, real=True, check=False)
    apply(c, CLAIM)
    assert get(c, "pvc", "notes")["spec"]["storageClassName"] == "local-path"
    apply(c, pod("writer", "echo kept-across-pods > /notes/f && sleep 3600"))
    first = wait_for(lambda: running(c, "writer"), 90, "writer Running")
    node = first["spec"]["nodeName"]
    claim = wait_for(
        lambda: (p := get(c, "pvc", "notes")) and p["status"]["phase"] == "Bound" and p, 30, "claim Bound"
    )
    assert claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == node
    pv = get(c, "pv", claim["spec"]["volumeName"], None)
    host_dir = Path(pv["spec"]["hostPath"]["path"])
    assert host_dir.name == f"{claim['spec']['volumeName']}_{NS}_notes"
    assert str(host_dir).startswith(str(c.data_dir))  # under that node's data dir
    wait_for(lambda: (host_dir / "f").exists(), 30, "file written through the mount")
    out = c.kubectl("get", "pvc", "-n", NS, real=True).stdout
    assert "notes" in out and "Bound" in out and "local-path" in out

    c.kubectl("delete", "pod", "writer", "-n", NS, "--wait=true", real=True, timeout=90)
    apply(c, pod("reader", "sleep 3600"))
    second = wait_for(lambda: running(c, "reader"), 90, "reader Running")
    assert second["spec"]["nodeName"] == node  # the volume's node affinity placed it
    r = c.kubectl("exec", "-n", NS, "reader", "--", "cat", "/notes/f", real=True)
    assert r.stdout.strip() == "kept-across-pods"

    # the claim goes: Delete reclaim removes the volume and its directory on the node
    c.kubectl("delete", "pod", "reader", "-n", NS, "--wait=true", real=True, timeout=90)
    c.kubectl("delete", "pvc", "notes", "-n", NS, real=True, timeout=90)
    wait_for(lambda: not get(c, "pv", pv["metadata"]["name"], None), 90, "volume deleted")
    wait_for(lambda: not host_dir.exists(), 30, "directory removed")


def test_statefulset_gets_one_claim_per_pod(cluster: Cluster) -> None:
    c = cluster
    c.kubectl("create", "namespace", NS, real=True, check=False)
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": NS},
        "spec": {
            "replicas": 2,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [
                        {
                            "name": "db",
                            "image": "busybox:1.35",
                            "command": ["sh", "-c", "hostname > /var/lib/db/owner && sleep 3600"],
                            "volumeMounts": [{"name": "data", "mountPath": "/var/lib/db"}],
                        }
                    ],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "32Mi"}},
                    },
                }
            ],
        },
    }
    apply(c, sts)
    for i in (0, 1):
        wait_for(functools.partial(running, c, f"db-{i}"), 120, f"db-{i} Running")
    claims = {
        p["metadata"]["name"]: p
        for p in json.loads(
            c.kubectl("get", "pvc", "-n", NS, "-l", "app=db", "-o", "json", real=True).stdout
        )["items"]
    }
    assert set(claims) == {"data-db-0", "data-db-1"}
    for i in (0, 1):
        claim = wait_for(functools.partial(bound_claim, c, f"data-db-{i}"), 30, f"data-db-{i} Bound")
        pv = get(c, "pv", claim["spec"]["volumeName"], None)
        owner = Path(pv["spec"]["hostPath"]["path"]) / "owner"
        wait_for(owner.exists, 30, f"db-{i} wrote through its claim")
        assert owner.read_text().strip() == f"db-{i}"
    c.kubectl("delete", "statefulset", "db", "-n", NS, "--wait=true", real=True, timeout=90)
    assert get(c, "pvc", "data-db-0") and get(c, "pvc", "data-db-1")  # Retain: the claims stay
