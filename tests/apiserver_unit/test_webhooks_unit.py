"""The admission webhooks' pure decisions: rule matching (subresources, wildcards, scope), the
selectors, the answer's checks and kube's error words, patches, endpoint choice, the kinds'
validation, and that a write with no matching webhook never reaches the transport."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any, cast

import pytest

from api.errors import ApiError
from api.resources import by_plural
from api.selectors import selector_from_label_selector
from apiserver.auth import ADMIN
from apiserver.storage.interface import Store
from apiserver.validation.admission import validate_validating_configuration
from apiserver.webhooks import dispatch, requester, review, transport
from apiserver.webhooks.configs import VALIDATING_PREFIX, Configurations, parse_hook
from apiserver.webhooks.matching import object_selected, rule_matches
from apiserver.webhooks.request import attributes, shape
from apiserver.webhooks.review import Attributes, CallError

RULE = {"operations": ["UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "scope": "*"}


@pytest.mark.parametrize(
    ("resources", "subresource", "matches"),
    [
        (["pods"], "", True),
        (["pods"], "status", False),
        (["pods/status"], "status", True),
        (["pods/status"], "", False),
        (["pods/*"], "status", True),
        (["pods/*"], "", True),
        (["*/status"], "status", True),
        (["*"], "status", False),
        (["*"], "", True),
        (["*/*"], "ephemeralcontainers", True),
        (["configmaps"], "", False),
    ],
)
def test_rule_resources(resources: list[str], subresource: str, matches: bool) -> None:
    rule = {**RULE, "resources": resources}
    assert rule_matches(rule, "", "v1", "pods", subresource, "UPDATE", True) is matches


def test_rule_scope_operation_group_version() -> None:
    rule = {**RULE, "resources": ["*"], "operations": ["CREATE", "UPDATE"]}
    assert not rule_matches(rule, "", "v1", "pods", "", "DELETE", True)
    assert not rule_matches(rule, "apps", "v1", "pods", "", "UPDATE", True)
    assert not rule_matches(rule, "", "v2", "pods", "", "UPDATE", True)
    namespaced, cluster = {**rule, "scope": "Namespaced"}, {**rule, "scope": "Cluster"}
    assert rule_matches(namespaced, "", "v1", "pods", "", "UPDATE", True)
    assert not rule_matches(namespaced, "", "v1", "nodes", "", "UPDATE", False)
    assert not rule_matches(
        namespaced, "", "v1", "namespaces", "", "UPDATE", True
    )  # a Namespace is cluster-scoped
    assert rule_matches(cluster, "", "v1", "namespaces", "", "UPDATE", True)
    assert rule_matches(cluster, "", "v1", "nodes", "", "UPDATE", False)
    assert rule_matches(
        {**rule, "operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"]},
        "x.io",
        "v9",
        "a",
        "",
        "DELETE",
        True,
    )


def test_object_selector_new_or_old() -> None:
    sel = selector_from_label_selector({"matchLabels": {"a": "1"}})
    assert object_selected(None, None, None)
    assert object_selected(sel, {"metadata": {"labels": {"a": "1"}}}, None)
    assert object_selected(sel, None, {"metadata": {"labels": {"a": "1"}}})  # a delete's old object
    assert not object_selected(sel, {"metadata": {}}, {"metadata": {"labels": {"a": "2"}}})


def _attrs(**kw: Any) -> Attributes:
    base: dict[str, Any] = {
        "operation": "CREATE",
        "group": "",
        "version": "v1",
        "kind": "ConfigMap",
        "resource": "configmaps",
        "subresource": "",
        "namespace": "ns",
        "name": "c",
        "obj": {"metadata": {"name": "c"}},
        "old": None,
        "user": ADMIN,
        "dry_run": False,
        "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"},
    }
    return Attributes(**{**base, **kw})


def _answer(response: dict[str, Any], **review_kw: Any) -> bytes:
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response, **review_kw}
    return json.dumps(body).encode()


def test_request_body_fields() -> None:
    body = json.loads(review.request_body(_attrs(subresource="status", dry_run=True), "u1"))
    req = body["request"]
    assert body["apiVersion"] == "admission.k8s.io/v1" and req["uid"] == "u1"
    assert req["subResource"] == req["requestSubResource"] == "status"
    assert req["requestKind"] == req["kind"] == {"group": "", "version": "v1", "kind": "ConfigMap"}
    assert req["userInfo"] == {"username": "admin", "groups": ["system:masters", "system:authenticated"]}
    assert req["dryRun"] is True and req["oldObject"] is None


def test_subresources_of_another_kind() -> None:
    """pods/binding, pods/eviction and */scale are admitted as their body's kind with the parent's
    resource; a TokenRequest is not admitted at all."""
    by = requester(ADMIN, "PATCH", {})
    cases = [
        (("apps", "deployments"), "scale", "UPDATE", ("autoscaling", "v1", "Scale")),
        (("", "replicationcontrollers"), "scale", "UPDATE", ("autoscaling", "v1", "Scale")),
        (("", "pods"), "binding", "CREATE", ("", "v1", "Binding")),
        (("", "pods"), "eviction", "CREATE", ("policy", "v1", "Eviction")),
        (("", "pods"), "status", "UPDATE", ("", "v1", "Pod")),
    ]
    for (group, plural), sub, op, (kg, kv, kind) in cases:
        res = by_plural(group, plural)
        assert res is not None
        assert shape(res, sub, op, "ns") == (group, res.version, plural, sub, op, True)
        a = attributes(by, op, res, sub, "ns", "x", {}, None, False)
        req = review.request_attributes(a)
        assert req["kind"] == req["requestKind"] == {"group": kg, "version": kv, "kind": kind}
        assert (
            req["resource"] == req["requestResource"] == {"group": group, "version": "v1", "resource": plural}
        )
        assert req["subResource"] == req["requestSubResource"] == sub
    tokens = by_plural("", "serviceaccounts")
    assert tokens is not None and shape(tokens, "token", "CREATE", "ns") is None


@pytest.mark.parametrize(
    ("response", "mutating", "words"),
    [
        ({"uid": "other", "allowed": True}, True, 'expected response.uid="u", got "other"'),
        ({"uid": "u", "allowed": True, "patch": "W10="}, True, "response.patch but not response.patchType"),
        (
            {"uid": "u", "allowed": True, "patchType": "JSONPatch"},
            True,
            "response.patchType but not response.patch",
        ),
        (
            {"uid": "u", "allowed": True, "patch": "W10=", "patchType": "Merge"},
            True,
            'unsupported patch type "Merge"',
        ),
        (
            {"uid": "u", "allowed": True, "patch": "W10=", "patchType": "JSONPatch"},
            False,
            "may not return response.patch",
        ),
    ],
)
def test_bad_answers_are_call_errors(response: dict[str, Any], mutating: bool, words: str) -> None:
    with pytest.raises(CallError, match=re.escape(words)):
        review.read_response(_answer(response), "u", mutating)
    with pytest.raises(CallError, match=re.escape("expected webhook response of admission.k8s.io/v1")):
        review.read_response(_answer({"uid": "u"}, apiVersion="admission.k8s.io/v1beta1"), "u", False)


def test_v1beta1_reviews_as_kube_sends_and_reads_them() -> None:
    """A webhook naming v1beta1 before v1 (older kyverno, istio) gets an admission.k8s.io/v1beta1
    review with the same request; its answer's uid, apiVersion and kind are not checked, a patch
    is a JSONPatch without a patchType, and a validating webhook's patch is ignored."""
    body = json.loads(review.request_body(_attrs(), "u1", "v1beta1"))
    assert body["apiVersion"] == "admission.k8s.io/v1beta1" and body["kind"] == "AdmissionReview"
    assert body["request"] == json.loads(review.request_body(_attrs(), "u1"))["request"]
    patch = base64.b64encode(b'[{"op":"add","path":"/data","value":{}}]').decode()
    loose = json.dumps({"response": {"uid": "other", "allowed": True, "patch": patch}}).encode()
    v = review.read_response(loose, "u1", True, "v1beta1")
    assert v.allowed and v.patch == [{"op": "add", "path": "/data", "value": {}}]
    assert review.read_response(loose, "u1", False, "v1beta1").patch is None
    with pytest.raises(CallError, match="webhook response was absent"):
        review.read_response(b"{}", "u1", True, "v1beta1")
    hook = {"name": "h.example.com", "clientConfig": {"url": "https://h/x"}, "sideEffects": "None"}
    assert parse_hook("c", {**hook, "admissionReviewVersions": ["v1beta1", "v1"]}).review_version == "v1beta1"
    assert (
        parse_hook("c", {**hook, "admissionReviewVersions": ["v2", "v1", "v1beta1"]}).review_version == "v1"
    )


