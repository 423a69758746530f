"""Whether a PolicyRule allows a request: kube's rbac.RuleAllows, as pure functions.

A resource request matches a rule when its verb, API group, resource (`pods`, or `pods/log`
for a subresource; `*` and `*/log` forms included) and, when the rule names them, resource
name are all listed (`*` stands for any). A non-resource request (`/healthz`, `/apis`) matches
`nonResourceURLs` exactly or by a trailing `*` prefix. Rules with resourceNames never match
create or list-like requests without a name, as in kube.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Rule = dict[str, Any]


@dataclass(frozen=True)
class Attributes:
    """What a request asks, as kube's authorizer.Attributes."""

    user: str
    groups: tuple[str, ...]
    verb: str
    namespace: str = ""
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""  # for non-resource requests
    resource_request: bool = True


def _has(values: Any, want: str) -> bool:
    return isinstance(values, list) and ("*" in values or want in values)


def _resource_matches(resources: Any, resource: str, subresource: str) -> bool:
    if not isinstance(resources, list):
        return False
    combined = f"{resource}/{subresource}" if subresource else resource
    for r in resources:
        if r == "*" or r == combined:
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def _url_matches(urls: Any, path: str) -> bool:
    if not isinstance(urls, list):
        return False
    for u in urls:
        if u == "*" or u == path or (isinstance(u, str) and u.endswith("*") and path.startswith(u[:-1])):
            return True
    return False


def rule_allows(rule: Rule, a: Attributes) -> bool:
    if not _has(rule.get("verbs"), a.verb):
        return False
    if not a.resource_request:
        return _url_matches(rule.get("nonResourceURLs"), a.path)
    if not _has(rule.get("apiGroups"), a.api_group):
        return False
    if not _resource_matches(rule.get("resources"), a.resource, a.subresource):
        return False
    names = rule.get("resourceNames")
    return not names or (bool(a.name) and a.name in names)


def any_allows(rules: list[Rule], a: Attributes) -> bool:
    return any(rule_allows(r, a) for r in rules)


def covers(owner: list[Rule], rule: Rule) -> bool:
    """Whether `owner` grants everything `rule` does (kube's escalation check, rule by rule):
    every verb x group x resource (x name) of `rule` is allowed by some rule of `owner`."""
    verbs = rule.get("verbs") or []
    if rule.get("nonResourceURLs"):
        return all(
            any_allows(owner, Attributes("", (), v, path=u, resource_request=False))
            for v in verbs
            for u in rule["nonResourceURLs"]
        )
    names = rule.get("resourceNames") or [""]
    for v in verbs:
        for g in rule.get("apiGroups") or []:
            for res in rule.get("resources") or []:
                resource, _, sub = res.partition("/")
                for n in names:
                    if not any(_covers_one(o, v, g, resource, sub, n) for o in owner):
                        return False
    return True


def _covers_one(o: Rule, verb: str, group: str, resource: str, sub: str, name: str) -> bool:
    """`o` allows this combination, where `*` in the asked rule needs `*` in `o`."""
    if not _has(o.get("verbs"), verb) or not _has(o.get("apiGroups"), group):
        return False
    if not _resource_matches(o.get("resources"), resource, sub):
        return False
    names = o.get("resourceNames")
    return not names or (bool(name) and name in names)
