"""The apps/v1 strategy rows (apiserver/kinds/apps.py) through the server's own create and update
steps (lifecycle.prepare_for_create / prepare_for_update, logic.apply_defaults, logic.validate):
defaults as apps/v1 defaults.go, zero statuses, kube's 422 wording, immutables, scale selectors."""

from __future__ import annotations

import copy
from typing import Any

from api.resources import by_plural
from apiserver import kinds, logic
from tests.apiserver_unit import strategy
from tests.objects import apps_body

Obj = dict[str, Any]


def _template(labels: dict[str, str], **spec: Any) -> Obj:
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox:1"}], **spec},
    }


def workload(kind: str, name: str = "web", **spec: Any) -> Obj:
    return apps_body(
        kind, name, meta={"namespace": "default"}, **{"template": _template({"app": name}), **spec}
    )


def create(plural: str, obj: Obj) -> tuple[Obj, list[dict[str, str]]]:
    return strategy.create("apps", plural, obj)


def update(plural: str, new: Obj, old: Obj) -> tuple[Obj, list[dict[str, str]]]:
    return strategy.update("apps", plural, new, old)


def messages(causes: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(c["field"], c["message"]) for c in causes]


def test_deployment_defaults_status_and_generation() -> None:
    d, causes = create("deployments", workload("Deployment"))
    assert causes == []
    spec = d["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    tspec = spec["template"]["spec"]
    assert (tspec["restartPolicy"], tspec["dnsPolicy"], tspec["terminationGracePeriodSeconds"]) == (
        "Always",
        "ClusterFirst",
        30,
    )
    assert d["status"] == {} and d["metadata"]["generation"] == 1
    # Recreate gets no rollingUpdate
    r, causes = create("deployments", workload("Deployment", strategy={"type": "Recreate"}))
    assert causes == [] and r["spec"]["strategy"] == {"type": "Recreate"}
    # a spec change and an annotation change each count a generation; status is kept from the store
    d["status"] = {"replicas": 1}
    scaled = copy.deepcopy(d)
    scaled["spec"]["replicas"] = 3
    scaled["status"] = {"replicas": 99}
    new, causes = update("deployments", scaled, d)
    assert causes == [] and new["metadata"]["generation"] == 2 and new["status"] == {"replicas": 1}
    annotated = copy.deepcopy(new)
    annotated["metadata"]["annotations"] = {"team": "a"}
    again, _ = update("deployments", annotated, new)
    assert again["metadata"]["generation"] == 3


def test_deployment_validation_worded_as_kube() -> None:
    bad = workload(
        "Deployment",
        replicas=-1,
        strategy={"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}},
        minReadySeconds=700,
    )
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other", "tier": "x"}
    _, causes = create("deployments", bad)
    assert messages(causes) == [
        ("spec.replicas", "Invalid value: -1: must be greater than or equal to 0"),
        (
            "spec.template.metadata.labels",
            'Invalid value: map[string]string{"app":"other", "tier":"x"}: `selector` does not match template `labels`',
        ),
        (
            "spec.strategy.rollingUpdate.maxUnavailable",
            'Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"0%"}: may not be 0 when `maxSurge` is 0',
        ),
        ("spec.progressDeadlineSeconds", "Invalid value: 600: must be greater than minReadySeconds"),
    ]
    no_selector = workload("Deployment")
    del no_selector["spec"]["selector"]
    _, causes = create("deployments", no_selector)
    assert ("spec.selector", "Required value") in messages(causes)
    wrong_policy = workload("Deployment")
    wrong_policy["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    _, causes = create("deployments", wrong_policy)
    assert messages(causes) == [
        ("spec.template.spec.restartPolicy", 'Unsupported value: "Never": supported values: "Always"')
    ]
    percent = workload("Deployment", strategy={"rollingUpdate": {"maxUnavailable": "ten"}})
    _, causes = create("deployments", percent)
    assert causes[0]["field"] == "spec.strategy.rollingUpdate.maxUnavailable"
    assert "a valid percent string must be a numeric string followed by an ending '%'" in causes[0]["message"]


def test_selector_is_immutable_and_scale_selector() -> None:
    for plural, kind in (
        ("deployments", "Deployment"),
        ("replicasets", "ReplicaSet"),
        ("daemonsets", "DaemonSet"),
    ):
        old, causes = create(plural, workload(kind))
        assert causes == []
        new = copy.deepcopy(old)
        new["spec"]["selector"] = {"matchLabels": {"app": "web", "v": "2"}}
        new["spec"]["template"]["metadata"]["labels"] = {"app": "web", "v": "2"}
        _, causes = update(plural, new, old)
        assert messages(causes) == [
            (
                "spec.selector",
                'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "v":"2"}, '
                "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
            )
        ], plural
    dep, _ = create(
        "deployments",
        workload(
            "Deployment",
            selector={
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
            },
        ),
    )
    dep["spec"]["template"]["metadata"]["labels"]["tier"] = "a"
    res = by_plural("apps", "deployments")
    assert res is not None
    scale = kinds.for_resource(res).scale_selector
    assert scale is not None and scale(dep) == "app=web,tier in (a,b)"
    assert kinds.for_resource(by_plural("apps", "daemonsets")).scale_selector is None  # type: ignore[arg-type]


def test_replica_set_and_daemon_set() -> None:
    rs, causes = create("replicasets", workload("ReplicaSet"))
    assert causes == [] and rs["spec"]["replicas"] == 1 and rs["status"] == {"replicas": 0}
    _, causes = create("replicasets", workload("ReplicaSet", selector={}))
    assert (
        "spec.selector",
        "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
    ) in messages(causes)
    ds, causes = create("daemonsets", workload("DaemonSet"))
    assert causes == []
    assert ds["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert ds["status"] == {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    }
    assert ds["metadata"]["annotations"] == {"deprecated.daemonset.template.generation": "1"}
    changed = copy.deepcopy(ds)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:2"
    new, causes = update("daemonsets", changed, ds)
    assert causes == [] and new["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    both = workload("DaemonSet", updateStrategy={"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}})
    _, causes = create("daemonsets", both)
    assert messages(causes) == [
        (
            "spec.updateStrategy.rollingUpdate.maxSurge",
            'Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: '
            "may not be set when maxUnavailable is non-zero",
        )
    ]
    deadline = workload("DaemonSet")
    deadline["spec"]["template"]["spec"]["activeDeadlineSeconds"] = 5
    _, causes = create("daemonsets", deadline)
    assert messages(causes) == [
        (
            "spec.template.spec.activeDeadlineSeconds",
            "Forbidden: activeDeadlineSeconds in DaemonSet is not Supported",
        )
    ]


def test_stateful_set_defaults_and_forbidden_updates() -> None:
    sts, causes = create("statefulsets", workload("StatefulSet", serviceName="web"))
    assert causes == []
    spec = sts["spec"]
    assert (spec["podManagementPolicy"], spec["replicas"], spec["revisionHistoryLimit"]) == (
        "OrderedReady",
        1,
        10,
    )
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert sts["status"] == {"replicas": 0, "availableReplicas": 0}
    claims = [
        {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }
    ]
    with_claims, causes = create("statefulsets", workload("StatefulSet", volumeClaimTemplates=claims))
    assert causes == []
    assert with_claims["spec"]["volumeClaimTemplates"] == [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
                "volumeMode": "Filesystem",
            },
            "status": {"phase": "Pending"},
        }
    ]
    ok = copy.deepcopy(sts)
    ok["spec"]["replicas"] = 5
    ok["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:2"
    ok["spec"]["ordinals"] = {"start": 3}
    _, causes = update("statefulsets", ok, sts)
    assert causes == []
    bad = copy.deepcopy(sts)
    bad["spec"]["serviceName"] = "other"
    _, causes = update("statefulsets", bad, sts)
    assert messages(causes) == [
        (
            "spec",
            "Forbidden: updates to statefulset spec for fields other than 'replicas', "
            "'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "
            "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        )
    ]
    _, causes = create("statefulsets", workload("StatefulSet", name="Web_1"))
    assert causes and causes[0]["field"] == "metadata.name" and "RFC 1123 label" in causes[0]["message"]
    _, causes = create("statefulsets", workload("StatefulSet", podManagementPolicy="Random"))
    assert messages(causes) == [
        ("spec.podManagementPolicy", "Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'")
    ]


def test_controller_revision_data_is_required_and_immutable() -> None:
    rev = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": "web-1", "namespace": "default"},
        "revision": 1,
    }
    _, causes = create("controllerrevisions", rev)
    assert messages(causes) == [("data", "Required value: data is mandatory")]
    rev["data"] = {"spec": {"template": {}}}
    stored, causes = create("controllerrevisions", rev)
    assert causes == [] and "generation" not in stored["metadata"] and "status" not in stored
    changed = copy.deepcopy(stored)
    changed["data"] = {"spec": {}}
    _, causes = update("controllerrevisions", changed, stored)
    assert [c["field"] for c in causes] == ["data"] and causes[0]["message"].endswith("field is immutable")


def test_status_writes_are_checked() -> None:
    res = by_plural("apps", "deployments")
    assert res is not None
    old, _ = create("deployments", workload("Deployment"))
    new = copy.deepcopy(old)
    new["status"] = {"replicas": 1, "readyReplicas": 2, "availableReplicas": -1}
    assert messages(logic.validate_status_update(res, new, old)) == [
        ("status.availableReplicas", "Invalid value: -1: must be greater than or equal to 0"),
        ("status.readyReplicas", "Invalid value: 2: cannot be greater than status.replicas"),
    ]