def test_verdict_and_denial_words() -> None:
    patch = base64.b64encode(b'[{"op":"add","path":"/data","value":{"a":"b"}}]').decode()
    v = review.read_response(
        _answer({"uid": "u", "allowed": True, "patch": patch, "patchType": "JSONPatch", "warnings": ["w"]}),
        "u",
        True,
    )
    assert (
        v.allowed
        and v.warnings == ("w",)
        and v.patch == [{"op": "add", "path": "/data", "value": {"a": "b"}}]
    )
    obj = {"metadata": {"name": "c"}}
    assert review.apply_patch("h", obj, v.patch) == {"metadata": {"name": "c"}, "data": {"a": "b"}}
    assert obj == {"metadata": {"name": "c"}}  # left as it was
    e = review.denied("h.example.com", _attrs(), {"code": 422, "reason": "Invalid", "message": "nope"})
    assert (e.code, e.reason) == (422, "Invalid")
    assert (
        e.message == 'configmaps "c" is forbidden: admission webhook "h.example.com" denied the request: nope'
    )
    e = review.denied("h.example.com", _attrs(name="", group="apps", resource="deployments"), {})
    assert (e.code, e.reason) == (403, "Forbidden")
    assert (
        e.message
        == 'deployments.apps "Unknown" is forbidden: admission webhook "h.example.com" denied the request without explanation'
    )
    e = review.denied("h.example.com", _attrs(), {"code": 500, "message": "boom"})
    assert e.message == 'Internal error occurred: admission webhook "h.example.com" denied the request: boom'
    with pytest.raises(ApiError, match="attempted to modify the object"):
        review.apply_patch("h", None, [{"op": "add", "path": "/x", "value": 1}])
    with pytest.raises(ApiError) as failed:
        review.apply_patch("h", obj, [{"op": "remove", "path": "/nothere"}])
    assert failed.value.code == 500


