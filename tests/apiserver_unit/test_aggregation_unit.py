"""The pure decisions of API aggregation (apiserver/aggregation): APIService validation in kube's
words, kube's discovery order and conditions, the availability reasons, the merged discovery
documents, the RBAC question of a relayed request and the identity headers, the published
front-proxy trust, the table cells, and the one lookup a request makes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from api import tables
from api.resources import by_plural
from apiserver import discovery
from apiserver.aggregation import availability
from apiserver.aggregation.apiservices import (
    APIServiceInfo,
    ServiceRef,
    local_apiservice,
    parse,
    set_condition,
    sorted_by_group_and_version,
    version_key,
)
from apiserver.aggregation.discovery import merge_aggregated, merge_group, merge_group_list, to_discovery
from apiserver.aggregation.frontproxy import configmap_data, merged_bundle
from apiserver.aggregation.requestinfo import attributes, identity_headers, without_identity
from apiserver.aggregation.served import PREFIX, Aggregator
from apiserver.validation.apiregistration import validate_api_service, validate_api_service_status

Obj = dict[str, Any]
NOW = "2026-01-01T00:00:00Z"


def apiservice(name: str, group: str, version: str, gp: int = 100, vp: int = 10, **spec: Any) -> Obj:
    return {
        "metadata": {"name": name},
        "spec": {
            "group": group,
            "version": version,
            "groupPriorityMinimum": gp,
            "versionPriority": vp,
            **spec,
        },
    }


def messages(obj: Obj) -> dict[str, str]:
    return {c["field"]: c["message"] for c in validate_api_service(obj)}


def test_validation() -> None:
    assert messages(apiservice("v1.example.com", "example.com", "v1")) == {}
    assert messages(apiservice("v1.", "", "v1")) == {}  # the legacy core group
    assert messages(apiservice("v2.", "", "v2")) == {
        "spec.group": "Required value: only v1 may have an empty group and it better be legacy kube"
    }
    bad = messages(apiservice("V1.Example", "Example", "V1", gp=20001, vp=0))
    assert bad["spec.groupPriorityMinimum"] == "Invalid value: 20001: must be positive and less than 20000"
    assert bad["spec.versionPriority"] == "Invalid value: 0: must be positive and less than 1000"
    assert bad["spec.group"].startswith('Invalid value: "Example": a lowercase RFC 1123 subdomain')
    assert bad["spec.version"].startswith('Invalid value: "V1": a DNS-1035 label')
    assert messages(apiservice("v1.x.io", "x.io", "v1", insecureSkipTLSVerify=True)) == {
        "spec.insecureSkipTLSVerify": "Invalid value: true: local APIServices may not have insecureSkipTLSVerify"
    }
    assert messages(apiservice("v1.x.io", "x.io", "v1", service={})) == {
        "spec.service.namespace": "Required value",
        "spec.service.name": "Required value",
        "spec.service.port": "Invalid value: None: port is not valid: must be between 1 and 65535, inclusive",
    }
    ca = base64.b64encode(b"-----BEGIN").decode()
    svc = {"namespace": "n", "name": "s", "port": 443}
    assert messages(apiservice("v1.x.io", "x.io", "v1", service=svc, caBundle=ca)) == {}
    assert messages(apiservice("v1.", "", "v1", service=svc, caBundle=ca)) == {  # never relayed: refused
        "spec.service": "Forbidden: kubelite serves the core group (v1) itself; it cannot be delegated"
    }
    status = {"status": {"conditions": [{"type": "Available", "status": "Maybe"}]}}
    (cause,) = validate_api_service_status(status, {})
    assert cause["message"] == 'Unsupported value: "Maybe": supported values: "True", "False", "Unknown"'


def test_kube_aware_version_order() -> None:
    shuffled = [
        "foo10",
        "v1",
        "v11alpha2",
        "v2",
        "v10beta3",
        "foo1",
        "v12alpha1",
        "v3beta1",
        "v10",
        "v11beta2",
    ]
    expected = [
        "v10",
        "v2",
        "v1",
        "v11beta2",
        "v10beta3",
        "v3beta1",
        "v12alpha1",
        "v11alpha2",
        "foo1",
        "foo10",
    ]
    assert sorted(shuffled, key=version_key) == expected


def test_sorted_by_group_and_version() -> None:
    infos = [
        parse(apiservice("v1.b.io", "b.io", "v1", gp=200, vp=5)),
        parse(apiservice("v2.b.io", "b.io", "v2", gp=10, vp=5)),
        parse(apiservice("v1beta1.a.io", "a.io", "v1beta1", gp=200, vp=20)),
        parse(apiservice("v1.c.io", "c.io", "v1", gp=300)),
    ]
    order = [[i.name for i in g] for g in sorted_by_group_and_version(infos)]
    # groups by their highest priority, then the APIService's name (v1.b.io before v1beta1.a.io);
    # versions by priority, then kube's order
    assert order == [["v1.c.io"], ["v2.b.io", "v1.b.io"], ["v1beta1.a.io"]]


def test_parse_and_local_objects() -> None:
    obj = apiservice(
        "v1.x.io", "x.io", "v1", service={"namespace": "n", "name": "s"}, insecureSkipTLSVerify=True
    )
    obj["status"] = {"conditions": [{"type": "Available", "status": "True"}]}
    info = parse(obj)
    assert (info.service, info.insecure, info.available, info.server_name) == (
        ServiceRef("n", "s", 443),
        True,
        True,
        "s.n.svc",
    )
    apps = local_apiservice("apps", "v1")
    assert apps is not None and apps["metadata"] == {
        "name": "v1.apps",
        "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"},
    }
    assert (apps["spec"]["groupPriorityMinimum"], apps["spec"]["versionPriority"]) == (17800, 15)
    assert local_apiservice("unknown.io", "v1") is None
    custom = local_apiservice("stable.example.com", "v1", custom=True)
    assert (
        custom is not None
        and custom["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"] == "true"
    )


def test_conditions_move_their_time_only_when_the_status_changes() -> None:
    first = set_condition({}, availability.passed("t1"))
    again = set_condition(first, {**availability.passed("t2"), "message": "still"})
    assert again["conditions"] == [
        {
            "type": "Available",
            "status": "True",
            "lastTransitionTime": "t1",
            "reason": "Passed",
            "message": "still",
        }
    ]
    down = set_condition(again, availability.failed_discovery("gone", "t3"))
    assert (down["conditions"][0]["status"], down["conditions"][0]["lastTransitionTime"]) == ("False", "t3")
    assert availability.same(down["conditions"][0], availability.failed_discovery("gone", "t9"))


@pytest.mark.parametrize(
    ("service", "endpoints", "reason", "message"),
    [
        (None, None, "ServiceNotFound", 'service/s in "n" is not present'),
        (
            {"spec": {"ports": [{"port": 80}]}},
            None,
            "ServicePortError",
            'service/s in "n" is not listening on port 443',
        ),
        (
            {"spec": {"ports": [{"port": 443}]}},
            None,
            "EndpointsNotFound",
            'cannot find endpoints for service/s in "n"',
        ),
        (
            {"spec": {"ports": [{"port": 443, "name": "https"}]}},
            {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"name": "other"}]}]},
            "MissingEndpoints",
            'endpoints for service/s in "n" have no addresses with port name "https"',
        ),
        (
            {"spec": {"ports": [{"port": 443, "name": "https"}]}},
            {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"name": "https"}]}]},
            None,
            None,
        ),
        ({"spec": {"type": "ExternalName"}}, None, None, None),  # only ClusterIP services are looked into
    ],
)
def test_precheck_reasons(
    service: Obj | None, endpoints: Obj | None, reason: str | None, message: str | None
) -> None:
    got = availability.precheck(ServiceRef("n", "s"), service, endpoints, NOW)
    assert (got or {}).get("reason") == reason and (got or {}).get("message") == message
    if got is not None:
        assert got["status"] == "False" and got["type"] == "Available"


def test_discovery_messages() -> None:
    url = availability.discovery_url("10.0.0.5:8443", "metrics.k8s.io", "v1beta1")
    assert url == "https://10.0.0.5:8443/apis/metrics.k8s.io/v1beta1"
    assert availability.no_response(url, availability.bad_status(url, 403)) == (
        f"failing or missing response from {url}: bad status from {url}: 403"
    )


RESOURCE_LIST = {
    "kind": "APIResourceList",
    "groupVersion": "wardle.example.com/v1alpha1",
    "resources": [
        {"name": "flunders", "singularName": "flunder", "namespaced": True, "kind": "Flunder", "verbs": ["get"]},
        {"name": "flunders/status", "namespaced": True, "kind": "Flunder", "verbs": ["get"]},
        {"name": "fischers", "singularName": "fischer", "namespaced": False, "kind": "Fischer", "verbs": ["list"],
         "shortNames": ["fi"], "categories": ["all"]},
    ],
}  # fmt: skip


def test_resource_list_to_aggregated_discovery() -> None:
    flunders, fischers = to_discovery(RESOURCE_LIST, "wardle.example.com", "v1alpha1")
    kind = {"group": "wardle.example.com", "version": "v1alpha1", "kind": "Flunder"}
    assert flunders == {
        "resource": "flunders",
        "responseKind": kind,
        "scope": "Namespaced",
        "singularResource": "flunder",
        "verbs": ["get"],
        "subresources": [{"subresource": "status", "responseKind": kind, "verbs": ["get"]}],
    }
    assert (fischers["scope"], fischers["shortNames"], fischers["categories"]) == ("Cluster", ["fi"], ["all"])


def remote(
    name: str, group: str, version: str, available: bool = True, vp: int = 10, gp: int = 100
) -> APIServiceInfo:
    return APIServiceInfo(name, group, version, ServiceRef("n", "s"), b"", False, gp, vp, available)


def test_merged_aggregated_document() -> None:
    local = discovery.aggregated(False, "v2")
    infos = [
        remote("v1alpha1.wardle.example.com", "wardle.example.com", "v1alpha1"),
        remote("v1beta1.metrics.k8s.io", "metrics.k8s.io", "v1beta1", available=False),
        remote("v9.apps", "apps", "v9", vp=1),  # another version of a group served here
        parse(apiservice("v1.apps", "apps", "v1", gp=17800, vp=15)),
    ]
    doc = merge_aggregated(local, infos, {"v1alpha1.wardle.example.com": RESOURCE_LIST})
    groups = {i["metadata"]["name"]: i for i in doc["items"]}
    assert [i["metadata"]["name"] for i in doc["items"]][-1] == "wardle.example.com"  # after the local ones
    (wardle,) = groups["wardle.example.com"]["versions"]
    assert wardle["freshness"] == "Current" and [r["resource"] for r in wardle["resources"]] == [
        "flunders",
        "fischers",
    ]
    # taken over, unavailable: stale and without resources, in place of kubelite's own
    assert groups["metrics.k8s.io"]["versions"] == [{"version": "v1beta1", "freshness": "Stale"}]
    assert [v["version"] for v in groups["apps"]["versions"]] == ["v1", "v9"]  # by versionPriority
    assert local == discovery.aggregated(False, "v2")  # the local document is not changed
    assert merge_aggregated(local, [parse(apiservice("v1.apps", "apps", "v1"))], {}) == local


def test_merged_legacy_documents() -> None:
    infos = [
        remote("v1alpha1.wardle.example.com", "wardle.example.com", "v1alpha1", available=False),
        remote("v2.wardle.example.com", "wardle.example.com", "v2", vp=20),
        remote("v1beta1.metrics.k8s.io", "metrics.k8s.io", "v1beta1"),
    ]
    groups = {g["name"]: g for g in merge_group_list(discovery.api_group_list(), infos)["groups"]}
    assert [v["version"] for v in groups["wardle.example.com"]["versions"]] == ["v2", "v1alpha1"]
    assert groups["wardle.example.com"]["preferredVersion"] == {
        "groupVersion": "wardle.example.com/v2",
        "version": "v2",
    }
    assert groups["metrics.k8s.io"]["versions"] == [
        {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}
    ]
    group = merge_group(None, "wardle.example.com", infos)
    assert group is not None and group["kind"] == "APIGroup" and len(group["versions"]) == 2
    assert merge_group(None, "nothing.example.com", infos) is None


def test_request_attributes() -> None:
    g = ("team",)
    a = attributes("bob", g, "GET", "/apis/w.io/v1/namespaces/ns/flunders", {})
    assert (a.verb, a.namespace, a.api_group, a.resource, a.name, a.resource_request) == (
        "list",
        "ns",
        "w.io",
        "flunders",
        "",
        True,
    )
    a = attributes(
        "bob", g, "GET", "/apis/w.io/v1/flunders", {"watch": "true", "fieldSelector": "metadata.name=x"}
    )
    assert (a.verb, a.namespace, a.name) == ("watch", "", "x")
    a = attributes("bob", g, "PATCH", "/apis/w.io/v1/namespaces/ns/flunders/f/status", {})
    assert (a.verb, a.name, a.subresource) == ("patch", "f", "status")
    a = attributes("bob", g, "DELETE", "/apis/w.io/v1/namespaces/ns/flunders", {})
    assert a.verb == "deletecollection"
    a = attributes("bob", g, "GET", "/apis/w.io/v1/namespaces/ns", {})
    assert (a.resource, a.name, a.namespace) == ("namespaces", "ns", "ns")
    a = attributes("bob", g, "GET", "/apis/w.io/v1/watch/flunders", {})
    assert (a.verb, a.resource) == ("watch", "flunders")
    a = attributes("bob", g, "GET", "/apis/w.io/v1", {})
    assert (a.resource_request, a.verb, a.path) == (False, "get", "/apis/w.io/v1")


def test_identity_headers() -> None:
    sent = identity_headers("alice", ("a", "system:authenticated"), (("scopes.example.com/x y", ("1", "2")),))
    assert sent == [
        (b"x-remote-user", b"alice"),
        (b"x-remote-group", b"a"),
        (b"x-remote-group", b"system:authenticated"),
        (b"x-remote-extra-scopes.example.com%2Fx%20y", b"1"),
        (b"x-remote-extra-scopes.example.com%2Fx%20y", b"2"),
    ]
    kept = without_identity([(b"X-Remote-User", b"m"), (b"x-remote-extra-a", b"b"), (b"accept", b"*/*")])
    assert kept == [(b"accept", b"*/*")]


CA1 = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n"
CA2 = "-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n"


def test_published_trust_merges_the_servers() -> None:
    assert merged_bundle(CA1, CA1) == CA1 and merged_bundle(CA1, CA2) == CA1 + CA2
    first = configmap_data("cluster", CA1)
    assert json.loads(first["requestheader-allowed-names"]) == ["front-proxy-client"]
    assert first["requestheader-client-ca-file"] == CA1
    second = configmap_data(CA1, CA2, first)
    assert second["requestheader-client-ca-file"] == CA1 + CA2  # another server's front proxy too
    assert configmap_data(CA1, CA2, second) == second  # stable: nothing to write again


def test_table_cells() -> None:
    res = by_plural("apiregistration.k8s.io", "apiservices")
    assert res is not None
    local = {
        "metadata": {"name": "v1.apps"},
        "spec": {},
        "status": {"conditions": [{"type": "Available", "status": "True"}]},
    }
    down = {
        "metadata": {"name": "v1beta1.metrics.k8s.io"},
        "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}},
        "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]},
    }
    fresh = {"metadata": {"name": "v1.x.io"}, "spec": {"service": {"namespace": "a", "name": "b"}}}
    table = tables.to_table(res, [local, down, fresh], "1")
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Service", "Available", "Age"]
    assert [r["cells"][:3] for r in table["rows"]] == [
        ["v1.apps", "Local", "True"],
        ["v1beta1.metrics.k8s.io", "kube-system/metrics-server", "False (MissingEndpoints)"],
        ["v1.x.io", "a/b", "Unknown"],
    ]


def test_one_lookup_routes_a_request() -> None:
    agg = Aggregator(store=None)  # type: ignore[arg-type]
    assert not agg.remote
    svc = apiservice(
        "v1alpha1.w.io", "w.io", "v1alpha1", service={"namespace": "n", "name": "s", "port": 443}
    )
    agg.note(PREFIX + "v1alpha1.w.io", json.dumps(svc).encode())
    agg.note(PREFIX + "v1.apps", json.dumps(apiservice("v1.apps", "apps", "v1")).encode())
    assert set(agg.remote) == {("w.io", "v1alpha1")}
    backend = agg.backend_for("/apis/w.io/v1alpha1/namespaces/x/flunders")
    assert backend is not None and backend.name == "v1alpha1.w.io"
    assert agg.backend_for("/apis/w.io/v1alpha1") is backend
    assert agg.backend_for("/apis/w.io") is None and agg.backend_for("/apis/apps/v1/deployments") is None
    generation = agg.generation
    agg.set_fetched("v1alpha1.w.io", RESOURCE_LIST)
    assert agg.generation == generation + 1
    agg.note(PREFIX + "v1alpha1.w.io", None)
    assert not agg.remote and "v1alpha1.w.io" not in agg.fetched
