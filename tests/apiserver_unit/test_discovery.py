"""Discovery: Accept negotiation and the documents kubectl reads (KUBE-WIRE.md)."""

from __future__ import annotations

import pytest

from api.resources import by_kind, by_plural, lookup
from apiserver import kinds
from apiserver.discovery import (
    AGGREGATED_V2,
    AGGREGATED_V2BETA1,
    aggregated,
    api_group,
    api_group_list,
    api_versions,
    negotiate_discovery,
    resource_list,
)
from apiserver.handlers.routing import resolve

KUBECTL_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)
KUBECTL_127_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (KUBECTL_ACCEPT, AGGREGATED_V2),
        (KUBECTL_127_ACCEPT, AGGREGATED_V2BETA1),
        ("application/json", None),
        ("", None),
        ("*/*", None),
        (
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
            None,
        ),
        ("application/json; g=apidiscovery.k8s.io; v=v2; as=APIGroupDiscoveryList", AGGREGATED_V2),
    ],
)
def test_negotiation(accept: str, content_type: str | None) -> None:
    assert negotiate_discovery(accept) == content_type


def test_exact_content_types() -> None:
    assert AGGREGATED_V2 == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    assert AGGREGATED_V2BETA1 == "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def test_aggregated_core() -> None:
    doc = aggregated(True, "v2")
    assert (doc["kind"], doc["apiVersion"]) == ("APIGroupDiscoveryList", "apidiscovery.k8s.io/v2")
    (group,) = doc["items"]
    (version,) = group["versions"]
    assert version["version"] == "v1"
    by_name = {r["resource"]: r for r in version["resources"]}
    assert set(by_name) >= {
        "namespaces",
        "pods",
        "replicationcontrollers",
        "services",
        "endpoints",
        "nodes",
        "events",
        "configmaps",
        "secrets",
        "serviceaccounts",
    }
    pods = by_name["pods"]
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert (pods["scope"], pods["singularResource"], pods["shortNames"], pods["categories"]) == (
        "Namespaced",
        "pod",
        ["po"],
        ["all"],
    )
    assert {s["subresource"] for s in pods["subresources"]} == {
        "status",
        "binding",
        "log",
        "attach",
        "exec",
        "portforward",
        "proxy",
        "eviction",
        "ephemeralcontainers",
    }
    proxy = next(s for s in pods["subresources"] if s["subresource"] == "proxy")
    assert proxy["responseKind"] == {"group": "", "version": "v1", "kind": "PodProxyOptions"}
    assert proxy["verbs"] == ["create", "delete", "get", "patch", "update"]
    debug = next(s for s in pods["subresources"] if s["subresource"] == "ephemeralcontainers")
    assert debug["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert debug["verbs"] == ["get", "patch", "update"]
    evict = next(s for s in pods["subresources"] if s["subresource"] == "eviction")
    assert evict["responseKind"] == {"group": "policy", "version": "v1", "kind": "Eviction"}
    assert evict["verbs"] == ["create"]
    scale = next(s for s in by_name["replicationcontrollers"]["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert by_name["nodes"]["scope"] == "Cluster"
    assert {r["resource"]: r.get("shortNames") for r in version["resources"]}["endpoints"] == ["ep"]
    assert aggregated(True, "v2beta1")["apiVersion"] == "apidiscovery.k8s.io/v2beta1"


def test_aggregated_groups_have_leases() -> None:
    doc = aggregated(False, "v2")
    group = next(g for g in doc["items"] if g["metadata"]["name"] == "coordination.k8s.io")
    (version,) = group["versions"]
    assert [r["resource"] for r in version["resources"]] == ["leases"]
    assert version["resources"][0]["responseKind"]["group"] == "coordination.k8s.io"


def test_aggregated_returns_a_copy() -> None:
    aggregated(True, "v2")["items"].clear()
    assert aggregated(True, "v2")["items"]


def test_legacy_documents() -> None:
    assert api_versions("127.0.0.1:6443") == {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    }
    groups = api_group_list()
    assert groups["kind"] == "APIGroupList"
    assert groups["groups"][0]["preferredVersion"] == {
        "groupVersion": "coordination.k8s.io/v1",
        "version": "v1",
    }
    group = api_group("coordination.k8s.io")
    assert group is not None and group["kind"] == "APIGroup"
    assert api_group("nosuch.example.com") is None


def test_legacy_resource_list() -> None:
    doc = resource_list("", "v1")
    assert doc is not None
    assert (doc["kind"], doc["groupVersion"]) == ("APIResourceList", "v1")
    by_name = {r["name"]: r for r in doc["resources"]}
    assert by_name["pods"] == {
        "name": "pods",
        "singularName": "pod",
        "namespaced": True,
        "kind": "Pod",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["po"],
        "categories": ["all"],
    }
    assert by_name["pods/log"]["verbs"] == ["get"]
    assert by_name["pods/exec"]["kind"] == "PodExecOptions"
    assert by_name["pods/binding"]["verbs"] == ["create"]
    scale = by_name["replicationcontrollers/scale"]
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    assert {r.get("shortNames", [None])[0] for r in doc["resources"] if "/" not in r["name"]} >= {
        "po",
        "rc",
        "svc",
        "no",
        "ns",
        "ev",
        "ep",
    }
    leases = resource_list("coordination.k8s.io", "v1")
    assert leases is not None and leases["groupVersion"] == "coordination.k8s.io/v1"
    assert resource_list("nosuch.example.com", "v1") is None


def test_self_subject_review_also_in_v1beta1() -> None:
    """kubectl 1.27's `auth whoami` asks authentication.k8s.io/v1beta1: served besides v1, which
    stays the preferred version and keeps tokenreviews; every lookup by name finds v1."""
    authn = "authentication.k8s.io"
    v1, beta = by_plural(authn, "selfsubjectreviews"), by_kind(f"{authn}/v1beta1", "SelfSubjectReview")
    assert v1 is not None and beta is not None and (v1.version, beta.version) == ("v1", "v1beta1")
    assert lookup("selfsubjectreviews") is v1 and lookup(f"selfsubjectreviews.{authn}") is v1
    assert by_kind(f"{authn}/v1", "SelfSubjectReview") is v1
    route = resolve(f"/apis/{authn}/v1beta1/selfsubjectreviews")
    assert route is not None and route.resource is beta
    assert kinds.for_resource(beta) is kinds.for_resource(v1)  # one strategy: answered, not stored
    assert resolve(f"/apis/{authn}/v1beta1/tokenreviews") is None
    assert resolve(f"/apis/{authn}/v1alpha1/selfsubjectreviews") is None
    versions = [
        {"groupVersion": f"{authn}/v1", "version": "v1"},
        {"groupVersion": f"{authn}/v1beta1", "version": "v1beta1"},
    ]
    (group,) = [g for g in api_group_list()["groups"] if g["name"] == authn]
    assert group == {"name": authn, "versions": versions, "preferredVersion": versions[0]}
    assert api_group(authn) == {"kind": "APIGroup", "apiVersion": "v1", **group}
    for version in ("v2", "v2beta1"):  # kubectl 1.30+ and 1.27-1.29
        (item,) = [g for g in aggregated(False, version)["items"] if g["metadata"]["name"] == authn]
        listed = {v["version"]: [r["resource"] for r in v["resources"]] for v in item["versions"]}
        assert list(listed) == ["v1", "v1beta1"]  # the preferred version first
        assert listed == {"v1": ["selfsubjectreviews", "tokenreviews"], "v1beta1": ["selfsubjectreviews"]}
        (review,) = item["versions"][1]["resources"]
        assert review["responseKind"] == {"group": authn, "version": "v1beta1", "kind": "SelfSubjectReview"}
        assert (review["verbs"], review["scope"]) == (["create"], "Cluster")
    assert resource_list(authn, "v1beta1") == {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{authn}/v1beta1",
        "resources": [
            {
                "name": "selfsubjectreviews",
                "singularName": "selfsubjectreview",
                "namespaced": False,
                "kind": "SelfSubjectReview",
                "verbs": ["create"],
            }
        ],
    }
    v1_list = resource_list(authn, "v1")
    assert v1_list is not None
    assert [r["name"] for r in v1_list["resources"]] == ["selfsubjectreviews", "tokenreviews"]
