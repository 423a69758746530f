"""`rollout`, `set image`, `create deployment`, `scale` and `describe` of Deployments, ReplicaSets and
DaemonSets, side by side with the real kubectl 1.33 against the same `kubelite server`.

The session server runs no controllers, so each test writes the history itself: a Deployment and
the ReplicaSets a Deployment controller would have made (revision annotations, hash labels,
controller ownerReferences), or a DaemonSet and its ControllerRevisions. Commands that change
things run on twin objects, `real-x` for the real kubectl and `ours-x` for ours, and the outputs
and resulting objects are compared with the names swapped.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from api.client import Client
from controller.history import owner_ref
from tests.kubectl.helpers import same
from tests.objects import apps_body

Obj = dict[str, Any]


def template(app: str, image: str, hash_: str | None = None) -> Obj:
    labels = {"app": app, **({"pod-template-hash": hash_} if hash_ else {})}
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]},
    }


def make_deployment(c: Any, ns: str, name: str, image: str = "kubelite/web:2.0", **spec: Any) -> Obj:
    body = apps_body(
        "Deployment",
        name,
        3,
        meta={"annotations": {"deployment.kubernetes.io/revision": "2"}},
        template=template(name, image),
        **spec,
    )
    d = c.create("deployments", body, ns)
    ref = owner_ref(d)
    for rev, img, h, n, cause in (
        (1, "kubelite/web:1.0", "6b7c8d9f5", 0, None),
        (2, image, "5f4d8c7b9", 3, "kubectl set image deployment/x web=" + image),
    ):
        ann = {"deployment.kubernetes.io/revision": str(rev)}
        if cause:
            ann["kubernetes.io/change-cause"] = cause
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{name}-{h}",
                "labels": {"app": name, "pod-template-hash": h},
                "annotations": ann,
                "ownerReferences": [ref],
            },
            "spec": {
                "replicas": n,
                "selector": {"matchLabels": {"app": name, "pod-template-hash": h}},
                "template": template(name, img, h),
            },
        }
        c.create("replicasets", rs, ns)
    return dict(c.get("deployments", name, ns))


def twins(kubectl: Any, real: Any, *args: str) -> tuple[Any, Any]:
    """Run the real kubectl on real-x and ours on ours-x; equal output with the names swapped."""
    theirs = real(*(a.replace("NAME", "real-x") for a in args))
    ours = kubectl(*(a.replace("NAME", "ours-x") for a in args))
    assert (ours.code, ours.out.replace("ours-x", "real-x"), ours.err.replace("ours-x", "real-x")) == (
        theirs.code,
        theirs.out,
        theirs.err,
    ), args
    return ours, theirs


def spec_of(c: Any, ns: str, plural: str, name: str) -> Any:
    obj = c.get(plural, name, ns)
    text = json.dumps(
        {"spec": obj["spec"], "annotations": obj["metadata"].get("annotations")}, sort_keys=True
    )
    return json.loads(text.replace(name, "NAME"))


def same_objects(c: Any, ns: str, plural: str = "deployments") -> None:
    """real-x and ours-x hold the same spec and annotations (names swapped); a diff when not."""
    a, b = spec_of(c, ns, plural, "real-x"), spec_of(c, ns, plural, "ours-x")
    if a != b:
        import difflib

        diff = difflib.unified_diff(
            json.dumps(a, indent=1, sort_keys=True).splitlines(),
            json.dumps(b, indent=1, sort_keys=True).splitlines(),
            "real",
            "ours",
            lineterm="",
        )
        raise AssertionError("\n".join(diff))


def test_history_matches_real(ns: str, client: Any, kubectl: Any, real: Any) -> None:
    make_deployment(client, ns, "web")
    for args in (
        ("deployment/web",),
        ("deployment", "web", "--revision=1"),
        ("deploy/web", "--revision=2"),
        ("deploy/web", "--revision=9"),
        ("deploy/nope",),
        ("rc/web",),
    ):
        same(kubectl, real, "rollout", "history", *args)
    out = kubectl("rollout", "history", "deployment/web").out
    assert out.splitlines()[1:4] == [
        "REVISION  CHANGE-CAUSE",
        "1         <none>",
        "2         kubectl set image deployment/x web=kubelite/web:2.0",
    ]


@pytest.mark.parametrize(
    "status",
    [
        {"observedGeneration": 0, "replicas": 3, "updatedReplicas": 1},
        {"replicas": 4, "updatedReplicas": 3},
        {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2},
        {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3},
        {
            "replicas": 3,
            "updatedReplicas": 1,
            "conditions": [
                {
                    "type": "Progressing",
                    "status": "False",
                    "reason": "ProgressDeadlineExceeded",
                    "message": "x",
                }
            ],
        },
    ],
)
def test_status_matches_real(ns: str, client: Any, kubectl: Any, real: Any, status: Obj) -> None:
    d = make_deployment(client, ns, "web")
    st = dict(status)
    st.setdefault("observedGeneration", d["metadata"].get("generation", 0))
    client.update("deployments", dict(d, status=st), ns, subresource="status")
    same(kubectl, real, "rollout", "status", "deployment/web", "--watch=false")
    if st.get("availableReplicas") != 3:
        same(kubectl, real, "rollout", "status", "deploy/web", "--timeout=1s")


def test_status_watches_until_complete(ns: str, client: Any, kubectl: Any) -> None:
    import threading

    d = make_deployment(client, ns, "web")
    st = {"observedGeneration": d["metadata"].get("generation", 0), "replicas": 3, "updatedReplicas": 3}
    client.update("deployments", dict(d, status=st), ns, subresource="status")

    def finish() -> None:
        with Client(client.config) as c2:
            cur = c2.get("deployments", "web", ns)
            c2.update(
                "deployments",
                dict(cur, status=dict(st, readyReplicas=3, availableReplicas=3)),
                ns,
                subresource="status",
            )

    timer = threading.Timer(0.5, finish)
    timer.start()
    try:
        r = kubectl("rollout", "status", "deployment/web", "--timeout=20s")
    finally:
        timer.join()
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        'Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...',
        'deployment "web" successfully rolled out',
    ]


def test_undo_matches_real(ns: str, client: Any, kubectl: Any, real: Any) -> None:
    for name in ("real-x", "ours-x"):
        make_deployment(client, ns, name)
    twins(kubectl, real, "rollout", "undo", "deployment/NAME", "--to-revision=9")
    twins(kubectl, real, "rollout", "undo", "deployment/NAME", "--to-revision=2")  # skipped: already there
    twins(kubectl, real, "rollout", "undo", "deployment/NAME")
    same_objects(client, ns)
    assert (
        client.get("deployments", "ours-x", ns)["spec"]["template"]["spec"]["containers"][0]["image"]
        == "kubelite/web:1.0"
    )
    twins(kubectl, real, "rollout", "pause", "deployment/NAME")
    twins(kubectl, real, "rollout", "undo", "deployment/NAME")  # refused while paused


def test_pause_resume_restart_match_real(ns: str, client: Any, kubectl: Any, real: Any) -> None:
    for name in ("real-x", "ours-x"):
        make_deployment(client, ns, name)
    for args in (("pause",), ("pause",), ("restart",), ("resume",), ("resume",)):
        twins(kubectl, real, "rollout", *args, "deployment/NAME")
    same_objects(client, ns)
    twins(kubectl, real, "rollout", "restart", "deployment/NAME")
    ann = client.get("deployments", "ours-x", ns)["spec"]["template"]["metadata"]["annotations"]
    assert set(ann) == {"kubectl.kubernetes.io/restartedAt"}


def test_set_image_scale_and_create_match_real(ns: str, client: Any, kubectl: Any, real: Any) -> None:
    twins(
        kubectl, real, "create", "deployment", "NAME", "--image=kubelite/web:1.0", "--replicas=2", "--port=80"
    )
    same_objects(client, ns)
    for args in (
        ("set", "image", "deployment/NAME", "web=kubelite/web:2.0"),
        ("set", "image", "deployment/NAME", "web=kubelite/web:2.0"),  # no change: no line
        ("set", "image", "deployment/NAME", "nope=x"),
        ("set", "image", "deployment", "NAME", "*=kubelite/web:3.0"),
        ("scale", "deployment", "NAME", "--replicas=5"),
        ("scale", "deploy/NAME", "--replicas=1"),
    ):
        twins(kubectl, real, *args)
        same_objects(client, ns)
    assert client.get("deployments", "ours-x", ns)["spec"]["replicas"] == 1
    same(kubectl, real, "create", "deployment", "x", "--image=a/b:1", "--dry-run=client", "-o", "yaml")
    same(kubectl, real, "create", "deployment", "x", "--dry-run=client")
    same(kubectl, real, "create", "deployment", "x")


def test_describe_and_get_match_real(ns: str, client: Any, kubectl: Any, real: Any) -> None:
    d = make_deployment(
        client,
        ns,
        "web",
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
    )
    now = "2026-01-01T00:00:00Z"
    st = {
        "observedGeneration": d["metadata"].get("generation", 0),
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "unavailableReplicas": 1,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
                "lastUpdateTime": now,
                "lastTransitionTime": now,
            },
            {
                "type": "Progressing",
                "status": "True",
                "reason": "ReplicaSetUpdated",
                "message": 'ReplicaSet "web-5f4d8c7b9" is progressing.',
                "lastUpdateTime": now,
                "lastTransitionTime": now,
            },
        ],
    }
    client.update("deployments", dict(d, status=st), ns, subresource="status")
    same(kubectl, real, "describe", "deployment", "web")
    same(kubectl, real, "describe", "rs", "web-5f4d8c7b9")
    same(kubectl, real, "describe", "replicasets")
    same(kubectl, real, "get", "deploy,rs", "-o", "wide")


def test_scale_replicaset_and_statefulset_match_real(ns: str, client: Any, kubectl: Any, real: Any) -> None:
    make_deployment(client, ns, "web")
    sts = apps_body("StatefulSet", "db", 1, serviceName="db", template=template("db", "busybox"))
    client.create("statefulsets", sts, ns)
    for args in (
        ("rs", "web-5f4d8c7b9", "--replicas=4"),
        ("replicaset/web-5f4d8c7b9", "--replicas=2"),
        ("sts", "db", "--replicas=3"),
        ("statefulset/db", "--replicas=2"),
    ):
        same(kubectl, real, "scale", *args)
    assert client.get("replicasets", "web-5f4d8c7b9", ns)["spec"]["replicas"] == 2
    assert client.get("statefulsets", "db", ns)["spec"]["replicas"] == 2
    same(kubectl, real, "rollout", "status", "sts/db", "--watch=false")


def make_daemonset(c: Any, ns: str, name: str) -> None:
    body = apps_body("DaemonSet", name, template=template(name, "kubelite/web:2.0"))
    ds = c.create("daemonsets", body, ns)
    ref = owner_ref(ds)
    for rev, image in ((1, "kubelite/web:1.0"), (2, "kubelite/web:2.0")):
        tmpl = copy.deepcopy(ds["spec"]["template"])
        tmpl["spec"]["containers"][0]["image"] = image
        tmpl["$patch"] = "replace"
        cr = {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": f"{name}-{rev}abc",
                "labels": {"app": name, "controller-revision-hash": f"{rev}abc"},
                "ownerReferences": [ref],
            },
            "data": {"spec": {"template": tmpl}},
            "revision": rev,
        }
        c.create("controllerrevisions", cr, ns)


def test_daemonset_history_and_undo_match_real(ns: str, client: Any, kubectl: Any, real: Any) -> None:
    for name in ("real-x", "ours-x"):
        make_daemonset(client, ns, name)
    twins(kubectl, real, "rollout", "history", "daemonset/NAME")
    # the real kubectl compares the revision's bytes with its own serialisation of the template (Go
    # field order): stored by another writer they differ, so it would patch anyway; ours compares values
    r = kubectl("rollout", "undo", "ds/ours-x", "--to-revision=2")
    assert r.out == "daemonset.apps/ours-x skipped rollback (current template already matches revision 2)\n"
    twins(kubectl, real, "rollout", "undo", "ds/NAME", "--to-revision=7")
    twins(kubectl, real, "rollout", "undo", "ds/NAME")
    assert (
        client.get("daemonsets", "ours-x", ns)["spec"]["template"]["spec"]["containers"][0]["image"]
        == "kubelite/web:1.0"
    )
    same_objects(client, ns, "daemonsets")
    twins(kubectl, real, "rollout", "pause", "ds/NAME")
