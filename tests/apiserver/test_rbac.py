"""RBAC and service-account tokens through a real server: a token from TokenRequest can do only what
bindings grant (kube's 403 wording), `kubectl auth can-i` agrees, escalation is refused, deleting
the ServiceAccount revokes its tokens, bad RBAC objects get kube's 422."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.apiserver.conftest import KUBECTL, KUBECTL_127, Server

RBAC = "/apis/rbac.authorization.k8s.io/v1"


def _token(http: httpx.Client, ns: str, sa: str, **spec: object) -> str:
    r = http.post(f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token", json={"spec": spec})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "TokenRequest" and body["status"]["expirationTimestamp"].endswith("Z")
    return str(body["status"]["token"])


def _bind(http: httpx.Client, ns: str, name: str, role: str, sa: str, kind: str = "ClusterRole") -> None:
    r = http.post(
        f"{RBAC}/namespaces/{ns}/rolebindings",
        json={
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
        },
    )
    assert r.status_code == 201, r.text


@pytest.fixture
def robot(http: httpx.Client, ns: str) -> str:
    assert (
        http.post(
            f"/api/v1/namespaces/{ns}/serviceaccounts", json={"metadata": {"name": "robot"}}
        ).status_code
        == 201
    )
    return _token(http, ns, "robot")


def test_token_can_only_what_bindings_grant(server: Server, http: httpx.Client, ns: str, robot: str) -> None:
    user = f"system:serviceaccount:{ns}:robot"
    with server.client(token=robot) as bot:
        r = bot.get(f"/api/v1/namespaces/{ns}/pods")
        assert r.status_code == 403, r.text
        assert r.json()["message"] == (
            f'pods is forbidden: User "{user}" cannot list resource "pods" in API group "" '
            f'in the namespace "{ns}"'
        )
        assert r.json()["details"] == {"kind": "pods"}
        assert bot.get("/apis").status_code == 200  # discovery for every authenticated user
        _bind(http, ns, "robot-view", "view", "robot")
        assert bot.get(f"/api/v1/namespaces/{ns}/pods").status_code == 200
        assert bot.get("/api/v1/namespaces/default/pods").status_code == 403  # only where the binding is
        r = bot.delete(f"/api/v1/namespaces/{ns}/pods/x")
        assert r.status_code == 403 and r.json()["message"].startswith('pods "x" is forbidden: ')
        r = bot.get(f"/api/v1/namespaces/{ns}/secrets")  # view leaves secrets out
        assert r.status_code == 403
        r = bot.get("/api/v1/nodes")
        assert r.json()["message"] == (
            f'nodes is forbidden: User "{user}" cannot list resource "nodes" in API group '
            '"" at the cluster scope'
        )
        r = bot.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json={})
        assert r.status_code == 201 and r.json()["status"]["userInfo"]["username"] == user


def test_kubectl_auth_can_i_agrees(
    server: Server, http: httpx.Client, ns: str, robot: str, tmp_path: Path
) -> None:
    kc = tmp_path / "robot.kubeconfig"
    kc.write_text(server.kubeconfig.read_text().replace(server.token, robot))
    _bind(http, ns, "robot-edit", "edit", "robot")

    def can_i(*args: str) -> tuple[int, str]:
        r = subprocess.run(
            [KUBECTL, "--kubeconfig", str(kc), "--cache-dir", str(tmp_path / "c"), "auth", "can-i", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return r.returncode, r.stdout.strip()

    assert can_i("create", "deployments", "-n", ns) == (0, "yes")
    assert can_i("get", "secrets", "-n", ns) == (0, "yes")
    assert can_i("list", "pods", "-n", "default") == (1, "no")
    assert can_i("create", "rolebindings", "-n", ns) == (1, "no")  # edit is not admin
    r = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kc), "--cache-dir", str(tmp_path / "c"), "auth", "whoami"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"system:serviceaccount:{ns}:robot" in r.stdout, r.stderr


def test_self_subject_review_also_in_v1beta1(server: Server, http: httpx.Client, ns: str, robot: str) -> None:
    """kube 1.27-1.32 serve SelfSubjectReview in authentication.k8s.io/v1beta1 too, the version
    kubectl 1.27's `auth whoami` asks (then v1alpha1, not served): answered as in v1, not stored."""
    authn = "/apis/authentication.k8s.io"
    review = {"apiVersion": "authentication.k8s.io/v1beta1", "kind": "SelfSubjectReview"}
    with server.client(token=robot) as bot:  # the bootstrap rule lets anyone ask, in any version
        r = bot.post(f"{authn}/v1beta1/selfsubjectreviews", json=review)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["apiVersion"], body["kind"]) == (review["apiVersion"], "SelfSubjectReview")
        info = body["status"]["userInfo"]
        assert info["username"] == f"system:serviceaccount:{ns}:robot"
        assert {"system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"} <= set(
            info["groups"]
        )
    r = http.post(f"{authn}/v1beta1/selfsubjectreviews", json={})  # kind and version from the URL
    assert r.status_code == 201, r.text
    assert (r.json()["apiVersion"], r.json()["status"]["userInfo"]["username"]) == (
        "authentication.k8s.io/v1beta1",
        "admin",
    )
    r = http.post(
        f"{authn}/v1beta1/selfsubjectreviews", json={**review, "apiVersion": "authentication.k8s.io/v1"}
    )
    assert r.status_code == 400 and "does not match the expected API version" in r.json()["message"]
    assert http.post(f"{authn}/v1alpha1/selfsubjectreviews", json={}).status_code == 404
    # a review is only ever created: nothing to list or watch, in either version (kube: 405)
    for version in ("v1", "v1beta1"):
        for query in ("", "?watch=true"):
            r = http.get(f"{authn}/{version}/selfsubjectreviews{query}")
            assert r.status_code == 405 and r.json()["reason"] == "MethodNotAllowed", r.text
    # discovery: both versions, v1 preferred; v1beta1 has the review only
    versions = [
        {"groupVersion": "authentication.k8s.io/v1", "version": "v1"},
        {"groupVersion": "authentication.k8s.io/v1beta1", "version": "v1beta1"},
    ]
    group = http.get(authn).json()
    assert (group["versions"], group["preferredVersion"]) == (versions, versions[0])
    (listed,) = [g for g in http.get("/apis").json()["groups"] if g["name"] == "authentication.k8s.io"]
    assert (listed["versions"], listed["preferredVersion"]) == (versions, versions[0])
    for v in ("v2", "v2beta1"):
        accept = f"application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList"
        items = http.get("/apis", headers={"Accept": accept}).json()["items"]
        (item,) = [g for g in items if g["metadata"]["name"] == "authentication.k8s.io"]
        assert [(x["version"], [r["resource"] for r in x["resources"]]) for x in item["versions"]] == [
            ("v1", ["selfsubjectreviews", "tokenreviews"]),
            ("v1beta1", ["selfsubjectreviews"]),
        ]
    resources = http.get(f"{authn}/v1beta1").json()["resources"]
    assert [(r["name"], r["kind"], r["verbs"]) for r in resources] == [
        ("selfsubjectreviews", "SelfSubjectReview", ["create"])
    ]
    # the real kubectls: 1.27 asks v1beta1, 1.33 v1
    for binary, version in ((KUBECTL_127, "v1beta1"), (KUBECTL, "v1")):
        run = server.kubectl("auth", "whoami", "-o", "json", binary=binary)
        assert run.returncode == 0, run.stderr
        out = json.loads(run.stdout)
        assert out["apiVersion"] == f"authentication.k8s.io/{version}"
        assert out["status"]["userInfo"]["username"] == "admin"
        assert "system:masters" in out["status"]["userInfo"]["groups"]
    run = server.kubectl("auth", "whoami", binary=KUBECTL_127)
    assert run.returncode == 0 and run.stdout.split("\n")[1].split() == ["Username", "admin"], run.stderr
    run = server.kubectl("auth", "whoami", "-o", "yaml", binary=KUBECTL_127)
    assert run.returncode == 0 and "apiVersion: authentication.k8s.io/v1beta1\n" in run.stdout, run.stderr


