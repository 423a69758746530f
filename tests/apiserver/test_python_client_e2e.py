"""The official Python client's own end-to-end expectations (kubernetes-client/python
`kubernetes/e2e_test/`), the API-only ones, checked against a live `kubelite server`.

Each test carries over the facts one of theirs checks, with our own manifests (apps/v1 where
theirs still say extensions/v1beta1): test_client.py (services, replication controllers, config
maps with JSON and merge patches, pods), test_k8sclient.py (endpoints), test_apps.py and
test_batch.py (deployments, daemon sets, jobs), test_watch.py (a watch from a list's
resourceVersion replays exactly what followed, and `timeout_seconds` ends it),
test_informer.py (`kubernetes.informer.SharedInformer`: cache, handlers, resourceVersion, resync)
and test_utils.py (`create_from_yaml`/`create_from_dict`/`create_from_directory` with single
objects, `kind: List` and `<Kind>List` files, multi-document files, server-side apply, and the
exact text of `FailToCreateError`, which is kube-apiserver's Status body byte for byte, its
trailing newline included). The ones that need running containers (exec, port-forward, logs,
attach, node labels, metrics) are in tests/e2e/test_python_client_streams.py.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, informer, utils, watch
from kubernetes.client.rest import ApiException

from tests.apiserver.conftest import Server
from tests.polling import wait_for


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[client.ApiClient]:
    c = config.new_client_from_config(config_file=str(server.kubeconfig))
    yield c
    c.close()


def _conflict(body: str) -> str:
    return "Error from server (Conflict): " + body + "\n"


HEAD = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'


# --- test_client.py / test_k8sclient.py -----------------------------------------------------------
def test_service_create_read_and_patch_merges_ports(api: client.ApiClient, ns: str) -> None:
    v1 = client.CoreV1Api(api)
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"labels": {"name": "frontend"}, "name": "frontend"},
        "spec": {
            "ports": [{"name": "port", "port": 80, "protocol": "TCP", "targetPort": 80}],
            "selector": {"name": "frontend"},
        },
    }
    created = v1.create_namespaced_service(body=manifest, namespace=ns)
    assert created.metadata.name == "frontend" and created.status
    assert v1.read_namespaced_service(name="frontend", namespace=ns).status
    # the whole manifest again with another port list: a strategic merge keyed by port keeps both
    manifest["spec"]["ports"] = [{"name": "new", "port": 8080, "protocol": "TCP", "targetPort": 8080}]
    patched = v1.patch_namespaced_service(body=manifest, name="frontend", namespace=ns)
    assert sorted(p.port for p in patched.spec.ports) == [80, 8080] and patched.status
    v1.delete_namespaced_service(name="frontend", body={}, namespace=ns)


def test_replication_controller_create_read_delete(api: client.ApiClient, ns: str) -> None:
    v1 = client.CoreV1Api(api)
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"labels": {"name": "frontend"}, "name": "frontend"},
        "spec": {
            "replicas": 2,
            "selector": {"name": "frontend"},
            "template": {
                "metadata": {"labels": {"name": "frontend"}},
                "spec": {
                    "containers": [
                        {
                            "image": "nginx",
                            "name": "nginx",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        }
                    ]
                },
            },
        },
    }
    assert v1.create_namespaced_replication_controller(body=rc, namespace=ns).spec.replicas == 2
    assert v1.read_namespaced_replication_controller(name="frontend", namespace=ns).spec.replicas == 2
    gone = v1.delete_namespaced_replication_controller(
        name="frontend", namespace=ns, propagation_policy="Background"
    )
    # kube answers a removal of a kind without ReturnDeletedObject with a Status (the client: a dict)
    assert gone["status"] == "Success" and gone["details"]["kind"] == "replicationcontrollers"


def test_configmap_json_patch_then_merge_patch(api: client.ApiClient, ns: str) -> None:
    v1 = client.CoreV1Api(api)
    cm = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "test-configmap", "labels": {"e2e-tests": "true"}},
        "data": {
            "config.json": '{"command":"/usr/bin/mysqld_safe"}',
            "frontend.cnf": "[mysqld]\nbind-address = 10.0.0.3\nport = 3306\n",
        },
    }
    assert v1.create_namespaced_config_map(body=cm, namespace=ns).metadata.name == "test-configmap"
    assert v1.read_namespaced_config_map(name="test-configmap", namespace=ns).data == cm["data"]
    # a list body goes as application/json-patch+json: /data replaced whole
    replaced = v1.patch_namespaced_config_map(
        name="test-configmap",
        namespace=ns,
        body=[{"op": "replace", "path": "/data", "value": {"new_value": "json_patch_name"}}],
    )
    assert replaced.data == {"new_value": "json_patch_name"}
    merged = v1.patch_namespaced_config_map(
        name="test-configmap", namespace=ns, body={"data": {"new_value": "merge_patch_name"}}
    )
    assert merged.data == {"new_value": "merge_patch_name"}
    v1.delete_namespaced_config_map(name="test-configmap", body={}, namespace=ns)
    assert v1.list_namespaced_config_map(ns, label_selector="e2e-tests=true").items == []


def test_pod_create_read_list_delete(api: client.ApiClient, ns: str) -> None:
    v1 = client.CoreV1Api(api)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "busybox-test"},
        "spec": {
            "containers": [{"image": "busybox", "name": "sleep", "args": ["/bin/sh", "-c", "sleep 3600"]}]
        },
    }
    created = v1.create_namespaced_pod(body=pod, namespace=ns)
    assert created.metadata.name == "busybox-test" and created.status.phase == "Pending"
    assert isinstance(created.metadata.creation_timestamp, dt.datetime)
    assert v1.read_namespaced_pod(name="busybox-test", namespace=ns).status.phase
    assert len(v1.list_pod_for_all_namespaces().items) > 0
    assert (
        v1.delete_namespaced_pod(name="busybox-test", body={}, namespace=ns).metadata.name == "busybox-test"
    )


def test_endpoints_listed_across_namespaces(api: client.ApiClient) -> None:
    """The API server keeps default/kubernetes itself, so the list is never empty."""
    eps = client.CoreV1Api(api).list_endpoints_for_all_namespaces().items
    assert ("default", "kubernetes") in [(e.metadata.namespace, e.metadata.name) for e in eps]


# --- test_apps.py / test_batch.py -----------------------------------------------------------------
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.15.4
        ports:
        - containerPort: 80
"""


