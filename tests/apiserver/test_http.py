"""The wire contract through HTTPS: auth, Status errors, object lifecycle, subresources, services."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.apiserver.conftest import Server, pod
from tests.objects import binding


def test_public_paths_and_401(server: Server) -> None:
    import ssl

    with httpx.Client(
        base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_file))
    ) as anon:
        for path in ("/healthz", "/livez", "/readyz"):
            assert anon.get(path).text == "ok"
        assert anon.get("/version").json()["major"] == "1"
        assert anon.get("/cacerts").text == server.ca_file.read_text()
        r = anon.get("/api/v1/pods")
        assert r.status_code == 401 and r.json()["reason"] == "Unauthorized" and r.json()["kind"] == "Status"
        r = anon.get("/api/v1/pods", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
    kc = server.kubeconfig.read_text()
    assert "certificate-authority-data:" in kc and server.token in kc and "current-context: default" in kc


def test_node_token_permissions(server: Server, ns: str) -> None:
    token = (server.data_dir / "node-token").read_text().strip()
    import hashlib

    assert token.startswith("K10" + hashlib.sha256(server.ca_file.read_bytes()).hexdigest() + "::node:")
    with server.client(token=token) as node:
        node.headers["X-Kubelite-Node-Name"] = "n1"
        assert node.post("/api/v1/nodes", json={"metadata": {"name": "n1"}}).status_code == 201
        assert node.get(f"/api/v1/namespaces/{ns}/pods").status_code == 200
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "n1"},
            "spec": {"holderIdentity": "n1"},
        }
        assert (
            node.post(
                "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", json=lease
            ).status_code
            == 201
        )
        r = node.post(f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases", json=lease)
        assert r.status_code == 403 and r.json()["reason"] == "Forbidden"
        r = node.post(f"/api/v1/namespaces/{ns}/pods", json=pod("x"))
        assert r.status_code == 403
        assert 'User "system:node:n1" cannot create resource "pods"' in r.json()["message"]
        assert node.post("/api/v1/namespaces", json={"metadata": {"name": "nope"}}).status_code == 403
        assert node.delete(f"/api/v1/namespaces/{ns}/services/kubernetes").status_code == 403
        assert (
            node.patch(
                "/api/v1/nodes/n1/status",
                content=b'{"status":{"phase":"Running"}}',
                headers={"Content-Type": "application/merge-patch+json"},
            ).status_code
            == 200
        )
        assert node.delete("/api/v1/nodes/someone-else").status_code == 403  # only its own Node
    with server.client() as admin:
        admin.post(
            f"/api/v1/namespaces/{ns}/pods",
            json=pod("mine", spec=None)
            | {"spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]}},
        ).raise_for_status()
        admin.post(
            f"/api/v1/namespaces/{ns}/pods",
            json={
                "metadata": {"name": "other"},
                "spec": {"nodeName": "n2", "containers": [{"name": "c", "image": "busybox"}]},
            },
        ).raise_for_status()
    with server.client(token=token) as node:
        node.headers["X-Kubelite-Node-Name"] = "n1"
        st = {"status": {"phase": "Running"}}
        hdr = {"Content-Type": "application/merge-patch+json"}
        assert (
            node.patch(
                f"/api/v1/namespaces/{ns}/pods/mine/status", content=json.dumps(st), headers=hdr
            ).status_code
            == 200
        )
        assert (
            node.patch(
                f"/api/v1/namespaces/{ns}/pods/other/status", content=json.dumps(st), headers=hdr
            ).status_code
            == 403
        )
        assert (
            node.patch(f"/api/v1/namespaces/{ns}/pods/mine", content=json.dumps(st), headers=hdr).status_code
            == 403
        )


def test_status_errors(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/pods"
    r = http.get("/api/v1/nothings")
    assert r.status_code == 404 and r.json()["kind"] == "Status"
    assert http.get("/nowhere").status_code == 404
    r = http.post(f"{base}/x", json=pod("x"))
    assert r.status_code == 405 and r.json()["reason"] == "MethodNotAllowed"
    r = http.post(base, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["reason"] == "BadRequest"
    assert r.json()["message"].startswith("couldn't get version/kind; json parse error")
    r = http.post(
        base,
        content=b"apiVersion: v1\nkind: Pod\nmetadata: {name: fromyaml}\nspec:\n  containers: "
        b"[{name: c, image: busybox}]\n",
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 201 and r.json()["metadata"]["name"] == "fromyaml"
    r = http.post(base, content=b"- a\n- : : [", headers={"Content-Type": "application/yaml"})
    assert r.status_code == 400
    r = http.post(base, content=b"[1,2]")
    assert r.status_code == 400
    deep = "[" * 5000 + "]" * 5000
    r = http.post(base, content=deep.encode())
    assert r.status_code == 400
    deep_obj: dict[str, Any] = {
        "metadata": {"name": "deep"},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }
    cur = deep_obj["spec"]
    for _ in range(300):
        cur["x"] = {}
        cur = cur["x"]
    r = http.post(base, json=deep_obj)
    assert r.status_code == 400
    big = pod("big", annotations={"a": "x" * (3 * 1024 * 1024)})
    r = http.post(base, json=big)
    assert r.status_code == 413 and r.json()["reason"] == "RequestEntityTooLarge"
    r = http.post(base, json={"apiVersion": "v1", "kind": "Service", "metadata": {"name": "k"}})
    assert r.status_code == 400 and "cannot be handled as a Pod" in r.json()["message"]
    r = http.post(base, json={"apiVersion": "apps/v1", "kind": "Pod", "metadata": {"name": "k"}})
    assert r.status_code == 400
    assert (
        r.json()["message"]
        == "the API version in the data (apps/v1) does not match the expected API version (v1)"
    )
    r = http.post(base, json=pod("k", namespace="elsewhere"))
    assert r.status_code == 400
    assert (
        r.json()["message"]
        == "the namespace of the provided object does not match the namespace sent on the request"
    )
    r = http.post(base + "?fieldValidation=Strict", json=pod("k") | {"bogus": 1})
    assert r.status_code == 400
    assert (
        r.json()["message"]
        == 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "bogus"'
    )
    r = http.post(base + "?fieldValidation=Warn", json=pod("warned") | {"bogus": 1})
    assert r.status_code == 201 and 'unknown field \\"bogus\\"' in r.headers["warning"]
    assert "bogus" not in r.json()  # dropped, as kube's typed decoding does
    r = http.put(f"{base}/warned", json=pod("other"))
    assert r.status_code == 400
    assert r.json()["message"] == "the name of the object (other) does not match the name on the URL (warned)"
    r = http.patch(f"{base}/warned", content=b"{}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = http.get(base + "?fieldSelector=spec.bogus=1")
    assert r.status_code == 400
    for bad in ("k", "big", "deep"):
        assert http.get(f"{base}/{bad}").status_code == 404  # nothing stored by a refused write


def test_namespace_admission(http: httpx.Client, ns: str) -> None:
    r = http.post("/api/v1/namespaces/missing-ns/pods", json=pod("x"))
    assert r.status_code == 404 and r.json()["message"] == 'namespaces "missing-ns" not found'
    doomed = f"{ns}-doomed"[:63]
    http.post("/api/v1/namespaces", json={"metadata": {"name": doomed}}).raise_for_status()
    gone = http.delete(f"/api/v1/namespaces/{doomed}")
    assert gone.status_code == 200
    got = http.get(f"/api/v1/namespaces/{doomed}").json()
    assert got["status"]["phase"] == "Terminating" and got["spec"]["finalizers"] == ["kubernetes"]
    r = http.post(f"/api/v1/namespaces/{doomed}/pods", json=pod("x"))
    assert r.status_code == 403
    assert r.json()["message"] == (
        f'pods "x" is forbidden: unable to create new content in namespace {doomed} '
        "because it is being terminated"
    )
    r = http.put(
        f"/api/v1/namespaces/{doomed}/finalize",
        json={"metadata": {"name": doomed}, "spec": {"finalizers": []}},
    )
    assert r.status_code == 200
    assert http.get(f"/api/v1/namespaces/{doomed}").status_code == 404
    names = [i["metadata"]["name"] for i in http.get("/api/v1/namespaces").json()["items"]]
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= set(names)


def test_metadata_lifecycle(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/pods"
    body = pod("")
    body["metadata"] = {"generateName": "gen-"}
    names = set()
    for _ in range(5):
        r = http.post(base, json=body)
        assert r.status_code == 201
        n = r.json()["metadata"]["name"]
        assert n.startswith("gen-") and len(n) == 9
        names.add(n)
    assert len(names) == 5
    p = http.post(base, json=pod("life", labels={"a": "1"})).json()
    assert (
        p["metadata"]["generation"] == 1
        and p["metadata"]["uid"]
        and p["metadata"]["creationTimestamp"].endswith("Z")
    )
    assert isinstance(p["metadata"]["resourceVersion"], str)
    p["metadata"]["labels"]["b"] = "2"
    p["status"] = {"phase": "Running"}  # a main write ignores status
    u = http.put(f"{base}/life", json=p).json()
    assert u["metadata"]["generation"] == 1 and u["status"]["phase"] == "Pending"
    stale = http.put(f"{base}/life", json=p)
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict"
    assert stale.json()["message"] == (
        'Operation cannot be fulfilled on pods "life": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    u["spec"]["activeDeadlineSeconds"] = 30
    u["metadata"]["uid"] = "another-incarnation"
    r = http.put(f"{base}/life", json=u)
    assert r.status_code == 409 and "Precondition failed: UID in precondition: another-incarnation" in r.text
    r = http.patch(
        f"{base}/life/status",
        content=json.dumps({"metadata": {"uid": "another-incarnation"}, "status": {"phase": "Failed"}}),
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert r.status_code == 409
    u["metadata"]["uid"] = p["metadata"]["uid"]
    u2 = http.put(f"{base}/life", json=u).json()
    assert u2["metadata"]["generation"] == 2
    u2["spec"]["activeDeadlineSeconds"] = 60  # a status write ignores spec
    u2["status"] = {"phase": "Running"}
    s = http.put(f"{base}/life/status", json=u2).json()
    assert s["status"]["phase"] == "Running" and s["spec"]["activeDeadlineSeconds"] == 30
    same = http.put(f"{base}/life", json=http.get(f"{base}/life").json()).json()
    assert (
        same["metadata"]["resourceVersion"] == s["metadata"]["resourceVersion"]
    )  # a no-op write stores nothing
    r = http.post(base + "?dryRun=All", json=pod("dry"))
    assert r.status_code == 201 and r.json()["metadata"]["name"] == "dry"
    assert http.get(f"{base}/dry").status_code == 404
    assert http.request("DELETE", f"{base}/life?dryRun=All").status_code == 200
    assert http.get(f"{base}/life").status_code == 200
    dup = http.post(base, json=pod("life"))
    assert dup.status_code == 409 and dup.json()["reason"] == "AlreadyExists"
    assert dup.json()["details"] == {"name": "life", "kind": "pods"}


def test_deletion_rules(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/pods"
    http.post(base, json=pod("unbound")).raise_for_status()
    r = http.delete(f"{base}/unbound")
    assert r.status_code == 200 and r.json()["kind"] == "Pod"
    assert http.get(f"{base}/unbound").status_code == 404
    bound = pod("bound")
    bound["spec"]["nodeName"] = "n1"  # type: ignore[index]
    bound["spec"]["terminationGracePeriodSeconds"] = 10  # type: ignore[index]
    http.post(base, json=bound).raise_for_status()
    d = http.delete(f"{base}/bound").json()
    assert d["metadata"]["deletionTimestamp"] and d["metadata"]["deletionGracePeriodSeconds"] == 10
    assert http.get(f"{base}/bound").status_code == 200
    assert http.request("DELETE", f"{base}/bound", json={"gracePeriodSeconds": 0}).status_code == 200
    assert http.get(f"{base}/bound").status_code == 404

    http.post(base, json=pod("fin", finalizers=["example.com/hold"])).raise_for_status()
    held = http.delete(f"{base}/fin").json()
    assert held["metadata"]["deletionTimestamp"]
    cur = http.get(f"{base}/fin").json()
    cur["metadata"]["finalizers"] = []
    assert http.put(f"{base}/fin", json=cur).status_code == 200
    assert http.get(f"{base}/fin").status_code == 404

    http.post(base, json=pod("fg")).raise_for_status()
    fg = http.request("DELETE", f"{base}/fg", json={"propagationPolicy": "Foreground"}).json()
    assert fg["metadata"]["finalizers"] == ["foregroundDeletion"]
    http.post(base, json=pod("orph")).raise_for_status()
    orph = http.request("DELETE", f"{base}/orph?propagationPolicy=Orphan").json()
    assert orph["metadata"]["finalizers"] == ["orphan"]

    p = http.post(base, json=pod("pre")).json()
    r = http.request("DELETE", f"{base}/pre", json={"preconditions": {"uid": "not-it"}})
    assert r.status_code == 409 and "Precondition failed: UID in precondition: not-it" in r.json()["message"]
    r = http.request(
        "DELETE",
        f"{base}/pre",
        json={
            "preconditions": {
                "uid": p["metadata"]["uid"],
                "resourceVersion": p["metadata"]["resourceVersion"],
            }
        },
    )
    assert r.status_code == 200

    for i in range(3):
        http.post(base, json=pod(f"col{i}", labels={"batch": "yes"})).raise_for_status()
    r = http.delete(base + "?labelSelector=batch%3Dyes")
    assert r.status_code == 200 and len(r.json()["items"]) == 3
    assert http.get(base + "?labelSelector=batch%3Dyes").json()["items"] == []


def test_binding_scale_log_exec(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/pods"
    http.post(base, json=pod("b")).raise_for_status()
    r = http.post(f"{base}/b/binding", json=binding("b", "n1"))
    assert r.status_code == 201 and r.json()["status"] == "Success"
    got = http.get(f"{base}/b").json()
    assert got["spec"]["nodeName"] == "n1"
    assert {"type": "PodScheduled", "status": "True"}.items() <= got["status"]["conditions"][0].items()
    again = http.post(f"{base}/b/binding", json=binding("b", "n1"))
    assert again.status_code == 409 and 'pod b is already assigned to node "n1"' in again.json()["message"]
    r = http.get(f"{base}/b/log")
    assert r.status_code == 503 and r.json()["reason"] == "ServiceUnavailable"
    assert http.post(f"{base}/b/exec?command=ls").status_code == 503
    assert http.get(f"{base}/nope/log").status_code == 404


def test_table_output(http: httpx.Client, ns: str) -> None:
    http.post(f"/api/v1/namespaces/{ns}/pods", json=pod("t1")).raise_for_status()
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    t = http.get(f"/api/v1/namespaces/{ns}/pods", headers={"Accept": accept}).json()
    assert t["kind"] == "Table" and [c["name"] for c in t["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert t["rows"][0]["cells"][:3] == ["t1", "0/1", "Pending"]
    assert t["rows"][0]["object"]["kind"] == "PartialObjectMetadata" and t["metadata"]["resourceVersion"]
    one = http.get(f"/api/v1/namespaces/{ns}/pods/t1?includeObject=Object", headers={"Accept": accept}).json()
    assert one["rows"][0]["object"]["kind"] == "Pod"
    empty = http.get("/api/v1/namespaces/kube-public/pods").json()
    assert empty["items"] == [] and empty["kind"] == "PodList" and empty["apiVersion"] == "v1"


def test_discovery_and_openapi(http: httpx.Client) -> None:
    agg = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    r = http.get("/api", headers={"Accept": agg})
    assert r.headers["content-type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    r = http.get("/apis", headers={"Accept": agg.replace("v=v2;", "v=v2beta1;")})
    assert r.headers["content-type"].endswith("v=v2beta1;as=APIGroupDiscoveryList")
    assert http.get("/api").json()["versions"] == ["v1"]
    assert http.get("/apis").json()["kind"] == "APIGroupList"
    res = {r["name"]: r for r in http.get("/api/v1").json()["resources"]}
    assert res["pods"]["shortNames"] == ["po"] and "replicationcontrollers/scale" in res
    assert http.get("/apis/coordination.k8s.io/v1").json()["resources"][0]["name"] == "leases"
    root = http.get("/openapi/v3").json()
    url = root["paths"]["api/v1"]["serverRelativeURL"]
    doc = http.get(url).json()
    assert "/api/v1/namespaces/{namespace}/pods/{name}" in doc["paths"]
    assert http.get("/openapi/v2").status_code == 200


def test_services_allocation(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/services"
    kube = http.get("/api/v1/namespaces/default/services/kubernetes").json()
    assert kube["spec"]["clusterIP"] == "10.96.0.1" and kube["spec"]["ports"][0]["port"] == 443

    def svc(name: str, **spec: object) -> dict[str, object]:
        return {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}], **spec}}

    ips = set()
    for i in range(20):
        r = http.post(base, json=svc(f"s{i}"))
        assert r.status_code == 201, r.text
        ips.add(r.json()["spec"]["clusterIP"])
    assert len(ips) == 20 and "10.96.0.1" not in ips
    taken = sorted(ips)[0]
    r = http.post(base, json=svc("dup", clusterIP=taken))
    assert r.status_code == 422 and r.json()["reason"] == "Invalid"
    assert r.json()["details"]["causes"][0]["message"] == (
        f'Invalid value: []string{{"{taken}"}}: failed to allocate IP {taken}: provided IP is already allocated'
    )
    r = http.post(base, json=svc("out", clusterIP="10.1.2.3"))
    assert r.status_code == 422 and "not in the valid range" in r.text
    s0 = http.get(f"{base}/s0").json()["spec"]["clusterIP"]
    assert http.delete(f"{base}/s0").status_code == 200
    r = http.post(base, json=svc("reuse", clusterIP=s0))
    assert r.status_code == 201 and r.json()["spec"]["clusterIP"] == s0
    headless = http.post(base, json=svc("hl", clusterIP="None")).json()
    assert headless["spec"]["clusterIP"] == "None"
    np = http.post(base, json=svc("np", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])).json()
    assert np["spec"]["ports"][0]["nodePort"] == 30080
    r = http.post(base, json=svc("np2", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    assert r.status_code == 422 and "provided port is already allocated" in r.text
    auto = http.post(base, json=svc("np3", type="NodePort")).json()
    assert 30000 <= auto["spec"]["ports"][0]["nodePort"] <= 32767
    # an update keeps what was allocated even when the body leaves it out
    cur = http.get(f"{base}/np3").json()
    ip = cur["spec"].pop("clusterIP")
    cur["spec"].pop("clusterIPs", None)
    cur["metadata"]["labels"] = {"x": "y"}
    upd = http.put(f"{base}/np3", json=cur).json()
    assert (
        upd["spec"]["clusterIP"] == ip
        and upd["spec"]["ports"][0]["nodePort"] == auto["spec"]["ports"][0]["nodePort"]
    )
    http.delete(f"{base}/np").raise_for_status()
    assert (
        http.post(base, json=svc("np4", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])).status_code
        == 201
    )


def test_services_health_check_node_port(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/services"

    def lb(name: str, **spec: object) -> dict[str, object]:
        body = {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ports": [{"port": 80}]}
        return {"metadata": {"name": name}, "spec": {**body, **spec}}

    auto = http.post(base, json=lb("auto"))
    assert auto.status_code == 201, auto.text
    hc = auto.json()["spec"]["healthCheckNodePort"]
    assert 30000 <= hc <= 32767 and hc != auto.json()["spec"]["ports"][0]["nodePort"]
    # the health check port and node ports share one range and one set of claims
    r = http.post(base, json=lb("clash", type="NodePort", externalTrafficPolicy="Cluster",
                                ports=[{"port": 80, "nodePort": hc}]))  # fmt: skip
    assert r.status_code == 422 and "provided port is already allocated" in r.text
    assert (
        http.post(base, json=lb("exp", healthCheckNodePort=31999)).json()["spec"]["healthCheckNodePort"]
        == 31999
    )
    r = http.post(base, json=lb("taken", healthCheckNodePort=31999))
    assert r.status_code == 500 and r.json()["reason"] == "InternalError"
    assert r.json()["message"] == (
        "Internal error occurred: failed to allocate requested HealthCheck NodePort 31999: "
        "provided port is already allocated"
    )
    assert http.get(f"{base}/taken").status_code == 404
    r = http.post(
        base, json=lb("plain", type="ClusterIP", externalTrafficPolicy=None, healthCheckNodePort=31998)
    )
    assert r.status_code == 422 and r.json()["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.healthCheckNodePort",
            "message": "Invalid value: 31998: may only be set when `type` is 'LoadBalancer' and "
            "`externalTrafficPolicy` is 'Local'",
        }
    ]
    assert http.get(f"{base}/plain").status_code == 404
    # an update keeps it, may not change it, and a move to Cluster policy releases it
    cur = http.get(f"{base}/auto").json()
    cur["spec"].pop("healthCheckNodePort")
    assert http.put(f"{base}/auto", json=cur).json()["spec"]["healthCheckNodePort"] == hc
    cur = http.get(f"{base}/auto").json()
    cur["spec"]["healthCheckNodePort"] = 31997
    r = http.put(f"{base}/auto", json=cur)
    assert r.status_code == 422 and "spec.healthCheckNodePort: Forbidden: field is immutable" in r.text
    cur["spec"]["healthCheckNodePort"], cur["spec"]["externalTrafficPolicy"] = hc, "Cluster"
    moved = http.put(f"{base}/auto", json=cur)
    assert moved.status_code == 200 and "healthCheckNodePort" not in moved.json()["spec"], moved.text
    r = http.post(base, json=lb("reuse", healthCheckNodePort=hc))
    assert r.status_code == 201, r.text
    # a type change releases it, and so does a delete
    cur = http.get(f"{base}/exp").json()
    cur["spec"]["type"] = "NodePort"
    assert "healthCheckNodePort" not in http.put(f"{base}/exp", json=cur).json()["spec"]
    http.delete(f"{base}/reuse").raise_for_status()
    for name, port in (("again1", 31999), ("again2", hc)):
        r = http.post(base, json=lb(name, healthCheckNodePort=port))
        assert r.status_code == 201, r.text


def test_services_traffic_policies(http: httpx.Client, ns: str) -> None:
    """externalTrafficPolicy only on a service reached from outside; each policy Cluster or Local;
    a type change to ClusterIP drops the policy carried over, as kube's dropTypeDependentFields."""
    base = f"/api/v1/namespaces/{ns}/services"

    def svc(name: str, **spec: object) -> dict[str, object]:
        return {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}], **spec}}

    r = http.post(base, json=svc("inside", externalTrafficPolicy="Local"))
    assert r.status_code == 422 and r.json()["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.externalTrafficPolicy",
            "message": 'Invalid value: "Local": may only be set for externally-accessible services',
        }
    ]
    assert http.get(f"{base}/inside").status_code == 404
    for field, value in (("externalTrafficPolicy", "Nearest"), ("internalTrafficPolicy", "Nearest")):
        r = http.post(base, json=svc(f"bad-{field.lower()}", type="NodePort", **{field: value}))
        assert r.status_code == 422 and r.json()["details"]["causes"][0]["field"] == f"spec.{field}", r.text
    # external IPs make a cluster IP reachable from outside
    assert (
        http.post(base, json=svc("ext", externalIPs=["192.0.2.9"], externalTrafficPolicy="Local")).status_code
        == 201
    )
    made = http.post(base, json=svc("np", type="NodePort", externalTrafficPolicy="Local"))
    assert made.status_code == 201, made.text
    cur = made.json()
    cur["spec"]["type"] = "ClusterIP"
    for p in cur["spec"]["ports"]:
        p.pop("nodePort", None)
    moved = http.put(f"{base}/np", json=cur)
    assert moved.status_code == 200 and "externalTrafficPolicy" not in moved.json()["spec"], moved.text


