"""API aggregation through a real `kubelite server` and a real extension API server
(tests/apiserver/extension_server.py) listening on an address of a bridge the test makes (kubelite
dials endpoints, never loopback in these tests, as a cluster's are pod addresses), behind a
Service and Endpoints written through the API: APIServices listed and validated as kube does,
the front-proxy trust published, requests authorized here and relayed with the caller's identity,
discovery (legacy and aggregated) merged, kube's availability conditions and 503s, and
metrics.k8s.io taken over by an extension server and given back. The real kubectl 1.33 runs
`get apiservices`, `api-resources` and `get` of the aggregated resource.
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from tests.apiserver.conftest import KUBECTL, REPO, Server, table_rows
from tests.apiserver.extension_server import GROUP, VERSION, ExtensionServer
from tests.apiserver.proxy_upstream import proxy_ip
from tests.objects import widget_crd
from tests.polling import wait_for

__all__ = ["proxy_ip"]  # the fixture, used by this module's own
REG = "/apis/apiregistration.k8s.io/v1/apiservices"
NAME = f"{VERSION}.{GROUP}"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
FLUNDERS = f"/apis/{GROUP}/{VERSION}/namespaces/default/flunders"
OUR_KUBECTL = str(REPO / ".venv" / "bin" / "kubectl")


def _post(api: httpx.Client, path: str, body: Mapping[str, object]) -> None:
    r = api.post(path, json=body)
    assert r.status_code in (201, 409), r.text


def _endpoints(api: httpx.Client, ip: str, port: int, ready: bool = True) -> None:
    subsets = [{"addresses": [{"ip": ip}], "ports": [{"name": "https", "port": port}]}] if ready else []
    r = api.put(
        "/api/v1/namespaces/wardle/endpoints/api", json={"metadata": {"name": "api"}, "subsets": subsets}
    )
    assert r.status_code in (200, 201), r.text


@pytest.fixture(scope="module")
def ext(
    api: httpx.Client, proxy_ip: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExtensionServer]:
    """The extension server, behind Service wardle/api (port 443) and its Endpoints."""
    cm = api.get("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication").json()
    server = ExtensionServer(proxy_ip, cm["data"], tmp_path_factory.mktemp("ext"))
    server.start()
    _post(api, "/api/v1/namespaces", {"metadata": {"name": "wardle"}})
    svc = {
        "metadata": {"name": "api"},
        "spec": {"ports": [{"name": "https", "port": 443, "targetPort": server.port}]},
    }
    _post(api, "/api/v1/namespaces/wardle/services", svc)
    _endpoints(api, proxy_ip, server.port)
    yield server
    server.stop()


def _apiservice(
    name: str, group: str, version: str, ca: bytes | None, service: dict[str, object] | None = None
) -> dict[str, object]:
    spec: dict[str, object] = {
        "group": group,
        "version": version,
        "groupPriorityMinimum": 1000,
        "versionPriority": 15,
    }
    if service:
        spec["service"] = service
    if ca is not None:
        spec["caBundle"] = base64.b64encode(ca).decode()
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": name},
        "spec": spec,
    }


def _available(api: httpx.Client, name: str) -> tuple[str, str]:
    obj = api.get(f"{REG}/{name}").json()
    conditions: list[dict[str, str]] = (obj.get("status") or {}).get("conditions") or []
    c = next((c for c in conditions if c["type"] == "Available"), {})
    return c.get("status", ""), c.get("reason", "")


@pytest.fixture(scope="module")
def wardle(api: httpx.Client, ext: ExtensionServer) -> str:
    """v1alpha1.wardle.example.com served by the extension server, Available."""
    r = api.post(
        REG, json=_apiservice(NAME, GROUP, VERSION, ext.cert, {"namespace": "wardle", "name": "api"})
    )
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["service"]["port"] == 443  # kube's default
    wait_for(lambda: _available(api, NAME) == ("True", "Passed"), 30, "the APIService to be Available")
    return NAME


def test_local_apiservices_listed_as_kube_prints_them(srv: Server) -> None:
    out = srv.kubectl("get", "apiservices", check=True).stdout
    rows = table_rows(out)
    assert rows[0] == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    by_name = {r[0]: r[1:3] for r in rows[1:]}
    for name in (
        "v1.",
        "v1.apps",
        "v2.autoscaling",
        "v1.rbac.authorization.k8s.io",
        "v1beta1.metrics.k8s.io",
    ):
        assert by_name[name] == ["Local", "True"], out
    assert "v1.apiregistration.k8s.io" not in by_name  # kube registers none for its own group


def test_validation_in_kubes_words(api: httpx.Client) -> None:
    bad = _apiservice("v1.wrong.example.com", "other.example.com", "v1", b"x")
    bad["spec"]["groupPriorityMinimum"] = 0  # type: ignore[index]
    bad["spec"]["versionPriority"] = 1001  # type: ignore[index]
    r = api.post(REG, json=bad)
    assert r.status_code == 422, r.text
    messages = {(c["field"], c["message"]) for c in r.json()["details"]["causes"]}
    assert messages == {
        ("metadata.name", 'Invalid value: "v1.wrong.example.com": must be `spec.version+"."+spec.group`: '
         '"v1.other.example.com"'),
        ("spec.groupPriorityMinimum", "Invalid value: 0: must be positive and less than 20000"),
        ("spec.versionPriority", "Invalid value: 1001: must be positive and less than 1000"),
        ("spec.caBundle", 'Invalid value: "1 bytes": local APIServices may not have a caBundle'),
    }  # fmt: skip
    both = _apiservice(
        "v1.both.example.com", "both.example.com", "v1", b"x", {"namespace": "a", "name": "b", "port": 0}
    )
    both["spec"]["insecureSkipTLSVerify"] = True  # type: ignore[index]
    causes = {c["field"]: c["message"] for c in api.post(REG, json=both).json()["details"]["causes"]}
    assert causes == {
        "spec.service.port": "Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive",
        "spec.insecureSkipTLSVerify": "Invalid value: true: may not be true if caBundle is present",
    }


def test_front_proxy_trust_published(api: httpx.Client) -> None:
    data = api.get("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication").json()[
        "data"
    ]
    assert json.loads(data["requestheader-allowed-names"]) == ["front-proxy-client"]
    assert json.loads(data["requestheader-username-headers"]) == ["X-Remote-User"]
    assert json.loads(data["requestheader-group-headers"]) == ["X-Remote-Group"]
    assert json.loads(data["requestheader-extra-headers-prefix"]) == ["X-Remote-Extra-"]
    assert "BEGIN CERTIFICATE" in data["requestheader-client-ca-file"]
    assert data["client-ca-file"] != data["requestheader-client-ca-file"]  # a CA of its own
    role = api.get(
        "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles/extension-apiserver-authentication-reader"
    )
    assert role.json()["rules"][0]["resourceNames"] == ["extension-apiserver-authentication"]
    assert api.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/system:auth-delegator").status_code == 200


METRICS_SERVER_RBAC = """
apiVersion: v1
kind: ServiceAccount
metadata: {labels: {k8s-app: metrics-server}, name: metrics-server, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {labels: {k8s-app: metrics-server}, name: metrics-server-auth-reader, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {labels: {k8s-app: metrics-server}, name: "metrics-server:system:auth-delegator"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:auth-delegator"}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
"""


def test_an_extension_servers_bindings_give_what_it_needs(srv: Server) -> None:
    srv.kubectl(
        "apply", "-f", "-", input=METRICS_SERVER_RBAC, check=True
    )  # as metrics-server's manifest binds
    sa = ("--as", "system:serviceaccount:kube-system:metrics-server")
    read = ("get", "configmaps/extension-apiserver-authentication", "-n", "kube-system")
    for question in (read, ("create", "tokenreviews"), ("create", "subjectaccessreviews")):
        assert srv.kubectl("auth", "can-i", *question, *sa).stdout == "yes\n", question
    assert srv.kubectl("auth", "can-i", "get", "configmaps/other", "-n", "kube-system", *sa).stdout == "no\n"


def test_relayed_with_the_callers_identity(
    srv: Server, api: httpx.Client, ext: ExtensionServer, wardle: str
) -> None:
    assert table_rows(srv.kubectl("get", "apiservice", wardle, check=True).stdout)[1][1:3] == [
        "wardle/api",
        "True",
    ]
    got = api.get(FLUNDERS, headers={"X-Remote-User": "mallory", "X-Remote-Group": "system:masters"})
    assert got.status_code == 200, got.text
    assert [i["spec"]["seenBy"] for i in got.json()["items"]] == ["admin", "admin"]
    call = ext.calls[-1]
    assert (call.path, call.user, call.common_name, call.authorization) == (
        FLUNDERS,
        "admin",
        "front-proxy-client",
        False,
    )
    assert call.groups == ["system:masters", "system:authenticated"]
    out = srv.kubectl("get", "flunders", check=True).stdout
    assert [r[0] for r in table_rows(out)] == ["NAME", "flunder-a", "flunder-b"]


def test_watch_relayed_as_it_streams(api: httpx.Client, ext: ExtensionServer, wardle: str) -> None:
    ext.release.clear()
    events = []
    with api.stream("GET", FLUNDERS + "?watch=true", timeout=30) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            events.append(json.loads(line)["type"])
            if len(events) == 2:
                ext.release.set()  # the first two came before the backend was let go on
            if len(events) == 3:
                break
    assert events == ["ADDED", "ADDED", "MODIFIED"]


def test_websocket_relayed(srv: Server, ext: ExtensionServer, wardle: str) -> None:
    from websockets.sync.client import connect

    ctx = ssl.create_default_context(cafile=str(srv.ca_file))
    url = f"wss://127.0.0.1:{srv.port}{FLUNDERS}/flunder-a/attach"
    with connect(url, ssl=ctx, additional_headers={"Authorization": f"Bearer {srv.token}"}) as ws:
        first = json.loads(ws.recv(timeout=10))
        assert (first["user"], first["path"]) == ("admin", f"{FLUNDERS}/flunder-a/attach")
        ws.send("hello flunder")
        assert ws.recv(timeout=10) == "hello flunder"
    assert not ext.calls[-1].authorization


def test_discovery_lists_the_extension_servers_resources(srv: Server, api: httpx.Client, wardle: str) -> None:
    groups = {g["name"]: g for g in api.get("/apis").json()["groups"]}
    assert groups[GROUP]["preferredVersion"] == {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}
    assert api.get(f"/apis/{GROUP}").json()["versions"] == [
        {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}
    ]
    assert [r["name"] for r in api.get(f"/apis/{GROUP}/{VERSION}").json()["resources"]] == [
        "flunders",
        "flunders/status",
    ]
    doc = api.get("/apis", headers={"Accept": AGGREGATED})
    assert doc.headers["content-type"] == AGGREGATED
    (item,) = [i for i in doc.json()["items"] if i["metadata"]["name"] == GROUP]
    (version,) = item["versions"]
    assert (version["version"], version["freshness"]) == (VERSION, "Current")
    (flunders,) = version["resources"]
    assert flunders["resource"] == "flunders" and flunders["shortNames"] == ["fl"]
    assert flunders["subresources"][0]["subresource"] == "status"
    for binary in (KUBECTL, OUR_KUBECTL):  # the real kubectl (aggregated discovery), then ours (legacy)
        out = srv.kubectl("api-resources", "--api-group", GROUP, binary=binary, check=True).stdout
        assert table_rows(out)[1] == ["flunders", "fl", f"{GROUP}/{VERSION}", "true", "Flunder"], binary
    assert [r[0] for r in table_rows(srv.kubectl("get", "fl", check=True).stdout)][1:] == [
        "flunder-a",
        "flunder-b",
    ]


def test_rbac_decides_before_the_backend_is_asked(
    srv: Server, api: httpx.Client, ext: ExtensionServer, wardle: str
) -> None:
    _post(api, "/api/v1/namespaces/default/serviceaccounts", {"metadata": {"name": "nobody"}})
    token = api.post("/api/v1/namespaces/default/serviceaccounts/nobody/token", json={"spec": {}}).json()[
        "status"
    ]["token"]
    before = len(ext.calls)
    denied = srv.kubectl("--token", token, "get", "flunders")
    assert denied.returncode != 0
    assert (
        'flunders.wardle.example.com is forbidden: User "system:serviceaccount:default:nobody" cannot list '
        'resource "flunders" in API group "wardle.example.com" in the namespace "default"'
    ) in denied.stderr
    assert all(c.user != "system:serviceaccount:default:nobody" for c in ext.calls[before:])
    role = {
        "metadata": {"name": "flunder-reader"},
        "rules": [{"apiGroups": [GROUP], "resources": ["flunders"], "verbs": ["list"]}],
    }
    _post(api, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", role)
    binding = {
        "metadata": {"name": "nobody-reads"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "flunder-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "nobody", "namespace": "default"}],
    }
    _post(api, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", binding)
    with httpx.Client(base_url=srv.url, verify=False, headers={"Authorization": f"Bearer {token}"}) as nobody:
        r = wait_for(lambda: (x := nobody.get(FLUNDERS)).status_code == 200 and x, 10, "the binding to hold")
    assert r.json()["items"][0]["spec"]["seenBy"] == "system:serviceaccount:default:nobody"
    assert "system:serviceaccounts:default" in ext.calls[-1].groups


def test_unavailable_backend_503_and_stale_discovery(
    srv: Server, api: httpx.Client, ext: ExtensionServer, proxy_ip: str, wardle: str
) -> None:
    ext.stop()
    try:
        r = api.get(FLUNDERS)  # relayed, refused: kube's plain-text 503 with the dial error
        assert r.status_code == 503 and r.headers["content-type"] == "text/plain; charset=utf-8"
        assert r.text == f"dial tcp {proxy_ip}:{ext.port}: connect: connection refused\n"
        wait_for(
            lambda: _available(api, wardle) == ("False", "FailedDiscoveryCheck"), 30, "FailedDiscoveryCheck"
        )
        status = api.get(f"{REG}/{wardle}").json()["status"]["conditions"][0]
        url = f"https://{proxy_ip}:{ext.port}/apis/{GROUP}/{VERSION}"
        assert status["message"].startswith(f'failing or missing response from {url}: Get "{url}": dial tcp')
        out = srv.kubectl("get", "apiservice", wardle, check=True).stdout
        assert table_rows(out)[1][1:4] == ["wardle/api", "False", "(FailedDiscoveryCheck)"]
        r = api.get(FLUNDERS)
        assert (r.status_code, r.text) == (503, "service unavailable\n")
        # a legacy discovery client asks the group/version, relayed: kube's 503, which kubectl words so
        raw = srv.kubectl("get", "--raw", f"/apis/{GROUP}/{VERSION}")
        assert raw.stderr == (
            "Error from server (ServiceUnavailable): the server is currently unable to handle the request\n"
        )
        doc = api.get("/apis", headers={"Accept": AGGREGATED}).json()
        (item,) = [i for i in doc["items"] if i["metadata"]["name"] == GROUP]
        assert item["versions"] == [{"version": VERSION, "freshness": "Stale"}]  # kube's: no resources
        assert GROUP in {g["name"] for g in api.get("/apis").json()["groups"]}  # listed, as kube lists it
        # kubectl 1.33 reads the aggregated document: a stale group/version is skipped, as with kube
        listed = srv.kubectl("api-resources", check=True)
        assert "flunders" not in listed.stdout and "deployments" in listed.stdout
        got = srv.kubectl("get", "flunders")
        assert got.stderr == 'error: the server doesn\'t have a resource type "flunders"\n'
        ours = srv.kubectl("api-resources", binary=OUR_KUBECTL, check=True).stdout  # legacy discovery
        assert "flunders" not in ours and "deployments" in ours
    finally:
        ext.start()
    wait_for(lambda: _available(api, wardle) == ("True", "Passed"), 40, "the backend to be Available again")
    assert api.get(FLUNDERS).status_code == 200


def test_kubes_reasons_for_the_service_and_endpoints(
    api: httpx.Client, ext: ExtensionServer, proxy_ip: str, wardle: str
) -> None:
    _endpoints(api, proxy_ip, ext.port, ready=False)
    try:
        wait_for(lambda: _available(api, wardle) == ("False", "MissingEndpoints"), 20, "MissingEndpoints")
        msg = api.get(f"{REG}/{wardle}").json()["status"]["conditions"][0]["message"]
        assert msg == 'endpoints for service/api in "wardle" have no addresses with port name "https"'
    finally:
        _endpoints(api, proxy_ip, ext.port)
    wait_for(lambda: _available(api, wardle) == ("True", "Passed"), 20, "Available again")
    missing = _apiservice(
        "v1.nowhere.example.com", "nowhere.example.com", "v1", None, {"namespace": "wardle", "name": "none"}
    )
    missing["spec"]["insecureSkipTLSVerify"] = True  # type: ignore[index]
    assert api.post(REG, json=missing).status_code == 201
    wait_for(
        lambda: _available(api, "v1.nowhere.example.com") == ("False", "ServiceNotFound"),
        20,
        "ServiceNotFound",
    )
    assert api.get("/apis/nowhere.example.com/v1/things").text == "service unavailable\n"
    assert api.delete(f"{REG}/v1.nowhere.example.com").status_code == 200


METRICS_SERVER_APISERVICE = """
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  labels:
    k8s-app: metrics-server
  name: v1beta1.metrics.k8s.io
spec:
  group: metrics.k8s.io
  groupPriorityMinimum: 100
  insecureSkipTLSVerify: true
  service:
    name: api
    namespace: wardle
  version: v1beta1
  versionPriority: 100
"""
LOCAL_METRICS = """
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
spec:
  group: metrics.k8s.io
  groupPriorityMinimum: 100
  version: v1beta1
  versionPriority: 100
"""


def test_metrics_taken_over_and_given_back(
    srv: Server, api: httpx.Client, ext: ExtensionServer, tmp_path: Path
) -> None:
    nodes = "/apis/metrics.k8s.io/v1beta1/nodes"
    assert api.get(nodes).json()["items"] == []  # kubelite's own: no nodes here
    srv.kubectl(
        "apply", "-f", "-", input=METRICS_SERVER_APISERVICE, check=True
    )  # metrics-server's, unchanged
    wait_for(
        lambda: _available(api, "v1beta1.metrics.k8s.io") == ("True", "Passed"),
        30,
        "metrics-server's backend",
    )
    names = [i["metadata"]["name"] for i in api.get(nodes).json()["items"]]
    assert names == ["from-extension-server"]
    assert ext.calls[-1].path == nodes
    raw = srv.kubectl("get", "--raw", nodes, check=True).stdout
    assert "from-extension-server" in raw
    srv.kubectl(
        "apply", "-f", "-", input=LOCAL_METRICS, check=True
    )  # back to Local: kubelite serves it again
    wait_for(lambda: api.get(nodes).json()["items"] == [], 10, "kubelite's own metrics")
    wait_for(lambda: _available(api, "v1beta1.metrics.k8s.io") == ("True", "Local"), 20, "Local again")
    srv.kubectl("apply", "-f", "-", input=METRICS_SERVER_APISERVICE, check=True)
    wait_for(lambda: api.get(nodes).json()["items"] != [], 30, "the backend again")
    assert api.delete(f"{REG}/v1beta1.metrics.k8s.io").status_code == 200
    wait_for(lambda: api.get(nodes).json()["items"] == [], 10, "kubelite's own metrics after the delete")
    assert api.get("/apis/metrics.k8s.io/v1beta1").json()["resources"][0]["kind"] == "NodeMetrics"


def test_custom_resources_registered_while_served(api: httpx.Client) -> None:
    crd = widget_crd("stable.example.com")
    assert api.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd).status_code == 201
    obj = wait_for(
        lambda: (r := api.get(f"{REG}/v1.stable.example.com")).status_code == 200 and r.json(), 30, "it"
    )
    assert obj["metadata"]["labels"] == {"kube-aggregator.kubernetes.io/automanaged": "true"}
    assert (obj["spec"]["groupPriorityMinimum"], obj["spec"]["versionPriority"]) == (1000, 100)
    assert _available(api, "v1.stable.example.com") == ("True", "Local")
    assert (
        api.delete(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.stable.example.com"
        ).status_code
        == 200
    )
    wait_for(lambda: api.get(f"{REG}/v1.stable.example.com").status_code == 404, 30, "its APIService to go")
