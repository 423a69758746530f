"""The pure parts of ValidatingAdmissionPolicy: what CEL expressions refer to, kube's decisions for
one policy (messages, reasons, errors under each failure policy, audit annotations), resource
rules with exclusions and names, the bound pairs and their per-shape memo, the Table cells, and
that a write meets nothing (not even the store) when no binding exists."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from api import jsonutil, tables
from api.resources import by_plural
from apiserver.auth import ADMIN
from apiserver.cel import admission as cel
from apiserver.cel.expressions import compiled
from apiserver.policies import dispatch, evaluate, matching
from apiserver.policies.configs import PolicyConfigs, parse_match, parse_policy
from apiserver.webhooks.request import attributes

RULE = {
    "operations": ["CREATE"],
    "apiGroups": [""],
    "apiVersions": ["v1"],
    "resources": ["configmaps"],
    "scope": "*",
}
SHAPE = ("", "v1", "configmaps", "", "CREATE", True)


def spec_policy(*validations: dict[str, Any], **spec: Any) -> Any:
    body = {"matchConstraints": {"resourceRules": [RULE]}, "validations": list(validations), **spec}
    return parse_policy({"metadata": {"name": "p"}, "spec": body})


def base(obj: dict[str, Any]) -> dict[str, Any]:
    return cel.activation(cel.Inputs(obj, None, {"operation": "CREATE", "userInfo": {"username": "u"}}))


def test_references_of_an_expression() -> None:
    c = compiled("object.data.all(k, k != x) && variables.a > 1 && has(variables.b)")
    assert {r.name for r in c.free} == {"object", "x", "variables"}  # k is bound by the macro
    assert [r.name for r in c.variables] == ["a", "b"]
    assert c.unsupported == []
    assert compiled("self.reverse()").unsupported == ["reverse"]


def test_messages_reasons_and_errors() -> None:
    policy = spec_policy(
        {"expression": "object.n < 1"},
        {"expression": "object.n < 2", "message": " two ", "reason": "Forbidden"},
        {"expression": "object.n < 3", "messageExpression": "'n is ' + string(object.n)", "message": "m"},
        {"expression": "object.n < 4", "messageExpression": "'a\\nb'", "message": "one line only"},
        {"expression": "object.missing"},
        {"expression": "object.n < 100"},
    )
    result = evaluate.validate(policy, base({"n": 5}), None)
    got = [(d.message, d.reason, d.index) for d in result.decisions]
    assert got[:4] == [
        ("failed expression: object.n < 1", "Invalid", 0),
        ("two", "Forbidden", 1),
        ("n is 5", "Invalid", 2),
        ("one line only", "Invalid", 3),
    ]
    assert got[4][0].startswith("expression 'object.missing' resulted in error: ") and got[4][1] == ""
    assert len(got) == 5
    ignored = spec_policy({"expression": "object.missing"}, failurePolicy="Ignore")
    assert evaluate.validate(ignored, base({"n": 5}), None).decisions == ()


def test_match_conditions_false_wins_over_errors() -> None:
    conditions = [{"name": "err", "expression": "object.missing"}, {"name": "no", "expression": "false"}]
    policy = spec_policy({"expression": "false"}, matchConditions=conditions)
    assert evaluate.validate(policy, base({}), None).decisions == ()
    failing = spec_policy({"expression": "false"}, matchConditions=conditions[:1])
    (decision,) = evaluate.validate(failing, base({}), None).decisions
    assert "resulted in error" in decision.message


def test_params_variables_and_audit_annotations() -> None:
    policy = spec_policy(
        {"expression": "variables.limit >= object.n"},
        variables=[{"name": "limit", "expression": "params.max * 2"}],
        auditAnnotations=[
            {"key": "seen", "valueExpression": "'n=' + string(object.n)"},
            {"key": "skipped", "valueExpression": "null"},
            {"key": "bad", "valueExpression": "1"},
        ],
    )
    result = evaluate.validate(policy, base({"n": 5}), {"max": 2})
    assert [d.message for d in result.decisions if not d.always_deny] == [
        "failed expression: variables.limit >= object.n"
    ]
    assert [d.message for d in result.decisions if d.always_deny] == [
        "valueExpression '1' resulted in unsupported return type: int. Return type must be either string or null."
    ]
    assert result.annotations == (("seen", "n=5"),)
    assert evaluate.validate(policy, base({"n": 4}), {"max": 2}).decisions[:-1] == ()


def test_resource_rules_exclusions_and_names() -> None:
    match = parse_match(
        {
            "resourceRules": [{**RULE, "resourceNames": ["a", "b"]}],
            "excludeResourceRules": [{**RULE, "resourceNames": ["b"]}],
        }
    )
    assert matching.resources_match(match, SHAPE, "a")
    assert not matching.resources_match(match, SHAPE, "b")
    assert not matching.resources_match(match, SHAPE, "c")
    assert not matching.resources_match(match, ("", "v1", "secrets", "", "CREATE", True), "a")
    assert matching.resources_match(parse_match({}), SHAPE, "anything")  # a binding without rules


class _NoStore:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the store was used: {name}")


def _policy_bytes(name: str, resources: list[str]) -> bytes:
    spec = {
        "matchConstraints": {"resourceRules": [{**RULE, "resources": resources}]},
        "validations": [{"expression": "false"}],
    }
    return jsonutil.dumps({"metadata": {"name": name}, "spec": spec})


def test_pairs_candidates_and_no_cost_without_bindings() -> None:
    configs = PolicyConfigs(_NoStore())
    res = by_plural("", "configmaps")
    assert res is not None
    by = _requester()
    a = attributes(by, "CREATE", res, "", "ns", "x", {"metadata": {"name": "x"}}, None, False)
    asyncio.run(dispatch.validate(_NoStore(), configs, by, res, a))  # no binding: nothing is read
    configs.note(
        "/registry/admissionregistration.k8s.io/validatingadmissionpolicies/p",
        _policy_bytes("p", ["configmaps"]),
    )
    configs.note(
        "/registry/admissionregistration.k8s.io/validatingadmissionpolicies/q",
        _policy_bytes("q", ["secrets"]),
    )
    assert not configs.pairs  # a policy without a binding is never evaluated
    binding = {"metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": ["Deny"]}}
    configs.note(
        "/registry/admissionregistration.k8s.io/validatingadmissionpolicybindings/b", jsonutil.dumps(binding)
    )
    assert [(p.name, [b.name for b in bs]) for p, bs in configs.pairs] == [("p", ["b"])]
    assert [p.name for p, _ in configs.candidates(SHAPE)] == ["p"]
    assert configs.candidates(("", "v1", "secrets", "", "CREATE", True)) == ()
    secret = by_plural("", "secrets")
    assert secret is not None  # a bound policy for configmaps: a secret's write reads nothing either
    asyncio.run(dispatch.validate(_NoStore(), configs, by, secret, a))
    configs.note("/registry/admissionregistration.k8s.io/validatingadmissionpolicybindings/b", None)
    assert configs.pairs == () and configs.candidates(SHAPE) == ()


def _requester() -> Any:
    from apiserver.webhooks import Requester

    return Requester(ADMIN)


@pytest.mark.parametrize(
    ("ref", "shown"),
    [
        (None, "<unset>"),
        ({"name": "limits", "namespace": "ns"}, "ns/limits"),
        ({"name": "limits"}, "*/limits"),
        (
            {
                "selector": {
                    "matchLabels": {"b": "2", "a": "1"},
                    "matchExpressions": [{"key": "k", "operator": "In", "values": ["x", "y"]}],
                }
            },
            "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},"
            "MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:k,Operator:In,Values:[x y],},},}",
        ),
    ],
)
def test_binding_table_param_ref(ref: Any, shown: str) -> None:
    res = by_plural("admissionregistration.k8s.io", "validatingadmissionpolicybindings")
    assert res is not None
    obj = {
        "metadata": {"name": "b", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"policyName": "p"},
    }
    if ref is not None:
        obj["spec"]["paramRef"] = ref
    table = tables.to_table(res, [obj], "1", now=dt.datetime(2024, 1, 1, 0, 0, 5, tzinfo=dt.UTC))
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "PolicyName", "ParamRef", "Age"]
    assert table["rows"][0]["cells"] == ["b", "p", shown, "5s"]


def test_mirror_follows_writes_it_did_not_make(tmp_path: Any) -> None:
    """Another server's writes reach the mirror through the store's watch (no `note`)."""
    from apiserver.storage import open_store
    from tests.polling import until

    async def run() -> None:
        store = open_store(f"sqlite:///{tmp_path}/state.db", compact_interval=0)
        await store.start()
        configs = PolicyConfigs(store)
        await configs.start()
        try:
            prefix = "/registry/admissionregistration.k8s.io/"
            await store.create(
                f"{prefix}validatingadmissionpolicies/p", jsonutil.loads(_policy_bytes("p", ["configmaps"]))
            )
            binding = {"metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": ["Deny"]}}
            await store.create(f"{prefix}validatingadmissionpolicybindings/b", binding)
            await until(lambda: configs.candidates(SHAPE), timeout=10, what="the bound policy seen by watch")
            await store.delete(f"{prefix}validatingadmissionpolicybindings/b")
            await until(lambda: not configs.pairs, timeout=10, what="the binding's removal seen by watch")
        finally:
            await configs.stop()
            await store.close()

    asyncio.run(run())
