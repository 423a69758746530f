"""core/v1 ResourceQuota through real servers: only what kubelite counts is accepted, the quota
admission's 403s in kube's words (nothing stored), creates charged to status.used at once, the
controller's recount giving back what is deleted, scopes, and the real kubectl's `create quota`
(protobuf) and `get quota` columns."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apiserver.conftest import Server, free_port, pod, table_rows
from tests.polling import wait_for


def _quota(name: str, hard: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name},
        "spec": {"hard": hard, **spec},
    }


def _pod(name: str, cpu: str | None = None, deadline: int | None = None) -> dict[str, Any]:
    body = pod(name)
    if cpu is not None:
        body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}  # type: ignore[index]
    if deadline is not None:
        body["spec"]["activeDeadlineSeconds"] = deadline  # type: ignore[index]
    return body


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"hard": {"bananas": "3"}}, "spec.hard[bananas]", "kubelite does not count this resource"),
        ({"hard": {"pods": "-1"}}, "spec.hard[pods]", "must be greater than or equal to 0"),
        (
            {"hard": {"pods": "1"}, "scopes": ["Sometimes"]},
            "spec.scopes[0]",
            'Unsupported value: "Sometimes"',
        ),
        (
            {"hard": {"requests.cpu": "1"}, "scopes": ["BestEffort"]},
            "spec.hard[requests.cpu]",
            "unsupported scope",
        ),
        (
            {
                "hard": {"pods": "1"},
                "scopeSelector": {
                    "matchExpressions": [{"scopeName": "BestEffort", "operator": "In", "values": ["x"]}]
                },
            },
            "spec.scopeSelector.matchExpressions[0].operator",
            "must be 'Exist' when scope is any of",
        ),
        (
            {
                "hard": {"pods": "1"},
                "scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In"}]},
            },
            "spec.scopeSelector.matchExpressions[0].values",
            "must be at least one value",
        ),
        (
            {
                "hard": {"pods": "1"},
                "scopes": ["Terminating"],
                "scopeSelector": {
                    "matchExpressions": [{"scopeName": "NotTerminating", "operator": "Exists"}]
                },
            },
            "spec.scopes",
            "conflicting scopes",
        ),
    ],
)
def test_what_kubelite_does_not_count_is_refused(
    http: httpx.Client, ns: str, spec: dict[str, Any], field: str, words: str
) -> None:
    body = {"metadata": {"name": "bad"}, "spec": spec}
    r = http.post(f"/api/v1/namespaces/{ns}/resourcequotas", json=body)
    assert r.status_code == 422, r.text
    assert any(c["field"] == field and words in c["message"] for c in r.json()["details"]["causes"]), r.text
    assert http.get(f"/api/v1/namespaces/{ns}/resourcequotas/bad").status_code == 404


def test_a_quota_bounds_what_its_controller_has_counted(http: httpx.Client, ns: str) -> None:
    """The session server runs no controllers: a quota nobody counted bounds nothing (kube), and one
    whose status names a resource without a count refuses in kube's words."""
    body = dict(_quota("q", {"pods": "5"}), status={"hard": {"pods": "5"}, "used": {"pods": "0"}})
    r = http.post(f"/api/v1/namespaces/{ns}/resourcequotas", json=body)
    assert r.status_code == 201 and r.json()["status"] == {}, r.text  # status is the controller's
    assert http.post(f"/api/v1/namespaces/{ns}/pods", json=_pod("p")).status_code == 201
    quota = http.get(f"/api/v1/namespaces/{ns}/resourcequotas/q").json()
    r = http.put(
        f"/api/v1/namespaces/{ns}/resourcequotas/q/status", json=dict(quota, status={"hard": {"pods": "5"}})
    )
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10
    while True:  # the admission's mirror follows the write
        r = http.post(f"/api/v1/namespaces/{ns}/pods", json=_pod("p2"))
        if r.status_code == 403 or time.monotonic() > deadline:
            break
        http.delete(f"/api/v1/namespaces/{ns}/pods/p2")
        time.sleep(0.05)
    assert r.json()["message"] == 'pods "p2" is forbidden: status unknown for quota: q, resources: pods', (
        r.text
    )
    # a dry run is checked too, and charges nothing
    r = http.post(f"/api/v1/namespaces/{ns}/pods", json=_pod("p3"), params={"dryRun": "All"})
    assert r.status_code == 403, r.text


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("quota") / "data", free_port(), control_loops=True)
    srv.start()
    yield srv
    srv.stop()


def _until(http: httpx.Client, path: str, check: Any, timeout: float = 20) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        got: dict[str, Any] = http.get(path).json()
        return got if check(got) else None

    return wait_for(reached, timeout, what=path)


