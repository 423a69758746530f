"""The API server's `/metrics` through a real server: Prometheus text that prometheus_client's parser
reads, requests counted by kube's labels, watches gauged while open, and the path guarded by
authentication and RBAC's nonResourceURLs (a token without `get /metrics` gets kube's 403)."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.apiserver.conftest import Server, free_port
from tests.objects import rc_body
from tests.polling import wait_for


def _samples(http: httpx.Client) -> dict[str, list[tuple[dict[str, str], float]]]:
    r = http.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def _count(samples: dict[str, list[tuple[dict[str, str], float]]], metric: str, **labels: str) -> float:
    return sum(v for lab, v in samples.get(metric, []) if all(lab.get(k) == x for k, x in labels.items()))


def test_metrics_counts_requests(http: httpx.Client, ns: str) -> None:
    before = _samples(http)
    for i in range(3):
        r = http.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": f"m{i}"}})
        assert r.status_code == 201, r.text
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps/nope").status_code == 404
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps").status_code == 200
    after = _samples(http)

    def delta(**labels: str) -> float:
        return _count(after, "apiserver_request_total", **labels) - _count(
            before, "apiserver_request_total", **labels
        )

    assert (
        delta(verb="POST", resource="configmaps", code="201", scope="resource") == 0
    )  # a create is a collection POST
    assert delta(verb="POST", resource="configmaps", code="201", scope="namespace") == 3
    assert delta(verb="GET", resource="configmaps", code="404") == 1
    assert delta(verb="LIST", resource="configmaps", code="200") == 1
    n = _count(after, "apiserver_request_duration_seconds_count", verb="POST", resource="configmaps")
    n0 = _count(before, "apiserver_request_duration_seconds_count", verb="POST", resource="configmaps")
    assert n - n0 == 3
    assert (
        _count(
            after, "apiserver_request_duration_seconds_bucket", verb="POST", resource="configmaps", le="+Inf"
        )
        == n
    )
    created = _count(after, "etcd_request_duration_seconds_count", operation="create", type="configmaps")
    assert (
        created - _count(before, "etcd_request_duration_seconds_count", operation="create", type="configmaps")
        == 3
    )
    # the store's group commit: at least the 3 creates asked for, in no more transactions than writes
    writes = _count(after, "kubelite_store_write_requests_total") - _count(
        before, "kubelite_store_write_requests_total"
    )
    transactions = _count(after, "kubelite_store_write_transactions_total") - _count(
        before, "kubelite_store_write_transactions_total"
    )
    assert writes >= 3 and 1 <= transactions <= writes


def test_open_watch_is_gauged(server: Server, http: httpx.Client, ns: str) -> None:
    with (
        server.client() as watcher,
        watcher.stream(
            "GET", f"/api/v1/namespaces/{ns}/configmaps", params={"watch": "true", "timeoutSeconds": "30"}
        ) as stream,
    ):
        assert stream.status_code == 200
        gauge = _count(_samples(http), "apiserver_registered_watchers", kind="ConfigMap", version="v1")
        assert gauge >= 1
    wait_for(
        lambda: _count(_samples(http), "apiserver_registered_watchers", kind="ConfigMap") == gauge - 1,
        timeout=10,
        what="the closed watch leaves the gauge",
    )


def test_metrics_needs_authentication_and_rbac(server: Server, http: httpx.Client, ns: str) -> None:
    with httpx.Client(base_url=server.url, verify=False) as anonymous:
        assert anonymous.get("/metrics").status_code in (401, 403)
    assert (
        http.post(
            f"/api/v1/namespaces/{ns}/serviceaccounts", json={"metadata": {"name": "scraper"}}
        ).status_code
        == 201
    )
    r = http.post(f"/api/v1/namespaces/{ns}/serviceaccounts/scraper/token", json={"spec": {}})
    token = r.json()["status"]["token"]
    with server.client(token=token) as sa:
        r = sa.get("/metrics")
        assert r.status_code == 403, r.text
        assert 'cannot get path "/metrics"' in r.json()["message"]
    name = f"metrics-reader-{ns}"
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    assert (
        http.post(
            f"{rbac}/clusterroles",
            json={"metadata": {"name": name}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]},
        ).status_code
        == 201
    )
    assert (
        http.post(
            f"{rbac}/clusterrolebindings",
            json={
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                "subjects": [{"kind": "ServiceAccount", "name": "scraper", "namespace": ns}],
            },
        ).status_code
        == 201
    )
    with server.client(token=token) as sa:
        wait_for(
            lambda: sa.get("/metrics").status_code == 200, timeout=10, what="the binding grants /metrics"
        )


def test_in_process_control_loops_metrics(loops_http: httpx.Client) -> None:
    """`kubelite server` with its controllers and scheduler: workqueue_* by queue name and the
    scheduler's attempts (a pod with no node to go to is an `unschedulable` attempt)."""
    rc = rc_body("web", 1)
    assert loops_http.post("/api/v1/namespaces/default/replicationcontrollers", json=rc).status_code == 201

    def seen() -> bool:
        s = _samples(loops_http)
        return (
            _count(s, "workqueue_adds_total", name="replication") >= 1
            and _count(s, "scheduler_schedule_attempts_total", result="unschedulable") >= 1
            and _count(s, "scheduler_e2e_scheduling_duration_seconds_count", result="unschedulable") >= 1
        )

    wait_for(seen, timeout=20, what="controller and scheduler metrics")
    s = _samples(loops_http)
    assert any(lab.get("name") == "replication" for lab, _ in s["workqueue_depth"])
    assert _count(s, "workqueue_work_duration_seconds_count", name="replication") >= 1


def test_storage_type_label() -> None:
    from apiserver.metrics_storage import resource_type

    assert resource_type("/registry/pods/default/x") == "pods"
    assert resource_type("/registry/apps/deployments/default/x") == "deployments.apps"
    assert resource_type("/registry/rbac.authorization.k8s.io/roles/") == "roles.rbac.authorization.k8s.io"
    assert resource_type("/other") == ""


def test_standalone_controller_manager_serves_metrics(server: Server, tmp_path: Path) -> None:
    """`kubelite controller-manager --metrics-bind-address`: its work queues on its own /metrics."""
    import signal
    import subprocess

    from tests.apiserver.conftest import KUBELITE

    port = free_port()
    log = open(tmp_path / "cm.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            str(KUBELITE),
            "controller-manager",
            "--kubeconfig",
            str(server.kubeconfig),
            "--leader-elect=false",
            "--metrics-bind-address",
            f"127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def scraped() -> str | None:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                return None
            return text if 'workqueue_depth{name="replication"}' in text else None

        text = wait_for(scraped, 30, "the controller manager's /metrics")
        names = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
        assert {"workqueue_adds_total", "workqueue_work_duration_seconds_bucket"} <= names
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        log.close()
