"""OpenAPI documents carry what kubectl needs: the v3 root, GVK-tagged patch operations with
fieldValidation, merge keys for client-side apply, and real component schemas."""

from __future__ import annotations

import orjson
import pytest

from apiserver import openapi


def test_v3_root_names_each_group_version() -> None:
    root = openapi.v3_root()
    assert set(root["paths"]) == {"api/v1", "apis/coordination.k8s.io/v1"}
    url = root["paths"]["api/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/api/v1?hash=")
    assert url.endswith(openapi.document_hash("api/v1"))


@pytest.mark.parametrize(("gv", "kind", "path"), [
    ("api/v1", "Pod", "/api/v1/namespaces/{namespace}/pods/{name}"),
    ("api/v1", "ReplicationController", "/api/v1/namespaces/{namespace}/replicationcontrollers/{name}"),
    ("api/v1", "Service", "/api/v1/namespaces/{namespace}/services/{name}"),
    ("api/v1", "Namespace", "/api/v1/namespaces/{name}"),
    ("api/v1", "Node", "/api/v1/nodes/{name}"),
    ("api/v1", "Endpoints", "/api/v1/namespaces/{namespace}/endpoints/{name}"),
    ("api/v1", "Event", "/api/v1/namespaces/{namespace}/events/{name}"),
    ("apis/coordination.k8s.io/v1", "Lease", "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"),
])
def test_patch_operation_has_gvk_and_field_validation(gv: str, kind: str, path: str) -> None:
    doc = openapi.v3_document(gv)
    assert doc is not None
    patch = doc["paths"][path]["patch"]
    group = gv.split("/")[1] if gv.startswith("apis/") else ""
    assert patch["x-kubernetes-group-version-kind"] == {"group": group, "kind": kind, "version": "v1"}
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in patch["parameters"])
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    for verb in ("get", "put", "delete"):
        assert doc["paths"][path][verb]["x-kubernetes-group-version-kind"]["kind"] == kind


def test_every_patch_operation_of_a_kind_has_field_validation() -> None:
    # kubectl checks the first patch operation it finds for the GVK, in no particular order.
    doc = openapi.v3_document("api/v1")
    assert doc is not None
    for item in doc["paths"].values():
        if "patch" in item:
            assert any(p["name"] == "fieldValidation" for p in item["patch"]["parameters"])


def test_component_schemas_are_real() -> None:
    doc = openapi.v3_document("api/v1")
    assert doc is not None
    schemas = doc["components"]["schemas"]
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert pod["properties"]["spec"]["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}]
    assert pod["description"].startswith("Pod is a group of containers")
    spec = schemas["io.k8s.api.core.v1.PodSpec"]
    assert spec["required"] == ["containers"]
    containers = spec["properties"]["containers"]
    assert containers["description"].startswith("The containers of the pod")
    assert (containers["x-kubernetes-patch-merge-key"], containers["x-kubernetes-patch-strategy"]) == ("name", "merge")
    ports = schemas["io.k8s.api.core.v1.Container"]["properties"]["ports"]
    assert ports["x-kubernetes-patch-merge-key"] == "containerPort"
    assert schemas["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"]["x-kubernetes-patch-merge-key"] == "port"
    labels = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["labels"]
    assert (labels["type"], labels["additionalProperties"]) == ("object", {"type": "string"})
    assert "io.k8s.api.autoscaling.v1.Scale" in schemas
    assert "io.k8s.api.core.v1.PodList" in schemas
    # every $ref resolves
    text = openapi.v3_document_json("api/v1") or b""
    for ref in {r.split('"')[0] for r in text.decode().split('"$ref":"#/components/schemas/')[1:]}:
        assert ref in schemas, ref


def test_documents_serialize_and_unknown_group_is_none() -> None:
    body = openapi.v3_document_json("api/v1")
    assert body is not None and orjson.loads(body)["openapi"].startswith("3.")
    assert openapi.v3_document("apis/apps/v1") is None


def test_v2_document() -> None:
    doc = openapi.v2_document()
    assert doc["swagger"] == "2.0"
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert any(p["name"] == "fieldValidation" for p in patch["parameters"])
    assert doc["definitions"]["io.k8s.api.core.v1.Pod"]["properties"]["spec"]["allOf"] == [
        {"$ref": "#/definitions/io.k8s.api.core.v1.PodSpec"}]
    assert orjson.loads(openapi.v2_document_json())["swagger"] == "2.0"
