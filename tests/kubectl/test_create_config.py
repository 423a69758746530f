"""`kubectl create configmap|secret|serviceaccount`: ours prints and creates what the real kubectl does."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

from tests.kubectl.conftest import Result
from tests.kubectl.helpers import same

Run = Callable[..., Result]


def test_create_prints_the_same(ns: str, kubectl: Run, real: Run, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "app.properties").write_text("a=1\n")
    (conf / "blob.bin").write_bytes(b"\xff\xfe\x00")
    env_file = tmp_path / "vars.env"
    env_file.write_text("# comment\nMODE=fast\nLEVEL=3\n")
    cases = [
        ("create", "configmap", "c1", "--from-literal=x=1", f"--from-file={conf}"),
        ("create", "configmap", "c2", f"--from-env-file={env_file}"),
        ("create", "configmap", "c3", f"--from-file=renamed={conf / 'app.properties'}"),
        ("create", "secret", "generic", "s1", "--from-literal=password=s3cret", "--type=my/type"),
        (
            "create",
            "secret",
            "docker-registry",
            "reg",
            "--docker-username=u",
            "--docker-password=p",
            "--docker-email=e@x",
            "--docker-server=registry.local:5000",
        ),
        ("create", "serviceaccount", "robot"),
    ]
    for args in cases:
        ours = kubectl(*args, "--dry-run=client", "-o", "json")
        theirs = real(*args, "--dry-run=client", "-o", "json")
        assert ours.code == theirs.code == 0, (args, ours.err, theirs.err)
        assert json.loads(ours.out) == json.loads(theirs.out), args
        same(kubectl, real, *args, "--dry-run=client")  # `configmap/c1 created (dry run)`
    for args in cases:
        assert kubectl(*args).out.strip().endswith("created")
    got = json.loads(kubectl("get", "secret", "reg", "-o", "json").out)
    assert got["type"] == "kubernetes.io/dockerconfigjson"
    auths = json.loads(base64.b64decode(got["data"][".dockerconfigjson"]))["auths"]
    assert auths["registry.local:5000"]["auth"] == base64.b64encode(b"u:p").decode()
    cm = json.loads(kubectl("get", "cm", "c1", "-o", "json").out)
    assert set(cm["data"]) == {"x", "app.properties"} and set(cm["binaryData"]) == {"blob.bin"}
    same(kubectl, real, "create", "configmap", "c1", "--from-literal=x=1")  # AlreadyExists, worded the same


def test_bad_keys_are_refused(ns: str, kubectl: Run, real: Run, tmp_path: Path) -> None:
    (tmp_path / "not a key").write_text("x")
    for args in (
        ("create", "configmap", "bad", f"--from-file={tmp_path}"),
        ("create", "secret", "generic", "bad", f"--from-file={tmp_path}"),
    ):
        r = same(kubectl, real, *args)
        assert r.code == 1 and '"not a key" is not' in r.err and "valid key name" in r.err
    assert kubectl("get", "cm", "bad").code == 1
