"""apps/v1 and batch/v1 served as kube-apiserver serves them, against a real `kubelite server`:
the real kubectl (1.33 and 1.27) applies and prints Deployments, Jobs, CronJobs, StatefulSets and
DaemonSets with the real columns; the official Python client creates, reads, patches, lists,
watches and scales them, and `utils.create_from_yaml` takes a file mixing the kinds; bad objects
get kube's 422 and store nothing; status moves only through /status."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
from kubernetes import client, utils, watch

from tests.apiserver.conftest import KUBECTL, KUBECTL_127, Server, table_rows

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "busybox:1", command: [sleep, "3600"]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: "busybox:1"}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: t, image: "busybox:1"}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "busybox:1"}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: a, image: "busybox:1"}]
"""


def test_kubectl_applies_and_prints_the_workload_kinds(server: Server, ns: str) -> None:
    out = server.kubectl("-n", ns, "apply", "-f", "-", input=MANIFEST, check=True).stdout
    assert out.split("\n")[:5] == [
        "deployment.apps/web created",
        "job.batch/pi created",
        "cronjob.batch/tick created",
        "statefulset.apps/db created",
        "daemonset.apps/agent created",
    ]
    again = server.kubectl("-n", ns, "apply", "-f", "-", input=MANIFEST, check=True).stdout
    assert again.count("unchanged") == 5, again
    rows = table_rows(server.kubectl("-n", ns, "get", "deploy", check=True).stdout)
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert rows[1][:4] == ["web", "0/2", "0", "0"]
    wide = table_rows(server.kubectl("-n", ns, "get", "deploy", "-o", "wide", check=True).stdout)
    assert wide[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1][5:] == ["web", "busybox:1", "app=web"]
    listing = server.kubectl("-n", ns, "get", "all", check=True).stdout
    for header in (
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"],
        ["NAME", "READY", "AGE"],
        ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
        ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"],
    ):
        assert header in table_rows(listing), (header, listing)
    by_name = {r[0]: r for r in table_rows(listing)}
    assert by_name["job.batch/pi"][1:3] == ["Running", "0/1"]
    assert by_name["cronjob.batch/tick"][1:9] == ["*/5", "*", "*", "*", "*", "<none>", "False", "0"]
    assert by_name["statefulset.apps/db"][1] == "0/1"
    # short names resolve through discovery
    assert "tick" in server.kubectl("-n", ns, "get", "cj", check=True).stdout
    assert "agent" in server.kubectl("-n", ns, "get", "ds", check=True).stdout
    # kubectl 1.27 validates through /openapi/v2 and reads the same table
    web127 = MANIFEST.split("---")[0].replace("name: web}", "name: web127}")
    server.kubectl("-n", ns, "apply", "-f", "-", input=web127, binary=KUBECTL_127, check=True)
    rows = table_rows(server.kubectl("-n", ns, "get", "deploy", binary=KUBECTL_127, check=True).stdout)
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert next(r for r in rows if r[0] == "web127")[:4] == ["web127", "0/2", "0", "0"]


def test_kubectl_scale_and_errors(server: Server, ns: str) -> None:
    server.kubectl("-n", ns, "apply", "-f", "-", input=MANIFEST, check=True)
    server.kubectl("-n", ns, "scale", "deploy", "web", "--replicas=4", check=True)
    got = server.kubectl(
        "-n", ns, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.metadata.generation}", check=True
    ).stdout
    assert got == "4 2"
    server.kubectl("-n", ns, "scale", "sts", "db", "--replicas=2", check=True)
    bad = server.kubectl("-n", ns, "create", "cronjob", "c2", "--image=busybox", "--schedule=61 * * * *")
    assert bad.returncode != 0
    assert (
        'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61' in bad.stderr
    )
    bad = server.kubectl("-n", ns, "create", "deployment", "neg", "--image=busybox", "--replicas=-1")
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in bad.stderr
    assert "neg" not in server.kubectl("-n", ns, "get", "deploy", check=True).stdout


def test_python_client_round_trip(api_client: client.ApiClient, ns: str) -> None:
    apps, batch = client.AppsV1Api(api_client), client.BatchV1Api(api_client)
    labels = {"app": "api"}
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="api"),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1")]),
            ),
        ),
    )
    seen: list[tuple[str, int]] = []
    started = threading.Event()

    def watcher() -> None:
        w = watch.Watch()
        started.set()
        for event in w.stream(apps.list_namespaced_deployment, ns, timeout_seconds=10):
            seen.append((event["type"], event["object"].spec.replicas))
            if event["type"] == "MODIFIED":
                w.stop()

    t = threading.Thread(target=watcher, daemon=True)
    t.start()
    started.wait(5)
    created = apps.create_namespaced_deployment(ns, body)
    assert created.spec.replicas == 1 and created.spec.strategy.rolling_update.max_surge == "25%"
    assert created.spec.revision_history_limit == 10 and created.metadata.generation == 1
    patched = apps.patch_namespaced_deployment("api", ns, {"spec": {"replicas": 3}})
    assert patched.spec.replicas == 3 and patched.metadata.generation == 2
    t.join(15)
    assert ("MODIFIED", 3) in seen, seen
    assert [d.metadata.name for d in apps.list_namespaced_deployment(ns).items] == ["api"]
    scale = apps.read_namespaced_deployment_scale("api", ns)
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (3, 0, "app=api")
    apps.patch_namespaced_deployment_scale("api", ns, {"spec": {"replicas": 5}})
    assert apps.read_namespaced_deployment("api", ns).spec.replicas == 5
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name="once"),
        spec=client.V1JobSpec(
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never", containers=[client.V1Container(name="c", image="busybox:1")]
                )
            )
        ),
    )
    made = batch.create_namespaced_job(ns, job)
    uid = made.metadata.uid
    assert made.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    assert made.spec.template.metadata.labels["batch.kubernetes.io/job-name"] == "once"
    assert batch.read_namespaced_job("once", ns).spec.backoff_limit == 6
    assert [j.metadata.name for j in batch.list_namespaced_job(ns).items] == ["once"]


