"""CEL's optional types as Kubernetes enables them (cel-go's optional library): the `.?` / `[?`
syntax rewritten on a real tokenization, the values and functions with cel-go's semantics, what is
refused when written, and their use in CRD rules and ValidatingAdmissionPolicies."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.cel import admission as cel
from apiserver.cel import expressions, optsyntax
from apiserver.crd.rulecheck import compile_problem
from apiserver.crd.rules import violations
from apiserver.policies import evaluate
from apiserver.policies.configs import parse_policy

POD = {
    "metadata": {"name": "p", "labels": {"app": "web", "empty": ""}},
    "spec": {
        "containers": [
            {"name": "a", "securityContext": {"runAsNonRoot": True}},
            {"name": "b", "image": "x", "ports": [{"containerPort": 80}]},
        ]
    },
}


def value(text: str, **names: Any) -> Any:
    c = expressions.compiled(text)
    assert c.unsupported == [], c.unsupported
    assert expressions.undeclared(c, ("object", "self")) is None
    return expressions.evaluate(c, {k: expressions.to_cel(v) for k, v in names.items()})


# --- the rewrite ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "'a.?b' == \"[?c]\"",
        '\'\'\'x.?y\n[?z]\'\'\' + """a\\""".?b"""',
        "r'\\'.size() > 0 ? 1 : 2",  # a raw string ends at its quote: the `?` after is a conditional
        "b'.?' == b\"[?\"",
        "a ? b : c // a.?b[?c]\n",
        "[1, 2][0] + {'k': 1}['k']",
    ],
)
def test_text_without_optional_syntax_outside_strings_and_comments_is_unchanged(text: str) -> None:
    rewritten = optsyntax.rewrite(text)
    assert rewritten.text == text and not rewritten.changed


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("a.?b", 'a._opt_select("b")'),
        ("a.?b.?c.d", 'a._opt_select("b")._opt_select("c").d'),
        ("a . ? b", 'a ._opt_select("b")'),  # `.` and `?` are separate tokens, as in cel-go
        ("m[?k[i]][j]", "m._opt_index(k[i])[j]"),
        ("m[?f(x, [1, 2])].orValue(0)", "m._opt_index(f(x, [1, 2])).orValue(0)"),
        ("m[?'.?]']", "m._opt_index('.?]')"),
        ("[?a, b, ?c]", "_opt_list([_opt_elem(a), b, _opt_elem(c)])"),
        ("[[?a]]", "[_opt_list([_opt_elem(a)])]"),
        ("{?'k': v, 'j': w ? 1 : 2}", "_opt_map({'k':_opt_elem( v), 'j': w ? 1 : 2})"),
        ("{?(x ? 'a' : 'b'): v}", "_opt_map({(x ? 'a' : 'b'):_opt_elem( v)})"),
        ("x in [?a]", "x in _opt_list([_opt_elem(a)])"),
    ],
)
def test_optional_forms_become_calls(text: str, want: str) -> None:
    assert optsyntax.rewrite(text).text == want


def test_offsets_map_back_to_the_users_text() -> None:
    text = "self.?spec.?replicas.orValue(1) <= x"
    rewritten = optsyntax.rewrite(text)
    assert rewritten.original(rewritten.text.index(".orValue")) == text.index(".orValue")
    assert rewritten.original(rewritten.text.index("<= x")) == text.index("<= x")
    assert rewritten.original(rewritten.text.index('_opt_select("replicas")')) == text.index(".?replicas")
    # a free name and a syntax error are reported where the user wrote them
    c = expressions.compiled("self.?a.orValue(0) == y")
    assert [(r.name, r.line, r.column) for r in c.free] == [("self", 1, 1), ("y", 1, 23)]
    with pytest.raises(expressions.CompileError) as plain:
        expressions.compiled("self.a.orValue(0) == ")
    with pytest.raises(expressions.CompileError) as optional:
        expressions.compiled("self.?a.orValue(0) == ")
    assert str(plain.value).startswith("ERROR: <input>:1:19: ")  # celpy's place: the `==`
    assert str(optional.value) == (
        "ERROR: <input>:1:20: Syntax error: unexpected input\n | self.?a.orValue(0) == \n | " + "." * 19 + "^"
    )


