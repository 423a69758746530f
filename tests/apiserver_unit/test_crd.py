"""Pure decisions of the custom resource machinery: schema validation in kube's words, defaults,
pruning, the CRD's own validation, printer columns, what an Established CRD serves, the status the
controller converges on, and the run-time rows reaching lookup, routing, discovery and OpenAPI."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from api import resources
from apiserver import discovery, logic, openapi
from apiserver.crd import columns, hooks, model, objects
from apiserver.crd.served import publish
from apiserver.crd.validation import unknown_schema_fields, validate_crd, validate_crd_update
from apiserver.handlers.routing import resolve

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 3, "default": 1},
                "ratio": {"type": "number", "exclusiveMaximum": True, "maximum": 1},
                "mode": {"type": "string", "enum": ["A", "B"], "default": "A"},
                "port": {"x-kubernetes-int-or-string": True},
                "note": {"type": "string", "nullable": True},
                "tags": {
                    "type": "array",
                    "maxItems": 2,
                    "items": {
                        "type": "object",
                        "properties": {"k": {"type": "string"}, "v": {"type": "string", "default": "none"}},
                    },
                },
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "child": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"spec": {"type": "object"}},
                },
            },
        },
    },
}


def causes(spec: dict[str, Any]) -> dict[str, str]:
    return {
        c["field"]: c["message"]
        for c in objects.validate(SCHEMA, {"apiVersion": "x/v1", "kind": "K", "metadata": {}, "spec": spec})
    }


def test_type_errors_show_the_sent_type_as_kube_openapi_does() -> None:
    assert causes({"name": "ab", "replicas": "three"}) == {
        "spec.replicas": 'Invalid value: "string": spec.replicas in body must be of type integer: "string"'
    }
    assert causes({"name": "ab", "replicas": 1.5})["spec.replicas"].endswith(
        'must be of type integer: "number"'
    )
    assert causes({"name": "ab", "ratio": 0.5}) == {}  # an integer is a number, 0.5 is below the bound
    assert "spec.labels.a" in causes({"name": "ab", "labels": {"a": 1}})
    assert causes({"name": "ab", "port": 80}) == causes({"name": "ab", "port": "http"}) == {}
    assert causes({"name": "ab", "port": True})["spec.port"].endswith(
        'must be of type integer,string: "boolean"'
    )


def test_value_rules_in_kubes_words() -> None:
    got = causes({"name": "ABCDEF", "replicas": 4, "ratio": 1, "mode": "C", "tags": [{}, {}, {}]})
    name_msgs = [c["message"] for c in objects.validate(SCHEMA, {"spec": {"name": "ABCDEF"}})]
    assert name_msgs == [
        "Too long: may not be more than 5 bytes",
        "Invalid value: \"ABCDEF\": spec.name in body should match '^[a-z]+$'",
    ]
    assert got["spec.replicas"] == "Invalid value: 4: spec.replicas in body should be less than or equal to 3"
    assert got["spec.ratio"] == "Invalid value: 1: spec.ratio in body should be less than 1"
    assert got["spec.mode"] == 'Unsupported value: "C": supported values: "A", "B"'
    assert got["spec.tags"] == "Too many: 3: must have at most 2 items"
    assert (
        causes({"name": "a"})["spec.name"]
        == 'Invalid value: "a": spec.name in body should be at least 2 chars long'
    )
    assert (
        causes({"name": "a1"})["spec.name"]
        == "Invalid value: \"a1\": spec.name in body should match '^[a-z]+$'"
    )
    assert causes({"name": "ab", "replicas": 0})["spec.replicas"].endswith(
        "should be greater than or equal to 1"
    )
    assert causes({})["spec.name"] == "Required value"
    assert causes({"name": "ab", "note": None}) == {}
    assert "spec.name" in causes({"name": None})  # not nullable
    assert "spec.tags[1].k" in causes({"name": "ab", "tags": [{"k": "a"}, {"k": 1}]})


def test_metadata_name_restrictions_are_validated() -> None:
    # gatekeeper's CRDs restrict metadata.name (maxLength 63); kube validates the whole object
    schema = {
        "type": "object",
        "properties": {
            "metadata": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 63},
                    "generateName": {"type": "string"},
                },
            }
        },
    }
    ok = {"metadata": {"name": "n" * 63, "labels": {"a": "b"}}}
    assert objects.validate(schema, ok) == []
    long = {"metadata": {"name": "n" * 64}}
    assert [(c["field"], c["message"]) for c in objects.validate(schema, long)] == [
        ("metadata.name", "Too long: may not be more than 63 bytes")
    ]
    assert objects.validate(SCHEMA, long) == []  # a schema saying nothing of metadata


def test_defaults_fill_absent_fields_at_every_depth() -> None:
    obj = {"spec": {"name": "ab", "tags": [{"k": "a"}, {"k": "b", "v": "set"}]}}
    objects.apply_defaults(SCHEMA, obj)
    assert obj["spec"]["replicas"] == 1 and obj["spec"]["mode"] == "A"
    assert obj["spec"]["tags"] == [{"k": "a", "v": "none"}, {"k": "b", "v": "set"}]
    objects.apply_defaults(SCHEMA, obj)  # idempotent
    assert obj["spec"]["tags"][0] == {"k": "a", "v": "none"}


def test_pruning_and_unknown_fields() -> None:
    obj = {
        "apiVersion": "x/v1",
        "kind": "K",
        "metadata": {"name": "n"},
        "top": 1,
        "spec": {
            "name": "ab",
            "bogus": 1,
            "tags": [{"k": "a", "x": 2}],
            "labels": {"any": "ok"},
            "free": {"a": {"b": 1}},
            "child": {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "y": 1},
        },
    }
    assert sorted(objects.unknown_fields(SCHEMA, obj)) == [
        "spec.bogus",
        "spec.child.y",
        "spec.tags[0].x",
        "top",
    ]
    objects.prune(SCHEMA, obj)
    assert obj == {
        "apiVersion": "x/v1",
        "kind": "K",
        "metadata": {"name": "n"},
        "spec": {
            "name": "ab",
            "tags": [{"k": "a"}],
            "labels": {"any": "ok"},
            "free": {"a": {"b": 1}},
            "child": {"apiVersion": "v1", "kind": "Pod", "metadata": {}},
        },
    }


CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [
            {"name": "v1beta1", "served": True, "storage": False, "schema": {"openAPIV3Schema": SCHEMA}},
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": SCHEMA},
                "subresources": {
                    "status": {},
                    "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"},
                },
                "additionalPrinterColumns": [{"name": "Mode", "type": "string", "jsonPath": ".spec.mode"}],
            },
            {"name": "v2alpha1", "served": False, "storage": False, "schema": {"openAPIV3Schema": SCHEMA}},
        ],
    },
}


def test_a_good_crd_passes_and_bad_ones_name_the_field() -> None:
    assert validate_crd(CRD) == []
    bad = copy.deepcopy(CRD)
    bad["spec"]["versions"][1]["storage"] = False
    bad["spec"]["versions"][0]["name"] = "V1"
    bad["spec"]["versions"][1]["additionalPrinterColumns"][0]["type"] = "text"
    bad["spec"]["versions"][1]["subresources"]["scale"]["specReplicasPath"] = ".status.x"
    bad["spec"]["names"]["listKind"] = "Widget"
    fields = {c["field"]: c["message"] for c in validate_crd(bad)}
    assert fields["spec.versions"].endswith("must have exactly one version marked as storage version")
    assert fields["spec.versions[0].name"].startswith('Invalid value: "V1": a DNS-1035 label')
    assert fields["spec.versions[1].additionalPrinterColumns[0].type"].startswith('Unsupported value: "text"')
    assert fields["spec.versions[1].subresources.scale.specReplicasPath"].endswith(
        "should be a json path under .spec"
    )
    assert fields["spec.names.listKind"].endswith("kind and listKind cannot be the same")
    root = copy.deepcopy(CRD)
    root["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = {"properties": {"spec": {"properties": {}}}}
    fields = {c["field"]: c["message"] for c in validate_crd(root)}
    assert (
        fields["spec.versions[0].schema.openAPIV3Schema.type"]
        == "Required value: must not be empty at the root"
    )
    assert (
        fields["spec.versions[0].schema.openAPIV3Schema.properties[spec].type"]
        == "Required value: must not be empty for specified object fields"
    )
    moved = copy.deepcopy(CRD)
    moved["spec"]["scope"] = "Cluster"
    assert [c["field"] for c in validate_crd_update(moved, CRD)] == ["spec.scope"]
    stored = established(CRD)
    dropped = copy.deepcopy(stored)
    dropped["spec"]["versions"] = [v for v in dropped["spec"]["versions"] if v["name"] != "v1"]
    dropped["spec"]["versions"][0]["storage"] = True
    assert validate_crd_update(dropped, stored) == [
        {
            "reason": "FieldValueInvalid",
            "field": "status.storedVersions[0]",
            "message": 'Invalid value: "v1": must appear in spec.versions',
        }
    ]


def test_version_priority_orders_as_kube() -> None:
    names = ["v1alpha1", "foo", "v2", "v1beta2", "v1", "v1beta1", "v10", "v2beta1"]
    assert sorted(names, key=model.version_priority) == [
        "v10",
        "v2",
        "v1",
        "v2beta1",
        "v1beta2",
        "v1beta1",
        "v1alpha1",
        "foo",
    ]


def established(crd: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(crd)
    out["status"] = model.desired_status(out, [], "2026-01-01T00:00:00Z")
    return out


def test_status_and_what_an_established_crd_serves() -> None:
    assert model.served_kind(CRD) is None  # not Established yet
    crd = established(CRD)
    conds = {c["type"]: (c["status"], c["reason"]) for c in crd["status"]["conditions"]}
    assert conds == {
        "NamesAccepted": ("True", "NoConflicts"),
        "Established": ("True", "InitialNamesAccepted"),
    }
    assert crd["status"]["acceptedNames"]["singular"] == "widget"
    assert crd["status"]["acceptedNames"]["listKind"] == "WidgetList"
    assert crd["status"]["storedVersions"] == ["v1"]
    kind = model.served_kind(crd)
    assert kind is not None
    assert [v.resource.version for v in kind.versions] == [
        "v1",
        "v1beta1",
    ]  # preferred first, v2alpha1 not served
    assert [s.name for s in kind.versions[0].resource.subresources] == ["status", "scale"]
    assert not model.status_differs(crd["status"], model.desired_status(crd, [], "2030-01-01T00:00:00Z"))
    rival = copy.deepcopy(CRD)
    rival["metadata"]["name"] = "gizmos.example.com"
    rival["spec"]["names"] = {"plural": "gizmos", "kind": "Gizmo", "shortNames": ["wd"]}
    status = model.desired_status(rival, [crd], "2026-01-01T00:00:00Z")
    accepted = {c["type"]: c["status"] for c in status["conditions"]}
    assert accepted == {"NamesAccepted": "False", "Established": "False"}


def test_printer_columns_cells() -> None:
    obj = {
        "metadata": {"name": "w", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"mode": "A", "replicas": 2, "on": True},
        "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Done", "status": "False"}]},
    }
    printer = (
        {"name": "Mode", "type": "string", "jsonPath": ".spec.mode"},
        {"name": "N", "type": "integer", "jsonPath": ".spec.replicas"},
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
        {"name": "Missing", "type": "string", "jsonPath": ".spec.none"},
        {"name": "Wrong", "type": "integer", "jsonPath": ".spec.mode"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    )
    now = dt.datetime(2026, 1, 1, 0, 5, tzinfo=dt.UTC)
    assert columns.row_function(printer)(obj, now) == ["w", "A", 2, "True", None, None, "5m"]
    assert [c["name"] for c in columns.table_columns(())] == ["Name", "Age"]
    assert columns.jsonpath(obj, "{.status.conditions[1].type}") == ["Done"]
    assert columns.jsonpath(obj, ".status.conditions[*].type") == ["Ready", "Done"]


def test_printer_column_fields_take_escaped_dots_and_slashes() -> None:
    """Crossplane's Usage prints `.metadata.annotations.crossplane\\.io/usage-details`: kube's JSONPath
    reads a field up to its terminators (`.`, `[`, space ...), a backslash escaping the next one."""
    obj = {
        "metadata": {"annotations": {"crossplane.io/usage-details": "App uses DB", "a-b_c:d": "x"}},
        "spec": {"items": [{"n": 1}, {"n": 2}]},
    }
    assert columns.jsonpath(obj, r".metadata.annotations.crossplane\.io/usage-details") == ["App uses DB"]
    assert columns.jsonpath(obj, "{.metadata.annotations.a-b_c:d}") == ["x"]
    assert columns.jsonpath(obj, ".metadata.annotations.crossplane.io/usage-details") == []
    assert columns.jsonpath(obj, ".spec.items.*.n") == [1, 2]  # `*` names every value, not a field "*"
    assert columns.jsonpath(obj, ".spec.*[1].n") == [2]


@contextlib.contextmanager
def serving(crd: dict[str, Any]) -> Iterator[model.CustomKind]:
    """`crd`, established, published for the block (and unpublished after)."""
    kind = model.served_kind(established(crd))
    assert kind is not None
    publish([kind])
    try:
        yield kind
    finally:
        publish([])


def renamed(plural: str, kind: str) -> dict[str, Any]:
    """The test CRD serving `plural`/`kind` in its group instead of widgets."""
    crd = copy.deepcopy(CRD)
    crd["metadata"]["name"] = f"{plural}.example.com"
    crd["spec"]["names"] = {"plural": plural, "kind": kind}
    return crd


@pytest.fixture
def widgets_served() -> Iterator[model.CustomKind]:
    with serving(CRD) as kind:
        yield kind


def test_published_rows_reach_lookup_routing_discovery_and_openapi(widgets_served: model.CustomKind) -> None:
    assert resources.lookup("wd") is widgets_served.versions[0].resource
    assert resources.by_plural("example.com", "widgets").version == "v1"  # type: ignore[union-attr]
    route = resolve("/apis/example.com/v1beta1/namespaces/x/widgets/a/status")
    assert route is not None and route.resource.version == "v1beta1" and route.subresource == "status"
    group = next(g for g in discovery.api_group_list()["groups"] if g["name"] == "example.com")
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1"]
    assert group["preferredVersion"]["version"] == "v1"
    agg = discovery.aggregated(False)
    item = next(i for i in agg["items"] if i["metadata"]["name"] == "example.com")
    res = item["versions"][0]["resources"][0]
    assert res["shortNames"] == ["wd"] and res["subresources"][1]["responseKind"]["kind"] == "Scale"
    doc = openapi.v3_document("apis/example.com/v1")
    assert doc is not None
    body = doc["components"]["schemas"]["com.example.v1.Widget"]
    assert body["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "kind": "Widget", "version": "v1"}
    ]
    assert "spec" in body["properties"] and "metadata" in body["properties"]
    assert "apis/example.com/v1" in openapi.v3_root()["paths"]
    # no strategic merge patch for a custom resource (kubectl's client-side apply reads this)
    item_path = "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"
    assert (
        "application/strategic-merge-patch+json"
        not in doc["paths"][item_path]["patch"]["requestBody"]["content"]
    )
    assert "application/merge-patch+json" in doc["paths"][item_path]["patch"]["requestBody"]["content"]
    assert (
        "application/strategic-merge-patch+json"
        not in openapi.v2_document()["paths"][item_path]["patch"]["consumes"]
    )
    pods = openapi.v2_document()["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]["consumes"]
    assert "application/strategic-merge-patch+json" in pods
    publish([])
    assert resources.lookup("wd") is None and resolve("/apis/example.com/v1/widgets") is None
    assert openapi.v3_document("apis/example.com/v1") is None


def test_unknown_schema_keywords_and_forbidden_schema_parts() -> None:
    crd = copy.deepcopy(CRD)
    crd["spec"]["versions"][1]["schema"]["openAPIV3Schema"] = copy.deepcopy(SCHEMA)  # the versions share one
    spec_schema = crd["spec"]["versions"][1]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec_schema["typo"] = 1
    spec_schema["properties"]["tags"]["items"]["properties"]["k"]["maxlen"] = 3
    assert sorted(unknown_schema_fields(crd)) == [
        "spec.versions[1].schema.openAPIV3Schema.properties.spec.properties.tags.items.properties.k.maxlen",
        "spec.versions[1].schema.openAPIV3Schema.properties.spec.typo",
    ]
    crd = copy.deepcopy(CRD)
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = copy.deepcopy(SCHEMA)
    root["properties"]["metadata"] = {"type": "object", "properties": {"labels": {"type": "object"}}}
    root["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"] = False
    root["properties"]["spec"]["properties"]["ref"] = {"$ref": "#/definitions/x"}
    fields = {c["field"]: c["message"] for c in validate_crd(crd)}
    assert fields["spec.versions[0].schema.openAPIV3Schema.properties[metadata]"].startswith(
        "Forbidden: must not specify anything other than name and generateName"
    )
    assert (
        fields[
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-preserve-unknown-fields"
        ]
        == "Invalid value: false: must be true or undefined"
    )
    assert (
        fields["spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[ref].$ref"]
        == "Forbidden: $ref is not supported"
    )


def test_schema_keywords_of_the_wrong_json_type_are_refused() -> None:
    crd = copy.deepcopy(CRD)
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = copy.deepcopy(SCHEMA)
    spec = root["properties"]["spec"]["properties"]
    spec["replicas"]["maximum"] = "ten"
    spec["name"]["maxLength"] = True
    spec["mode"]["enum"] = "A"
    fields = {c["field"]: c["message"] for c in validate_crd(crd)}
    base = "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties"
    assert fields[f"{base}[replicas].maximum"] == 'Invalid value: "ten": must be of type number'
    assert fields[f"{base}[name].maxLength"] == "Invalid value: true: must be of type integer"
    assert fields[f"{base}[mode].enum"] == 'Invalid value: "A": must be of type array'
    # and the object checks never trip over such a schema
    assert (
        objects.validate(
            {
                "type": "object",
                "properties": {"a": {"type": "integer", "maximum": "x", "enum": "A", "required": "b"}},
            },
            {"a": 3},
        )
        == []
    )


def test_a_custom_kind_named_like_a_builtin_never_checks_the_builtin() -> None:
    with serving(renamed("pods", "Pod")):
        assert hooks.unknown_fields("Pod", {"apiVersion": "example.com/v1", "kind": "Pod", "bogus": 1}) == [
            "bogus"
        ]
        assert (
            hooks.unknown_fields("Pod", {"apiVersion": "v1", "spec": {}}) is None
        )  # core: the static tables
        assert (
            hooks.unknown_fields("Pod", {"spec": {"bogus": 1}}) is None
        )  # a patch without apiVersion: likewise
        assert resources.by_plural("", "pods") is not resources.by_plural("example.com", "pods")


def test_a_custom_services_kind_has_its_own_columns_and_schema() -> None:
    with serving(renamed("services", "Service")):
        res = resources.by_plural("example.com", "services")
        assert res is not None and resources.is_dynamic(res)
        obj = {
            "apiVersion": "example.com/v1",
            "kind": "Service",
            "metadata": {"name": "s", "namespace": "d"},
            "spec": {"name": "ab", "ports": "not core's list"},
        }
        assert logic.validate(res, obj) == []  # core Service's types do not apply
        table = logic.to_table(res, [obj], "1", "None")
        assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Mode"]
        core = resources.by_plural("", "services")
        assert core is not None and not resources.is_dynamic(core)
        assert [c["name"] for c in logic.to_table(core, [], "1", "None")["columnDefinitions"]][:2] == [
            "Name",
            "Type",
        ]


def test_protected_groups_need_the_approval_annotation() -> None:
    crd = copy.deepcopy(CRD)
    crd["spec"]["group"] = "widgets.k8s.io"
    crd["metadata"]["name"] = "widgets.widgets.k8s.io"
    assert [c["field"] for c in validate_crd(crd)] == ["metadata.annotations[api-approved.kubernetes.io]"]
    crd["metadata"]["annotations"] = {
        "api-approved.kubernetes.io": "https://github.com/kubernetes/kubernetes/pull/1"
    }
    assert validate_crd(crd) == []