@pytest.mark.parametrize("n", [50])
def test_optimistic_concurrency(server: Server, ns: str, n: int) -> None:
    import asyncio

    base = f"/api/v1/namespaces/{ns}/endpoints"
    with server.client() as c:
        c.post(base, json={"metadata": {"name": "counter", "annotations": {"n": "0"}}}).raise_for_status()

    async def increment(client: httpx.AsyncClient) -> int:
        conflicts = 0
        while True:
            cur = (await client.get(f"{base}/counter")).json()
            cur["metadata"]["annotations"]["n"] = str(int(cur["metadata"]["annotations"]["n"]) + 1)
            r = await client.put(f"{base}/counter", json=cur)
            if r.status_code == 200:
                return conflicts
            assert r.status_code == 409, r.text
            conflicts += 1

    async def run() -> int:
        import ssl

        ctx = ssl.create_default_context(cafile=str(server.ca_file))
        async with httpx.AsyncClient(
            base_url=server.url, verify=ctx, timeout=30, headers={"Authorization": f"Bearer {server.token}"}
        ) as client:
            return sum(await asyncio.gather(*(increment(client) for _ in range(n))))

    conflicts = asyncio.run(run())
    with server.client() as c:
        assert c.get(f"{base}/counter").json()["metadata"]["annotations"]["n"] == str(n)
    assert conflicts > 0  # the increments did race


