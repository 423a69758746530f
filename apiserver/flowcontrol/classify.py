"""Which FlowSchema a request matches: API Priority and Fairness's classification, pure.

kube-apiserver classifies every request it does not treat as long-running by walking the
FlowSchemas in order of `matchingPrecedence` (lower first, ties by name) and taking the first
whose rules match: a rule matches when one of its subjects names the requester (a user, a group,
or a ServiceAccount of a namespace, `*` for any name) and one of its resource rules (verb, API
group, resource with its subresource as `pods/status`, namespace or cluster scope) or, for a
request to a non-resource path, one of its non-resource rules (verb, path, `prefix/*`) matches.

The schemas are compiled once per configuration (`compile_schemas`) into small frozen objects
with the wildcards resolved to None, so a match is a few set lookups; the gate caches the
decision per requester and target (`apiserver.flowcontrol.config`), so this runs once per
distinct (user, groups, verb, group, resource, namespace) between configuration changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class RequestDigest:
    """What classification reads of a request (kube's RequestDigest: user info and RequestInfo).
    `resource` includes the subresource (`pods/status`); `path` is set for non-resource requests."""

    user: str
    groups: tuple[str, ...]
    verb: str
    resource_request: bool
    api_group: str = ""
    resource: str = ""
    namespace: str = ""
    path: str = ""


def _names(values: Iterable[Any]) -> frozenset[str] | None:
    """A set of names, or None for the `*` wildcard (which validation keeps alone in its list)."""
    names = frozenset(str(v) for v in values)
    return None if "*" in names else names


@dataclass(frozen=True)
class ResourceRule:
    verbs: frozenset[str] | None
    groups: frozenset[str] | None
    resources: frozenset[str] | None
    namespaces: frozenset[str] | None
    cluster_scope: bool

    def matches(self, r: RequestDigest) -> bool:
        if self.verbs is not None and r.verb not in self.verbs:
            return False
        if self.groups is not None and r.api_group not in self.groups:
            return False
        if self.resources is not None and r.resource not in self.resources:
            return False
        if not r.namespace:
            return self.cluster_scope
        return self.namespaces is None or r.namespace in self.namespaces


@dataclass(frozen=True)
class NonResourceRule:
    verbs: frozenset[str] | None
    urls: frozenset[str] | None
    prefixes: tuple[str, ...]  # `/apis/*` -> `/apis/`

    def matches(self, r: RequestDigest) -> bool:
        if self.verbs is not None and r.verb not in self.verbs:
            return False
        if self.urls is None or r.path in self.urls:
            return True
        return any(r.path.startswith(p) for p in self.prefixes)


@dataclass(frozen=True)
class Subjects:
    users: frozenset[str] | None
    groups: frozenset[str] | None
    # (namespace, name or "*"), and whether any subject is there at all of each kind
    service_accounts: tuple[tuple[str, str], ...]
    any_user: bool
    any_group: bool

    def match(self, user: str, groups: tuple[str, ...]) -> bool:
        if self.any_user and (self.users is None or user in self.users):
            return True
        if self.any_group and (self.groups is None or any(g in self.groups for g in groups)):
            return True
        if self.service_accounts and user.startswith(SA_PREFIX):
            namespace, _, name = user[len(SA_PREFIX) :].partition(":")
            return any(ns == namespace and n in ("*", name) for ns, n in self.service_accounts)
        return False


@dataclass(frozen=True)
class Rule:
    subjects: Subjects
    resource_rules: tuple[ResourceRule, ...]
    non_resource_rules: tuple[NonResourceRule, ...]

    def matches(self, r: RequestDigest) -> bool:
        if not self.subjects.match(r.user, r.groups):
            return False
        if r.resource_request:
            return any(rr.matches(r) for rr in self.resource_rules)
        return any(nr.matches(r) for nr in self.non_resource_rules)


@dataclass(frozen=True)
class Schema:
    name: str
    uid: str
    precedence: int
    level: str  # the PriorityLevelConfiguration's name
    distinguisher: str  # "ByUser", "ByNamespace" or ""
    rules: tuple[Rule, ...]

    def matches(self, r: RequestDigest) -> bool:
        return any(rule.matches(r) for rule in self.rules)

    def flow(self, r: RequestDigest) -> str:
        """The flow distinguisher: the user, the namespace, or one flow for the whole schema."""
        if self.distinguisher == "ByUser":
            return r.user
        if self.distinguisher == "ByNamespace":
            return r.namespace
        return ""


def _subjects(items: list[Obj]) -> Subjects:
    users: list[str] = []
    groups: list[str] = []
    sas: list[tuple[str, str]] = []
    for s in items:
        kind = s.get("kind")
        if kind == "User":
            users.append(str((s.get("user") or {}).get("name") or ""))
        elif kind == "Group":
            groups.append(str((s.get("group") or {}).get("name") or ""))
        elif kind == "ServiceAccount":
            sa = s.get("serviceAccount") or {}
            sas.append((str(sa.get("namespace") or ""), str(sa.get("name") or "")))
    return Subjects(_names(users), _names(groups), tuple(sas), bool(users), bool(groups))


def _resource_rule(r: Obj) -> ResourceRule:
    return ResourceRule(
        _names(r.get("verbs") or ()),
        _names(r.get("apiGroups") or ()),
        _names(r.get("resources") or ()),
        _names(r.get("namespaces") or ()),
        r.get("clusterScope") is True,
    )


def _non_resource_rule(r: Obj) -> NonResourceRule:
    urls = [str(u) for u in r.get("nonResourceURLs") or ()]
    prefixes = tuple(u[:-1] for u in urls if u.endswith("/*"))
    return NonResourceRule(_names(r.get("verbs") or ()), _names(urls), prefixes)


def compile_schema(fs: Obj) -> Schema:
    meta, spec = fs.get("metadata") or {}, fs.get("spec") or {}
    rules = tuple(
        Rule(
            _subjects(r.get("subjects") or []),
            tuple(_resource_rule(x) for x in r.get("resourceRules") or ()),
            tuple(_non_resource_rule(x) for x in r.get("nonResourceRules") or ()),
        )
        for r in spec.get("rules") or ()
    )
    return Schema(
        str(meta.get("name") or ""),
        str(meta.get("uid") or ""),
        int(spec.get("matchingPrecedence") or 1000),
        str((spec.get("priorityLevelConfiguration") or {}).get("name") or ""),
        str((spec.get("distinguisherMethod") or {}).get("type") or ""),
        rules,
    )


def compile_schemas(flow_schemas: Iterable[Obj]) -> list[Schema]:
    """The schemas in matching order: lowest matchingPrecedence first, ties by name."""
    return sorted((compile_schema(fs) for fs in flow_schemas), key=lambda s: (s.precedence, s.name))


def classify(schemas: list[Schema], r: RequestDigest) -> Schema | None:
    """The first schema that matches (None: nothing does, which the mandatory catch-all prevents)."""
    for schema in schemas:
        if schema.matches(r):
            return schema
    return None