def test_create_from_yaml_mixing_kinds(api_client: client.ApiClient, ns: str, tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(MANIFEST)
    utils.create_from_yaml(api_client, str(path), namespace=ns)
    apps, batch = client.AppsV1Api(api_client), client.BatchV1Api(api_client)
    assert apps.read_namespaced_stateful_set("db", ns).spec.pod_management_policy == "OrderedReady"
    assert (
        apps.read_namespaced_daemon_set("agent", ns).spec.update_strategy.rolling_update.max_unavailable == 1
    )
    assert batch.read_namespaced_cron_job("tick", ns).spec.successful_jobs_history_limit == 3
    assert batch.read_namespaced_job("pi", ns).spec.completion_mode == "NonIndexed"


def test_status_only_through_the_status_subresource(http: httpx.Client, server: Server, ns: str) -> None:
    server.kubectl("-n", ns, "apply", "-f", "-", input=MANIFEST.split("---")[0], check=True)
    base = f"/apis/apps/v1/namespaces/{ns}/deployments/web"
    r = http.patch(
        base, json={"status": {"replicas": 7}}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert r.status_code == 200 and r.json()["status"] == {}
    r = http.patch(
        base + "/status",
        json={"status": {"replicas": 2, "readyReplicas": 1, "availableReplicas": 1}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"]["readyReplicas"] == 1 and r.json()["metadata"]["generation"] == 1
    rows = table_rows(server.kubectl("-n", ns, "get", "deploy", "web", check=True).stdout)
    assert rows[1][1] == "1/2"
    r = http.patch(
        base + "/status",
        json={"status": {"readyReplicas": 5}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 422
    assert (
        r.json()["details"]["causes"][0]["message"]
        == "Invalid value: 5: cannot be greater than status.replicas"
    )


def test_bad_workloads_are_refused_and_not_stored(http: httpx.Client, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}"
    body = {
        "metadata": {"name": "bad"},
        "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {
                "metadata": {"labels": {"app": "b"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    r = http.post(f"{base}/replicasets", json=body)
    assert r.status_code == 422, r.text
    status = r.json()
    assert status["reason"] == "Invalid" and status["details"]["kind"] == "ReplicaSet"
    assert status["details"]["group"] == "apps"
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.template.metadata.labels",
            "message": 'Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`',
        }
    ]
    assert http.get(f"{base}/replicasets/bad").status_code == 404
    r = http.post(
        f"/apis/batch/v1/namespaces/{ns}/jobs",
        json={
            "metadata": {"name": "j"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}},
        },
    )
    assert r.status_code == 422
    assert (
        r.json()["details"]["causes"][0]["message"]
        == 'Unsupported value: "Always": supported values: "OnFailure", "Never"'
    )


def test_apply_switches_the_deployment_strategy(server: Server, ns: str) -> None:
    """DeploymentSpec.strategy is retainKeys in OpenAPI, so kubectl sends `$retainKeys` and the
    defaulted rollingUpdate goes away when the type becomes Recreate (and comes back after)."""
    rolling = MANIFEST.split("---")[0]
    recreate = rolling.replace("replicas: 2", "replicas: 2\n  strategy: {type: Recreate}")
    server.kubectl("-n", ns, "apply", "-f", "-", input=rolling, check=True)
    for binary in (KUBECTL, KUBECTL_127):
        server.kubectl("-n", ns, "apply", "-f", "-", input=recreate, binary=binary, check=True)
        got = server.kubectl(
            "-n", ns, "get", "deploy", "web", "-o", "jsonpath={.spec.strategy}", check=True
        ).stdout
        assert json.loads(got) == {"type": "Recreate"}, binary
        server.kubectl("-n", ns, "apply", "-f", "-", input=rolling, binary=binary, check=True)
        got = server.kubectl(
            "-n", ns, "get", "deploy", "web", "-o", "jsonpath={.spec.strategy}", check=True
        ).stdout
        assert json.loads(got) == {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
        }, binary


def test_create_job_from_cron_job(server: Server, ns: str) -> None:
    """kubectl sends the Job as protobuf: its CronJob owner, env and nodeSelector arrive."""
    cron = MANIFEST.split("---")[2].replace(
        'containers: [{name: t, image: "busybox:1"}]',
        'nodeSelector: {zone: a}\n          containers: [{name: t, image: "busybox:1", env: [{name: A, value: "1"}]}]',
    )
    server.kubectl("-n", ns, "apply", "-f", "-", input=cron, check=True)
    server.kubectl("-n", ns, "create", "job", "--from=cronjob/tick", "by-hand", check=True)
    got = json.loads(server.kubectl("-n", ns, "get", "job", "by-hand", "-o", "json", check=True).stdout)
    uid = json.loads(server.kubectl("-n", ns, "get", "cj", "tick", "-o", "json", check=True).stdout)[
        "metadata"
    ]["uid"]
    assert got["metadata"]["ownerReferences"] == [
        {"apiVersion": "batch/v1", "kind": "CronJob", "name": "tick", "uid": uid, "controller": True}
    ]
    assert got["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    pod = got["spec"]["template"]["spec"]
    assert pod["containers"][0]["env"] == [{"name": "A", "value": "1"}] and pod["nodeSelector"] == {
        "zone": "a"
    }
    assert got["spec"]["selector"]["matchLabels"] == {
        "batch.kubernetes.io/controller-uid": got["metadata"]["uid"]
    }