def _assert_nginx_deployment(dep: client.V1Deployment, name: str, replicas: int = 3) -> None:
    assert dep.metadata.name == name and dep.spec.replicas == replicas
    assert dep.spec.selector.match_labels["app"] == "nginx"
    assert dep.spec.template.metadata.labels["app"] == "nginx"
    c = dep.spec.template.spec.containers[0]
    assert (c.name, c.image, c.ports[0].container_port) == ("nginx", "nginx:1.15.4", 80)


def test_deployment_and_daemonset(api: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(body=yaml.safe_load(DEPLOYMENT % "nginx-deployment"), namespace=ns)
    _assert_nginx_deployment(apps.read_namespaced_deployment("nginx-deployment", ns), "nginx-deployment")
    apps.delete_namespaced_deployment("nginx-deployment", ns, body=client.V1DeleteOptions())

    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"labels": {"app": "nginx"}, "name": "nginx-app"},
        "spec": {
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}, "name": "nginx-app"},
                "spec": {"containers": [{"name": "nginx-app", "image": "nginx:1.15.4"}]},
            },
            "updateStrategy": {"type": "RollingUpdate"},
        },
    }
    apps.create_namespaced_daemon_set(ns, body=ds)
    got = apps.read_namespaced_daemon_set("nginx-app", ns)
    assert got.spec.selector.match_labels["app"] == "nginx"
    assert got.spec.template.metadata.labels["app"] == "nginx"
    assert (got.spec.template.spec.containers[0].name, got.spec.template.spec.containers[0].image) == (
        "nginx-app",
        "nginx:1.15.4",
    )
    assert got.spec.update_strategy.type == "RollingUpdate"
    apps.delete_namespaced_daemon_set("nginx-app", ns, body=client.V1DeleteOptions())


