"""Server-side apply: create, update, removal of fields no longer applied, conflicts and force,
and the managedFields that non-apply writes record."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from api.errors import ApiError
from apiserver.patch import record_update, server_side_apply


def rc(replicas: int = 2, image: str = "busybox:1", labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web", "namespace": "default"}
    if labels is not None:
        meta["labels"] = labels
    return {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": meta,
        "spec": {
            "replicas": replicas,
            "selector": {"app": "web"},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


def entries(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"]["managedFields"]}


def test_create_records_apply_entry() -> None:
    out = server_side_apply(None, rc(), "kubectl", False, "ReplicationController")
    entry = entries(out)[("kubectl", "Apply")]
    assert (entry["apiVersion"], entry["fieldsType"]) == ("v1", "FieldsV1")
    fields = entry["fieldsV1"]
    assert fields["f:spec"]["f:replicas"] == {}
    containers = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert containers == {'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}}
    assert "f:name" not in fields.get("f:metadata", {})
    assert out["spec"]["replicas"] == 2


def test_reapply_updates_and_keeps_inputs_untouched() -> None:
    current = server_side_apply(None, rc(), "kubectl", False, "ReplicationController")
    snapshot = copy.deepcopy(current)
    applied = rc(replicas=3, image="busybox:2")
    out = server_side_apply(current, applied, "kubectl", False, "ReplicationController")
    assert current == snapshot
    assert out["spec"]["replicas"] == 3
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "web", "image": "busybox:2"}]
    assert len(out["metadata"]["managedFields"]) == 1


def test_fields_no_longer_applied_are_removed() -> None:
    current = server_side_apply(
        None, rc(labels={"a": "1", "b": "2"}), "kubectl", False, "ReplicationController"
    )
    out = server_side_apply(current, rc(labels={"a": "1"}), "kubectl", False, "ReplicationController")
    assert out["metadata"]["labels"] == {"a": "1"}


def test_containers_removed_from_config_go_away() -> None:
    two = rc()
    two["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "busybox"})
    current = server_side_apply(None, two, "kubectl", False, "ReplicationController")
    out = server_side_apply(current, rc(), "kubectl", False, "ReplicationController")
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["web"]


def test_fields_set_by_others_are_kept() -> None:
    current = server_side_apply(None, rc(), "kubectl", False, "ReplicationController")
    edited = copy.deepcopy(current)
    edited["metadata"]["annotations"] = {"note": "x"}
    record_update(current, edited, "kubectl-edit")
    out = server_side_apply(edited, rc(replicas=5), "kubectl", False, "ReplicationController")
    assert out["metadata"]["annotations"] == {"note": "x"}
    assert set(entries(out)) == {("kubectl", "Apply"), ("kubectl-edit", "Update")}


def test_conflict_with_another_manager_is_409() -> None:
    current = server_side_apply(None, rc(), "kubectl", False, "ReplicationController")
    scaled = copy.deepcopy(current)
    scaled["spec"]["replicas"] = 7
    record_update(current, scaled, "kubectl-scale")
    assert entries(scaled)[("kubectl-scale", "Update")]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    with pytest.raises(ApiError) as e:
        server_side_apply(scaled, rc(replicas=2), "kubectl", False, "ReplicationController")
    err = e.value
    assert (err.code, err.reason) == (409, "Conflict")
    assert (
        err.message == 'Apply failed with 1 conflict: conflict with "kubectl-scale" using v1: .spec.replicas'
    )
    assert err.details == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-scale" using v1',
                "field": ".spec.replicas",
            }
        ]
    }


def test_same_value_is_not_a_conflict() -> None:
    current = server_side_apply(None, rc(), "a", False, "ReplicationController")
    out = server_side_apply(current, rc(), "b", False, "ReplicationController")
    assert set(entries(out)) == {("a", "Apply"), ("b", "Apply")}


def test_force_takes_ownership() -> None:
    current = server_side_apply(None, rc(), "a", False, "ReplicationController")
    out = server_side_apply(current, rc(replicas=9), "b", True, "ReplicationController")
    assert out["spec"]["replicas"] == 9
    a_fields = entries(out)[("a", "Apply")]["fieldsV1"]
    assert "f:replicas" not in a_fields["f:spec"]
    assert "f:replicas" in entries(out)[("b", "Apply")]["fieldsV1"]["f:spec"]


def test_conflict_paths_render_list_keys() -> None:
    current = server_side_apply(None, rc(), "a", False, "ReplicationController")
    with pytest.raises(ApiError) as e:
        server_side_apply(current, rc(image="busybox:9"), "b", False, "ReplicationController")
    assert e.value.details is not None
    assert e.value.details["causes"][0]["field"] == '.spec.template.spec.containers[name="web"].image'


def client_side_applied(config: dict[str, Any]) -> dict[str, Any]:
    """What `kubectl apply` (client side) leaves: the config with its last-applied annotation,
    owned by kubectl-client-side-apply."""
    import json

    obj = copy.deepcopy(config)
    last = json.dumps(config, separators=(",", ":"))
    obj["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": last}
    record_update(None, obj, "kubectl-client-side-apply")
    return obj


def test_kubectl_takes_over_client_side_applied_fields_without_conflict() -> None:
    """kube's upgrade from client-side to server-side apply: the manager `kubectl` may change
    fields whose live value is the last-applied one; other managers still conflict."""
    live = client_side_applied(rc())
    out = server_side_apply(live, rc(replicas=5), "kubectl", False, "ReplicationController")
    assert out["spec"]["replicas"] == 5
    assert "f:replicas" not in entries(out)[("kubectl-client-side-apply", "Update")]["fieldsV1"]["f:spec"]
    with pytest.raises(ApiError) as e:
        server_side_apply(live, rc(replicas=5), "other", False, "ReplicationController")
    assert e.value.code == 409


def test_fields_changed_since_the_client_side_apply_still_conflict() -> None:
    live = client_side_applied(rc())
    live["spec"]["replicas"] = 7  # a later edit, recorded under the same manager
    with pytest.raises(ApiError) as e:
        server_side_apply(live, rc(replicas=5), "kubectl", False, "ReplicationController")
    assert e.value.message.endswith('"kubectl-client-side-apply" using v1: .spec.replicas')


def test_managed_fields_sent_by_the_client_replace_the_stored_ones() -> None:
    """kubectl's JSON patch moving a client-side apply's fields to its server-side manager."""
    live = client_side_applied(rc())
    fields = entries(live)[("kubectl-client-side-apply", "Update")]["fieldsV1"]
    moved = copy.deepcopy(live)
    moved["metadata"]["managedFields"] = [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        }
    ]
    record_update(live, moved, "kubectl")
    assert set(entries(moved)) == {("kubectl", "Apply")}
    same = copy.deepcopy(moved)
    same["spec"]["replicas"] = 3
    record_update(moved, same, "kubectl-scale")  # sent back unchanged: recorded as before
    assert set(entries(same)) == {("kubectl", "Apply"), ("kubectl-scale", "Update")}


def test_record_update_moves_ownership_without_conflict() -> None:
    created = rc()
    record_update(None, created, "kubectl-create")
    assert ("kubectl-create", "Update") in entries(created)
    changed = copy.deepcopy(created)
    changed["spec"]["replicas"] = 4
    record_update(created, changed, "kubectl-scale")
    owned = entries(changed)
    assert "f:replicas" not in owned[("kubectl-create", "Update")]["fieldsV1"]["f:spec"]
    assert owned[("kubectl-scale", "Update")]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}


def test_status_subresource_entries() -> None:
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Pending"},
    }
    record_update(None, pod, "kubectl")
    running = copy.deepcopy(pod)
    running["status"]["phase"] = "Running"
    record_update(pod, running, "kubelet", subresource="status")
    # status is never owned through the main resource, so a status write records nothing new
    assert ("kubelet", "Update") not in entries(running)


def speaker_ports(*ports: dict[str, Any]) -> dict[str, Any]:
    """An RC whose container has `ports` (metallb's speaker: 7946 over TCP and over UDP)."""
    obj = rc()
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = list(ports)
    return obj


MEMBERLIST = (
    {"containerPort": 7472, "name": "monitoring"},
    {"containerPort": 7946, "name": "memberlist-tcp"},
    {"containerPort": 7946, "name": "memberlist-udp", "protocol": "UDP"},
)


def test_ports_are_keyed_by_port_and_protocol() -> None:
    # kube's listMapKeys of container ports are containerPort and protocol (TCP when unset):
    # one port number over TCP and UDP is two elements, owned and merged apart.
    out = server_side_apply(None, speaker_ports(*MEMBERLIST), "kubectl", False, "ReplicationController")
    fields = entries(out)[("kubectl", "Apply")]["fieldsV1"]
    ports = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']["f:ports"]
    assert set(ports) == {
        'k:{"containerPort":7472,"protocol":"TCP"}',
        'k:{"containerPort":7946,"protocol":"TCP"}',
        'k:{"containerPort":7946,"protocol":"UDP"}',
    }
    stored = copy.deepcopy(out)  # as the defaulter stores it: every protocol set
    for p in stored["spec"]["template"]["spec"]["containers"][0]["ports"]:
        p.setdefault("protocol", "TCP")
    again = server_side_apply(stored, speaker_ports(*MEMBERLIST), "kubectl", False, "ReplicationController")
    got = again["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert [(p["name"], p["protocol"]) for p in got] == [
        ("monitoring", "TCP"),
        ("memberlist-tcp", "TCP"),
        ("memberlist-udp", "UDP"),
    ]


def test_ports_applied_over_another_managers_are_not_conflicts() -> None:
    created = speaker_ports(*MEMBERLIST)
    for p in created["spec"]["template"]["spec"]["containers"][0]["ports"]:
        p.setdefault("protocol", "TCP")
    record_update(None, created, "kubectl-client-side-apply")
    out = server_side_apply(created, speaker_ports(*MEMBERLIST), "kubectl", False, "ReplicationController")
    assert len(out["spec"]["template"]["spec"]["containers"][0]["ports"]) == 3
    # dropping the UDP port from the applied configuration removes only that element
    shared = server_side_apply(None, speaker_ports(*MEMBERLIST), "kubectl", False, "ReplicationController")
    fewer = server_side_apply(
        shared, speaker_ports(*MEMBERLIST[:2]), "kubectl", False, "ReplicationController"
    )
    assert [p["name"] for p in fewer["spec"]["template"]["spec"]["containers"][0]["ports"]] == [
        "monitoring",
        "memberlist-tcp",
    ]
