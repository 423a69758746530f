"""CRD validation rules: refused when the CRD is written if they cannot be enforced, evaluated at
their schema node on every write of a custom resource, transition rules on updates only."""

from __future__ import annotations

from typing import Any

from apiserver.crd.rulecheck import rule_causes
from apiserver.crd.rules import violations


def rules(*rs: dict[str, Any]) -> list[dict[str, Any]]:
    return list(rs)


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "x-kubernetes-validations": rules(
                {
                    "rule": "self.minReplicas <= self.replicas",
                    "message": "replicas must be at least minReplicas",
                },
                {
                    "rule": "!has(self.mode) || self.mode == oldSelf.mode",
                    "reason": "FieldValueForbidden",
                    "message": "mode is immutable",
                },
            ),
            "properties": {
                "replicas": {"type": "integer"},
                "minReplicas": {"type": "integer"},
                "mode": {"type": "string"},
                "hosts": {
                    "type": "array",
                    "items": {
                        "type": "string",
                        "x-kubernetes-validations": rules({"rule": "self.endsWith('.example')"}),
                    },
                },
                "labels": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "string",
                        "x-kubernetes-validations": rules(
                            {
                                "rule": "size(self) <= 3",
                                "fieldPath": "",
                                "reason": "FieldValueRequired",
                                "message": "short values only",
                            }
                        ),
                    },
                },
            },
        }
    },
}


def obj(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": spec}


def messages(causes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["field"], c["message"]) for c in causes]


def test_each_rule_is_judged_at_its_node_in_kubes_words() -> None:
    good = obj(replicas=3, minReplicas=1, hosts=["a.example"], labels={"k": "v"})
    assert violations(SCHEMA, good) == []
    bad = obj(replicas=1, minReplicas=2, hosts=["a.example", "b.other"], labels={"k": "long"})
    assert messages(violations(SCHEMA, bad)) == [
        ("spec", 'Invalid value: "object": replicas must be at least minReplicas'),
        ("spec.hosts[1]", "Invalid value: \"string\": failed rule: self.endsWith('.example')"),
        ("spec.labels[k]", "Required value: short values only"),
    ]


def test_a_transition_rule_compares_with_the_stored_object_on_updates_only() -> None:
    first = obj(replicas=1, minReplicas=1, mode="fast")
    assert violations(SCHEMA, first, transitions_only=True) == []  # a create: no oldSelf
    changed = obj(replicas=1, minReplicas=1, mode="slow")
    assert messages(violations(SCHEMA, changed, first, transitions_only=True)) == [
        ("spec", "Forbidden: mode is immutable")
    ]
    assert violations(SCHEMA, first, first, transitions_only=True) == []


def test_rules_that_cannot_be_enforced_are_refused_with_the_crd() -> None:
    schema = {
        "type": "object",
        "properties": {"url": {"type": "string"}, "items": {"type": "array", "items": {"type": "string"}}},
        "x-kubernetes-validations": rules(
            {"rule": "self.url.authorize()"},
            {"rule": "self.url ==", "message": "bad syntax"},
            {"rule": ""},
            {"rule": "size(self.items) > 0"},  # standard CEL: fine
        ),
    }
    got = messages(rule_causes(schema, "spec.versions[0].schema.openAPIV3Schema"))
    at = "spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations"
    assert [field for field, _ in got] == [f"{at}[0].rule", f"{at}[1].rule", f"{at}[2].rule"]
    assert "undeclared reference to 'authorize'" in got[0][1]
    assert "compilation failed: ERROR: <input>:1:10: Syntax error" in got[1][1]
    assert got[2][1] == "Required value: rule is not specified"


def test_values_are_typed_by_their_schema() -> None:
    """A `number` written 3 is a double (kube's CEL type), a date-time string a timestamp."""
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-validations": rules(
                    {"rule": "self.ratio >= 1.5"},
                    {"rule": "self.since > timestamp('2020-01-01T00:00:00Z')"},
                    {"rule": "self.every >= duration('1m')"},
                ),
                "properties": {
                    "ratio": {"type": "number"},
                    "since": {"type": "string", "format": "date-time"},
                    "every": {"type": "string", "format": "duration"},
                },
            }
        },
    }
    assert violations(schema, obj(ratio=3, since="2024-05-01T00:00:00Z", every="5m")) == []
    assert [
        c["field"] for c in violations(schema, obj(ratio=1, since="2019-05-01T00:00:00Z", every="5s"))
    ] == [
        "spec",
        "spec",
        "spec",
    ]


LISTS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "x-kubernetes-validations": rules(
                            {"rule": "self.port == oldSelf.port", "message": "immutable"}
                        ),
                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                    },
                }
            },
        }
    },
}


def test_a_map_lists_items_meet_their_old_selves_by_key() -> None:
    old = obj(ports=[{"name": "a", "port": 1}])
    moved = obj(ports=[{"name": "b", "port": 2}, {"name": "a", "port": 1}])  # a new item first: fine
    assert violations(LISTS, moved, old, transitions_only=True) == []
    changed = obj(ports=[{"name": "a", "port": 9}])
    assert messages(violations(LISTS, changed, old, transitions_only=True)) == [
        ("spec.ports[0]", 'Invalid value: "object": immutable')
    ]


def test_old_self_below_an_atomic_list_is_refused_and_a_stored_unenforceable_rule_is_skipped() -> None:
    atomic = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {"type": "integer", "x-kubernetes-validations": rules({"rule": "self >= oldSelf"})},
            }
        },
    }
    (cause,) = rule_causes(atomic, "s")
    assert cause["field"] == "s.properties[items].items.x-kubernetes-validations[0].rule"
    assert (
        "oldSelf cannot be used on the uncorrelatable portion of the schema within s.properties[items]"
        in (cause["message"])
    )
    stored = {
        "type": "object",
        "x-kubernetes-validations": rules({"rule": "self.a.reverse() == 'x'"}, {"rule": "self.a =="}),
    }
    assert violations(stored, {"a": "x"}) == []  # neither can be enforced: skipped, not a failed write


def test_a_root_rule_sees_only_the_name_of_the_metadata() -> None:
    schema = {
        "type": "object",
        "x-kubernetes-validations": rules(
            {"rule": "self.metadata.name.startsWith('t')"}, {"rule": "!has(self.metadata.labels)"}
        ),
    }
    labelled = obj()
    labelled["metadata"]["labels"] = {"a": "b"}
    assert violations(schema, labelled) == []  # labels are not there for a rule, as in kube


def test_a_rule_that_is_no_condition_fails_instead_of_passing() -> None:
    schema = {"type": "object", "x-kubernetes-validations": rules({"rule": "'yes'"})}
    assert messages(violations(schema, {"a": 1})) == [
        ("", "Invalid value: \"object\": rule did not evaluate to a bool: 'yes'")
    ]