def test_what_cel_go_refuses_is_refused_when_written() -> None:
    with pytest.raises(expressions.CompileError, match=r"^ERROR: <input>:1:6: unsupported syntax '\.\?'$"):
        expressions.compiled("self.?name(1)")
    with pytest.raises(
        expressions.CompileError, match=r"^ERROR: <input>:1:1: invalid argument to has\(\) macro$"
    ):
        expressions.compiled("has(self.?name)")
    spec = {"type": "object", "properties": {"replicas": {"type": "integer"}}}
    problem = compile_problem(
        "self.?spec.?nosuch.orValue(1) > 0", {"type": "object", "properties": {"spec": spec}}
    )
    assert problem == "ERROR: <input>:1:11: undefined field 'nosuch'"


# --- evaluation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("object.metadata.?labels[?'app'].hasValue()", True),
        ("object.metadata.?labels[?'nope'].hasValue()", False),
        ("object.?status.?phase.orValue('Pending')", "Pending"),
        ("object.metadata.?labels.?app.value()", "web"),
        # after an optional step, plain steps keep the chain optional
        ("object.?spec.containers[1].ports[0].containerPort.orValue(0)", 80),
        ("object.?spec.containers[0].ports[0].containerPort.orValue(0)", 0),
        ("object.?spec.containers[7].name.orValue('none')", "none"),
        ("object.?nope.containers[0].name.hasValue()", False),
        ("object.spec.containers[?1].?image.value()", "x"),
        ("object.spec.containers[?-1].hasValue()", False),
        ("object.spec.containers.all(c, c.?securityContext.?runAsNonRoot.orValue(false))", False),
        ("object.spec.containers.exists(c, c.?securityContext.?runAsNonRoot.orValue(false))", True),
        ("object.spec.containers.filter(c, c.?image.hasValue()).map(c, c.name)", ["b"]),
        ("has(object.?spec.containers)", True),
        ("has(object.?status.phase)", False),
        ("optional.of(1).value()", 1),
        ("optional.none().orValue(3)", 3),
        ("optional.none().hasValue()", False),
        ("optional.of(1).or(optional.of(2)).value()", 1),
        ("optional.none().or(optional.of(2)).value()", 2),
        ("optional.none().or(optional.none()).hasValue()", False),
        ("optional.of(true).orValue(1 / 0 == 1)", True),  # the alternative is not evaluated
        ("optional.of(object.metadata.?labels.?app).value().value()", "web"),
        ("optional.ofNonZeroValue('').hasValue()", False),
        ("optional.ofNonZeroValue(0).hasValue() || optional.ofNonZeroValue([]).hasValue()", False),
        ("optional.ofNonZeroValue(object.metadata.labels.empty).orValue('dflt')", "dflt"),
        ("optional.ofNonZeroValue('a').value()", "a"),
        ("optional.of(1) == optional.of(1) && optional.none() == optional.none()", True),
        ("optional.of(1) == optional.none()", False),
        ("optional.of(2).optMap(x, x * 3).value()", 6),
        ("optional.none().optMap(x, x * 3).hasValue()", False),
        ("object.?spec.optFlatMap(s, s.containers[?0]).?name.value()", "a"),
        ("optional.of(2).optFlatMap(x, optional.none()).hasValue()", False),
        ("[?optional.none(), 1, ?optional.of(2), ?object.?nope]", [1, 2]),
        ("{?'a': optional.none(), 'b': 1, ?'c': object.metadata.?labels.?app}", {"b": 1, "c": "web"}),
        ("'a.?b' + \"[?c]\"", "a.?b[?c]"),
    ],
)
def test_optional_values_as_cel_go_evaluates_them(text: str, want: Any) -> None:
    assert value(text, object=POD) == want


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("optional.none().value()", "optional.none() dereference"),
        ("object.?spec.containers[0].?name.size() > 0", "no such overload"),  # size of an optional
        ("object.metadata.name.?x.hasValue()", "no such overload"),  # `.?` on a string
        ("optional.of(1).optFlatMap(x, x + 1).hasValue()", "no such overload"),
        ("optional.none().orValue(1 / 0 == 1)", "divide by zero"),
    ],
)
def test_errors_in_cel_go_words(text: str, error: str) -> None:
    with pytest.raises(expressions.EvalError, match=error.replace("(", r"\(").replace(")", r"\)")):
        value(text, object=POD)


def test_optional_programs_only_for_expressions_that_make_optional_values() -> None:
    plain = expressions.compiled("object.metadata.name == 'p'")
    assert type(plain.program).__name__ == "InterpretedRunner"
    optional = expressions.compiled("object.?metadata.?name.orValue('') == 'p'")
    assert type(optional.program).__name__ == "OptionalRunner"
    assert expressions.compiled("object.?metadata.?name.orValue('') == 'p'") is optional  # cached
    assert optional.text == "object.?metadata.?name.orValue('') == 'p'"
    assert {r.name for r in expressions.compiled("optional.of(1).optMap(v, v + 1).hasValue()").free} == {
        "optional"
    }