def test_job_create_read_delete(api: client.ApiClient, ns: str) -> None:
    batch = client.BatchV1Api(api)
    job = {
        "kind": "Job",
        "apiVersion": "batch/v1",
        "metadata": {"name": "test-job"},
        "spec": {
            "template": {
                "metadata": {"name": "test-job"},
                "spec": {
                    "containers": [
                        {"image": "busybox", "name": "test-job", "command": ["sh", "-c", "sleep 5"]}
                    ],
                    "restartPolicy": "Never",
                },
            }
        },
    }
    assert batch.create_namespaced_job(body=job, namespace=ns).metadata.name == "test-job"
    assert batch.read_namespaced_job(name="test-job", namespace=ns).metadata.name == "test-job"
    batch.delete_namespaced_job(name="test-job", body={}, namespace=ns)


# --- test_watch.py --------------------------------------------------------------------------------
def test_watch_from_a_lists_resource_version_replays_what_followed(api: client.ApiClient, ns: str) -> None:
    v1 = client.CoreV1Api(api)

    def cm(name: str, value: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name},
            "data": {"key": value, "config": "dummy"},
        }

    v1.create_namespaced_config_map(body=cm("configmap-a", "a"), namespace=ns)
    rv = v1.list_namespaced_config_map(ns).metadata.resource_version
    b = cm("configmap-b", "b")
    v1.create_namespaced_config_map(body=b, namespace=ns)
    b["data"]["config"] = "{}"
    v1.patch_namespaced_config_map(name="configmap-b", namespace=ns, body=b)
    v1.delete_collection_namespaced_config_map(namespace=ns)

    started = time.monotonic()
    seen = [
        (e["type"], e["object"].metadata.name)
        for e in watch.Watch().stream(
            v1.list_namespaced_config_map, namespace=ns, resource_version=rv, timeout_seconds=2
        )
    ]
    assert seen[:2] == [("ADDED", "configmap-b"), ("MODIFIED", "configmap-b")]
    assert sorted(seen[2:]) == [("DELETED", "configmap-a"), ("DELETED", "configmap-b")]
    assert 1.5 < time.monotonic() - started < 10  # the server ended the stream at timeoutSeconds


# --- test_informer.py -----------------------------------------------------------------------------
def _cm(name: str, payload: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"inf-e2e": "1"}},
        "data": payload or {"k": "v"},
    }


@pytest.fixture
def shared(
    api: client.ApiClient, ns: str
) -> Iterator[tuple[client.CoreV1Api, informer.SharedInformer, dict[str, list[str]]]]:
    """A started SharedInformer of the namespace's `inf-e2e=1` config maps (resync every second), the
    names each handler got (by event type), and the CoreV1Api; one config map made before it starts."""
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_config_map(body=_cm("inf-pre"), namespace=ns)
    inf = informer.SharedInformer(
        list_func=v1.list_namespaced_config_map, namespace=ns, label_selector="inf-e2e=1", resync_period=1
    )
    got: dict[str, list[str]] = {informer.ADDED: [], informer.MODIFIED: [], informer.DELETED: []}
    for kind, names in got.items():
        inf.add_event_handler(kind, lambda o, names=names: names.append(o.metadata.name))
    inf.start()
    yield v1, inf, got
    inf.stop()


