"""CRD rules' messageExpression, reason and fieldPath, and the refusals of rules when the CRD is
written (compile errors, undeclared names, undefined fields, kube's checks of the rule's fields)."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.crd.rulecheck import field_path, rule_causes
from apiserver.crd.rules import violations

AT = "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0]"


def crd_schema(*rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-validations": list(rules),
                "properties": {
                    "replicas": {"type": "integer"},
                    "max": {"type": "integer"},
                    "name": {"type": "string"},
                    "my-field": {"type": "string"},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                    "nested": {"type": "object", "properties": {"leaf": {"type": "string"}}},
                },
            }
        },
    }


def obj(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": spec}


def causes(schema: dict[str, Any], value: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["field"], c["message"]) for c in violations(schema, value)]


def refusals(*rules: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (c["field"], c["message"]) for c in rule_causes(crd_schema(*rules), "spec.validation.openAPIV3Schema")
    ]


RULE = "self.replicas <= self.max"


@pytest.mark.parametrize(
    ("message_expression", "want"),
    [
        ("'replicas ' + string(self.replicas) + ' above ' + string(self.max)", "replicas 5 above 3"),
        ("'  padded  '", "padded"),  # trimmed
        ("self.missing_key_at_runtime", "too many"),  # fails: the message
        ("'two\\nlines'", "too many"),  # line breaks: the message
        ("'   '", "too many"),  # blank: the message
        ("'x'.repeat(1)", "too many"),  # an unknown function when run: the message
        ("1 + 1", "too many"),  # not a string: the message
        ("'%s' + 'a'", "%sa"),
    ],
)
def test_message_expression_or_its_fallback(message_expression: str, want: str) -> None:
    schema = crd_schema({"rule": RULE, "message": "too many", "messageExpression": message_expression})
    assert causes(schema, obj(replicas=5, max=3)) == [("spec", f'Invalid value: "object": {want}')]
    assert causes(schema, obj(replicas=1, max=3)) == []


def test_message_expression_too_long_falls_back_to_the_default() -> None:
    schema = crd_schema({"rule": RULE, "messageExpression": "'x' + '" + "y" * (5 * 1024) + "'"})
    assert causes(schema, obj(replicas=5, max=3)) == [
        ("spec", f'Invalid value: "object": failed rule: {RULE}')
    ]
    fits = crd_schema({"rule": RULE, "messageExpression": "'" + "y" * (5 * 1024) + "'"})
    assert causes(fits, obj(replicas=5, max=3))[0][1].endswith("y" * 100)


@pytest.mark.parametrize(
    ("reason", "want"),
    [
        (None, 'Invalid value: "object": no'),
        ("FieldValueInvalid", 'Invalid value: "object": no'),
        ("FieldValueForbidden", "Forbidden: no"),
        ("FieldValueRequired", "Required value: no"),
        ("FieldValueDuplicate", 'Duplicate value: "object"'),
    ],
)
def test_reason_picks_the_cause_type(reason: str | None, want: str) -> None:
    rule = {"rule": RULE, "messageExpression": "'no'"} | ({"reason": reason} if reason else {})
    assert causes(crd_schema(rule), obj(replicas=5, max=3)) == [("spec", want)]


def test_field_path_places_the_error_below_the_rule() -> None:
    for fp, where in (
        (".replicas", "spec.replicas"),
        ("['my-field']", "spec.my-field"),
        (".nested.leaf", "spec.nested.leaf"),
        (".tags['a.b']", "spec.tags[a.b]"),
    ):
        schema = crd_schema({"rule": RULE, "fieldPath": fp, "message": "m"})
        assert causes(schema, obj(replicas=5, max=3)) == [(where, 'Invalid value: "object": m')]
    assert refusals({"rule": RULE, "fieldPath": ".replicas"}) == []


def test_field_paths_are_parsed_as_kube_parses_them() -> None:
    spec = crd_schema()["properties"]["spec"]
    assert field_path(".nested['leaf']", spec) == "nested.leaf"
    for bad, why in (
        (".nope", "does not refer to a valid field"),
        (".replicas.x", "does not refer to a valid field"),
        (".tags[0]", "expected single quoted string but got 0"),
        ("replicas", "expected [ or . but got: replicas"),
        (".", "unexpected end of JSON path"),
    ):
        with pytest.raises(ValueError) as e:
            field_path(bad, spec)
        assert str(e.value) == why, bad


def test_fields_of_a_rule_refused_in_kubes_words() -> None:
    assert refusals({"rule": RULE, "message": "  "}) == [
        (f"{AT}.message", 'Invalid value: "  ": message must be non-empty if specified')
    ]
    assert refusals({"rule": RULE, "message": "a\nb"}) == [
        (f"{AT}.message", 'Invalid value: "a\nb": message must not contain line breaks')
    ]
    assert refusals({"rule": RULE, "message": "m" * 2049}) == [
        (
            f"{AT}.message",
            'Invalid value: "mmmmmmmmmm...": message must have a maximum length of 2048 characters',
        )
    ]
    assert refusals({"rule": "self.replicas <=\nself.max"}) == [
        (f"{AT}.message", "Required value: message must be specified if rule contains line breaks")
    ]
    assert refusals({"rule": RULE, "messageExpression": " "}) == [
        (f"{AT}.messageExpression", "Required value: messageExpression must be non-empty if specified")
    ]
    assert refusals({"rule": RULE, "reason": "FieldValueTooLong"}) == [
        (
            f"{AT}.reason",
            'Unsupported value: "FieldValueTooLong": supported values: "FieldValueDuplicate", '
            '"FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"',
        )
    ]
    assert refusals({"rule": RULE, "fieldPath": ".nope"}) == [
        (
            f"{AT}.fieldPath",
            'Invalid value: ".nope": fieldPath must be a valid path: does not refer to a valid field',
        )
    ]


def test_rules_that_do_not_compile_are_refused_with_the_rule_as_value() -> None:
    got = refusals({"rule": "self.replicas <="})
    value = (
        'apiextensions.ValidationRule{Rule:"self.replicas <=", Message:"", MessageExpression:"", '
        'Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}'
    )
    assert got[0][0] == f"{AT}.rule"
    assert got[0][1].startswith(
        f"Invalid value: {value}: compilation failed: ERROR: <input>:1:15: Syntax error"
    )
    assert refusals({"rule": "self.replicas < limit"})[0][1].endswith(
        "compilation failed: ERROR: <input>:1:17: undeclared reference to 'limit' (in container '')"
    )
    assert refusals({"rule": "self.replicas < self.maximum"})[0][1].endswith(
        "compilation failed: ERROR: <input>:1:21: undefined field 'maximum'"
    )
    assert refusals({"rule": "has(self.nested.leef)"})[0][1].endswith("undefined field 'leef'")
    got = refusals({"rule": RULE, "messageExpression": "'a' +"})
    assert got[0][0] == f"{AT}.messageExpression"
    assert "messageExpression compilation failed: ERROR: <input>:1:" in got[0][1]


def test_what_a_rule_may_select() -> None:
    fine = [
        "self.my__dash__field == 'x'",  # an escaped property name
        "self.tags.anything == 'x'",  # a map's keys
        "self.nested.leaf.startsWith('a')",
        "self.replicas == oldSelf.replicas",
        "self.tags.all(k, k.size() > 0)",
    ]
    for rule in fine:
        assert refusals({"rule": rule}) == [], rule
    root: dict[str, Any] = {"type": "object", "properties": {"spec": {"type": "object"}}}
    root["x-kubernetes-validations"] = [{"rule": "self.metadata.name.size() < 10 && self.kind == 'T'"}]
    assert rule_causes(root, "s") == []
    root["x-kubernetes-validations"] = [{"rule": "self.status.x == 1"}]
    assert rule_causes(root, "s")[0]["message"].endswith("undefined field 'status'")