def test_pick_endpoint() -> None:
    svc = {"metadata": {"name": "s"}, "spec": {"ports": [{"name": "https", "port": 443}]}}
    slices = [
        {
            "ports": [{"name": "https", "port": 8443}],
            "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": False}},
                {"addresses": ["10.0.0.2"], "conditions": {}},
            ],
        },
        {"ports": [{"name": "other", "port": 9}], "endpoints": [{"addresses": ["10.0.0.3"]}]},
    ]
    assert transport.pick_endpoint(svc, slices, None, 443) == ("10.0.0.2", 8443)
    with pytest.raises(CallError, match="no service port 444"):
        transport.pick_endpoint(svc, slices, None, 444)
    with pytest.raises(CallError, match='no endpoints available for service "s"'):
        transport.pick_endpoint(svc, slices[:1][:0], None, 443)
    eps = {"subsets": [{"addresses": [{"ip": "10.0.0.9"}], "ports": [{"name": "https", "port": 7}]}]}
    assert transport.pick_endpoint(svc, [], eps, 443) == ("10.0.0.9", 7)


def _config(*resources: str) -> bytes:
    hook = {
        "name": "h.example.com",
        "clientConfig": {"url": "https://127.0.0.1:1/"},
        "rules": [
            {
                "operations": ["CREATE"],
                "apiGroups": [""],
                "apiVersions": ["v1"],
                "resources": list(resources),
                "scope": "*",
            }
        ],
        "failurePolicy": "Fail",
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    }
    return json.dumps({"metadata": {"name": "c"}, "webhooks": [hook]}).encode()


