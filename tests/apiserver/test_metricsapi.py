"""metrics.k8s.io/v1beta1 through a real server with hollow nodes: discovery lists the read-only
NodeMetrics and PodMetrics, answers are metrics-server's shape, and the real kubectl 1.33's
`top nodes` and `top pods` print them; plus the pure formatting of kubelet summaries."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiserver.metricsapi import go_duration, node_metrics, pod_metrics, synthetic_summary
from tests.apiserver.conftest import KUBECTL, KUBELITE, Server, hollow_cluster
from tests.objects import rc_body
from tests.polling import wait_for

M = "/apis/metrics.k8s.io/v1beta1"


def test_summary_to_metrics_objects() -> None:
    node = {"metadata": {"name": "n1", "labels": {"a": "b"}}}
    summary = {
        "node": {
            "cpu": {"time": "2026-01-01T00:00:00Z", "usageNanoCores": 123456789},
            "memory": {"workingSetBytes": 10 * 1024 * 1024 + 5},
        },
        "window": 15.012,
    }
    nm = node_metrics(node, summary)
    assert nm is not None
    assert nm["usage"] == {"cpu": "123456789n", "memory": "10240Ki"}
    assert nm["window"] == "15.012s" and nm["timestamp"] == "2026-01-01T00:00:00Z"
    assert nm["metadata"]["labels"] == {"a": "b"} and nm["kind"] == "NodeMetrics"
    assert node_metrics(node, {"node": {"cpu": {"usageCoreNanoSeconds": 5}, "memory": {}}}) is None
    pod = {"metadata": {"name": "p", "namespace": "d", "labels": {"app": "x"}}}
    stats = {
        "containers": [
            {"name": "c", "cpu": {"time": "t", "usageNanoCores": 5}, "memory": {"workingSetBytes": 2048}}
        ]
    }
    pm = pod_metrics(pod, stats, 15)
    assert pm is not None and pm["containers"] == [{"name": "c", "usage": {"cpu": "5n", "memory": "2Ki"}}]
    assert pm["window"] == "15s"
    # a container with one sample has no rate yet: the pod is left out, as metrics-server does
    assert pod_metrics(pod, {"containers": [{"name": "c", "cpu": {"usageCoreNanoSeconds": 1}}]}, 15) is None
    assert go_duration(15.0) == "15s" and go_duration(0.5) == "500ms"  # Go's time.Duration text
    assert go_duration(60.0) == "1m0s"


def test_synthetic_usage_is_steady_and_plausible() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "d", "uid": "u1"},
        "status": {"phase": "Running"},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
    }
    one, two = synthetic_summary("h", [pod], 1.0), synthetic_summary("h", [pod], 2.0)
    cs = one["pods"][0]["containers"]
    assert [c["cpu"]["usageNanoCores"] for c in cs] == [
        c["cpu"]["usageNanoCores"] for c in two["pods"][0]["containers"]
    ]
    assert all(1_000_000 <= c["cpu"]["usageNanoCores"] <= 10_000_000 for c in cs)
    assert one["node"]["cpu"]["usageNanoCores"] > sum(c["cpu"]["usageNanoCores"] for c in cs)
    pending = {**pod, "status": {"phase": "Pending"}}
    assert synthetic_summary("h", [pending], 1.0)["pods"] == []


@pytest.fixture
def hollow_server(tmp_path: Path) -> Iterator[Server]:
    with hollow_cluster(tmp_path, nodes=2) as (srv, _):
        yield srv


def test_metrics_api_and_kubectl_top_on_hollow_nodes(hollow_server: Server, tmp_path: Path) -> None:
    srv = hollow_server
    with srv.client() as http:
        disco = http.get("/apis/metrics.k8s.io/v1beta1").json()
        kinds = {r["name"]: r for r in disco["resources"]}
        assert kinds["nodes"]["kind"] == "NodeMetrics" and sorted(kinds["nodes"]["verbs"]) == ["get", "list"]
        assert kinds["pods"]["kind"] == "PodMetrics" and kinds["pods"]["namespaced"] is True
        rc = rc_body("h", 3)
        assert http.post("/api/v1/namespaces/default/replicationcontrollers", json=rc).status_code == 201

        def pod_items() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = http.get(f"{M}/namespaces/default/pods").json()["items"]
            return items if len(items) == 3 else None

        items = wait_for(pod_items, 40, "metrics of 3 running pods")
        assert all(i["containers"][0]["usage"]["cpu"].endswith("n") for i in items)
        assert all(i["containers"][0]["usage"]["memory"].endswith("Ki") for i in items)
        assert all(i["metadata"]["labels"] == {"app": "h"} for i in items)
        one = items[0]["metadata"]["name"]
        assert http.get(f"{M}/namespaces/default/pods/{one}").json()["metadata"]["name"] == one
        assert http.get(f"{M}/namespaces/default/pods/nope").status_code == 404
        assert http.get(f"{M}/pods", params={"labelSelector": "app=other"}).json()["items"] == []
        nodes = http.get(f"{M}/nodes").json()
        assert nodes["kind"] == "NodeMetricsList" and len(nodes["items"]) == 2
        assert http.get(f"{M}/nodes/hollow-0").json()["kind"] == "NodeMetrics"
        assert http.post(f"{M}/nodes", json={}).status_code == 405
    env_args = ["--kubeconfig", str(srv.kubeconfig), "--cache-dir", str(tmp_path / "kcache")]
    top_nodes = subprocess.run(
        [KUBECTL, *env_args, "top", "nodes"], capture_output=True, text=True, timeout=30
    )
    assert top_nodes.returncode == 0, top_nodes.stderr
    header = top_nodes.stdout.splitlines()[0].split()
    assert header[:2] == ["NAME", "CPU(cores)"], top_nodes.stdout
    assert {line.split()[0] for line in top_nodes.stdout.splitlines()[1:]} == {"hollow-0", "hollow-1"}
    top_pods = subprocess.run(
        [KUBECTL, *env_args, "top", "pods", "-l", "app=h"], capture_output=True, text=True, timeout=30
    )
    assert top_pods.returncode == 0, top_pods.stderr
    rows = [line.split() for line in top_pods.stdout.splitlines()[1:]]
    assert len(rows) == 3 and all(r[1].endswith("m") and r[2].endswith("Mi") for r in rows), top_pods.stdout
    # ours prints what the real one prints (hollow usage is steady per pod)
    ours = [str(KUBELITE.parent / "kubectl"), *env_args]
    mine = subprocess.run([*ours, "top", "pods", "-l", "app=h"], capture_output=True, text=True, timeout=30)
    assert mine.returncode == 0 and mine.stdout == top_pods.stdout, (
        mine.stderr,
        mine.stdout,
        top_pods.stdout,
    )
    mine_nodes = subprocess.run([*ours, "top", "nodes"], capture_output=True, text=True, timeout=30)
    assert (
        mine_nodes.returncode == 0 and mine_nodes.stdout.splitlines()[0] == top_nodes.stdout.splitlines()[0]
    )
    assert [r.split()[:3] for r in mine_nodes.stdout.splitlines()[1:]] == [
        r.split()[:3] for r in top_nodes.stdout.splitlines()[1:]
    ]
    per_container = subprocess.run(
        [*ours, "top", "pods", "-l", "app=h", "--containers", "--sort-by=cpu"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert per_container.stdout.splitlines()[0].split() == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    cpus = [int(r.split()[2][:-1]) for r in per_container.stdout.splitlines()[1:]]
    assert len(cpus) == 3 and cpus == sorted(cpus, reverse=True)


def test_metrics_api_needs_rbac(server: Server, http: httpx.Client, ns: str) -> None:
    assert (
        http.post(
            f"/api/v1/namespaces/{ns}/serviceaccounts", json={"metadata": {"name": "nobody"}}
        ).status_code
        == 201
    )
    token = http.post(f"/api/v1/namespaces/{ns}/serviceaccounts/nobody/token", json={"spec": {}}).json()[
        "status"
    ]["token"]
    with server.client(token=token) as sa:
        r = sa.get(f"{M}/namespaces/{ns}/pods")
        assert r.status_code == 403, r.text
        assert 'cannot list resource "pods" in API group "metrics.k8s.io"' in r.json()["message"]
