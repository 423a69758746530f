"""`kubectl create job` and `kubectl create cronjob`, ours beside the real kubectl 1.33."""

from __future__ import annotations

import json
from typing import Any

from tests.kubectl.helpers import same


def test_dry_run_objects_match_real(ns: str, kubectl: Any, real: Any) -> None:
    for args in (
        ("job", "x", "--image=busybox"),
        ("job", "x", "--image=busybox", "--", "sh", "-c", "echo hi"),
        ("cronjob", "c", "--image=busybox", "--schedule=*/1 * * * *"),
        ("cronjob", "c", "--image=busybox", "--schedule=0 9 * * 1-5", "--restart=Never", "--", "date"),
        ("cj", "c", "--image=busybox", "--schedule=@hourly"),
    ):
        head, tail = (args[: args.index("--")], args[args.index("--") :]) if "--" in args else (args, ())
        for fmt in ("yaml", "name"):
            same(kubectl, real, "create", *head, "--dry-run=client", "-o", fmt, *tail)
        ours = json.loads(kubectl("create", *head, "--dry-run=client", "-o", "json", *tail).out)
        assert ours == json.loads(real("create", *head, "--dry-run=client", "-o", "json", *tail).out)


def test_errors_match_real(ns: str, kubectl: Any, real: Any) -> None:
    same(kubectl, real, "create", "job", "x")
    same(kubectl, real, "create", "job", "x", "--image=busybox", "--from=cronjob/a")
    same(kubectl, real, "create", "cronjob", "c", "--image=busybox")


def test_create_and_create_from_cronjob(ns: str, kubectl: Any, real: Any) -> None:
    r = kubectl("create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *", "--", "date")
    assert (r.code, r.out) == (0, "cronjob.batch/nightly created\n"), r.err
    same(kubectl, real, "create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *")  # exists
    for who, run in (("ours", kubectl), ("real", real)):
        r = run("create", "job", f"{who}-job", "--image=busybox", "--", "echo", "hi")
        assert (r.code, r.out) == (0, f"job.batch/{who}-job created\n"), r.err
        r = run("create", "job", f"{who}-manual", "--from=cronjob/nightly")
        assert (r.code, r.out) == (0, f"job.batch/{who}-manual created\n"), r.err

    def stored(name: str) -> dict[str, Any]:
        obj = json.loads(kubectl("get", "job", name, "-o", "json").out)
        m = obj["metadata"]
        return {
            "annotations": m.get("annotations"),
            "labels": {
                k: v
                for k, v in (m.get("labels") or {}).items()
                if "controller-uid" not in k and "job-name" not in k
            },
            "owners": m.get("ownerReferences") or [],
            "containers": [
                dict(c, name=c["name"].split("-", 1)[1]) if c["name"].startswith(("ours-", "real-")) else c
                for c in obj["spec"]["template"]["spec"]["containers"]
            ],  # named after the Job
            "restart": obj["spec"]["template"]["spec"]["restartPolicy"],
        }

    assert stored("ours-job") == stored("real-job")
    ours, theirs = stored("ours-manual"), stored("real-manual")
    assert ours == theirs
    assert ours["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert ours["owners"][0]["kind"] == "CronJob" and ours["owners"][0]["name"] == "nightly"
    assert ours["containers"][0]["command"] == ["date"]
    same(kubectl, real, "create", "job", "y", "--from=cronjob/missing")
    same(kubectl, real, "create", "job", "ours-job", "--image=busybox")  # exists
