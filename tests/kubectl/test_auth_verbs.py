"""`auth can-i`, `auth whoami`, `certificate approve|deny`, `api-versions` and `replace` against a
real `kubelite server`, side by side with the real kubectl 1.33: an RBAC-limited ServiceAccount's
token, impersonation (`--as`, `--as-group`), CertificateSigningRequests made from real PEMs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.apiserver.test_csr import csr_body, make_request
from tests.kubectl.helpers import same, write


@pytest.fixture
def reader(ns: str, client: Any) -> str:
    """A token of ServiceAccount `reader`, bound to a Role that may get and list pods (and read one
    ConfigMap by name) in the test's namespace."""
    client.create("serviceaccounts", {"metadata": {"name": "reader"}}, ns)
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "reader"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
            {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["one"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["watch"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["watch"]},
        ],
    }
    client.create("roles", role, ns)
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": ns}],
    }
    client.create("rolebindings", binding, ns)
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}
    answer = client.create("serviceaccounts", request, ns, subresource="token", name="reader")
    return str(answer["status"]["token"])


def test_can_i_for_a_service_account_token(reader, kubectl, real):
    tok = ("--token", reader)
    for args in (
        ("get", "pods"),
        ("list", "pods", "-q"),
        ("get", "pods/web", "--subresource=log"),
        ("get", "configmaps/one"),
        ("get", "configmaps/two"),
        ("delete", "pods"),
        ("get", "pods", "-A"),
        ("watch", "deployments.apps"),
        ("get", "/logs"),
        ("get", "/version"),
        ("get", "nosuch"),
        ("frob", "pods"),
        ("get", "nodes"),
    ):
        r = same(kubectl, real, "auth", "can-i", *args, *tok)
        assert r.code in (0, 1)
    assert kubectl("auth", "can-i", "get", "pods", *tok).out == "yes\n"
    r = kubectl("auth", "can-i", "delete", "pods", *tok)
    assert (r.code, r.out) == (1, "no\n")
    r = kubectl("auth", "can-i", "delete", "pods", "-q", *tok)
    assert (r.code, r.out) == (1, "")
    r = kubectl("auth", "can-i", "get", "nosuch", *tok)
    assert r.err == "Warning: the server doesn't have a resource type 'nosuch'\n\n"


