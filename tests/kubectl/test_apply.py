"""`kubectl apply` and `create` against a real `kubelite server`, compared with the real kubectl."""

from __future__ import annotations

import json

from tests.kubectl.helpers import RC_AND_SERVICE, same, write

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _annotation(kubectl, kind_name: str, ns: str) -> str:
    r = kubectl("-n", ns, "get", kind_name, "-o", "json")
    assert r.code == 0, r.err
    return str(json.loads(r.out)["metadata"]["annotations"][LAST_APPLIED])


def test_apply_created_unchanged_configured_like_real(ns, kubectl, real, tmp_path):
    path = str(write(tmp_path, "app.yaml", RC_AND_SERVICE))
    other = ns + "-real"
    assert kubectl("create", "namespace", other).code == 0
    ours = kubectl("apply", "-f", path)
    theirs = real("-n", other, "apply", "-f", path)
    assert (
        ours.out == theirs.out == "replicationcontroller/web created\nservice/web created\npod/solo created\n"
    )
    for obj in ("rc/web", "svc/web", "pod/solo"):
        # the annotation real kubectl writes, byte for byte (its namespace aside)
        assert _annotation(kubectl, obj, ns) == _annotation(kubectl, obj, other).replace(other, ns)
    again = kubectl("apply", "-f", path)
    assert again.out == "replicationcontroller/web unchanged\nservice/web unchanged\npod/solo unchanged\n"
    assert again.out == real("-n", other, "apply", "-f", path).out
    # drop env A and the pod's label, change B: the removed fields go, as with the real kubectl
    changed = (
        RC_AND_SERVICE.replace('        - name: A\n          value: "1"\n', "")
        .replace('value: "2"', 'value: "3"')
        .replace("  labels:\n    tier: cache\n", "")
    )
    path2 = str(write(tmp_path, "app2.yaml", changed))
    r = kubectl("apply", "-f", path2)
    assert r.out == "replicationcontroller/web configured\nservice/web unchanged\npod/solo configured\n"
    assert real("-n", other, "apply", "-f", path2).out == r.out
    ours_rc = json.loads(kubectl("get", "rc", "web", "-o", "json").out)
    theirs_rc = json.loads(kubectl("-n", other, "get", "rc", "web", "-o", "json").out)
    assert ours_rc["spec"] == theirs_rc["spec"]
    assert ours_rc["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "B", "value": "3"}]
    assert "tier" not in (
        json.loads(kubectl("get", "pod", "solo", "-o", "json").out)["metadata"].get("labels") or {}
    )


def test_fields_set_by_others_survive_apply(ns, kubectl, tmp_path):
    path = str(write(tmp_path, "app.yaml", RC_AND_SERVICE))
    assert kubectl("apply", "-f", path).code == 0
    assert kubectl("label", "pod", "solo", "owner=ops").code == 0
    assert kubectl("apply", "-f", path).out.endswith("pod/solo unchanged\n")
    assert "owner=ops" in kubectl("get", "pod", "solo", "--show-labels").out


def test_apply_directory_recursive_json_and_list(ns, kubectl, tmp_path):
    d = tmp_path / "m"
    (d / "sub").mkdir(parents=True)
    write(
        d,
        "a.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n"
        "    image: busybox\n",
    )
    write(
        d / "sub",
        "b.json",
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": "b"},
                        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                    }
                ],
            }
        ),
    )
    write(d, "notes.txt", "not a manifest")
    assert kubectl("apply", "-f", str(d)).out == "pod/a created\n"
    assert kubectl("apply", "-R", "-f", str(d)).out == "pod/a unchanged\npod/b created\n"