def test_shared_informer_cache_and_handlers(shared: Any, ns: str) -> None:
    v1, inf, got = shared
    wait_for(lambda: inf.cache.get_by_key(f"{ns}/inf-pre"), 10, "the pre-existing config map in the cache")
    assert inf.cache.get_by_key(f"{ns}/inf-pre").data == {"k": "v"}
    rv_before = int(inf._resource_version)

    v1.create_namespaced_config_map(body=_cm("inf-add"), namespace=ns)
    wait_for(lambda: "inf-add" in got[informer.ADDED], 10, "ADDED inf-add")
    assert inf.cache.get_by_key(f"{ns}/inf-add") is not None
    assert int(inf._resource_version) > rv_before

    v1.patch_namespaced_config_map(name="inf-add", namespace=ns, body={"data": {"k": "updated"}})
    wait_for(
        lambda: inf.cache.get_by_key(f"{ns}/inf-add").data == {"k": "updated"}, 10, "the patched data cached"
    )
    assert "inf-add" in got[informer.MODIFIED]

    v1.delete_namespaced_config_map(name="inf-add", namespace=ns)
    wait_for(lambda: "inf-add" in got[informer.DELETED], 10, "DELETED inf-add")
    assert inf.cache.get_by_key(f"{ns}/inf-add") is None


def test_shared_informer_resync_fires_modified(shared: Any, ns: str) -> None:
    """The watch ends at the resync period (timeoutSeconds), the informer re-lists and fires
    MODIFIED for what it already had."""
    _, inf, got = shared
    wait_for(lambda: "inf-pre" in got[informer.ADDED], 10, "ADDED inf-pre")
    wait_for(lambda: "inf-pre" in got[informer.MODIFIED], 10, "the resync's MODIFIED inf-pre")
    assert inf.cache.get_by_key(f"{ns}/inf-pre").data == {"k": "v"}


# --- test_utils.py: create_from_yaml and friends ----------------------------------------------------
FILES = {
    "core-pod.yaml": """apiVersion: v1
kind: Pod
metadata:
  name: myapp-pod
  labels:
    app: myapp
spec:
  containers:
  - name: myapp-container
    image: busybox
    command: ['sh', '-c', 'echo Hello Kubernetes! && sleep 3600']
""",
    "core-service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  selector:
    app: MyApp
  ports:
  - protocol: TCP
    port: 80
    targetPort: 9376
""",
    "rbac-role.yaml": """kind: Role
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: pod-reader
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "watch", "list"]
""",
    "list.yaml": """apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: list-service-test
  spec:
    ports:
    - protocol: TCP
      port: 80
    selector:
      app: list-deployment-test
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: list-deployment-test
    labels:
      app: list-deployment-test
  spec:
    replicas: 1
    selector:
      matchLabels:
        app: list-deployment-test
    template:
      metadata:
        labels:
          app: list-deployment-test
      spec:
        containers:
        - name: nginx
          image: nginx:1.15.4
