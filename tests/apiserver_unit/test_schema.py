"""The schema table: unknown-field detection, type checks, merge keys; and api.quantity."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.quantity import is_quantity, parse_quantity, to_int, to_milli
from apiserver.schema import kind_spec, type_errors, unknown_fields


def test_unknown_fields_paths() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labelz": {}},
        "spec": {
            "containers": [
                {"name": "a", "image": "x"},
                {"name": "b", "imagee": "y", "ports": [{"containerPort": 1, "hostport": 2}]},
            ],
            "affinity": {"anything": {"goes": 1}},  # typed now: a misspelled section is unknown
        },
        "status": {"phase": "Pending"},
        "extra": 1,
    }
    assert unknown_fields("Pod", pod) == [
        "metadata.labelz",
        "spec.containers[1].imagee",
        "spec.containers[1].ports[0].hostport",
        "spec.affinity.anything",
        "extra",
    ]


@pytest.mark.parametrize(
    "kind",
    [
        "Namespace",
        "Pod",
        "ReplicationController",
        "Service",
        "Endpoints",
        "Node",
        "Event",
        "Lease",
        "Binding",
        "Scale",
        "DeleteOptions",
        "Status",
        "PodList",
    ],
)
def test_every_kind_is_described(kind: str) -> None:
    spec = kind_spec(kind)
    assert spec is not None
    obj = {"kind": kind, "apiVersion": "v1", **({"metadata": {}} if "metadata" in spec.fields else {})}
    assert unknown_fields(kind, obj) == []


def test_unknown_kind_has_no_unknown_fields() -> None:
    assert unknown_fields("NoSuchKind", {"whatever": 1}) == []


def test_list_merge_keys() -> None:
    pod = kind_spec("Pod")
    assert pod is not None
    spec = pod.fields["spec"]
    assert spec.fields["containers"].merge_key == "name"
    assert spec.fields["volumes"].merge_key == "name"
    container = spec.fields["containers"].elem
    assert container is not None
    assert container.fields["ports"].merge_key == "containerPort"
    assert container.fields["env"].merge_key == "name"
    assert container.fields["volumeMounts"].merge_key == "mountPath"
    assert container.fields["args"].merge_key == ""
    svc = kind_spec("Service")
    assert svc is not None
    assert svc.fields["spec"].fields["ports"].merge_key == "port"
    meta = pod.fields["metadata"]
    assert meta.fields["finalizers"].set_merge


def test_type_errors() -> None:
    errs = type_errors(
        "ReplicationController",
        {
            "spec": {
                "replicas": "three",
                "selector": {"a": "b"},
                "template": {"spec": {"containers": [{"name": 1}]}},
            }
        },
    )
    assert errs == [
        (
            "spec.replicas",
            "json: cannot unmarshal string into Go struct field ReplicationControllerSpec.spec.replicas "
            "of type int64",
        ),
        (
            "spec.template.spec.containers[0].name",
            "json: cannot unmarshal number into Go struct field "
            "Container.spec.template.spec.containers.name of type string",
        ),
    ]
    assert (
        type_errors(
            "Pod",
            {"spec": {"containers": None, "nodeSelector": {"a": "b"}}, "metadata": {"labels": {"x": "y"}}},
        )
        == []
    )
    assert (
        type_errors("Pod", {"spec": {"containers": [{"resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]}})
        == []
    )
    assert type_errors("Pod", {"spec": {"terminationGracePeriodSeconds": True}})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", Decimal("0.1")),
        ("1", Decimal(1)),
        ("1.5Gi", Decimal(1610612736)),
        ("64Mi", Decimal(67108864)),
        ("1k", Decimal(1000)),
        ("2M", Decimal(2000000)),
        ("1e3", Decimal(1000)),
        ("5E-2", Decimal("0.05")),
        (".5", Decimal("0.5")),
        ("250u", Decimal("0.00025")),
        ("+1", Decimal(1)),
        ("-1", Decimal(-1)),
        (3, Decimal(3)),
    ],
)
def test_parse_quantity(text: str | int, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1Kb", "1.2.3", "--1", "1 Gi", "Mi", True])
def test_bad_quantities(text: object) -> None:
    assert not is_quantity(text)


def test_quantity_units() -> None:
    assert to_milli("100m") == 100
    assert to_milli("0.0001") == 1  # rounded up, as Quantity.MilliValue
    assert to_int("1.5Gi") == 1610612736
    assert to_int("1500m") == 2