def test_apply_from_stdin(ns, kubectl, monkeypatch):
    import io

    monkeypatch.setattr(
        "sys.stdin", io.StringIO("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "-stdin\n")
    )
    r = kubectl("apply", "-f", "-")
    assert r.code == 0 and r.out == f"namespace/{ns}-stdin created\n"
    kubectl("delete", "ns", ns + "-stdin", "--wait=false")


def test_partial_failure_applies_the_rest_and_exits_1(ns, kubectl, real, tmp_path):
    text = (
        RC_AND_SERVICE.replace("    image: busybox\n", "")
        + "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: fine\nspec:\n  containers:\n  - name: c\n"
        "    image: busybox\n"
    )
    path = str(write(tmp_path, "mixed.yaml", text))
    r = kubectl("apply", "-f", path)
    assert r.code == 1
    assert r.out == "replicationcontroller/web created\nservice/web created\npod/fine created\n"
    assert r.err.startswith('The Pod "solo" is invalid: ')
    other = ns + "-r"
    kubectl("create", "ns", other)
    theirs = real("-n", other, "apply", "-f", path)
    assert (theirs.code, theirs.out, theirs.err) == (r.code, r.out, r.err)


def test_malformed_yaml_names_file_and_line_and_sends_nothing(ns, kubectl, tmp_path):
    path = str(
        write(
            tmp_path,
            "bad.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ok\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\n spec: x\n",
        )
    )
    r = kubectl("apply", "-f", path)
    assert r.code == 1 and r.out == ""
    assert r.err.startswith(f"error: error parsing {path}: error converting YAML to JSON: yaml: line 10:")
    assert kubectl("get", "pods").err.startswith("No resources found")


def test_unknown_kind_missing_file_and_missing_kind(ns, kubectl, real, tmp_path):
    path = str(write(tmp_path, "g.yaml", "apiVersion: v1\nkind: Gadget\nmetadata:\n  name: g\n"))
    r = kubectl("apply", "-f", path)
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        f'error: resource mapping not found for name: "g" namespace: "" from "{path}": no matches for '
        'kind "Gadget" in version "v1"\nensure CRDs are installed first\n'
    )
    same(kubectl, real, "apply", "-f", str(tmp_path / "missing.yaml"))
    nokind = str(write(tmp_path, "nokind.yaml", "apiVersion: v1\nmetadata:\n  name: g\n"))
    r = kubectl("apply", "-f", nokind)
    assert r.code == 1 and "kind not set" in r.err and nokind in r.err


def test_create_errors_like_real(ns, kubectl, real, tmp_path):
    path = str(write(tmp_path, "app.yaml", RC_AND_SERVICE))
    assert kubectl("create", "-f", path).code == 0
    same(kubectl, real, "create", "-f", path)  # AlreadyExists, each wrapped with the file name
    invalid = str(
        write(
            tmp_path,
            "inv.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: inv\nspec:\n  containers:\n  - name: c\n",
        )
    )
    same(kubectl, real, "create", "-f", invalid)


def test_dry_run_and_server_side(ns, kubectl, tmp_path):
    path = str(write(tmp_path, "app.yaml", RC_AND_SERVICE))
    r = kubectl("apply", "-f", path, "--dry-run=client")
    assert r.out.splitlines()[0] == "replicationcontroller/web created (dry run)"
    r = kubectl("apply", "-f", path, "--dry-run=server")
    assert r.code == 0 and r.out.splitlines()[0] == "replicationcontroller/web created (server dry run)"
    assert kubectl("get", "rc").err.startswith("No resources found")
    r = kubectl("apply", "--server-side", "-f", path)
    assert r.code == 0, r.err
    assert r.out == (
        "replicationcontroller/web serverside-applied\nservice/web serverside-applied\n"
        "pod/solo serverside-applied\n"
    )
    r = kubectl("create", "namespace", ns + "-dry", "--dry-run=client", "-o", "yaml")
    assert (
        r.out
        == f"apiVersion: v1\nkind: Namespace\nmetadata:\n  creationTimestamp: null\n  name: {ns}-dry\nspec: {{}}\n"
        "status: {}\n"
    )


def test_namespace_mismatch_is_refused(ns, kubectl, tmp_path):
    path = str(
        write(
            tmp_path,
            "p.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: elsewhere\n"
            "spec:\n  containers:\n  - name: c\n    image: busybox\n",
        )
    )
    r = kubectl("-n", ns, "apply", "-f", path)
    assert r.code == 1 and 'the namespace from the provided object "elsewhere" does not match' in r.err


def test_prune_deletes_what_left_the_manifests(ns, kubectl, tmp_path):
    two = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: NAME\n  labels:\n    app: p\nspec:\n  containers:\n"
        "  - name: c\n    image: busybox\n"
    )
    d = tmp_path / "set"
    d.mkdir()
    write(d, "a.yaml", two.replace("NAME", "a"))
    write(d, "b.yaml", two.replace("NAME", "b"))
    assert kubectl("apply", "-f", str(d), "--prune").code == 1  # needs -l or --all
    assert kubectl("run", "unrelated", "--image=busybox", "-l", "app=p").code == 0  # never applied: kept
    assert kubectl("apply", "-f", str(d), "--prune", "-l", "app=p").out == "pod/a created\npod/b created\n"
    (d / "b.yaml").unlink()
    r = kubectl("apply", "-f", str(d), "--prune", "-l", "app=p")
    assert r.out == "pod/a unchanged\npod/b pruned\n", r.err
    names = kubectl("get", "pods", "-o", "name").out.split()
    assert names == ["pod/a", "pod/unrelated"]


def test_unknown_field_is_named_like_real(ns, kubectl, real, tmp_path):
    path = str(
        write(
            tmp_path,
            "uf.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: uf\nspec:\n  containers:\n"
            "  - name: c\n    image: busybox\n    imagee: x\n",
        )
    )
    r = same(kubectl, real, "apply", "-f", path)
    assert r.code == 1 and 'unknown field "spec.containers[0].imagee"' in r.err
