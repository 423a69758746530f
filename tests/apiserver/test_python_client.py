"""The official `kubernetes` Python client: CRUD on every kind, watch, create_from_yaml, each patch type."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, utils, watch
from kubernetes.client.rest import ApiException

from tests.apiserver.conftest import Server


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[client.ApiClient]:
    c = config.new_client_from_config(config_file=str(server.kubeconfig))
    yield c
    c.close()


def _pod(name: str, **labels: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or None),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(
                    name="c", image="busybox:1", ports=[client.V1ContainerPort(container_port=80)]
                )
            ]
        ),
    )


def test_pod_crud_and_status(api: client.ApiClient, ns: str) -> None:
    v1 = client.CoreV1Api(api)
    created = v1.create_namespaced_pod(ns, _pod("p1", app="a"))
    assert created.metadata.uid and created.metadata.resource_version and created.status.phase == "Pending"
    got = v1.read_namespaced_pod("p1", ns)
    assert got.metadata.uid == created.metadata.uid
    got.metadata.labels["extra"] = "1"
    replaced = v1.replace_namespaced_pod("p1", ns, got)
    assert replaced.metadata.labels == {"app": "a", "extra": "1"}
    assert int(str(replaced.metadata.resource_version)) > int(str(got.metadata.resource_version))
    lst = v1.list_namespaced_pod(ns, label_selector="extra=1")
    assert [p.metadata.name for p in lst.items] == ["p1"]
    assert v1.list_namespaced_pod(ns, label_selector="extra in (2,3)").items == []
    assert [
        p.metadata.name
        for p in v1.list_pod_for_all_namespaces(field_selector=f"metadata.namespace={ns}").items
    ] == ["p1"]
    replaced.status.phase = "Running"
    replaced.status.conditions = [client.V1PodCondition(type="Ready", status="True")]
    st = v1.replace_namespaced_pod_status("p1", ns, replaced)
    assert st.status.phase == "Running"
    assert v1.read_namespaced_pod_status("p1", ns).status.conditions[0].type == "Ready"
    gone = v1.delete_namespaced_pod("p1", ns)
    assert gone.metadata.name == "p1"
    with pytest.raises(ApiException) as e:
        v1.read_namespaced_pod("p1", ns)
    assert e.value.status == 404


def test_every_other_kind(api: client.ApiClient, ns: str) -> None:
    v1 = client.CoreV1Api(api)
    rc = v1.create_namespaced_replication_controller(
        ns,
        client.V1ReplicationController(
            metadata=client.V1ObjectMeta(name="rc"),
            spec=client.V1ReplicationControllerSpec(
                replicas=2,
                selector={"app": "rc"},
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels={"app": "rc"}),
                    spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
                ),
            ),
        ),
    )
    assert rc.status.replicas == 0 and rc.metadata.generation == 1
    scale = v1.read_namespaced_replication_controller_scale("rc", ns)
    assert scale.spec.replicas == 2 and scale.status.selector == "app=rc"
    scale.spec.replicas = 4
    assert v1.replace_namespaced_replication_controller_scale("rc", ns, scale).spec.replicas == 4
    assert (
        v1.patch_namespaced_replication_controller_scale("rc", ns, {"spec": {"replicas": 1}}).spec.replicas
        == 1
    )
    rc = v1.read_namespaced_replication_controller("rc", ns)
    rc.status.replicas = 1
    assert v1.replace_namespaced_replication_controller_status("rc", ns, rc).status.replicas == 1
    assert [r.metadata.name for r in v1.list_namespaced_replication_controller(ns).items] == ["rc"]
    v1.delete_namespaced_replication_controller("rc", ns)

    svc = v1.create_namespaced_service(
        ns,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="s"),
            spec=client.V1ServiceSpec(
                type="NodePort",
                selector={"app": "rc"},
                ports=[client.V1ServicePort(port=80, target_port=8080)],
            ),
        ),
    )
    assert svc.spec.cluster_ip.startswith("10.96.") and 30000 <= svc.spec.ports[0].node_port <= 32767
    v1.delete_namespaced_service("s", ns)

    ep = v1.create_namespaced_endpoints(
        ns,
        client.V1Endpoints(
            metadata=client.V1ObjectMeta(name="s"),
            subsets=[
                client.V1EndpointSubset(
                    addresses=[client.V1EndpointAddress(ip="10.244.0.5")],
                    ports=[client.CoreV1EndpointPort(port=8080)],
                )
            ],
        ),
    )
    assert ep.subsets[0].addresses[0].ip == "10.244.0.5"
    v1.delete_namespaced_endpoints("s", ns)

    node_name = f"node-{ns}"[:63]
    node = v1.create_node(client.V1Node(metadata=client.V1ObjectMeta(name=node_name)))
    node.status = client.V1NodeStatus(
        conditions=[client.V1NodeCondition(type="Ready", status="True")],
        addresses=[client.V1NodeAddress(type="InternalIP", address="10.0.0.1")],
        node_info=client.V1NodeSystemInfo(
            architecture="amd64",
            boot_id="b",
            container_runtime_version="runc",
            kernel_version="6",
            kube_proxy_version="v1",
            kubelet_version="v1.33",
            machine_id="m",
            operating_system="linux",
            os_image="debian",
            system_uuid="u",
        ),
    )
    assert v1.replace_node_status(node_name, node).status.conditions[0].status == "True"
    assert node_name in [n.metadata.name for n in v1.list_node().items]
    v1.delete_node(node_name)

    ev = v1.create_namespaced_event(
        ns,
        client.CoreV1Event(
            metadata=client.V1ObjectMeta(name="e1"),
            involved_object=client.V1ObjectReference(kind="Pod", name="x", namespace=ns),
            reason="Test",
            message="hello",
            type="Normal",
        ),
    )
    assert ev.message == "hello"
    assert [
        e.metadata.name for e in v1.list_namespaced_event(ns, field_selector="involvedObject.name=x").items
    ] == ["e1"]
    v1.delete_namespaced_event("e1", ns)

    coord = client.CoordinationV1Api(api)
    lease = coord.create_namespaced_lease(
        ns,
        client.V1Lease(
            metadata=client.V1ObjectMeta(name="l"),
            spec=client.V1LeaseSpec(holder_identity="me", lease_duration_seconds=15),
        ),
    )
    lease.spec.holder_identity = "you"
    assert coord.replace_namespaced_lease("l", ns, lease).spec.holder_identity == "you"
    assert [x.metadata.name for x in coord.list_namespaced_lease(ns).items] == ["l"]
    coord.delete_namespaced_lease("l", ns)

    extra = v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=f"{ns}-x"[:63])))
    assert extra.status.phase == "Active"
    v1.delete_namespace(str(extra.metadata.name))
    assert v1.read_namespace(str(extra.metadata.name)).status.phase == "Terminating"


def test_patches_of_each_type(api: client.ApiClient, ns: str) -> None:
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_pod(ns, _pod("pp", app="a"))
    p = v1.patch_namespaced_pod("pp", ns, {"metadata": {"labels": {"b": "2"}}})  # strategic merge
    assert p.metadata.labels == {"app": "a", "b": "2"}
    p = v1.patch_namespaced_pod(
        "pp", ns, {"metadata": {"labels": {"app": None}}}, _content_type="application/merge-patch+json"
    )
    assert p.metadata.labels == {"b": "2"}
    p = v1.patch_namespaced_pod(
        "pp", ns, [{"op": "add", "path": "/metadata/annotations", "value": {"x": "y"}}]
    )
    assert p.metadata.annotations == {"x": "y"}
    p = v1.patch_namespaced_pod(
        "pp",
        ns,
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pp", "labels": {"c": "3"}}},
        field_manager="tester",
        _content_type="application/apply-patch+yaml",
    )
    assert p.metadata.labels["c"] == "3"
    assert any(m.manager == "tester" for m in p.metadata.managed_fields)
    with pytest.raises(ApiException) as e:
        v1.patch_namespaced_pod("pp", ns, [{"op": "test", "path": "/metadata/name", "value": "other"}])
    assert e.value.status == 422


def test_watch_stream(api: client.ApiClient, ns: str) -> None:
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_pod(ns, _pod("w-before"))
    seen: list[tuple[str, str]] = []
    w = watch.Watch()
    ready = threading.Event()

    def writer() -> None:
        ready.wait(10)
        v1.create_namespaced_pod(ns, _pod("w-after"))
        v1.patch_namespaced_pod("w-after", ns, {"metadata": {"labels": {"x": "1"}}})
        v1.delete_namespaced_pod("w-after", ns)

    t = threading.Thread(target=writer)
    t.start()
    for ev in w.stream(v1.list_namespaced_pod, ns, timeout_seconds=20):
        seen.append((ev["type"], ev["object"].metadata.name))
        if ev["object"].metadata.name == "w-before":
            ready.set()
        if ev["type"] == "DELETED":
            w.stop()
    t.join()
    assert seen == [
        ("ADDED", "w-before"),
        ("ADDED", "w-after"),
        ("MODIFIED", "w-after"),
        ("DELETED", "w-after"),
    ]


def test_create_from_yaml(api: client.ApiClient, ns: str, tmp_path: Path) -> None:
    f = tmp_path / "all.yaml"
    f.write_text(f"""apiVersion: v1
kind: Pod
metadata: {{name: y1}}
spec:
  containers: [{{name: c, image: busybox}}]
---
apiVersion: v1
kind: Service
metadata: {{name: y2}}
spec:
  ports: [{{port: 53, protocol: UDP}}]
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {{name: y3, namespace: {ns}}}
spec: {{holderIdentity: h}}
""")
    created = utils.create_from_yaml(api, str(f), namespace=ns)
    assert len(created) == 3
    assert client.CoreV1Api(api).read_namespaced_service("y2", ns).spec.ports[0].protocol == "UDP"