def test_validation_statuses(http: httpx.Client, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}"
    r = http.post(
        f"{base}/pods",
        json={
            "metadata": {"name": "v"},
            "spec": {
                "containers": [{"name": "c", "image": "busybox", "ports": [{"containerPort": 70000}]}],
                "restartPolicy": "Sometimes",
            },
        },
    )
    assert r.status_code == 422 and r.json()["reason"] == "Invalid"
    fields = {c["field"]: c for c in r.json()["details"]["causes"]}
    assert fields["spec.restartPolicy"]["reason"] == "FieldValueNotSupported"
    assert (
        fields["spec.restartPolicy"]["message"]
        == 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'
    )
    assert fields["spec.containers[0].ports[0].containerPort"]["reason"] == "FieldValueInvalid"
    r = http.post(
        f"{base}/pods",
        json={
            "metadata": {"name": "v"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}, {"name": "c", "image": "busybox"}]},
        },
    )
    assert r.status_code == 422
    assert r.json()["message"] == 'Pod "v" is invalid: spec.containers[1].name: Duplicate value: "c"'
    r = http.post(
        f"{base}/services",
        json={"metadata": {"name": "v"}, "spec": {"type": "Weird", "ports": [{"port": 80}]}},
    )
    assert r.status_code == 422 and r.json()["details"]["causes"][0]["field"] == "spec.type"
    r = http.post(
        f"{base}/pods",
        json={
            "metadata": {"labels": {"bad key!": "v"}, "name": "v"},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        },
    )
    assert r.status_code == 422 and r.json()["details"]["causes"][0]["field"] == "metadata.labels"
    r = http.post(f"{base}/pods", json={"spec": {"containers": [{"name": "c", "image": "i"}]}})
    assert r.status_code == 422
    assert r.json()["details"]["causes"][0]["message"] == "Required value: name or generateName is required"
    assert http.get(f"{base}/pods/v").status_code == 404