def test_can_i_list_matches_real(reader, kubectl, real, ns):
    out = same(kubectl, real, "auth", "can-i", "--list", "--token", reader).out
    assert out.splitlines()[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert (
        "pods                                            []                  []               [get list watch]"
        in out
    )
    assert "configmaps" in out and "[one]" in out and "deployments.apps" in out and "pods/log" in out
    same(kubectl, real, "auth", "can-i", "--list", "--no-headers", "--token", reader)
    same(kubectl, real, "auth", "can-i", "--list", "-n", "default", "--token", reader)
    same(kubectl, real, "auth", "can-i", "--list")  # the admin
    same(kubectl, real, "auth", "can-i", "--list", f"--as=system:serviceaccount:{ns}:reader")
    for bad in (
        ("get", "pods", "--list"),
        ("--list", "-A"),
        ("--list", "-q"),
        ("get", "pods", "--no-headers"),
    ):
        assert same(kubectl, real, "auth", "can-i", *bad).code == 1


def test_can_i_usage_errors(ns, kubectl, real):
    for args in ((), ("get",), ("get", "pods", "x"), ("get", "/logs", "--subresource=x")):
        r = same(kubectl, real, "auth", "can-i", *args)
        assert r.code == 1 and r.err.startswith("error: ")


def test_impersonation(reader, ns, kubectl, real):
    sa = f"--as=system:serviceaccount:{ns}:reader"
    for args in (
        ("can-i", "get", "pods", sa),
        ("can-i", "delete", "pods", sa),
        ("can-i", "get", "pods", "--as=jane"),
        ("can-i", "get", "pods", "--as=jane", "--as-group=system:masters"),
        ("can-i", "get", "users", "--as=jane"),
        ("whoami", "--as=jane", "--as-group=a", "--as-group=b", "--as-uid=u-1"),
        ("whoami", "-o", "json", "--as=jane", "--as-group=a"),
        ("whoami", "--as-group=a"),
    ):
        same(kubectl, real, "auth", *args)
    r = kubectl("auth", "can-i", "get", "pods", "--as=jane", "--as-group=system:masters")
    assert (r.code, r.out) == (0, "yes\n")
    assert kubectl("auth", "whoami", "--as-uid=u").err.startswith(
        "error: requesting uid, groups or user-extra for "
    )
    assert kubectl("get", "pods", sa).code == 0
    r = kubectl("get", "configmaps", sa)
    assert r.code == 1 and "cannot list resource" in r.err


def test_whoami(reader, kubectl, real):
    r = same(kubectl, real, "auth", "whoami")
    assert r.out.splitlines()[0] == "ATTRIBUTE   VALUE" and "Username" in r.out
    for fmt in ((), ("-o", "json"), ("-o", "yaml"), ("-o", "name"), ("-o", "wide")):
        same(kubectl, real, "auth", "whoami", *fmt, "--token", reader)
        same(kubectl, real, "auth", "whoami", *fmt)
    info = json.loads(kubectl("auth", "whoami", "-o", "json", "--token", reader).out)["status"]["userInfo"]
    assert info["username"].endswith(":reader") and "system:serviceaccounts" in info["groups"]


def _csrs(client: Any, ns: str, *names: str) -> None:
    for name in names:
        pem, _ = make_request(f"user-{name}")
        client.create("certificatesigningrequests", csr_body(f"{ns}-{name}", pem))


def _conditions(client: Any, name: str) -> list[tuple[str, str, str]]:
    csr = client.get("certificatesigningrequests", name)
    return [
        (c["type"], c.get("reason", ""), c.get("message", ""))
        for c in csr.get("status", {}).get("conditions") or []
    ]


def test_certificate_approve_and_deny(ns, client, kubectl, real):
    _csrs(client, ns, "a", "b", "c", "d")
    a, b, c, d = (f"{ns}-{x}" for x in "abcd")
    r = kubectl("certificate", "approve", a)
    assert (r.code, r.out) == (0, f"certificatesigningrequest.certificates.k8s.io/{a} approved\n")
    assert _conditions(client, a) == [
        ("Approved", "KubectlApprove", "This CSR was approved by kubectl certificate approve.")
    ]
    assert kubectl("certificate", "approve", a).code == 0  # already approved: nothing sent
    assert kubectl("certificate", "approve", a, "--force").code == 0
    assert len(_conditions(client, a)) == 1
    same(kubectl, real, "certificate", "deny", a)  # already Approved: refused
    r = kubectl("certificate", "deny", b, "-o", "name")
    assert r.out == f"certificatesigningrequest.certificates.k8s.io/{b}\n"
    assert _conditions(client, b) == [
        ("Denied", "KubectlDeny", "This CSR was denied by kubectl certificate deny.")
    ]
    r = kubectl("certificate", "approve", c, "nope", d)
    assert r.code == 1 and r.out.count(" approved\n") == 2
    assert (
        r.err
        == 'Error from server (NotFound): certificatesigningrequests.certificates.k8s.io "nope" not found\n'
    )
    for args in (("approve",), ("approve", a, "-o", "wide"), ("deny", c), ("approve", "nope")):
        same(kubectl, real, "certificate", *args)
    assert kubectl("certificate").out.startswith("Modify certificate resources.")


def test_certificate_approve_from_file(ns, client, kubectl, tmp_path):
    _csrs(client, ns, "f")
    name = f"{ns}-f"
    path = write(tmp_path, "csr.json", json.dumps(client.get("certificatesigningrequests", name)))
    r = kubectl("certificate", "approve", "-f", str(path))
    assert r.out == f"certificatesigningrequest.certificates.k8s.io/{name} approved\n", r.err
    assert [t for t, _, _ in _conditions(client, name)] == ["Approved"]


def test_api_versions_match_real(ns, kubectl, real):
    out = same(kubectl, real, "api-versions").out
    assert "v1\n" in out and "rbac.authorization.k8s.io/v1\n" in out
    assert out.splitlines() == sorted(out.splitlines())


MANIFEST = """apiVersion: v1
kind: ConfigMap
metadata:
  name: one
data:
  a: "{value}"
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: {port}
"""


def test_replace(ns, kubectl, real, tmp_path, client):
    first = write(tmp_path, "one.yaml", MANIFEST.format(value=1, port=80))
    second = write(tmp_path, "two.yaml", MANIFEST.format(value=2, port=81))
    r = kubectl("replace", "-f", str(first))  # nothing to replace yet: a Service creates on update
    assert (r.code, r.out) == (1, "service/web replaced\n")
    assert (
        r.err == f'Error from server (NotFound): error when replacing "{first}": configmaps "one" not found\n'
    )
    client.delete("services", "web", ns)
    same(kubectl, real, "replace", "-f", str(first))  # each makes the Service once more
    client.delete("services", "web", ns)
    assert kubectl("create", "-f", str(first)).code == 0
    r = kubectl("replace", "-f", str(second))
    assert (r.code, r.out) == (0, "configmap/one replaced\nservice/web replaced\n"), r.err
    assert client.get("configmaps", "one", ns)["data"] == {"a": "2"}
    assert client.get("services", "web", ns)["spec"]["ports"][0]["port"] == 81
    for args in (
        ("-f", str(first), "-o", "name"),
        ("-f", str(first), "--dry-run=client"),
        ("-f", str(first), "--dry-run=server"),
        ("-f", str(first), "--grace-period=1"),
        ("-f", str(first), "--timeout=5s"),
        ("-f", str(first), "-n", "elsewhere"),
        (),
    ):
        same(kubectl, real, "replace", *args)
    assert kubectl("replace", "-f", str(first), "--save-config", "-o", "name").code == 0
    annotations = client.get("configmaps", "one", ns)["metadata"]["annotations"]
    assert json.loads(annotations["kubectl.kubernetes.io/last-applied-configuration"])["data"] == {"a": "1"}


def test_replace_force(ns, kubectl, real, tmp_path, client):
    path = write(tmp_path, "one.yaml", MANIFEST.format(value=1, port=80))
    assert kubectl("create", "-f", str(path)).code == 0
    before = client.get("configmaps", "one", ns)["metadata"]["uid"]
    r = kubectl("replace", "--force", "-f", str(path))
    assert r.out == (
        'configmap "one" deleted\nservice "web" deleted\nconfigmap/one replaced\nservice/web replaced\n'
    ), r.err
    assert client.get("configmaps", "one", ns)["metadata"]["uid"] != before
    client.delete("configmaps", "one", ns)  # a missing object is only created
    r = kubectl("replace", "--force", "--grace-period=0", "-f", str(path))
    assert r.out == 'service "web" deleted\nconfigmap/one replaced\nservice/web replaced\n', r.err
    same(kubectl, real, "replace", "--force", "-f", str(path))
    # a forced replace deletes for real, so kubectl refuses it with --dry-run, and so do we
    uid = client.get("configmaps", "one", ns)["metadata"]["uid"]
    for mode in ("client", "server"):
        r = kubectl("replace", "--force", f"--dry-run={mode}", "-f", str(path))
        assert r.code == 1 and r.err == "error: --dry-run can not be used when --force is set\n", r.err
        same(kubectl, real, "replace", "--force", f"--dry-run={mode}", "-f", str(path))
    assert client.get("configmaps", "one", ns)["metadata"]["uid"] == uid
