"""The real kubectl (1.27-1.33) reads `/openapi/v2` (gnostic protobuf) as models: `kubectl explain
--output=plaintext-openapiv2` finds built-in kinds and a CRD's kind, and says what the default
(OpenAPI v3) `explain` says of the same fields (names, descriptions, required marks, scalar
types; v2 names a referenced type `Object` where v3 names it). Client-side `apply`, which now
takes a Deployment's patch metadata from those models, still merges a changed container list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.apiserver.conftest import KUBECTL_127, Server
from tests.kubectls import VERSIONS, kubectl
from tests.polling import wait_for

V2 = "--output=plaintext-openapiv2"
GROUP = "v2pb.example.com"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
WIDGETS: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "description": "A Widget is a made-up kind with every kind of field.",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "description": "What the widget should be.",
                                "required": ["size", "ratio"],
                                "properties": {
                                    "size": {
                                        "type": "string",
                                        "enum": ["S", "M", "yes", ""],
                                        "description": "How big.",
                                    },
                                    "port": {
                                        "x-kubernetes-int-or-string": True,
                                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                                    },
                                    "replicas": {"type": "integer", "minimum": 0, "default": 1},
                                    "ratio": {"type": "number", "nullable": True},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "parts": {
                                        "type": "array",
                                        "x-kubernetes-list-type": "map",
                                        "x-kubernetes-list-map-keys": ["name"],
                                        "items": {
                                            "type": "object",
                                            "required": ["name"],
                                            "properties": {
                                                "name": {"type": "string", "description": "Unique: the key."},
                                                "count": {"type": "integer"},
                                            },
                                        },
                                    },
                                    "tags": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}

_FIELD = re.compile(r"^( +)(\S+)\t<(.*?)>( -required-)?$")


def explain(server: Server, *args: str, binary: str = kubectl("1.33")) -> str:
    return server.kubectl("explain", *args, binary=binary, check=True).stdout


def fields(text: str) -> dict[str, tuple[str, bool, str]]:
    """`explain`'s FIELDS: name -> (type, required, description with blanks squeezed), in either
    format (v2 indents by 3 and wraps at 80, v3 by 2; v3 of kubectl 1.33 adds an `enum:` line)."""
    out: dict[str, tuple[str, bool, str]] = {}
    name = ""
    body = text.split("FIELDS:\n", 1)[1]
    for line in body.splitlines():
        m = _FIELD.match(line)
        if m:
            name = m[2]
            out[name] = (m[3], bool(m[4]), "")
        elif (
            name
            and line.strip()
            and line.strip() != "<no description>"
            and not line.strip().startswith("enum: ")
        ):
            t, req, desc = out[name]
            out[name] = (t, req, f"{desc} {line.strip()}".strip())
    return out


def description(text: str) -> str:
    return " ".join(text.split("DESCRIPTION:\n", 1)[1].split("FIELDS:\n", 1)[0].split())


def same_fields(v2: str, v3: str, nullable: tuple[str, ...] = ()) -> None:
    """The same fields, descriptions and required marks; `nullable` fields are untyped in v2 (kube
    converts a CRD's nullable value so, and drops it from `required`)."""
    a, b = fields(v2), fields(v3)
    assert list(a) == list(b)
    for name, (t2, req2, desc2) in a.items():
        t3, req3, desc3 = b[name]
        if name in nullable:
            assert (t2, req2, desc2) == ("", False, desc3), name
            continue
        assert (req2, desc2) == (req3, desc3), name
        # v2 names a referenced type Object (kube's kubectl does too), v3 by its name; a free-form
        # object is a map of anything in v2; Quantity, IntOrString and Time are v2 strings
        # (a CRD's int-or-string is a field of no type, `<>`, in v2)
        shape = re.sub(r"\b[A-Z]\w*", "Object", t3)
        allowed = {shape}
        if "Object" in shape:
            allowed |= {shape.replace("Object", "map[string]"), shape.replace("Object", "string")}
        if shape == "Object":
            allowed.add("")
        assert t2 in allowed, (name, t2, t3)


def tree(text: str) -> list[tuple[int, str]]:
    """`explain --recursive`: (depth, name) of every field line, depth from the indentation."""
    lines = [(len(m[1]), m[2]) for m in map(_FIELD.match, text.split("FIELDS:\n", 1)[1].splitlines()) if m]
    indents = sorted({i for i, _ in lines})
    step = indents[1] - indents[0]
    return [((i - indents[0]) // step, name) for i, name in lines]


@pytest.mark.parametrize("version", VERSIONS)
def test_explain_pods_v2_says_what_v3_says(server: Server, version: str) -> None:
    v2 = explain(server, "pods", V2, binary=kubectl(version))
    assert v2.startswith("KIND:     Pod\nVERSION:  v1\n"), v2
    v3 = explain(server, "pods", binary=kubectl(version))  # every kubectl here defaults to v3
    assert "KIND:       Pod" in v3
    assert description(v2) == description(v3)
    same_fields(v2, v3)
    assert set(fields(v2)) == {"apiVersion", "kind", "metadata", "spec", "status"}


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_explain_a_field_v2_and_v3(server: Server, version: str) -> None:
    binary = kubectl(version)
    for path in ("deployment.spec.strategy", "pods.spec.containers", "services.spec.ports"):
        v2 = explain(server, path, V2, binary=binary)
        v3 = explain(server, path, binary=binary)
        assert f"RESOURCE: {path.rsplit('.', 1)[1]} <" in v2, v2
        assert description(v2) == description(v3), path
        same_fields(v2, v3)
    strategy = fields(explain(server, "deployment.spec.strategy", V2, binary=binary))
    assert set(strategy) == {"rollingUpdate", "type"}
    containers = fields(explain(server, "pods.spec.containers", V2, binary=binary))
    assert containers["name"][1] and containers["image"][0] == "string"  # -required-


def test_explain_recursive_v2_is_v3s_tree(server: Server) -> None:
    v2 = explain(server, "pods.spec", "--recursive", V2)
    v3 = explain(server, "pods.spec", "--recursive")
    assert tree(v2) == tree(v3)
    assert (0, "containers") in tree(v2) and (1, "livenessProbe") in tree(v2)
    deploy = tree(explain(server, "deployments", "--recursive", V2))
    assert (1, "strategy") in deploy and (2, "rollingUpdate") in deploy


@pytest.fixture(scope="module")
def widgets(http: httpx.Client) -> Iterator[str]:
    r = http.post(CRDS, json=WIDGETS)
    assert r.status_code == 201, r.text
    wait_for(
        lambda: http.get(f"/apis/{GROUP}/v1/widgets").status_code == 200, timeout=10, what="widgets served"
    )
    yield "widgets"
    http.delete(f"{CRDS}/widgets.{GROUP}")


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_explain_a_custom_kind_v2(server: Server, widgets: str, version: str) -> None:
    binary = kubectl(version)
    # the group named: other modules' CRDs on this session's server may serve `widgets` too
    group = f"--api-version={GROUP}/v1"
    v2 = explain(server, widgets, V2, group, binary=binary)
    assert v2.startswith(f"KIND:     Widget\nVERSION:  {GROUP}/v1\n"), v2
    assert description(v2) == description(explain(server, widgets, group, binary=binary))
    assert "A Widget is a made-up kind" in description(v2)
    v2 = explain(server, "widgets.spec", V2, group, binary=binary)
    v3 = explain(server, "widgets.spec", group, binary=binary)
    assert description(v2) == description(v3) == "What the widget should be."
    same_fields(v2, v3, nullable=("ratio",))
    got = fields(v2)
    assert set(got) == {"size", "port", "replicas", "ratio", "labels", "parts", "tags"}
    assert got["size"] == ("string", True, "How big.")
    assert fields(v3)["ratio"] == ("number", True, "")
    assert got["labels"][0] == "map[string]string" and got["tags"][0] == "[]string"
    assert got["parts"][0] == "[]Object"
    parts = fields(explain(server, "widgets.spec.parts", V2, group, binary=binary))
    assert parts["name"] == ("string", True, "Unique: the key.")


def deployment(name: str, containers: list[dict[str, Any]], strategy: dict[str, Any]) -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "strategy": strategy,
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}},
            },
        }
    )


