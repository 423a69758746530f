"""OpenAPI documents carry what kubectl needs: the v3 root, GVK-tagged patch operations with
fieldValidation, merge keys for client-side apply, and real component schemas."""

from __future__ import annotations

import orjson
import pytest

from apiserver import openapi


def test_v3_root_names_each_group_version() -> None:
    root = openapi.v3_root()
    assert set(root["paths"]) >= {
        "api/v1",
        "apis/coordination.k8s.io/v1",
        "apis/apps/v1",
        "apis/batch/v1",
        "apis/rbac.authorization.k8s.io/v1",
        "apis/authorization.k8s.io/v1",
    }
    url = root["paths"]["api/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/api/v1?hash=")
    assert url.endswith(openapi.document_hash("api/v1"))


@pytest.mark.parametrize(
    ("gv", "kind", "path"),
    [
        ("api/v1", "Pod", "/api/v1/namespaces/{namespace}/pods/{name}"),
        ("api/v1", "ReplicationController", "/api/v1/namespaces/{namespace}/replicationcontrollers/{name}"),
        ("api/v1", "Service", "/api/v1/namespaces/{namespace}/services/{name}"),
        ("api/v1", "Namespace", "/api/v1/namespaces/{name}"),
        ("api/v1", "Node", "/api/v1/nodes/{name}"),
        ("api/v1", "Endpoints", "/api/v1/namespaces/{namespace}/endpoints/{name}"),
        ("api/v1", "Event", "/api/v1/namespaces/{namespace}/events/{name}"),
        (
            "apis/coordination.k8s.io/v1",
            "Lease",
            "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}",
        ),
    ],
)
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
        if "patch" in item and item["patch"]["x-kubernetes-action"] == "patch":
            assert any(p["name"] == "fieldValidation" for p in item["patch"]["parameters"])


def test_proxy_paths_are_connect_operations() -> None:
    # as kube's: every method the proxy relays, at `proxy` (path as a query parameter) and `proxy/{path}`
    doc = openapi.v3_document("api/v1")
    assert doc is not None
    for item, kind in (
        ("namespaces/{namespace}/pods/{name}", "PodProxyOptions"),
        ("nodes/{name}", "NodeProxyOptions"),
    ):
        for suffix, param in (("proxy", "query"), ("proxy/{path}", "path")):
            entry = doc["paths"][f"/api/v1/{item}/{suffix}"]
            assert any(
                p["name"] == "path" and p["in"] == param
                for p in [*entry["parameters"], *entry["get"]["parameters"]]
            )
            for method in ("delete", "get", "head", "options", "patch", "post", "put"):
                op = entry[method]
                assert op["x-kubernetes-action"] == "connect" and "requestBody" not in op
                assert op["x-kubernetes-group-version-kind"] == {"group": "", "kind": kind, "version": "v1"}


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
    assert (containers["x-kubernetes-patch-merge-key"], containers["x-kubernetes-patch-strategy"]) == (
        "name",
        "merge",
    )
    ports = schemas["io.k8s.api.core.v1.Container"]["properties"]["ports"]
    assert ports["x-kubernetes-patch-merge-key"] == "containerPort"
    # server-side apply's keys are kube's: a port is one per protocol (TCP and UDP on 53)
    assert ports["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"]
    service_ports = schemas["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"]
    assert service_ports["x-kubernetes-patch-merge-key"] == "port"
    assert service_ports["x-kubernetes-list-map-keys"] == ["port", "protocol"]
    assert containers["x-kubernetes-list-map-keys"] == ["name"]
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
    assert openapi.v3_document("apis/nosuch.example.com/v1") is None


