"""Discovery, routing and OpenAPI of the apps/v1 and batch/v1 groups, all served from the resource
table: what kubectl needs to find the kinds (short names, `all`, scale subresources in group
autoscaling) and to patch them (x-kubernetes-group-version-kind, retainKeys on a Deployment's
strategy)."""

from __future__ import annotations

from apiserver import openapi
from apiserver.discovery import aggregated, api_group, resource_list
from apiserver.handlers.routing import resolve


def test_discovery_of_apps_and_batch() -> None:
    groups = {g["metadata"]["name"]: g for g in aggregated(False, "v2")["items"]}
    apps = {r["resource"]: r for r in groups["apps"]["versions"][0]["resources"]}
    assert list(apps) == ["controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets"]
    assert (apps["deployments"]["shortNames"], apps["deployments"]["categories"]) == (["deploy"], ["all"])
    subs = {s["subresource"]: s["responseKind"] for s in apps["statefulsets"]["subresources"]}
    assert subs == {
        "status": {"group": "apps", "version": "v1", "kind": "StatefulSet"},
        "scale": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
    }
    assert (
        "subresources" not in apps["controllerrevisions"] and "categories" not in apps["controllerrevisions"]
    )
    batch = {r["resource"]: r for r in groups["batch"]["versions"][0]["resources"]}
    assert batch["cronjobs"]["shortNames"] == ["cj"] and batch["jobs"]["categories"] == ["all"]
    assert [s["subresource"] for s in batch["jobs"]["subresources"]] == ["status"]
    legacy = resource_list("apps", "v1")
    assert legacy is not None
    scale = next(r for r in legacy["resources"] if r["name"] == "replicasets/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    group = api_group("batch")
    assert group is not None and group["preferredVersion"] == {"groupVersion": "batch/v1", "version": "v1"}


def test_routes() -> None:
    route = resolve("/apis/apps/v1/namespaces/ns1/deployments/web/scale")
    assert route is not None and (route.resource.kind, route.namespace, route.name, route.subresource) == (
        "Deployment",
        "ns1",
        "web",
        "scale",
    )
    route = resolve("/apis/batch/v1/cronjobs")
    assert route is not None and route.resource.plural == "cronjobs" and route.namespace is None
    assert resolve("/apis/apps/v1/namespaces/ns1/jobs") is None  # jobs live in batch


def test_openapi_documents() -> None:
    root = openapi.v3_root()["paths"]
    assert {"apis/apps/v1", "apis/batch/v1"} <= set(root)
    doc = openapi.v3_document("apis/apps/v1")
    assert doc is not None
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "kind": "Deployment",
        "version": "v1",
    }
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert patch["operationId"] == "patchAppsV1NamespacedDeployment"
    schemas = doc["components"]["schemas"]
    strategy = schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert strategy["x-kubernetes-patch-strategy"] == "retainKeys"
    assert strategy["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"}]
    assert schemas["io.k8s.api.apps.v1.DeploymentSpec"]["required"] == ["selector", "template"]
    assert schemas["io.k8s.api.apps.v1.Deployment"]["description"].startswith("Deployment ")
    jobs = openapi.v3_document("apis/batch/v1")
    assert jobs is not None
    conditions = jobs["components"]["schemas"]["io.k8s.api.batch.v1.JobStatus"]["properties"]["conditions"]
    assert conditions["x-kubernetes-patch-merge-key"] == "type"
    assert "/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}/status" in jobs["paths"]
    assert "/apis/batch/v1/namespaces/{namespace}/jobs/{name}/scale" not in jobs["paths"]
