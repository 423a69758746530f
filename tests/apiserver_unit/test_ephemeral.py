"""Ephemeral containers through the server's own update steps for `pods/<name>/ephemeralcontainers`
(apiserver/validation/ephemeral.py, the pods row's ephemeralcontainers write): what is kept of the body, kube's
422 words and field paths, and the refusals on create, in templates and through a plain update."""

from __future__ import annotations

import copy
from typing import Any

from apiserver import kinds, logic
from tests.apiserver_unit import strategy

Obj = dict[str, Any]
PODS = strategy.resource("", "pods")
CANNOT = "Forbidden: cannot be set for an Ephemeral Container"


def running_pod() -> Obj:
    obj, causes = strategy.create(
        "",
        "pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "containers": [{"name": "web", "image": "busybox:1.35"}],
                "initContainers": [{"name": "setup", "image": "busybox:1.35"}],
                "volumes": [{"name": "data", "emptyDir": {}}],
            },
        },
    )
    assert causes == []
    obj["metadata"]["resourceVersion"] = "7"
    return obj


def debug(name: str = "debugger", **fields: Any) -> Obj:
    return {"name": name, "image": "busybox:1.35", **fields}


def write(old: Obj, ephemeral: list[Obj], **spec: Any) -> tuple[Obj, dict[str, str]]:
    """The pod a write of these ephemeral containers (and any other spec changes) to the
    subresource would store, and its causes by field."""
    body = copy.deepcopy(old)
    body["spec"]["ephemeralContainers"] = ephemeral
    body["spec"].update(spec)
    rule = kinds.for_resource(PODS).subresource_writes["ephemeralcontainers"]
    new = rule.keep(PODS, body, old)
    logic.apply_defaults(PODS, new)
    return new, strategy.by_field(logic.validate_subresource_write(PODS, new, old, rule))


def test_adding_keeps_only_the_ephemeral_containers_and_defaults_them() -> None:
    old = running_pod()
    new, causes = write(
        old, [debug(targetContainerName="web", stdin=True, resources={})], restartPolicy="Never"
    )
    assert causes == {}
    assert new["spec"]["restartPolicy"] == old["spec"]["restartPolicy"] == "Always"  # dropped, not refused
    (ec,) = new["spec"]["ephemeralContainers"]
    assert (ec["targetContainerName"], ec["stdin"], ec["terminationMessagePolicy"]) == ("web", True, "File")
    assert ec["imagePullPolicy"] == "IfNotPresent"
    assert new["metadata"]["generation"] == old["metadata"]["generation"] + 1
    assert new["status"] == old["status"]


def test_existing_ones_may_not_be_changed_or_removed() -> None:
    old, _ = write(running_pod(), [debug("one"), debug("two")])
    _, causes = write(old, [debug("two", image="busybox:1.36"), *old["spec"]["ephemeralContainers"][:1]])
    assert causes["spec.ephemeralContainers"] == (
        'Forbidden: existing ephemeral containers "two" may not be changed\n'
        '-  image: "busybox:1.35"\n+  image: "busybox:1.36"'
    )
    _, causes = write(old, [debug("two"), debug("one")])
    assert causes == {}, "sent again as they were (defaults filled in as stored) is no change"
    _, causes = write(old, old["spec"]["ephemeralContainers"][1:])
    assert causes == {
        "spec.ephemeralContainers": 'Forbidden: existing ephemeral containers "one" may not be removed\n'
    }
    reordered, causes = write(old, [*reversed(old["spec"]["ephemeralContainers"]), debug("three")])
    assert causes == {}, "matched by name: a patch may reorder them"
    assert [c["name"] for c in reordered["spec"]["ephemeralContainers"]] == ["two", "one", "three"]


def test_fields_off_the_allow_list_are_forbidden_in_kubes_order() -> None:
    ec = debug(
        ports=[{"containerPort": 80}],
        resources={"limits": {"cpu": "1"}},
        restartPolicy="Always",
        readinessProbe={"exec": {"command": ["true"]}},
        lifecycle={"preStop": {"exec": {"command": ["true"]}}},
        volumeMounts=[{"name": "data", "mountPath": "/d", "subPath": "x"}],
    )
    _, causes = write(running_pod(), [ec])
    path = "spec.ephemeralContainers[0]"
    assert causes == {
        f"{path}.ports": CANNOT,
        f"{path}.resources": CANNOT,
        f"{path}.restartPolicy": CANNOT,
        f"{path}.readinessProbe": CANNOT,
        f"{path}.lifecycle": CANNOT,
        f"{path}.volumeMounts[0].subPath": CANNOT,
    }


def test_names_targets_and_images() -> None:
    _, causes = write(
        running_pod(),
        [debug("web"), debug("Bad_Name"), debug("x", targetContainerName="nope"), {"name": "noimage"}],
    )
    assert causes["spec.ephemeralContainers[0].name"] == 'Duplicate value: "web"'
    assert causes["spec.ephemeralContainers[1].name"].startswith(
        'Invalid value: "Bad_Name": a lowercase RFC 1123'
    )
    assert causes["spec.ephemeralContainers[2].targetContainerName"] == 'Not found: "nope"'
    assert causes["spec.ephemeralContainers[3].image"] == "Required value"
    _, causes = write(running_pod(), [debug("a"), debug("a")])
    assert causes == {"spec.ephemeralContainers[1].name": 'Duplicate value: "a"'}
    _, causes = write(running_pod(), [debug(targetContainerName="setup")])
    assert causes == {}, "an init container is a target too"


def test_a_static_pods_mirror_takes_none() -> None:
    old = running_pod()
    old["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "abc"}
    old["spec"]["nodeName"] = "n1"
    _, causes = write(old, [debug()])
    assert causes == {"": "Forbidden: static pods do not support ephemeral containers"}


def test_refused_on_create_in_templates_and_through_a_plain_update() -> None:
    pod = running_pod()
    pod["spec"]["ephemeralContainers"] = [debug()]
    _, causes = strategy.create("", "pods", pod)
    assert strategy.by_field(causes) == {"spec.ephemeralContainers": "Forbidden: cannot be set on create"}
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"app": "web"},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": copy.deepcopy(pod["spec"])},
        },
    }
    _, causes = strategy.create("", "replicationcontrollers", rc)
    assert strategy.by_field(causes) == {
        "spec.template.spec.ephemeralContainers": "Forbidden: ephemeral containers not allowed in pod template"
    }
    with_one, _ = write(running_pod(), [debug()])
    for change in ([], [debug(), debug("second")], [debug(image="busybox:1.36")]):
        body = copy.deepcopy(with_one)
        body["spec"]["ephemeralContainers"] = change
        _, causes = strategy.update("", "pods", body, with_one)
        assert list(strategy.by_field(causes)) == ["spec"]
        assert strategy.by_field(causes)["spec"].startswith("Forbidden: pod updates may not change fields")
    _, causes = strategy.update("", "pods", copy.deepcopy(with_one), with_one)
    assert causes == [], "a pod that has them updates as any other"
