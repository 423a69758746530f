"""`kubectl create role|clusterrole|rolebinding|clusterrolebinding`, ours beside the real kubectl 1.33.
Roles resolve their resources through the live server's discovery, as kubectl's RESTMapper does,
so both CLIs run against the session server even for `--dry-run=client`."""

from __future__ import annotations

from collections.abc import Callable

from tests.kubectl.conftest import Result
from tests.kubectl.helpers import created_alike, same, same_dry_run

Run = Callable[..., Result]


def test_role_objects_match_real(ns: str, kubectl: Run, real: Run) -> None:
    for args in (
        ("role", "r", "--verb=get", "--resource=pods"),
        (
            "role", "r", "--verb=get,list", "--verb=get",
            "--resource=pods,deployments,rs.apps,pods/status,deployments.apps/scale",
            "--resource-name=a", "--resource-name=b", "--resource-name=a",
        ),
        ("role", "r", "--verb=get", "--resource=po,svc,deploy", "-n", "other", "--save-config"),
        ("role", "r", "--verb=get", "--resource=Pods,pod,events,roles.rbac,deploy.app,hpa,ing.net"),
        ("role", "r", "--verb=*", "--verb=get", "--resource=pods,*"),
        ("role", "r", "--verb=get", "--resource=*.apps,unknown"),  # nothing is checked after `*`
        ("role", "r", "--verb=bind", "--resource=roles.rbac.authorization.k8s.io"),
        ("role", "r", "--verb=impersonate", "--resource=users,serviceaccounts"),
        ("role", "r", "--verb=use", "--resource=podsecuritypolicies.policy"),
        ("clusterrole", "c", "--verb=get", "--resource=pods", "--non-resource-url=/logs/*", "--non-resource-url=/logs/*"),
        ("clusterrole", "c", "--verb=get,post", "--non-resource-url=*"),
        ("clusterrole", "c", "--verb=get", "--resource=nodes,nodes/proxy,namespaces", "--resource-name=x"),
        ("clusterrole", "c", "--aggregation-rule=b=2,a=1", "--save-config"),
    ):  # fmt: skip
        same_dry_run(kubectl, real, "create", *args)
    obj = same_dry_run(kubectl, real, "create", "role", "r", "--verb=get", "--resource=pods,deploy,pods/log")
    assert obj["rules"] == [
        {"verbs": ["get"], "apiGroups": [""], "resources": ["pods", "pods/log"]},
        {"verbs": ["get"], "apiGroups": ["apps"], "resources": ["deployments"]},
    ]
    r = same(kubectl, real, "create", "role", "r", "--verb=frob", "--resource=pods", "--dry-run=client")
    assert r.err == "Warning: 'frob' is not a standard resource verb\n"


def test_binding_objects_match_real(ns: str, kubectl: Run, real: Run) -> None:
    for args in (
        ("rolebinding", "rb", "--role=r", "--user=u1", "--user=u2", "--group=g", "--serviceaccount=ns1:sa1"),
        ("rolebinding", "rb", "--clusterrole=view", "-n", "other", "--save-config"),
        ("clusterrolebinding", "crb", "--clusterrole=c", "--user=u", "--group=g", "--serviceaccount=a:b"),
    ):
        same_dry_run(kubectl, real, "create", *args)


def test_rbac_errors_match_real(ns: str, kubectl: Run, real: Run) -> None:
    for args in (
        ("role", "--verb=get", "--resource=pods"),
        ("role", "r", "--resource=pods"),
        ("role", "r", "--verb=get"),
        ("role", "r", "--verb=get", "--resource="),
        ("role", "r", "--verb=get", "--resource=.apps"),
        ("role", "r", "--verb=get", "--resource=foo"),  # unknown to discovery
        ("role", "r", "--verb=get", "--resource=Foo.Bar"),
        ("role", "r", "--verb=get", "--resource=pods.bogus"),
        ("role", "r", "--verb=get", "--resource=deployments.v1.apps"),
        ("role", "r", "--verb=get", "--resource=foo/status,pods"),
        ("role", "r", "--verb=use", "--resource=pods"),
        ("role", "r", "--verb=get", "--resource=pods", "--non-resource-url=/x"),  # clusterrole's flag
        ("clusterrole", "c", "--verb=get"),
        ("clusterrole", "c", "--verb=list", "--non-resource-url=/healthz"),
        ("clusterrole", "c", "--verb=get", "--non-resource-url=healthz"),
        ("clusterrole", "c", "--verb=get", "--non-resource-url=/a*b"),
        ("clusterrole", "c", "--aggregation-rule=a=b", "--verb=get"),
        ("clusterrole", "c", "--aggregation-rule=ab"),
        ("rolebinding", "rb"),
        ("rolebinding", "rb", "--role=r", "--clusterrole=c"),
        ("rolebinding", "rb", "--clusterrole=c", "--serviceaccount=bad"),
        ("clusterrolebinding", "crb"),
        ("clusterrolebinding", "crb", "--clusterrole=c", "--role=x"),
    ):
        r = same(kubectl, real, "create", *args, "--dry-run=client")
        assert r.code == 1 and r.err, args
    r = kubectl("create", "role", "r", "--verb=get", "--resource=foo")
    assert r.err == 'the server doesn\'t have a resource type "foo"\n'


def test_rbac_objects_are_created_as_real_creates_them(ns: str, kubectl: Run, real: Run) -> None:
    role = created_alike(
        kubectl, real, "roles", "reader", "role", "reader", "--verb=get,list", "--resource=pods,deploy"
    )
    assert [r["apiGroups"] for r in role["rules"]] == [[""], ["apps"]]
    binding = created_alike(
        kubectl, real, "rolebindings", "rb", "rolebinding", "rb", "--role=reader", "--user=alice",
        "--group=devs", f"--serviceaccount={ns}:default",
    )  # fmt: skip
    assert [s["kind"] for s in binding["subjects"]] == ["User", "Group", "ServiceAccount"]
    name = ns + "-c"
    created_alike(
        kubectl, real, "clusterroles", name, "clusterrole", name, "--verb=get", "--non-resource-url=/x"
    )
    created_alike(
        kubectl, real, "clusterrolebindings", name, "clusterrolebinding", name, f"--clusterrole={name}"
    )
    r = same(kubectl, real, "create", "role", "o-reader", "--verb=get", "--resource=pods")  # exists
    assert r.err.startswith("Error from server (AlreadyExists)")
    r = same(kubectl, real, "create", "rolebinding", "o-rb", "--role=reader")
    assert r.err.startswith("error: failed to create rolebinding: ")