""",
    "implicit-svclist.json": """{"kind": "ServiceList", "apiVersion": "v1", "items": [
  {"metadata": {"name": "mock-3", "labels": {"app": "mock-3"}},
   "spec": {"ports": [{"protocol": "TCP", "port": 99, "targetPort": 9949}], "selector": {"app": "mock-3"}}},
  {"metadata": {"name": "mock-3", "labels": {"app": "mock-3"}},
   "spec": {"ports": [{"protocol": "TCP", "port": 99, "targetPort": 9949}], "selector": {"app": "mock-3"}}},
  {"metadata": {"name": "mock-4", "labels": {"app": "mock-4"}},
   "spec": {"ports": [{"protocol": "TCP", "port": 99, "targetPort": 9949}], "selector": {"app": "mock-4"}}}
]}
""",
    "multi-resource/service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: mock
  labels:
    app: mock
spec:
  ports:
  - port: 99
    protocol: TCP
    targetPort: 9949
  selector:
    app: mock
""",
    "multi-resource/replication-controller.yaml": """apiVersion: v1
kind: ReplicationController
metadata:
  name: mock
spec:
  replicas: 1
  selector:
    app: mock
  template:
    metadata:
      labels:
        app: mock
    spec:
      containers:
      - name: mock-container
        image: k8s.gcr.io/pause:2.0
        ports:
        - containerPort: 9949
          protocol: TCP
""",
    "multi-resource-with-list.yaml": """apiVersion: v1
kind: PodList
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: mock-pod-0
    labels:
      app: mock-pod-0
  spec:
    containers:
    - name: mock-pod-0
      image: busybox
- apiVersion: v1
  kind: Pod
  metadata:
    name: mock-pod-1
    labels:
      app: mock-pod-1
  spec:
    containers:
    - name: mock-pod-1
      image: busybox
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: mock
  labels:
    app: mock
spec:
  replicas: 3
  selector:
    matchLabels:
      app: mock
  template:
    metadata:
      labels:
        app: mock
    spec:
      containers:
      - name: mock
        image: nginx:1.15.4
""",
    "yaml-conflict-first.yaml": """apiVersion: v1
kind: Service
metadata:
  name: mock-2
  labels:
    app: mock-2
spec:
  ports:
  - port: 99
    protocol: TCP
    targetPort: 9949
  selector:
    app: mock-2
""",
}
FILES["multi-resource.yaml"] = (
    FILES["multi-resource/service.yaml"] + "---\n" + FILES["multi-resource/replication-controller.yaml"]
)
FILES["yaml-conflict-multi.yaml"] = (
    FILES["yaml-conflict-first.yaml"]
    + "---\n"
    + FILES["multi-resource/replication-controller.yaml"].replace("mock", "mock-2")
)
FILES["apps-deployment.yaml"] = DEPLOYMENT % "nginx-app"
FILES["triple-nginx.yaml"] = "---\n".join([DEPLOYMENT % "triple-nginx"] * 3)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("test_yaml")
    for name, text in FILES.items():
        (d / name).parent.mkdir(exist_ok=True)
        (d / name).write_text(text)
    return d


def test_create_single_objects_from_yaml(api: client.ApiClient, ns: str, files: Path) -> None:
    core, apps, rbac = client.CoreV1Api(api), client.AppsV1Api(api), client.RbacAuthorizationV1Api(api)
    utils.create_from_yaml(api, str(files / "apps-deployment.yaml"), namespace=ns)
    _assert_nginx_deployment(apps.read_namespaced_deployment("nginx-app", ns), "nginx-app")
    with open(files / "apps-deployment.yaml") as f:  # yaml_objects instead of a file name
        utils.create_from_yaml(
            api,
            yaml_objects=[dict(d, metadata={"name": "nginx-app-2"}) for d in yaml.safe_load_all(f)],
            namespace=ns,
        )
    _assert_nginx_deployment(apps.read_namespaced_deployment("nginx-app-2", ns), "nginx-app-2")
    obj = yaml.safe_load(FILES["apps-deployment.yaml"])
    obj["metadata"]["name"] = "nginx-app-3"
    utils.create_from_dict(api, obj, namespace=ns)
    _assert_nginx_deployment(apps.read_namespaced_deployment("nginx-app-3", ns), "nginx-app-3")

    utils.create_from_yaml(api, str(files / "core-pod.yaml"), namespace=ns)
    pod = core.read_namespaced_pod("myapp-pod", ns)
    assert (pod.spec.containers[0].image, pod.spec.containers[0].name) == ("busybox", "myapp-container")
    utils.create_from_yaml(api, str(files / "core-service.yaml"), namespace=ns)
    assert core.read_namespaced_service("my-service", ns).spec.selector["app"] == "MyApp"
    utils.create_from_yaml(api, str(files / "rbac-role.yaml"), namespace=ns, verbose=True)
    assert rbac.read_namespaced_role("pod-reader", ns).rules[0].resources[0] == "pods"