def test_creates_are_charged_and_deletes_given_back(counted: Server) -> None:
    with counted.client() as http:
        assert http.post("/api/v1/namespaces", json={"metadata": {"name": "quota-a"}}).status_code == 201
        base = "/api/v1/namespaces/quota-a"
        hard = {"pods": "2", "requests.cpu": "1", "limits.cpu": "1", "count/deployments.apps": "0"}
        assert http.post(f"{base}/resourcequotas", json=_quota("compute", hard)).status_code == 201
        q = _until(http, f"{base}/resourcequotas/compute", lambda o: (o.get("status") or {}).get("used"))
        assert q["status"] == {
            "hard": hard,
            "used": {"pods": "0", "requests.cpu": "0", "limits.cpu": "0", "count/deployments.apps": "0"},
        }
        r = http.post(f"{base}/pods", json=_pod("bare"))
        assert r.status_code == 403, r.text
        assert r.json()["message"] == (
            'pods "bare" is forbidden: failed quota: compute: must specify limits.cpu for: c; requests.cpu for: c'
        )
        assert http.post(f"{base}/pods", json=_pod("one", "600m")).status_code == 201
        used = http.get(f"{base}/resourcequotas/compute").json()["status"]["used"]  # charged at once
        assert used["pods"] == "1" and used["requests.cpu"] == "600m", used
        r = http.post(f"{base}/pods", json=_pod("two", "500m"))
        assert r.status_code == 403, r.text
        assert r.json()["message"] == (
            'pods "two" is forbidden: exceeded quota: compute, requested: limits.cpu=500m,requests.cpu=500m, '
            "used: limits.cpu=600m,requests.cpu=600m, limited: limits.cpu=1,requests.cpu=1"
        )
        assert http.get(f"{base}/pods/two").status_code == 404
        deployment = {
            "metadata": {"name": "d"},
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        }
        r = http.post("/apis/apps/v1/namespaces/quota-a/deployments", json=deployment)
        assert r.status_code == 403 and r.json()["details"] == {
            "name": "d",
            "kind": "deployments",
            "group": "apps",
        }, r.text
        # deleted, given back by the controller's recount
        assert http.delete(f"{base}/pods/one", params={"gracePeriodSeconds": "0"}).status_code == 200
        _until(http, f"{base}/resourcequotas/compute", lambda o: o["status"]["used"]["pods"] == "0")
        r = http.post(f"{base}/pods", json=_pod("two", "500m"))
        assert r.status_code == 201, r.text


def test_scopes_pick_the_pods_counted(counted: Server) -> None:
    with counted.client() as http:
        assert http.post("/api/v1/namespaces", json={"metadata": {"name": "quota-b"}}).status_code == 201
        base = "/api/v1/namespaces/quota-b"
        assert (
            http.post(
                f"{base}/resourcequotas", json=_quota("besteffort", {"pods": "1"}, scopes=["BestEffort"])
            ).status_code
            == 201
        )
        assert (
            http.post(
                f"{base}/resourcequotas", json=_quota("terminating", {"pods": "1"}, scopes=["Terminating"])
            ).status_code
            == 201
        )
        for name in ("besteffort", "terminating"):
            _until(http, f"{base}/resourcequotas/{name}", lambda o: (o.get("status") or {}).get("used"))
        assert http.post(f"{base}/pods", json=_pod("free")).status_code == 201
        r = http.post(f"{base}/pods", json=_pod("free-2"))
        assert r.status_code == 403 and "exceeded quota: besteffort" in r.text, r.text
        assert http.post(f"{base}/pods", json=_pod("sized", "100m")).status_code == 201  # not best effort
        assert http.post(f"{base}/pods", json=_pod("job-like", "100m", deadline=60)).status_code == 201
        r = http.post(f"{base}/pods", json=_pod("job-like-2", "100m", deadline=60))
        assert r.status_code == 403 and "exceeded quota: terminating" in r.text, r.text


