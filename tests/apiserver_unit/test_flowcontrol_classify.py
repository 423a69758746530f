"""API Priority and Fairness classification, pure: precedence and name order, subjects (users,
groups, ServiceAccounts with wildcards), resource and non-resource rules, namespaces and cluster
scope, and the bootstrap configuration's answers for an admin, a node, a ServiceAccount, anyone."""

from __future__ import annotations

from typing import Any

from apiserver.flowcontrol import bootstrap as boot
from apiserver.flowcontrol.classify import RequestDigest, classify, compile_schemas

Obj = dict[str, Any]


def _fs(
    name: str,
    precedence: int,
    subjects: list[Obj],
    resource: list[Obj] | None = None,
    paths: list[Obj] | None = None,
) -> Obj:
    rule: Obj = {"subjects": subjects}
    if resource is not None:
        rule["resourceRules"] = resource
    if paths is not None:
        rule["nonResourceRules"] = paths
    return {
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "spec": {
            "priorityLevelConfiguration": {"name": "l-" + name},
            "matchingPrecedence": precedence,
            "rules": [rule],
        },
    }


def _req(
    user: str = "alice", groups: tuple[str, ...] = ("system:authenticated",), verb: str = "get", **kw: Any
) -> RequestDigest:
    return RequestDigest(user, groups, verb, kw.pop("resource_request", True), **kw)


EVERYTHING = [
    {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": True}
]
USER = [{"kind": "User", "user": {"name": "alice"}}]


def _name(schemas: list[Obj], r: RequestDigest) -> str | None:
    found = classify(compile_schemas(schemas), r)
    return None if found is None else found.name


def test_lowest_precedence_wins_and_ties_go_by_name() -> None:
    schemas = [
        _fs("b", 100, USER, EVERYTHING),
        _fs("a", 100, USER, EVERYTHING),
        _fs("c", 50, USER, EVERYTHING),
    ]
    assert _name(schemas, _req()) == "c"
    assert _name(schemas[:2], _req()) == "a"


def test_subjects_users_groups_and_service_accounts() -> None:
    sa_any = [{"kind": "ServiceAccount", "serviceAccount": {"namespace": "ci", "name": "*"}}]
    sa_one = [{"kind": "ServiceAccount", "serviceAccount": {"namespace": "ci", "name": "bot"}}]
    group = [{"kind": "Group", "group": {"name": "devs"}}]
    anyone = [{"kind": "User", "user": {"name": "*"}}]
    bot = "system:serviceaccount:ci:bot"
    assert _name([_fs("s", 10, sa_any, EVERYTHING)], _req(bot)) == "s"
    assert _name([_fs("s", 10, sa_any, EVERYTHING)], _req("system:serviceaccount:prod:bot")) is None
    assert _name([_fs("s", 10, sa_one, EVERYTHING)], _req(bot)) == "s"
    assert _name([_fs("s", 10, sa_one, EVERYTHING)], _req("system:serviceaccount:ci:other")) is None
    assert _name([_fs("s", 10, sa_one, EVERYTHING)], _req("ci:bot")) is None
    assert _name([_fs("g", 10, group, EVERYTHING)], _req("bob", ("devs",))) == "g"
    assert _name([_fs("g", 10, group, EVERYTHING)], _req("bob", ("ops",))) is None
    assert _name([_fs("u", 10, USER, EVERYTHING)], _req("bob")) is None
    assert _name([_fs("u", 10, anyone, EVERYTHING)], _req("bob")) == "u"


def test_resource_rules_verbs_groups_resources_namespaces() -> None:
    rule = [
        {
            "verbs": ["get", "list"],
            "apiGroups": ["apps"],
            "resources": ["deployments", "deployments/scale"],
            "namespaces": ["team"],
        }
    ]
    schemas = [_fs("r", 10, USER, rule)]
    ok: Any = {"api_group": "apps", "resource": "deployments", "namespace": "team"}
    assert _name(schemas, _req(**ok)) == "r"
    assert _name(schemas, _req(verb="list", **{**ok, "resource": "deployments/scale"})) == "r"
    assert _name(schemas, _req(verb="delete", **ok)) is None
    assert _name(schemas, _req(**{**ok, "api_group": ""})) is None
    assert _name(schemas, _req(**{**ok, "resource": "deployments/status"})) is None
    assert _name(schemas, _req(**{**ok, "namespace": "other"})) is None
    assert _name(schemas, _req(**{**ok, "namespace": ""})) is None  # cluster scope not granted
    cluster = [{"verbs": ["*"], "apiGroups": [""], "resources": ["nodes"], "clusterScope": True}]
    assert _name([_fs("n", 10, USER, cluster)], _req(resource="nodes")) == "n"
    assert _name([_fs("n", 10, USER, cluster)], _req(resource="nodes", namespace="x")) is None
    assert _name([_fs("n", 10, USER, cluster)], _req(resource_request=False, path="/nodes")) is None


def test_non_resource_rules_exact_and_prefix() -> None:
    paths = [{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/apis/*"]}]
    schemas = [_fs("p", 10, USER, None, paths)]
    assert _name(schemas, _req(resource_request=False, path="/healthz")) == "p"
    assert _name(schemas, _req(resource_request=False, path="/apis/apps/v1")) == "p"
    assert _name(schemas, _req(resource_request=False, path="/api/v1")) is None
    assert _name(schemas, _req(verb="post", resource_request=False, path="/healthz")) is None
    assert _name(schemas, _req(resource="pods", namespace="x")) is None  # no resource rules


def test_bootstrap_configuration() -> None:
    schemas = compile_schemas(boot.MANDATORY_SCHEMAS + boot.SUGGESTED_SCHEMAS)
    auth = ("system:authenticated",)

    def where(r: RequestDigest) -> tuple[str, str]:
        s = classify(schemas, r)
        assert s is not None
        return s.name, s.level

    assert where(_req("admin", ("system:masters", *auth), resource="pods", namespace="x")) == (
        "exempt",
        "exempt",
    )
    node = ("system:node:n1", ("system:nodes", *auth))
    assert where(_req(*node, verb="update", resource="nodes/status")) == ("system-node-high", "node-high")
    assert where(_req(*node, verb="list", resource="pods")) == ("system-nodes", "system")
    sa = (
        "system:serviceaccount:default:app",
        ("system:serviceaccounts", "system:serviceaccounts:default", *auth),
    )
    assert where(_req(*sa, resource="configmaps", namespace="default")) == (
        "service-accounts",
        "workload-low",
    )
    kube_sa = ("system:serviceaccount:kube-system:x", ("system:serviceaccounts", *auth))
    assert where(_req(*kube_sa, resource="pods", namespace="a")) == (
        "kube-system-service-accounts",
        "workload-high",
    )
    assert where(
        _req(*kube_sa, verb="update", api_group="coordination.k8s.io", resource="leases", namespace="a")
    )[0] == ("system-leader-election")
    assert where(_req("bob", auth, resource="pods", namespace="a")) == ("global-default", "global-default")
    assert where(_req("bob", auth, resource_request=False, path="/readyz")) == ("probes", "exempt")
    only_mandatory = compile_schemas(boot.MANDATORY_SCHEMAS)
    found = classify(only_mandatory, _req("bob", auth, resource="pods", namespace="a"))
    assert found is not None and (found.name, found.distinguisher) == ("catch-all", "ByUser")
    assert found.flow(_req("bob", auth)) == "bob"