_WRONG = [5, "x", [1], {"a": 1}, True, None]
_SHAPES: dict[str, dict[str, object]] = {
    "pods": {
        "spec": {
            "nodeName": "n",
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "ports": [{"containerPort": 80}],
                    "env": [{"name": "A", "value": "b"}],
                    "resources": {"limits": {"cpu": "1"}},
                }
            ],
        }
    },
    "replicationcontrollers": {
        "spec": {
            "replicas": 1,
            "selector": {"a": "b"},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        }
    },
    "services": {
        "spec": {"type": "NodePort", "selector": {"a": "b"}, "ports": [{"port": 80, "nodePort": 30123}]}
    },
    "endpoints": {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]},
}


def _wrong_typed(body: dict[str, object]) -> list[dict[str, object]]:
    """The body with each field in turn replaced by a value of each wrong JSON type."""
    out = []

    def walk(node: object, path: tuple[object, ...]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for k, v in items:
            for w in _WRONG:
                if type(w) is not type(v):
                    copy = json.loads(json.dumps(body))
                    cur = copy
                    for p in path:
                        cur = cur[p]
                    cur[k] = w
                    out.append(copy)
            walk(v, (*path, k))

    walk(body, ())
    return out


def test_wrong_types_are_4xx_never_500(http: httpx.Client, ns: str) -> None:
    for plural, shape in _SHAPES.items():
        base = f"/api/v1/namespaces/{ns}/{plural}"
        good = {"metadata": {"name": "shape"}, **shape}
        assert http.post(base, json=good).status_code == 201
        for i, bad in enumerate(_wrong_typed(good)):
            if isinstance(bad.get("metadata"), dict):
                bad["metadata"]["name"] = f"bad{i}"  # type: ignore[index]
            r = http.post(base, json=bad)
            assert r.status_code < 500, (plural, bad, r.text)
            if r.status_code == 201:
                continue
            assert http.get(f"{base}/bad{i}").status_code == 404
            if isinstance(bad.get("metadata"), dict):
                bad["metadata"]["name"] = "shape"  # type: ignore[index]
                for method, ct in (
                    ("PUT", "application/json"),
                    ("PATCH", "application/merge-patch+json"),
                    ("PATCH", "application/strategic-merge-patch+json"),
                ):
                    r = http.request(
                        method, f"{base}/shape", content=json.dumps(bad), headers={"Content-Type": ct}
                    )
                    assert r.status_code < 500, (method, plural, bad, r.text)
    binding = f"/api/v1/namespaces/{ns}/pods/shape/binding"
    body: Any
    for body in ([], {"target": 5}, {"target": {"name": 5}}, 5):
        assert 400 <= http.post(binding, json=body).status_code < 500


def test_exec_websocket_refusals_are_status(server: Server, http: httpx.Client, ns: str) -> None:
    import asyncio
    import ssl

    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    http.post(f"/api/v1/namespaces/{ns}/pods", json=pod("ws")).raise_for_status()
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    url = (
        server.url.replace("https", "wss") + f"/api/v1/namespaces/{ns}/pods/{{}}/exec?command=ls&stdout=true"
    )

    async def refused(name: str, token: str) -> tuple[int, dict[str, object]]:
        try:
            async with connect(
                url.format(name),
                ssl=ctx,
                subprotocols=["v5.channel.k8s.io"],  # type: ignore[list-item]
                additional_headers={"Authorization": f"Bearer {token}"},
            ):
                raise AssertionError("the upgrade was accepted")
        except InvalidStatus as e:
            return e.response.status_code, json.loads(e.response.body or b"{}")

    code, body = asyncio.run(refused("nope", server.token))
    assert code == 404 and body["reason"] == "NotFound" and body["message"] == 'pods "nope" not found'
    code, body = asyncio.run(refused("ws", "wrong"))
    assert code == 401 and body["reason"] == "Unauthorized"
    code, body = asyncio.run(refused("ws", server.token))  # not on a node: no kubelet to reach
    assert 400 <= code < 600 and body["kind"] == "Status"


def test_patches_check_what_they_change_and_nothing_is_taken_for_unchanged(
    http: httpx.Client, ns: str
) -> None:
    base = f"/api/v1/namespaces/{ns}/pods"
    body: dict[str, Any] = pod("typed")
    body["spec"]["terminationGracePeriodSeconds"] = 1
    assert http.post(base, json=body).status_code == 201
    merge = {"Content-Type": "application/merge-patch+json"}
    # true == 1 in Python, not in JSON: the changed section is still checked
    r = http.patch(f"{base}/typed", content=b'{"spec":{"terminationGracePeriodSeconds":true}}', headers=merge)
    assert r.status_code == 422 and "cannot unmarshal bool" in r.json()["message"], r.text
    r = http.patch(
        f"{base}/typed/status",
        headers=merge,
        content=b'{"status":{"phase":"Running","containerStatuses":[{"name":"c","restartCount":"x"}]}}',
    )
    assert r.status_code == 422 and "cannot unmarshal string" in r.json()["message"], r.text
    r = http.patch(
        f"{base}/typed/status?fieldValidation=Strict", content=b'{"status":{"bogus":1}}', headers=merge
    )
    assert r.status_code == 400 and 'unknown field "status.bogus"' in r.json()["message"], r.text
    r = http.patch(f"{base}/typed/status", content=b'{"status":{"phase":"Running"}}', headers=merge)
    assert r.status_code == 200 and r.json()["status"]["phase"] == "Running"
    assert r.json()["spec"]["terminationGracePeriodSeconds"] == 1