def test_scope_selector_counts_pods_of_a_priority_class(counted: Server) -> None:
    """The Kubernetes docs' "Limit Priority Class consumption" pattern: a quota per class, by
    scopeSelector; pods of other classes, or of none, are not counted by it."""
    with counted.client() as http:
        assert http.post("/api/v1/namespaces", json={"metadata": {"name": "quota-pc"}}).status_code == 201
        for name, value in (("quota-pc-high", 1000), ("quota-pc-low", 10)):
            r = http.post(
                "/apis/scheduling.k8s.io/v1/priorityclasses",
                json={"metadata": {"name": name}, "value": value},
            )
            assert r.status_code == 201, r.text
        base = "/api/v1/namespaces/quota-pc"
        selector = {
            "matchExpressions": [
                {"scopeName": "PriorityClass", "operator": "In", "values": ["quota-pc-high"]}
            ]
        }
        r = http.post(
            f"{base}/resourcequotas", json=_quota("pods-high", {"pods": "1"}, scopeSelector=selector)
        )
        assert r.status_code == 201, r.text
        _until(http, f"{base}/resourcequotas/pods-high", lambda o: (o.get("status") or {}).get("used"))

        def classed(name: str, cls: str | None) -> dict[str, Any]:
            body = _pod(name)
            if cls:
                body["spec"]["priorityClassName"] = cls
            return body

        assert http.post(f"{base}/pods", json=classed("h1", "quota-pc-high")).status_code == 201
        r = http.post(f"{base}/pods", json=classed("h2", "quota-pc-high"))
        assert r.status_code == 403 and "exceeded quota: pods-high" in r.text, r.text
        for name, cls in (("l1", "quota-pc-low"), ("l2", "quota-pc-low"), ("n1", None)):
            assert http.post(f"{base}/pods", json=classed(name, cls)).status_code == 201, name
        quota = _until(
            http, f"{base}/resourcequotas/pods-high", lambda o: (o.get("status") or {}).get("used")
        )
        assert quota["status"]["used"] == {"pods": "1"}


def test_real_kubectl_creates_and_lists_quotas(counted: Server, tmp_path: Path) -> None:
    counted.kubectl("create", "ns", "quota-c", check=True)
    out = counted.kubectl(
        "create", "quota", "q", "-n", "quota-c", "--hard=pods=3,configmaps=5,limits.memory=1Gi", check=True
    ).stdout
    assert out.strip() == "resourcequota/q created"
    with counted.client() as http:
        _until(
            http, "/api/v1/namespaces/quota-c/resourcequotas/q", lambda o: (o.get("status") or {}).get("used")
        )
    rows = table_rows(counted.kubectl("get", "quota", "-n", "quota-c", check=True).stdout)
    assert rows[0] == ["NAME", "AGE", "REQUEST", "LIMIT"], rows
    line = counted.kubectl("get", "quota", "q", "-n", "quota-c", "--no-headers", check=True).stdout
    assert "configmaps: 1/5, pods: 0/3" in line and "limits.memory: 0/1Gi" in line, line


def test_a_refusal_by_one_quota_charges_none(counted: Server) -> None:
    with counted.client() as http:
        assert http.post("/api/v1/namespaces", json={"metadata": {"name": "quota-d"}}).status_code == 201
        base = "/api/v1/namespaces/quota-d"
        for name, hard in (("a", {"pods": "10"}), ("b", {"count/pods": "1"})):
            assert http.post(f"{base}/resourcequotas", json=_quota(name, hard)).status_code == 201
            _until(http, f"{base}/resourcequotas/{name}", lambda o: (o.get("status") or {}).get("used"))
        assert http.post(f"{base}/pods", json=_pod("p1")).status_code == 201
        r = http.post(f"{base}/pods", json=_pod("p2"))
        assert r.status_code == 403 and "exceeded quota: b, requested: count/pods=1" in r.text, r.text
        assert http.get(f"{base}/resourcequotas/a").json()["status"]["used"] == {"pods": "1"}


def test_an_update_is_charged_what_it_adds(counted: Server) -> None:
    with counted.client() as http:
        assert http.post("/api/v1/namespaces", json={"metadata": {"name": "quota-e"}}).status_code == 201
        base = "/api/v1/namespaces/quota-e"
        hard = {"services": "2", "services.nodeports": "1"}
        assert http.post(f"{base}/resourcequotas", json=_quota("svc", hard)).status_code == 201
        _until(http, f"{base}/resourcequotas/svc", lambda o: (o.get("status") or {}).get("used"))
        svc = {
            "metadata": {"name": "web"},
            "spec": {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 81}]},
        }
        assert http.post(f"{base}/services", json=svc).status_code == 201
        r = http.patch(
            f"{base}/services/web",
            json={"spec": {"type": "NodePort"}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 403, r.text
        assert "exceeded quota: svc, requested: services.nodeports=2, used: services.nodeports=0" in r.text
        assert http.get(f"{base}/services/web").json()["spec"]["type"] == "ClusterIP"  # nothing stored
        used = http.get(f"{base}/resourcequotas/svc").json()["status"]["used"]
        assert used == {"services": "1", "services.nodeports": "0"}, used
