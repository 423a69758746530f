"""What every kind's validation shares, each rule asserting the exact 422 Status kube-apiserver
would answer: object metadata (names by kind, namespaces, labels, annotations), a field of the
wrong JSON type, the Status's message, and bodies of any shape.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from api import names
from api.resources import by_plural
from apiserver.logic import validate
from tests.apiserver_unit.validation_cases import (
    BASE,
    DNS1035,
    LABEL,
    SUBDOMAIN,
    Case,
    Causes,
    Obj,
    check_rule,
    forbidden,
    inv,
    pod,
    req,
    rules,
    setp,
    status,
    stored,
)

CASES: list[Case] = [
    (
        "name-required",
        "pods",
        setp("metadata.name", None),
        [req("metadata.name", "name or generateName is required")],
    ),
    ("name-subdomain", "pods", setp("metadata.name", "Web"), [inv("metadata.name", '"Web"', SUBDOMAIN)]),
    (
        "name-too-long",
        "pods",
        setp("metadata.name", "a" * 254),
        [inv("metadata.name", '"' + "a" * 254 + '"', "must be no more than 253 characters")],
    ),
    (
        "generate-name-ok",
        "pods",
        lambda o: (o["metadata"].pop("name"), o["metadata"].update(generateName="web-")),
        [],
    ),
    (
        "generate-name-bad",
        "pods",
        lambda o: (o["metadata"].pop("name"), o["metadata"].update(generateName="Web-")),
        [inv("metadata.generateName", '"Web-"', SUBDOMAIN)],
    ),
    ("namespace-required", "pods", setp("metadata.namespace", None), [req("metadata.namespace")]),
    (
        "namespace-label",
        "pods",
        setp("metadata.namespace", "a.b"),
        [inv("metadata.namespace", '"a.b"', LABEL)],
    ),
    (
        "cluster-scoped-namespace",
        "nodes",
        setp("metadata.namespace", "default"),
        [forbidden("metadata.namespace", "not allowed on this type")],
    ),
    (
        "namespace-name-label",
        "namespaces",
        setp("metadata.name", "a.b"),
        [inv("metadata.name", '"a.b"', LABEL)],
    ),
    (
        "service-name-dns1035",
        "services",
        setp("metadata.name", "1web"),
        [inv("metadata.name", '"1web"', DNS1035)],
    ),
    (
        "node-name-subdomain",
        "nodes",
        setp("metadata.name", "node_1"),
        [inv("metadata.name", '"node_1"', SUBDOMAIN)],
    ),
    (
        "label-key",
        "pods",
        setp("metadata.labels", {"-bad": "x"}),
        [inv("metadata.labels", '"-bad"', "name part " + names.QUALIFIED_NAME_MSG)],
    ),
    (
        "label-key-prefix",
        "pods",
        setp("metadata.labels", {"Example.com/a": "x"}),
        [inv("metadata.labels", '"Example.com/a"', "prefix part " + SUBDOMAIN)],
    ),
    (
        "label-value",
        "pods",
        setp("metadata.labels", {"a": "x y"}),
        [inv("metadata.labels", '"x y"', names.LABEL_VALUE_MSG)],
    ),
    (
        "label-value-too-long",
        "pods",
        setp("metadata.labels", {"a": "v" * 64}),
        [inv("metadata.labels", '"' + "v" * 64 + '"', "must be no more than 63 characters")],
    ),
    (
        "annotations-size",
        "pods",
        setp("metadata.annotations", {"a": "x" * (256 * 1024)}),
        [
            {
                "reason": "FieldValueTooLong",
                "message": "Too long: may not be more than 262144 bytes",
                "field": "metadata.annotations",
            }
        ],
    ),
    (
        "annotation-key",
        "pods",
        setp("metadata.annotations", {"a b": "x"}),
        [inv("metadata.annotations", '"a b"', "name part " + names.QUALIFIED_NAME_MSG)],
    ),
    (
        "wrong-type",
        "pods",
        setp("spec.containers.0.name", 7),
        [
            {
                "reason": "FieldValueInvalid",
                "field": "spec.containers[0].name",
                "message": "json: cannot unmarshal number into Go struct field Container.spec.containers.name of type string",
            }
        ],
    ),
]


@rules(CASES)
def test_rule(plural: str, mutate: Callable[[Obj], object], causes: Causes) -> None:
    check_rule(plural, mutate, causes)


@pytest.mark.parametrize("plural", sorted(BASE))
def test_valid_base_objects(plural: str) -> None:
    assert status(plural, BASE[plural]()) is None


def test_message_reads_like_kubectl() -> None:
    obj = pod()
    obj["metadata"]["name"] = "Web"
    got = status("pods", obj)
    assert got is not None
    assert got["message"].startswith(
        'Pod "Web" is invalid: metadata.name: Invalid value: "Web": a lowercase RFC 1123 '
        "subdomain must consist of"
    )


def test_several_causes_are_listed() -> None:
    obj = pod()
    obj["spec"]["containers"][0].pop("image")
    obj["spec"]["restartPolicy"] = "Sometimes"
    got = status("pods", obj)
    assert got is not None
    assert got["message"] == (
        'Pod "web" is invalid: [spec.containers[0].image: Required value, spec.restartPolicy: '
        'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"]'
    )


def test_update_name_is_immutable() -> None:
    old = stored("pods")
    new = copy.deepcopy(old)
    new["metadata"]["name"] = "other"
    got = status("pods", new, old)
    assert got is not None
    assert inv("metadata.name", '"other"', "field is immutable") in got["details"]["causes"]


def test_never_raises_on_odd_shapes() -> None:
    r = by_plural("", "pods")
    assert r is not None
    for body in (
        {},
        {"metadata": None},
        {"spec": None},
        {"spec": {"containers": [None, 3]}},
        {"metadata": {"labels": None}, "spec": {"containers": [{"ports": [None]}]}},
    ):
        assert isinstance(validate(r, body), list)
