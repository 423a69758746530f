"""`kubectl create namespace|quota|priorityclass|poddisruptionbudget|token`, ours beside the real
kubectl 1.33: the same objects (quota values in a Go client's canonical text), errors, stored
results; a token that the server accepts."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.kubectl.conftest import Result
from tests.kubectl.helpers import created_alike, same, same_dry_run

Run = Callable[..., Result]


def test_objects_match_real(ns: str, kubectl: Run, real: Run) -> None:
    for args in (
        ("namespace", "n1"),
        ("ns", "n1", "--save-config", "-n", "ignored"),
        ("quota", "q"),
        (
            "quota",
            "q",
            "--hard=pods=2,cpu=1000m,memory=1024Mi,b=0.5,c=1.5Gi,d=2000,e=1e3",
            "--scopes=BestEffort",
        ),
        ("resourcequota", "q", "--hard=pods=2", "-n", "other", "--save-config"),
        ("priorityclass", "p"),
        (
            "pc",
            "p",
            "--value=5",
            "--global-default",
            "--description=x<y",
            "--preemption-policy=Never",
            "--save-config",
        ),
        ("pdb", "p", "--selector=app=x", "--min-available=50%"),
        ("poddisruptionbudget", "p", "--selector=b=2,a=1", "--max-unavailable=2", "-n", "other"),
        ("pdb", "p", "--selector=app in (b,a),!c,d,z==1", "--max-unavailable=20%", "--save-config"),
    ):
        same_dry_run(kubectl, real, "create", *args)
    obj = same_dry_run(kubectl, real, "create", "quota", "q", "--hard=cpu=1000m,memory=1.5Gi,pods=0.5")
    assert obj["spec"]["hard"] == {"cpu": "1", "memory": "1536Mi", "pods": "500m"}


def test_errors_match_real(ns: str, kubectl: Run, real: Run) -> None:
    for args in (
        ("namespace",),
        ("namespace", "a", "b"),
        ("quota", "q", "--hard=cpu=abc"),
        ("quota", "q", "--hard=cpu"),
        ("quota", "q", "--hard=cpu=1m5"),
        ("quota", "q", "--scopes=a,,b"),
        ("pc", "p", "--value=abc"),
        ("pdb", "p"),
        ("pdb", "p", "--selector=app=x"),
        ("pdb", "p", "--selector=app=x", "--min-available=1", "--max-unavailable=1"),
        ("pdb", "p", "--selector=app=x", "--min-available=1Gb"),
        ("pdb", "p", "--selector=app=x,tier!=y", "--max-unavailable=2"),
        ("pdb", "p", "--selector=a=b", "--min-available=3", "--hard=x"),  # quota's flag
    ):
        r = same(kubectl, real, "create", *args, "--dry-run=client")
        assert r.code == 1 and r.err.startswith("error: "), args


def test_created_as_real_creates_them(ns: str, kubectl: Run, real: Run) -> None:
    quota = created_alike(kubectl, real, "resourcequotas", "q", "quota", "q", "--hard=pods=5,cpu=1000m")
    assert quota["spec"]["hard"] == {"cpu": "1", "pods": "5"}
    pdb = created_alike(kubectl, real, "pdb", "p", "pdb", "p", "--selector=app=web", "--min-available=1")
    assert pdb["spec"]["minAvailable"] == 1
    name = ns + "-pc"
    created_alike(
        kubectl, real, "priorityclasses", name, "priorityclass", name, "--value=7", "--description=d"
    )
    created_alike(kubectl, real, "namespaces", ns + "-n", "namespace", ns + "-n")
    for args in (
        ("quota", "o-q"),
        ("pc", f"o-{name}", "--value=1"),
        ("pdb", "o-p", "--selector=a=b", "--min-available=1"),
    ):
        r = same(kubectl, real, "create", *args)  # exists
        assert r.code == 1 and r.err.startswith("error: failed to create "), args
    r = same(kubectl, real, "create", "ns", f"o-{ns}-n")
    assert r.err.startswith("Error from server (AlreadyExists)")
    got = kubectl("get", "namespace", f"o-{ns}-n")
    assert got.code == 0 and f"o-{ns}-n" in got.out


def test_token(ns: str, kubectl: Run, real: Run) -> None:
    assert kubectl("create", "serviceaccount", "bot").code == 0
    r = kubectl("create", "token", "bot", "--duration=10m", "--audience=a", "--audience=b")
    assert r.code == 0 and r.out.count(".") == 2 and not r.out.endswith("\n"), r.err  # a bare JWT
    claims = json.loads(_b64(r.out.split(".")[1]))
    assert claims["aud"] == ["a", "b"] and claims["sub"] == f"system:serviceaccount:{ns}:bot"
    assert claims["exp"] - claims["iat"] == 600
    obj = json.loads(kubectl("create", "token", "bot", "--duration=10m", "-o", "json").out)
    assert obj["kind"] == "TokenRequest" and obj["status"]["token"]
    assert obj["spec"]["expirationSeconds"] == 600  # the duration asked, as kube answers
    same(kubectl, real, "create", "token", "bot", "-o", "name")
    for args in (
        ("token",),
        ("token", "nobody"),
        ("token", "bot", "--duration=1.5s"),
        ("token", "bot", "--duration=-1s"),
        ("token", "bot", "--duration=600"),
        ("token", "bot", "--audience="),
        ("token", "bot", "--bound-object-kind=Pod"),
        ("token", "bot", "--bound-object-kind=Foo", "--bound-object-name=x"),
        ("token", "bot", "--bound-object-name=x"),
        ("token", "bot", "--bound-object-kind=Pod", "--bound-object-name=nope"),
        ("token", "bot", "--dry-run=client"),
    ):
        r = same(kubectl, real, "create", *args)
        assert r.code == 1 and r.err.startswith("error: "), args


def _b64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_create_help_lists_the_generators(kubectl: Run) -> None:
    r = kubectl("create", "--help")
    listed = {
        line.split()[0] for line in r.out.split("Available Commands:")[1].split("\n\n")[0].splitlines()[1:]
    }
    assert listed >= {
        "clusterrole", "clusterrolebinding", "configmap", "cronjob", "deployment", "ingress", "job", "namespace",
        "poddisruptionbudget", "priorityclass", "quota", "role", "rolebinding", "secret", "service",
        "serviceaccount", "token",
    }  # fmt: skip


def test_older_generators_take_n_and_save_config_as_real(ns: str, kubectl: Run, real: Run) -> None:
    """The namespace only with -n, and the last-applied annotation in Go's field order."""
    for args in (
        ("deployment", "d", "--image=nginx"),
        ("job", "j", "--image=busybox"),
        ("cronjob", "c", "--image=busybox", "--schedule=@hourly"),
        ("configmap", "cm", "--from-literal=a=b"),
        ("secret", "generic", "s", "--from-literal=a=b"),
        ("serviceaccount", "sa"),
    ):
        obj = same_dry_run(kubectl, real, "create", *args, "-n", "other", "--save-config")
        assert obj["metadata"]["namespace"] == "other"