def test_create_from_yaml_with_apply_is_idempotent(api: client.ApiClient, ns: str, files: Path) -> None:
    """apply=True is server-side apply through the DynamicClient (discovery, then PATCH)."""
    apps = client.AppsV1Api(api)
    utils.create_from_yaml(api, str(files / "apps-deployment.yaml"), namespace=ns)
    for _ in range(2):
        utils.create_from_yaml(api, str(files / "apps-deployment.yaml"), namespace=ns, apply=True)
        _assert_nginx_deployment(apps.read_namespaced_deployment("nginx-app", ns), "nginx-app")


def test_create_namespace_then_deployment_in_it(api: client.ApiClient, ns: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    name = f"{ns}-dep"[:63]
    utils.create_from_dict(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert core.read_namespace(name).metadata.name == name
    dep = yaml.safe_load(DEPLOYMENT % "nginx-deployment")
    dep["metadata"]["namespace"] = name  # the object's own namespace wins over the argument's
    utils.create_from_dict(api, dep, namespace=ns)
    assert apps.read_namespaced_deployment("nginx-deployment", name).metadata.namespace == name
    apps.delete_namespaced_deployment("nginx-deployment", name, body={})
    core.delete_namespace(name, body={})


def test_create_lists_from_yaml(api: client.ApiClient, ns: str, files: Path) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    utils.create_from_yaml(api, str(files / "list.yaml"), namespace=ns)
    assert (
        core.read_namespaced_service("list-service-test", ns).spec.selector["app"] == "list-deployment-test"
    )
    dep = apps.read_namespaced_deployment("list-deployment-test", ns)
    assert (dep.spec.template.spec.containers[0].image, dep.spec.replicas) == ("nginx:1.15.4", 1)

    names = [f"{ns}-mock-1"[:63], f"{ns}-mock-2"[:63]]
    utils.create_from_dict(
        api,
        {
            "apiVersion": "v1",
            "kind": "NamespaceList",
            "items": [{"metadata": {"name": n, "labels": {"name": n}}} for n in names],
        },
    )
    for n in names:
        assert core.read_namespace(n).metadata.labels["name"] == n
        core.delete_namespace(n, body={})

    utils.create_from_yaml(api, str(files / "multi-resource-with-list.yaml"), namespace=ns)
    for i in (0, 1):
        pod = core.read_namespaced_pod(f"mock-pod-{i}", ns)
        assert pod.metadata.labels["app"] == pod.spec.containers[0].name == f"mock-pod-{i}"
    mock = apps.read_namespaced_deployment("mock", ns)
    assert (mock.spec.template.metadata.labels["app"], mock.spec.replicas) == ("mock", 3)


def test_implicit_service_list_with_a_duplicate(api: client.ApiClient, ns: str, files: Path) -> None:
    """Items without kind take it from `ServiceList`; the duplicate fails, the others are made."""
    with pytest.raises(utils.FailToCreateError) as failed:
        utils.create_from_yaml(api, str(files / "implicit-svclist.json"), namespace=ns)
    assert str(failed.value) == _conflict(
        HEAD + '"message":"services \\"mock-3\\" already exists","reason":"AlreadyExists",'
        '"details":{"name":"mock-3","kind":"services"},"code":409}'
    )
    core = client.CoreV1Api(api)
    for n in ("mock-3", "mock-4"):
        assert core.read_namespaced_service(n, ns).metadata.labels["app"] == n


def test_create_from_directory_and_multi_document_yaml(api: client.ApiClient, ns: str, files: Path) -> None:
    core = client.CoreV1Api(api)

    def check() -> None:
        svc = core.read_namespaced_service("mock", ns)
        assert svc.metadata.labels["app"] == svc.spec.selector["app"] == "mock"
        rc = core.read_namespaced_replication_controller("mock", ns)
        assert rc.spec.template.metadata.labels["app"] == rc.spec.selector["app"] == "mock"
        assert rc.spec.replicas == 1
        c = rc.spec.template.spec.containers[0]
        assert (c.image, c.name) == ("k8s.gcr.io/pause:2.0", "mock-container")
        core.delete_namespaced_replication_controller("mock", ns, propagation_policy="Background")
        core.delete_namespaced_service("mock", ns, body={})

    utils.create_from_directory(api, str(files / "multi-resource"), namespace=ns)
    check()
    utils.create_from_yaml(api, str(files / "multi-resource.yaml"), namespace=ns)
    check()


def test_conflicts_are_kube_apiservers_status_bytes(api: client.ApiClient, ns: str, files: Path) -> None:
    core = client.CoreV1Api(api)
    utils.create_from_yaml(api, str(files / "yaml-conflict-first.yaml"), namespace=ns)
    assert core.read_namespaced_service("mock-2", ns).spec.ports[0].port == 99
    with pytest.raises(utils.FailToCreateError) as failed:
        utils.create_from_yaml(api, str(files / "yaml-conflict-multi.yaml"), namespace=ns)
    assert str(failed.value) == _conflict(
        HEAD + '"message":"services \\"mock-2\\" already exists","reason":"AlreadyExists",'
        '"details":{"name":"mock-2","kind":"services"},"code":409}'
    )
    assert core.read_namespaced_replication_controller("mock-2", ns)  # the next document still made

    with pytest.raises(utils.FailToCreateError) as failed:
        utils.create_from_yaml(api, str(files / "triple-nginx.yaml"), namespace=ns)
    one = _conflict(
        HEAD + '"message":"deployments.apps \\"triple-nginx\\" already exists","reason":"AlreadyExists",'
        '"details":{"name":"triple-nginx","group":"apps","kind":"deployments"},"code":409}'
    )
    assert str(failed.value) == one + one
    assert client.AppsV1Api(api).read_namespaced_deployment("triple-nginx", ns)


def test_apiservice_conflict_names_its_group(api: client.ApiClient) -> None:
    reg = client.ApiregistrationV1Api(api)
    svc = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": "v1alpha1.wardle.k8s.io"},
        "spec": {
            "insecureSkipTLSVerify": True,
            "group": "wardle.k8s.io",
            "groupPriorityMinimum": 1000,
            "versionPriority": 15,
            "service": {"name": "api", "namespace": "wardle"},
            "version": "v1alpha1",
        },
    }
    utils.create_from_dict(api, svc)
    try:
        got = reg.read_api_service(name="v1alpha1.wardle.k8s.io")
        assert (got.spec.group, got.spec.version) == ("wardle.k8s.io", "v1alpha1")
        with pytest.raises(utils.FailToCreateError) as failed:
            utils.create_from_dict(api, svc)
        assert str(failed.value) == _conflict(
            HEAD
            + '"message":"apiservices.apiregistration.k8s.io \\"v1alpha1.wardle.k8s.io\\" already exists",'
            '"reason":"AlreadyExists","details":{"name":"v1alpha1.wardle.k8s.io",'
            '"group":"apiregistration.k8s.io","kind":"apiservices"},"code":409}'
        )
    finally:
        reg.delete_api_service(name="v1alpha1.wardle.k8s.io", body=client.V1DeleteOptions())


def test_job_in_a_namespace_that_does_not_exist(api: client.ApiClient) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"namespace": "non-existent-namespace", "name": "test-job"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "test-job"}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "test-job", "image": "some-image:latest", "imagePullPolicy": "IfNotPresent"}
                    ],
                },
            }
        },
    }
    with pytest.raises(utils.FailToCreateError) as failed:
        utils.create_from_dict(api, job)
    assert str(failed.value) == (
        "Error from server (Not Found): "
        + HEAD
        + '"message":"namespaces \\"non-existent-namespace\\" not found","reason":"NotFound",'
        '"details":{"name":"non-existent-namespace","kind":"namespaces"},"code":404}\n'
    )
    assert isinstance(failed.value.api_exceptions[0], ApiException)