def test_subject_access_review_for_another_user(http: httpx.Client, ns: str) -> None:
    r = http.post(
        f"{RBAC}/namespaces/{ns}/roles",
        json={
            "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]}],
        },
    )
    assert r.status_code == 201, r.text
    r = http.post(
        f"{RBAC}/namespaces/{ns}/rolebindings",
        json={
            "metadata": {"name": "alice-reads"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}],
        },
    )
    assert r.status_code == 201, r.text

    def review(verb: str, resource: str, sub: str = "", namespace: str = ns) -> bool:
        r = http.post(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            json={
                "spec": {
                    "user": "alice",
                    "resourceAttributes": {
                        "namespace": namespace,
                        "verb": verb,
                        "resource": resource,
                        "subresource": sub,
                    },
                }
            },
        )
        assert r.status_code == 201, r.text
        return bool(r.json()["status"]["allowed"])

    assert review("get", "pods") and review("list", "pods") and review("get", "pods", "log")
    assert (
        not review("delete", "pods")
        and not review("get", "pods", "exec")
        and not review("get", "pods", namespace="default")
    )
    assert http.get(f"{RBAC}/namespaces/{ns}/subjectaccessreviews").status_code == 404  # nothing stored


def test_escalation_is_refused(server: Server, http: httpx.Client, ns: str, robot: str) -> None:
    _bind(http, ns, "robot-admin", "admin", "robot")
    with server.client(token=robot) as bot:
        ok = bot.post(
            f"{RBAC}/namespaces/{ns}/roles",
            json={
                "metadata": {"name": "small"},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
            },
        )
        assert ok.status_code == 201, ok.text
        r = bot.post(
            f"{RBAC}/namespaces/{ns}/roles",
            json={
                "metadata": {"name": "big"},
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
            },
        )
        assert r.status_code == 403, r.text
        assert "is attempting to grant RBAC permissions not currently held" in r.json()["message"]
        r = bot.post(
            f"{RBAC}/namespaces/{ns}/rolebindings",
            json={
                "metadata": {"name": "me-admin"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "cluster-admin",
                },
                "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": ns}],
            },
        )
        assert r.status_code == 403, r.text
    assert http.get(f"{RBAC}/namespaces/{ns}/roles/big").status_code == 404
    assert http.get(f"{RBAC}/namespaces/{ns}/rolebindings/me-admin").status_code == 404


