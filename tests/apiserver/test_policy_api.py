"""PodDisruptionBudget (policy/v1) and the pods/eviction subresource through a real server: create,
get, list and kube's 422; the real kubectl's `create poddisruptionbudget` (protobuf) and `get pdb`
Table; an eviction refused with kube's 429 while the budget allows none, allowed (201, the budget
spent) once its status, written as the disruption controller would, allows one; a pod no budget
covers evicted at once; discovery naming pods/eviction (kubectl drain looks for it)."""

from __future__ import annotations

import httpx

from tests.apiserver.conftest import Server, table_rows


def _pdbs(ns: str) -> str:
    return f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets"


def _pdb(name: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
    }


def _running_pod(http: httpx.Client, ns: str, name: str, app: str) -> None:
    pods = f"/api/v1/namespaces/{ns}/pods"
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    r = http.post(pods, json=body)
    assert r.status_code == 201, r.text
    cur = r.json()
    cur["status"] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
    }
    r = http.put(f"{pods}/{name}/status", json=cur)
    assert r.status_code == 200, r.text


def _evict(http: httpx.Client, ns: str, name: str, version: str = "policy/v1") -> httpx.Response:
    body = {
        "apiVersion": version,
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": ns},
        "deleteOptions": {"gracePeriodSeconds": 0},
    }
    return http.post(f"/api/v1/namespaces/{ns}/pods/{name}/eviction", json=body)


def _gone(http: httpx.Client, ns: str, name: str) -> bool:
    r = http.get(f"/api/v1/namespaces/{ns}/pods/{name}")
    return r.status_code == 404 or bool(r.json()["metadata"].get("deletionTimestamp"))


def test_create_get_list_validate_and_kubectl(server: Server, http: httpx.Client, ns: str) -> None:
    r = http.post(_pdbs(ns), json=_pdb("web", minAvailable=2))
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["metadata"]["generation"] == 1
    assert made["status"] == {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    }
    assert http.get(f"{_pdbs(ns)}/web").json()["spec"]["minAvailable"] == 2
    assert [i["metadata"]["name"] for i in http.get(_pdbs(ns)).json()["items"]] == ["web"]
    r = http.post(_pdbs(ns), json=_pdb("both", minAvailable=1, maxUnavailable="150%"))
    assert r.status_code == 422
    causes = {c["field"]: c["message"] for c in r.json()["details"]["causes"]}
    assert causes["spec"].endswith("minAvailable and maxUnavailable cannot be both set")
    assert causes["spec.maxUnavailable"].endswith("must not be greater than 100%")
    # kubectl's generator POSTs protobuf
    out = server.kubectl(
        "create",
        "poddisruptionbudget",
        "db",
        "-n",
        ns,
        "--selector=app=db",
        "--max-unavailable=25%",
        check=True,
    )
    assert "poddisruptionbudget.policy/db created" in out.stdout
    got = http.get(f"{_pdbs(ns)}/db").json()["spec"]
    assert got == {"maxUnavailable": "25%", "selector": {"matchLabels": {"app": "db"}}}
    rows = table_rows(server.kubectl("get", "pdb", "-n", ns, check=True).stdout)
    assert rows[0] == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert [row[:4] for row in rows[1:]] == [["db", "N/A", "25%", "0"], ["web", "2", "N/A", "0"]]


def test_eviction_respects_the_budget(http: httpx.Client, ns: str) -> None:
    assert http.post(_pdbs(ns), json=_pdb("web", minAvailable=1)).status_code == 201
    _running_pod(http, ns, "web-1", "web")
    r = _evict(http, ns, "web-1")
    assert r.status_code == 429, r.text
    body = r.json()
    assert (body["kind"], body["status"], body["reason"], body["code"]) == (
        "Status",
        "Failure",
        "TooManyRequests",
        429,
    )
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    # observedGeneration 0 < generation 1: the controller has not seen the budget yet
    assert body["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget web is still being processed by the server.",
        }
    ]
    # the wait is in the header too, which is what client-go reads
    assert (body["details"]["retryAfterSeconds"], r.headers["retry-after"]) == (10, "10")
    # the disruption controller's status: seen, nothing to spare
    cur = http.get(f"{_pdbs(ns)}/web").json()
    cur["status"].update(
        observedGeneration=cur["metadata"]["generation"], currentHealthy=1, desiredHealthy=1, expectedPods=1
    )
    r = http.put(f"{_pdbs(ns)}/web/status", json=cur)
    assert r.status_code == 200, r.text
    r = _evict(http, ns, "web-1")
    assert r.status_code == 429 and "retry-after" not in r.headers  # no wait asked: none said
    assert r.json()["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget web needs 1 healthy pods and has 1 currently",
        }
    ]
    assert not _gone(http, ns, "web-1")
    # one disruption allowed (a merge patch of status, as a controller may write it)
    r = http.patch(
        f"{_pdbs(ns)}/web/status",
        json={"status": {"disruptionsAllowed": 1, "currentHealthy": 2}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    r = _evict(http, ns, "web-1", "policy/v1beta1")
    assert r.status_code == 201, r.text
    assert r.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }
    assert _gone(http, ns, "web-1")
    status = http.get(f"{_pdbs(ns)}/web").json()["status"]
    assert status["disruptionsAllowed"] == 0
    assert list(status["disruptedPods"]) == ["web-1"]


def test_eviction_without_a_budget_and_of_a_missing_pod(http: httpx.Client, ns: str) -> None:
    assert http.post(_pdbs(ns), json=_pdb("web", minAvailable=1)).status_code == 201
    _running_pod(http, ns, "other", "other")
    r = _evict(http, ns, "other")
    assert r.status_code == 201, r.text
    assert _gone(http, ns, "other")
    r = _evict(http, ns, "nope")
    assert r.status_code == 404
    assert r.json()["message"] == 'pods "nope" not found'


def test_two_budgets_are_refused(http: httpx.Client, ns: str) -> None:
    assert http.post(_pdbs(ns), json=_pdb("a", minAvailable=1)).status_code == 201
    assert http.post(_pdbs(ns), json=_pdb("b", maxUnavailable=0)).status_code == 201
    _running_pod(http, ns, "web-1", "web")
    r = _evict(http, ns, "web-1")
    assert r.status_code == 500
    assert r.json()["message"] == (
        "Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction "
        "subresource does not support."
    )
    assert not _gone(http, ns, "web-1")


def test_discovery_lists_pods_eviction_and_pdbs(http: httpx.Client) -> None:
    core = {r["name"]: r for r in http.get("/api/v1").json()["resources"]}
    assert core["pods/eviction"]["kind"] == "Eviction"
    assert (core["pods/eviction"]["group"], core["pods/eviction"]["version"]) == ("policy", "v1")
    assert core["pods/eviction"]["verbs"] == ["create"]
    policy = {r["name"]: r for r in http.get("/apis/policy/v1").json()["resources"]}
    assert policy["poddisruptionbudgets"]["shortNames"] == ["pdb"]
    assert policy["poddisruptionbudgets"]["namespaced"] is True
    assert "poddisruptionbudgets/status" in policy