@pytest.mark.parametrize("binary", [KUBECTL_127, kubectl("1.33")], ids=["1.27", "1.33"])
def test_client_side_apply_merges_by_the_v2_patch_metadata(
    server: Server, http: httpx.Client, ns: str, binary: str
) -> None:
    first = deployment(
        "web",
        [
            {"name": "a", "image": "busybox:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "image": "busybox:1"},
        ],
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2}},
    )
    server.kubectl("-n", ns, "apply", "-f", "-", input=first, binary=binary, check=True)
    # a server-side addition to a container the manifest keeps: a merge by name keeps it
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/web"
    r = http.patch(
        path,
        content=json.dumps(
            [{"op": "add", "path": "/spec/template/spec/containers/0/workingDir", "value": "/w"}]
        ),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert r.status_code == 200, r.text
    second = deployment(
        "web",
        [{"name": "c", "image": "busybox:3"}, {"name": "a", "image": "busybox:2"}],
        {"type": "Recreate"},
    )
    applied = server.kubectl("-n", ns, "apply", "-f", "-", input=second, binary=binary, check=True)
    assert "deployment.apps/web configured" in applied.stdout
    spec = http.get(path).json()["spec"]
    got = {c["name"]: c for c in spec["template"]["spec"]["containers"]}
    assert [c["name"] for c in spec["template"]["spec"]["containers"]] == ["c", "a"]  # $setElementOrder
    assert got["a"]["image"] == "busybox:2" and got["a"]["workingDir"] == "/w"
    assert "env" not in got["a"]  # dropped from the manifest: removed
    assert spec["strategy"] == {"type": "Recreate"}  # $retainKeys drops rollingUpdate
