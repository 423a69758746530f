"""Impersonation on a real server: Impersonate-* headers by a token allowed to impersonate, and
the real kubectl's --as, --as-group and `auth can-i --as`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.apiserver.conftest import Server

RBAC = "/apis/rbac.authorization.k8s.io/v1"
REF = "rbac.authorization.k8s.io"


@pytest.fixture
def impersonator(server: Server, http: httpx.Client, ns: str) -> Iterator[str]:
    """A ServiceAccount token allowed to impersonate user `jane-<ns>` and group `ops` (and nothing else)."""
    name = f"imp-{ns}"
    rules = [
        {
            "apiGroups": [""],
            "resources": ["users"],
            "verbs": ["impersonate"],
            "resourceNames": [f"jane-{ns}"],
        },
        {"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"], "resourceNames": ["ops"]},
    ]
    assert (
        http.post(f"{RBAC}/clusterroles", json={"metadata": {"name": name}, "rules": rules}).status_code
        == 201
    )
    binding = {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": REF, "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": "imp", "namespace": ns}],
    }
    assert http.post(f"{RBAC}/clusterrolebindings", json=binding).status_code == 201
    assert (
        http.post(f"/api/v1/namespaces/{ns}/serviceaccounts", json={"metadata": {"name": "imp"}}).status_code
        == 201
    )
    r = http.post(f"/api/v1/namespaces/{ns}/serviceaccounts/imp/token", json={"spec": {}})
    assert r.status_code == 201, r.text
    yield str(r.json()["status"]["token"])
    http.delete(f"{RBAC}/clusterrolebindings/{name}")
    http.delete(f"{RBAC}/clusterroles/{name}")


def _let_jane_list_pods(http: httpx.Client, ns: str, subject: dict[str, str]) -> None:
    role = {
        "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    }
    assert http.post(f"{RBAC}/namespaces/{ns}/roles", json=role).status_code == 201
    binding = {
        "metadata": {"name": "pod-reader"},
        "roleRef": {"apiGroup": REF, "kind": "Role", "name": "pod-reader"},
        "subjects": [{"apiGroup": REF, **subject}],
    }
    assert http.post(f"{RBAC}/namespaces/{ns}/rolebindings", json=binding).status_code == 201


def test_headers_by_a_token_allowed_to_impersonate(
    server: Server, http: httpx.Client, ns: str, impersonator: str
) -> None:
    jane = f"jane-{ns}"
    pods = f"/api/v1/namespaces/{ns}/pods"
    with server.client(impersonator) as c:
        # without the headers the account itself: no pods
        assert c.get(pods).status_code == 403
        r = c.get(pods, headers={"Impersonate-User": jane})
        assert r.status_code == 403, r.text
        assert r.json()["message"] == (
            f'pods is forbidden: User "{jane}" cannot list resource "pods" in API group "" in the namespace "{ns}"'
        )
        _let_jane_list_pods(http, ns, {"kind": "User", "name": jane})
        assert c.get(pods, headers={"Impersonate-User": jane}).status_code == 200
        # who the request acts as
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        r = c.post(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            json=review,
            headers=[("Impersonate-User", jane), ("Impersonate-Group", "ops")],
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"]["userInfo"] == {"username": jane, "groups": ["ops", "system:authenticated"]}
        # what it may not impersonate: another user, a group not granted, a uid
        for headers, resource, name in [
            ({"Impersonate-User": "root"}, "users", "root"),
            ({"Impersonate-User": jane, "Impersonate-Group": "system:masters"}, "groups", "system:masters"),
            ({"Impersonate-User": jane, "Impersonate-Uid": "42"}, "uids.authentication.k8s.io", "42"),
        ]:
            r = c.get(pods, headers=headers)
            assert r.status_code == 403, r.text
            assert r.json()["message"].startswith(
                f'{resource} "{name}" is forbidden: User "system:serviceaccount:{ns}:imp" cannot impersonate'
            ), r.text
        r = c.get(pods, headers={"Impersonate-Group": "ops"})
        assert r.status_code == 500 and "without impersonating a user" in r.text


def test_kubectl_as(server: Server, http: httpx.Client, ns: str) -> None:
    """The admin (system:masters) may impersonate anyone; jane may do what her bindings grant."""
    k = server.kubectl
    r = k("--as=jane", "-n", ns, "get", "pods")
    assert r.returncode == 1
    assert (
        f'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "{ns}"'
        in r.stderr
    )
    assert k("auth", "can-i", "--as=jane", "-n", ns, "list", "pods").stdout.strip() == "no"
    _let_jane_list_pods(http, ns, {"kind": "User", "name": "jane"})
    r = k("--as=jane", "-n", ns, "get", "pods")
    assert r.returncode == 0, r.stderr
    assert k("auth", "can-i", "--as=jane", "-n", ns, "list", "pods").stdout.strip() == "yes"
    assert k("auth", "can-i", "--as=jane", "-n", ns, "delete", "pods").stdout.strip() == "no"
    # exec (a WebSocket upgrade) as jane, who may read pods but not exec into them
    box = {"metadata": {"name": "box"}, "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}
    assert http.post(f"/api/v1/namespaces/{ns}/pods", json=box).status_code == 201
    r = k("--as=jane", "-n", ns, "exec", "box", "--", "true")
    assert r.returncode == 1
    assert 'User "jane" cannot create resource "pods/exec" in API group "" in the namespace' in r.stderr, (
        r.stderr
    )
    r = k("-n", ns, "exec", "box", "--", "true")  # the admin itself goes on (to a pod with no node)
    assert r.returncode != 0 and "does not have a host assigned" in r.stderr, r.stderr
    # a group grant reaches a user impersonated with that group
    assert k("auth", "can-i", "--as=joe", "-n", ns, "list", "pods").stdout.strip() == "no"
    assert (
        k("auth", "can-i", "--as=joe", f"--as-group=g-{ns}", "-n", ns, "list", "pods").stdout.strip() == "no"
    )
    http.delete(f"{RBAC}/namespaces/{ns}/rolebindings/pod-reader")
    binding = {
        "metadata": {"name": "by-group"},
        "roleRef": {"apiGroup": REF, "kind": "Role", "name": "pod-reader"},
        "subjects": [{"apiGroup": REF, "kind": "Group", "name": f"g-{ns}"}],
    }
    assert http.post(f"{RBAC}/namespaces/{ns}/rolebindings", json=binding).status_code == 201
    assert (
        k("auth", "can-i", "--as=joe", f"--as-group=g-{ns}", "-n", ns, "list", "pods").stdout.strip() == "yes"
    )
    r = k("auth", "whoami", "--as=joe", f"--as-group=g-{ns}", "-o", "jsonpath={.status.userInfo.groups}")
    assert r.returncode == 0 and f"g-{ns}" in r.stdout and "system:authenticated" in r.stdout, r.stderr
    r = k("auth", "whoami", "--as=joe", "--as-uid=42", "-o", "jsonpath={.status.userInfo.uid}")
    assert (r.returncode, r.stdout) == (0, "42"), r.stderr
