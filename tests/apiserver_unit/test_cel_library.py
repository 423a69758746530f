"""Kubernetes' CEL strings, lists, regex and IP/CIDR functions, as cel-go and kube evaluate them.

The first expressions are real CRD rules: Gateway API's Gateway (a label key's prefix, split on
"/"), and rules of the kind other projects' CRDs carry (lowerAscii, isSorted, indexOf, isIP).
"""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.cel import expressions
from apiserver.crd import rulecheck, rules


def value(text: str, **names: Any) -> Any:
    c = expressions.compiled(text)
    assert c.unsupported == [], c.unsupported
    activation = {k: expressions.to_cel(v) for k, v in names.items()}
    return expressions.evaluate(c, activation)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('"example.com/app".split("/")', ["example.com", "app"]),
        ('"a,b,c".split(",", 2)', ["a", "b,c"]),
        ('"a,b".split(",", 0)', []),
        ('"abc".split("")', ["a", "b", "c"]),
        ('"MiXeD-Ünï".lowerAscii()', "mixed-Ünï"),
        ('"abc".upperAscii()', "ABC"),
        ('"hello world".indexOf("o")', 4),
        ('"hello world".indexOf("o", 5)', 7),
        ('"hello world".lastIndexOf("o")', 7),
        ('"hello world".lastIndexOf("o", 6)', 4),
        ('"hello".indexOf("")', 0),
        ('"hello".charAt(1)', "e"),
        ('"hello".charAt(5)', ""),
        ('"hello".substring(1, 3)', "el"),
        ('"hello".substring(2)', "llo"),
        ('"  x \\t".trim()', "x"),
        ('"aaa".replace("a", "b")', "bbb"),
        ('"aaa".replace("a", "b", 2)', "bba"),
        ('["a", "b"].join()', "ab"),
        ('["a", "b"].join("-")', "a-b"),
        ("[1, 2, 2, 3].isSorted()", True),
        ('["b", "a"].isSorted()', False),
        ("[1, 2, 3].sum()", 6),
        ("[].sum()", 0),
        ("[3, 1, 2].min()", 1),
        ("[3, 1, 2].max()", 3),
        ('["a", "b", "a"].indexOf("a")', 0),
        ('["a", "b", "a"].lastIndexOf("a")', 2),
        ("[1, 2].indexOf(3)", -1),
        ('"abc123def456".find("[0-9]+")', "123"),
        ('"abc".find("[0-9]+")', ""),
        ('"abc123def456".findAll("[0-9]+")', ["123", "456"]),
        ('"a1b2c3".findAll("[0-9]", 2)', ["1", "2"]),
        ('isIP("10.0.0.1")', True),
        ('isIP("fd00::1")', True),
        ('isIP("::ffff:1.2.3.4")', False),
        ('isIP("010.0.0.1")', False),
        ('isIP("fe80::1%eth0")', False),
        ('isIP("example.com")', False),
        ('isCIDR("10.0.0.0/8")', True),
        ('isCIDR("fd00::/64")', True),
        ('isCIDR("10.0.0.1")', False),
        ('isCIDR("10.0.0.0/33")', False),
    ],
)
def test_library_functions(text: str, want: Any) -> None:
    assert value(text) == want


@pytest.mark.parametrize(
    "text",
    ['"abc".charAt(4)', '"abc".substring(2, 1)', '"abc".substring(5)', "[].min()", '"abc".indexOf("a", 9)'],
)
def test_out_of_range_is_an_error_as_in_cel_go(text: str) -> None:
    with pytest.raises(expressions.EvalError):
        value(text)


def test_other_kubernetes_libraries_are_still_refused_when_written() -> None:
    for text in ["self.reverse() == 'x'", "'%s'.format([self]) == 'x'", "self.authorize()"]:
        assert expressions.compiled(text).unsupported != []
    # later versions of cel-go's optional library than this server gives (see test_cel_optional)
    assert expressions.undeclared(expressions.compiled("optional.unwrap([self]).size() == 1"), ("self",)) == (
        "undeclared reference to 'unwrap' (Kubernetes' CEL libraries are not supported by this server)"
    )
    assert expressions.compiled("self.first().orValue(0) == 1").unsupported == ["first"]


GATEWAY_LABELS = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "labels": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "x-kubernetes-validations": [
                        {
                            "message": "If specified, the label key's prefix must be a DNS subdomain not"
                            " longer than 253 characters in total.",
                            "rule": 'self.all(key, key.split("/")[0].size() < 253)',
                        }
                    ],
                }
            },
        }
    },
}


def test_gateway_api_label_key_rule_is_accepted_and_enforced() -> None:
    assert rulecheck.rule_causes(GATEWAY_LABELS, "openAPIV3Schema") == []
    ok = {"spec": {"labels": {"example.com/app": "web"}}}
    assert rules.violations(GATEWAY_LABELS, ok) == []
    bad = {"spec": {"labels": {"a" * 260 + "/app": "web"}}}
    assert [(c["field"], c["message"]) for c in rules.violations(GATEWAY_LABELS, bad)] == [
        (
            "spec.labels",
            'Invalid value: "object": If specified, the label key\'s prefix must be a DNS subdomain'
            " not longer than 253 characters in total.",
        )
    ]
