"""NetworkPolicy's row without a server: defaulting and validation never raise on odd shapes (the
type check refuses most of them first, but the rules must not rely on it), the shared CIDR and
port-name checks they use follow kube's ParseCIDR and IsValidPortName, and its Table row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from api import names, tables
from apiserver.validation.networkpolicy import validate_network_policy
from tests.apiserver_unit import strategy

Obj = dict[str, Any]


@pytest.mark.parametrize(
    "spec",
    [
        None,
        "x",
        {"podSelector": None, "ingress": None, "egress": [None, 3, {"ports": None, "to": [None]}]},
        {"ingress": [{"ports": [None, {"port": None, "endPort": "9"}], "from": [{"ipBlock": None}]}]},
        {"egress": [{"to": [{"ipBlock": {"cidr": 7, "except": None}}]}], "policyTypes": "Ingress"},
    ],
)
def test_odd_shapes_never_raise(spec: Any) -> None:
    obj = {"metadata": {"name": "odd", "namespace": "default"}, "spec": spec}
    _, causes = strategy.create("networking.k8s.io", "networkpolicies", obj)
    assert isinstance(causes, list)
    assert isinstance(validate_network_policy(obj), list)  # past the type check too


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("10.0.0.0/8", True),
        ("10.1.2.3/8", True),  # host bits set: kube's legacy fields take it
        ("2001:db8::/64", True),
        ("10.0.0.1", False),  # Python alone would read a bare address as a /32
        ("10.0.0.0/255.0.0.0", False),  # nor a netmask
        ("10.0.0.0/33", False),
        ("10.0.0.0/²", False),
        ("", False),
    ],
)
def test_cidr_follows_parse_cidr(value: str, ok: bool) -> None:
    assert (names.parse_cidr(value) is not None) is ok
    assert names.is_cidr(value) == ([] if ok else [names.CIDR_MSG])


def test_port_name_messages_in_kube_order() -> None:
    assert names.is_port_name("--") == [
        "must contain at least one letter (a-z)",
        "must not contain consecutive hyphens",
        "must not begin or end with a hyphen",
    ]
    assert names.is_port_name("") == [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "must contain at least one letter (a-z)",
    ]


def test_table_row_formats_the_pod_selector() -> None:
    now = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)
    res = strategy.resource("networking.k8s.io", "networkpolicies")
    sel = {
        "matchExpressions": [
            {"key": "tier", "operator": "NotIn", "values": ["b", "a"]},
            {"key": "x", "operator": "Exists"},
        ]
    }
    objs: list[Obj] = [
        {"metadata": {"name": n, "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"podSelector": s}}
        for n, s in (
            ("some", sel),
            ("all", {}),
            ("bad", {"matchExpressions": [{"key": "k", "operator": "Near"}]}),
        )
    ]
    table = tables.to_table(res, objs, "1", "None", now=now)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Pod-Selector", "Age"]
    assert [r["cells"] for r in table["rows"]] == [
        ["some", "tier notin (a,b),x", "10m"],
        ["all", "<none>", "10m"],
        ["bad", "<error>", "10m"],
    ]
