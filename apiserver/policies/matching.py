"""Which requests a policy or a binding matches by their resource rules: kube's generic policy
matcher (k8s.io/apiserver/pkg/admission/plugin/policy/matching). Pure.

A MatchResources matches a request when no excludeResourceRule does and some resourceRule does
(a binding's matchResources without resourceRules matches what its policy matches). A rule is a
webhook rule (`apiserver.webhooks.matching.rule_matches`: operations, apiGroups, apiVersions,
resources, scope) limited, when it has resourceNames, to objects of those names. The selectors are
checked by the caller (`apiserver.webhooks.request.Request.selected`), which may read the
namespace. matchPolicy Equivalent is served as Exact: kubelite serves each built-in resource in
one version, and a custom resource's other versions are not matched by a rule naming one.
"""

from __future__ import annotations

from typing import Any

from apiserver.policies.configs import Match
from apiserver.webhooks import matching
from apiserver.webhooks.request import Shape

Obj = dict[str, Any]


def rule_matches(rule: Obj, shape: Shape, name: str) -> bool:
    """A NamedRuleWithOperations against a request of this shape for the object `name`."""
    if not matching.rule_matches(rule, *shape):
        return False
    names = rule.get("resourceNames")
    return not names or name in names


def resources_match(match: Match, shape: Shape, name: str) -> bool:
    """kube's Matcher.Matches without the selectors."""
    if any(rule_matches(r, shape, name) for r in match.exclude):
        return False
    return not match.rules or any(rule_matches(r, shape, name) for r in match.rules)