def test_self_subject_review_documented_in_each_version() -> None:
    """v1beta1 (for kubectl 1.27) has its own document and definition, as kube's: `kubectl explain
    --api-version=authentication.k8s.io/v1beta1` looks the kind up by that GVK."""
    assert {"apis/authentication.k8s.io/v1", "apis/authentication.k8s.io/v1beta1"} <= set(
        openapi.v3_root()["paths"]
    )
    doc = openapi.v3_document("apis/authentication.k8s.io/v1beta1")
    assert doc is not None
    assert list(doc["paths"]) == ["/apis/authentication.k8s.io/v1beta1/selfsubjectreviews"]
    (item,) = doc["paths"].values()
    assert set(item) == {"post", "parameters"}  # a question: created, never read or listed
    post = item["post"]
    gvk = {"group": "authentication.k8s.io", "kind": "SelfSubjectReview", "version": "v1beta1"}
    assert post["x-kubernetes-group-version-kind"] == gvk
    name = "io.k8s.api.authentication.v1beta1.SelfSubjectReview"
    assert post["requestBody"]["content"]["*/*"]["schema"] == {"$ref": f"#/components/schemas/{name}"}
    schemas = doc["components"]["schemas"]
    assert schemas[name]["x-kubernetes-group-version-kind"] == [gvk]
    assert set(schemas[name]["properties"]) == {"apiVersion", "kind", "metadata", "status"}
    v1 = schemas["io.k8s.api.authentication.v1.SelfSubjectReview"]
    assert v1["x-kubernetes-group-version-kind"] == [{**gvk, "version": "v1"}]
    v1_doc = openapi.v3_document("apis/authentication.k8s.io/v1")
    assert v1_doc is not None
    assert set(v1_doc["paths"]) == {
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        "/apis/authentication.k8s.io/v1/tokenreviews",
    }
    text = openapi.v3_document_json("apis/authentication.k8s.io/v1beta1") or b""
    for ref in {r.split('"')[0] for r in text.decode().split('"$ref":"#/components/schemas/')[1:]}:
        assert ref in schemas, ref
    v2 = openapi.v2_document()
    beta = v2["paths"]["/apis/authentication.k8s.io/v1beta1/selfsubjectreviews"]["post"]
    assert beta["parameters"][0]["schema"] == {"$ref": f"#/definitions/{name}"}
    assert name in v2["definitions"]


def test_v2_document() -> None:
    doc = openapi.v2_document()
    assert doc["swagger"] == "2.0"
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert any(p["name"] == "fieldValidation" for p in patch["parameters"])
    # v2 keeps a description beside its $ref (kube's v2 shape, what kubectl's v2 models read);
    # v3 wraps the $ref in allOf
    spec = doc["definitions"]["io.k8s.api.core.v1.Pod"]["properties"]["spec"]
    assert spec["$ref"] == "#/definitions/io.k8s.api.core.v1.PodSpec" and spec["description"]
    assert "allOf" not in spec
    strategy = doc["definitions"]["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert strategy["$ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy"
    assert strategy["x-kubernetes-patch-strategy"] == "retainKeys"
    v3 = openapi.v3_document("api/v1")
    assert v3 is not None
    assert v3["components"]["schemas"]["io.k8s.api.core.v1.Pod"]["properties"]["spec"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}
    ]
    assert orjson.loads(openapi.v2_document_json())["swagger"] == "2.0"


def _decode(buf: bytes) -> list[tuple[int, int | bytes]]:
    """A minimal protobuf wire decoder: (field number, varint or bytes) in order."""
    out: list[tuple[int, int | bytes]] = []
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            b = buf[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(buf):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.append((number, varint()))
        elif wire == 2:
            n = varint()
            out.append((number, buf[i : i + n]))
            i += n
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return out


def _fields(buf: bytes, number: int) -> list[bytes]:
    return [v for n, v in _decode(buf) if n == number and isinstance(v, bytes)]


def test_v2_protobuf_has_what_kubectl_127_reads() -> None:
    doc = openapi.v2_document_protobuf()
    assert _fields(doc, 1) == [b"2.0"]
    (paths,) = _fields(doc, 8)
    items = {_fields(p, 1)[0].decode(): _fields(p, 2)[0] for p in _fields(paths, 2)}
    item = items["/api/v1/namespaces/{namespace}/pods/{name}"]
    (patch,) = _fields(item, 8)
    extensions = {_fields(e, 1)[0]: _fields(_fields(e, 2)[0], 2)[0] for e in _fields(patch, 13)}
    assert extensions[b"x-kubernetes-group-version-kind"] == b'group: ""\nkind: Pod\nversion: v1\n'
    query_names = []
    for param in _fields(patch, 8):
        (parameter,) = _fields(param, 1)
        for non_body in _fields(parameter, 2):
            for query in _fields(non_body, 3):
                assert _fields(query, 2) == [b"query"]
                query_names.append(_fields(query, 4)[0])
    assert b"fieldValidation" in query_names
    lease = items["/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"]
    (lease_patch,) = _fields(lease, 8)
    assert any(b"kind: Lease" in _fields(_fields(e, 2)[0], 2)[0] for e in _fields(lease_patch, 13))