def test_no_matching_webhook_never_reaches_the_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_call(*args: Any) -> bytes:
        raise AssertionError("a webhook was called")

    monkeypatch.setattr(transport, "post", no_call)
    configs = Configurations(cast(Store, None), VALIDATING_PREFIX)
    configmaps = by_plural("", "configmaps")
    assert configmaps is not None
    by = requester(ADMIN, "POST", {})
    obj = {"metadata": {"name": "x"}}

    a = attributes(by, "CREATE", configmaps, "", "ns", "x", obj, None, False)

    async def write() -> Any:
        await dispatch.validate(None, configs, by, configmaps, a)
        return await dispatch.mutate(None, configs, by, configmaps, a)

    assert asyncio.run(write()) is obj  # nothing configured
    configs.note(VALIDATING_PREFIX + "c", _config("secrets"))
    assert asyncio.run(write()) is obj  # configured for another resource: one memoized lookup
    assert list(configs._by_shape.values()) == [()]
    configs.note(VALIDATING_PREFIX + "c", _config("configmaps"))
    with pytest.raises(AssertionError, match="a webhook was called"):
        asyncio.run(write())


def _causes(**change: Any) -> list[tuple[str, str]]:
    hook = {
        "name": "a.b.example.com",
        "clientConfig": {"service": {"namespace": "n", "name": "s", "port": 443}},
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        **change,
    }
    return [(c["field"], c["message"]) for c in validate_validating_configuration({"webhooks": [hook]})]


def test_validation_words() -> None:
    assert _causes() == []
    assert _causes(name="Bad_Name.a.b")[0][1].startswith(
        'Invalid value: "Bad_Name.a.b": a lowercase RFC 1123'
    )
    rule = {"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"]}
    assert _causes(rules=[{**rule, "resources": ["pods/*", "pods/status"]}]) == [
        (
            "webhooks[0].rules[0].resources[1]",
            "Invalid value: \"pods/status\": if 'pods/*' is present, must not specify pods/status",
        )
    ]
    assert _causes(rules=[{**rule, "resources": ["*", "pods"]}]) == [
        (
            "webhooks[0].rules[0].resources",
            'Invalid value: []string{"*", "pods"}: if \'*\' is present, must not specify other resources without subresources',
        )
    ]
    assert _causes(rules=[{**rule, "resources": ["*", "pods/status"]}]) == []
    offered = ["pods/binding", "pods/eviction", "deployments/scale", "replicationcontrollers/scale"]
    assert _causes(rules=[{**rule, "operations": ["CREATE", "UPDATE"], "resources": offered}]) == []
    assert _causes(
        rules=[{**rule, "resources": ["pods/status", "serviceaccounts/token", "namespaces/finalize"]}]
    ) == [
        (
            "webhooks[0].rules[0].resources[1]",
            "Forbidden: kubelite does not offer serviceaccounts/token writes to admission webhooks",
        ),
        (
            "webhooks[0].rules[0].resources[2]",
            "Forbidden: kubelite does not offer namespaces/finalize writes to admission webhooks",
        ),
    ]
    assert (
        _causes(rules=[{**rule, "operations": ["*", "CREATE"], "resources": ["*"]}])[0][0]
        == "webhooks[0].rules[0].operations"
    )
    svc = {"namespace": "n", "name": "s", "port": 443, "path": "/a//b"}
    assert _causes(clientConfig={"service": svc}) == [
        ("webhooks[0].clientConfig.service.path", 'Invalid value: "/a//b": segment[1] may not be empty')
    ]
    assert _causes(clientConfig={"url": "https://user:pw@h/x"})[0][1].startswith('Invalid value: "user:pw"')
    assert _causes(admissionReviewVersions=["v1", "v1"]) == [
        ("webhooks[0].admissionReviewVersions[1]", 'Invalid value: "v1": duplicate version')
    ]