# --- in CRD rules and policies -------------------------------------------------------------------

SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-kubernetes-validations": [
        {"rule": "self.?spec.?replicas.orValue(1) <= 5", "message": "at most 5 replicas"}
    ],
    "properties": {"spec": {"type": "object", "properties": {"replicas": {"type": "integer"}}}},
}


def test_a_crd_rule_reading_optional_fields() -> None:
    assert compile_problem(SCHEMA["x-kubernetes-validations"][0]["rule"], SCHEMA, root=True) is None
    assert violations(SCHEMA, {"kind": "Thing"}) == []
    assert violations(SCHEMA, {"kind": "Thing", "spec": {"replicas": 5}}) == []
    (cause,) = violations(SCHEMA, {"kind": "Thing", "spec": {"replicas": 6}})
    assert cause["message"] == 'Invalid value: "object": at most 5 replicas'


def test_admission_request_fields_that_may_be_absent() -> None:
    inputs = cel.Inputs(POD, None, {"operation": "CREATE", "userInfo": {"username": "u"}})
    act = cel.activation(inputs)
    assert cel.run("request.?resourceAttributes.fieldSelector.requirements.orValue([])", act) == []
    assert expressions.is_true(cel.run("request.?userInfo.?groups.orValue([]).size() == 0", act))
    assert expressions.is_true(cel.run("request.userInfo.?username.orValue('') == 'u'", act))
    assert cel.matches([("labelled", "object.metadata.?labels[?'app'].orValue('') == 'web'")], act)
    assert not cel.matches([("team", "object.metadata.?labels[?'team'].hasValue()")], act)


def test_a_policy_requiring_run_as_non_root() -> None:
    rule = {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}
    expression = "object.spec.containers.all(c, c.?securityContext.?runAsNonRoot.orValue(false))"
    body = {"matchConstraints": {"resourceRules": [rule]}, "validations": [{"expression": expression}]}
    policy = parse_policy({"metadata": {"name": "nonroot"}, "spec": body})
    assert cel.expression_causes("spec.validations[0].expression", expression, cel.POLICY_EXPRESSION) == []

    def decide(pod: dict[str, Any]) -> list[str]:
        act = cel.activation(cel.Inputs(pod, None, {"operation": "CREATE", "userInfo": {"username": "u"}}))
        return [d.message for d in evaluate.validate(policy, act, None).decisions]

    assert decide(POD) == [f"failed expression: {expression}"]
    secure = {"spec": {"containers": [{"name": "a", "securityContext": {"runAsNonRoot": True}}]}}
    assert decide(secure) == []


def test_a_policy_variable_holding_an_optional_value() -> None:
    rule = {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}
    body = {
        "matchConstraints": {"resourceRules": [rule]},
        "variables": [
            {"name": "tier", "expression": "object.metadata.?labels[?'tier']"},
            {"name": "spec", "expression": "object.?spec"},
        ],
        "validations": [
            {"expression": "variables.tier.orValue('gold') in ['gold', 'silver']"},
            {"expression": "!variables.tier.hasValue() || variables.tier.value().size() < 7"},
            {"expression": "variables.spec.nodeName.orValue('') == ''"},  # `.f` on an optional: optional
        ],
    }
    policy = parse_policy({"metadata": {"name": "tiers"}, "spec": body})

    def decide(labels: dict[str, str]) -> list[str]:
        pod = {"metadata": {"name": "p", "labels": labels}}
        act = cel.activation(cel.Inputs(pod, None, {"operation": "CREATE", "userInfo": {"username": "u"}}))
        return [d.message for d in evaluate.validate(policy, act, None).decisions]

    assert decide({}) == []
    assert decide({"tier": "silver"}) == []
    pinned = evaluate.validate(
        policy,
        cel.activation(
            cel.Inputs({"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}}, None, {"operation": "CREATE"})
        ),
        None,
    )
    assert [d.message for d in pinned.decisions] == [
        "failed expression: variables.spec.nodeName.orValue('') == ''"
    ]
    assert decide({"tier": "bronze"}) == [
        "failed expression: variables.tier.orValue('gold') in ['gold', 'silver']"
    ]