def test_deleting_the_account_revokes_its_tokens(
    server: Server, http: httpx.Client, ns: str, robot: str
) -> None:
    _bind(http, ns, "robot-view", "view", "robot")
    with server.client(token=robot) as bot:
        assert bot.get(f"/api/v1/namespaces/{ns}/pods").status_code == 200
        assert http.delete(f"/api/v1/namespaces/{ns}/serviceaccounts/robot").status_code == 200
        assert bot.get(f"/api/v1/namespaces/{ns}/pods").status_code == 401
    with server.client(token=robot[:-4] + "AAAA") as forged:
        assert forged.get("/apis").status_code == 401


def test_token_bound_to_a_pod(server: Server, http: httpx.Client, ns: str, robot: str) -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    uid = http.post(f"/api/v1/namespaces/{ns}/pods", json=pod).json()["metadata"]["uid"]
    token = _token(
        http, ns, "robot", boundObjectRef={"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": uid}
    )
    with server.client(token=token) as bot:
        assert bot.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json={}).status_code == 201
        assert http.delete(f"/api/v1/namespaces/{ns}/pods/p").status_code == 200  # unbound pod: gone at once
        assert bot.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", json={}).status_code == 401


def test_bad_rbac_objects(http: httpx.Client, ns: str) -> None:
    r = http.post(
        f"{RBAC}/namespaces/{ns}/roles",
        json={
            "metadata": {"name": "bad"},
            "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}, {"verbs": []}],
        },
    )
    assert r.status_code == 422, r.text
    assert [c["field"] for c in r.json()["details"]["causes"]] == [
        "rules[0].nonResourceURLs",
        "rules[1].verbs",
        "rules[1].apiGroups",
        "rules[1].resources",
    ]
    _bind(http, ns, "b", "view", "x")
    r = http.patch(
        f"{RBAC}/namespaces/{ns}/rolebindings/b",
        json={"roleRef": {"name": "edit"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 422 and r.json()["details"]["causes"][0]["message"].endswith(
        "cannot change roleRef"
    )
    r = http.post(f"{RBAC}/clusterroles", json={"metadata": {"name": "system:thing/x"}, "rules": []})
    assert r.status_code == 422 and "may not contain '/'" in r.text


def test_default_roles_exist(server: Server) -> None:
    out = server.kubectl("get", "clusterroles", check=True).stdout
    for name in ("cluster-admin", "admin", "edit", "view", "system:discovery"):
        assert any(line.split()[0] == name for line in out.splitlines()[1:]), out
    assert (
        server.kubectl("get", "clusterrolebinding", "cluster-admin", check=True)
        .stdout.split("\n")[1]
        .split()[1]
        == "ClusterRole/cluster-admin"
    )


def test_kubectl_generators_for_rbac_and_tokens(
    server: Server, http: httpx.Client, ns: str, tmp_path: Path
) -> None:
    """kubectl sends these as protobuf: create role|rolebinding|clusterrole|token, auth can-i --list."""
    k = server.kubectl
    k("-n", ns, "create", "sa", "bot", check=True)
    k("-n", ns, "create", "role", "r1", "--verb=get,list", "--resource=pods,deployments.apps", check=True)
    k(
        "-n",
        ns,
        "create",
        "rolebinding",
        "rb",
        "--role=r1",
        f"--serviceaccount={ns}:bot",
        "--user=alice",
        check=True,
    )
    k("create", "clusterrole", f"cr-{ns}", "--verb=get", "--non-resource-url=/logs", check=True)
    role = http.get(f"{RBAC}/namespaces/{ns}/roles/r1").json()
    assert role["rules"] == [
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
        {"verbs": ["get", "list"], "apiGroups": ["apps"], "resources": ["deployments"]},
    ]
    binding = http.get(f"{RBAC}/namespaces/{ns}/rolebindings/rb").json()
    assert {s["kind"] for s in binding["subjects"]} == {"ServiceAccount", "User"}
    token = k("-n", ns, "create", "token", "bot", "--duration=20m", check=True).stdout.strip()
    kc = tmp_path / "bot.kubeconfig"
    kc.write_text(server.kubeconfig.read_text().replace(server.token, token))
    r = subprocess.run(
        [
            KUBECTL,
            "--kubeconfig",
            str(kc),
            "--cache-dir",
            str(tmp_path / "c"),
            "-n",
            ns,
            "auth",
            "can-i",
            "--list",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    lines = [line.split() for line in r.stdout.splitlines()]
    assert ["pods", "[]", "[]", "[get", "list]"] in lines, r.stdout
    assert ["deployments.apps", "[]", "[]", "[get", "list]"] in lines, r.stdout


def test_x509_users_and_issued_kubeconfigs(
    server: Server, http: httpx.Client, ns: str, tmp_path: Path
) -> None:
    """`kubelite kubeconfig --user`: a client certificate (CN user, O groups) the server verifies; RBAC
    applies to that user and group; `--serviceaccount` gives a token kubeconfig."""
    import sys

    def issue(*args: str) -> Path:
        out = tmp_path / f"kc-{len(list(tmp_path.iterdir()))}"
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "kubelite.main",
                "kubeconfig",
                "--data-dir",
                str(server.data_dir),
                *args,
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        return out

    alice = issue("--user", "alice", "--group", "team-a")
    assert oct(alice.stat().st_mode & 0o777) == "0o600"

    def kubectl(kc: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KUBECTL, "--kubeconfig", str(kc), "--cache-dir", str(tmp_path / "c"), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    r = kubectl(alice, "auth", "whoami", "-o", "json")
    assert r.returncode == 0, r.stderr
    info = __import__("json").loads(r.stdout)["status"]["userInfo"]
    assert info["username"] == "alice" and "team-a" in info["groups"]
    r = kubectl(alice, "-n", ns, "get", "pods")
    assert r.returncode == 1 and 'User "alice" cannot list resource "pods"' in r.stderr
    assert (
        http.post(
            f"{RBAC}/namespaces/{ns}/rolebindings",
            json={
                "metadata": {"name": "team-a-view"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "team-a"}],
            },
        ).status_code
        == 201
    )
    assert kubectl(alice, "-n", ns, "get", "pods").returncode == 0
    # kubectl 1.33 execs over WebSocket: the certificate names alice on the upgrade too (no 401)
    box = {"metadata": {"name": "box"}, "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}
    assert http.post(f"/api/v1/namespaces/{ns}/pods", json=box).status_code == 201
    r = kubectl(alice, "-n", ns, "exec", "box", "--", "true")
    assert r.returncode == 1 and 'User "alice" cannot create resource "pods/exec"' in r.stderr, r.stderr
    # a certificate from another CA is no identity: TLS refuses it or the server answers 401
    from apiserver.certs import ensure_certs
    from apiserver.clientcert import issue_client_cert

    other = ensure_certs(tmp_path / "other", ["127.0.0.1"])
    cert, key = issue_client_cert(other.ca_cert, other.ca_key, "mallory", ["system:masters"])
    (tmp_path / "m.crt").write_bytes(cert)
    (tmp_path / "m.key").write_bytes(key)
    import ssl

    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    ctx.load_cert_chain(str(tmp_path / "m.crt"), str(tmp_path / "m.key"))
    with httpx.Client(base_url=server.url, verify=ctx) as mallory:
        try:
            assert mallory.get("/api/v1/nodes").status_code == 401
        except httpx.HTTPError:
            pass  # the handshake itself failed: also no entry
    assert (
        http.post(f"/api/v1/namespaces/{ns}/serviceaccounts", json={"metadata": {"name": "ci"}}).status_code
        == 201
    )
    ci = issue("--serviceaccount", f"{ns}/ci")
    r = kubectl(ci, "auth", "whoami")
    assert f"system:serviceaccount:{ns}:ci" in r.stdout, r.stderr
    # its token is read on the WebSocket upgrade as on any request (it may read pods, not exec)
    view = {
        "metadata": {"name": "ci-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": ns}],
    }
    assert http.post(f"{RBAC}/namespaces/{ns}/rolebindings", json=view).status_code == 201
    r = kubectl(ci, "-n", ns, "exec", "box", "--", "true")
    assert f'User "system:serviceaccount:{ns}:ci" cannot create resource "pods/exec"' in r.stderr, r.stderr
