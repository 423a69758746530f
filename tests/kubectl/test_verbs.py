"""The other verbs against a real `kubelite server`, compared with the real kubectl where it runs."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from tests.apiserver.conftest import free_port
from tests.kubectl.conftest import REPO, write_kubeconfig
from tests.kubectl.helpers import RC_AND_SERVICE, same, write


@pytest.fixture
def objects(ns, tmp_path, kubectl):
    assert kubectl("apply", "-f", str(write(tmp_path, "app.yaml", RC_AND_SERVICE))).code == 0
    return ns


def test_describe_matches_real(objects, kubectl, real):
    for args in (("pod", "solo"), ("rc", "web"), ("ns", objects), ("pods",), ("pod", "sol"), ("pod", "nope")):
        same(kubectl, real, "describe", *args)
    ours = kubectl("describe", "svc", "web")
    theirs = real("describe", "svc", "web")
    # kubectl 1.33 reads EndpointSlices, which kubelite does not serve; we read Endpoints
    strip = [line for line in ours.out.splitlines() if not line.startswith("Endpoints:")]
    assert strip == [line for line in theirs.out.splitlines() if not line.startswith("Endpoints:")]


def test_describe_rc_counts_only_the_pods_it_controls(objects, kubectl, real, tmp_path):
    """getPodStatusForController: a pod the selector matches but no controller owns is not counted."""
    stray = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stray\n  labels:\n    app: web\n"
    stray += "spec:\n  containers:\n  - name: c\n    image: busybox\n"
    assert kubectl("apply", "-f", str(write(tmp_path, "stray.yaml", stray))).code == 0
    out = same(kubectl, real, "describe", "rc", "web").out
    assert "Pods Status:  0 Running / 0 Waiting / 0 Succeeded / 0 Failed" in out, out


def test_describe_shows_events(objects, kubectl, server):
    from api.client import Client
    from api.config import from_kubeconfig

    with Client(from_kubeconfig([server.kubeconfig])) as c:
        pod = c.get("pods", "solo", objects)
        c.create(
            "events",
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "solo.1", "namespace": objects},
                "involvedObject": {
                    "kind": "Pod",
                    "name": "solo",
                    "namespace": objects,
                    "uid": pod["metadata"]["uid"],
                    "apiVersion": "v1",
                },
                "reason": "Scheduled",
                "message": "Successfully assigned it",
                "type": "Normal",
                "source": {"component": "default-scheduler"},
                "count": 1,
                "firstTimestamp": pod["metadata"]["creationTimestamp"],
                "lastTimestamp": pod["metadata"]["creationTimestamp"],
            },
            objects,
        )
    out = kubectl("describe", "pod", "solo").out
    assert "Events:\n  Type    Reason     Age" in out
    assert "  Normal  Scheduled  " in out and "default-scheduler  Successfully assigned it" in out


def test_delete_forms(objects, kubectl, real, tmp_path):
    r = kubectl("delete", "pod", "solo", "nope")
    assert r.code == 1 and r.out == 'pod "solo" deleted\n'
    assert r.err == 'Error from server (NotFound): pods "nope" not found\n'
    assert kubectl("get", "pod", "solo").code == 1  # --wait: gone when delete returns
    same(kubectl, real, "delete", "pod", "nope")
    assert kubectl("delete", "pod", "nope", "--ignore-not-found").code == 0
    assert kubectl("run", "a", "--image=busybox", "-l", "grp=x").code == 0
    assert kubectl("run", "b", "--image=busybox", "-l", "grp=x").code == 0
    assert kubectl("delete", "pods", "-l", "grp=x").out == 'pod "a" deleted\npod "b" deleted\n'
    assert (
        kubectl(
            "delete",
            "-f",
            str(write(tmp_path, "app.yaml", RC_AND_SERVICE)),
            "--ignore-not-found",
            "--cascade=orphan",
            "--wait=false",
        ).out
        == 'replicationcontroller "web" deleted\nservice "web" deleted\n'
    )
    assert kubectl("run", "c", "--image=busybox").code == 0
    r = kubectl("delete", "pods", "--all", "--grace-period=0", "--force")
    assert r.out == 'pod "c" deleted\n' and r.err.startswith("Warning: Immediate deletion")
    same(kubectl, real, "delete", "pods")
    same(kubectl, real, "delete")


def test_scale_label_annotate_patch(objects, kubectl, real):
    assert kubectl("scale", "rc", "web", "--replicas=3").out == "replicationcontroller/web scaled\n"
    r = kubectl("scale", "rc/web", "--replicas=1", "--current-replicas=2")
    assert r.code == 1 and r.err == "error: Expected replicas to be 2, was 3\n"
    assert kubectl("scale", "rc", "web", "--replicas=1", "--current-replicas=3").code == 0
    assert kubectl("get", "rc", "web", "-o", "jsonpath={.spec.replicas}").out == "1"
    assert kubectl("label", "pod", "solo", "env=prod").out == "pod/solo labeled\n"
    same(kubectl, real, "label", "pod", "solo", "env=dev")
    assert kubectl("label", "pod", "solo", "env=dev", "--overwrite").out == "pod/solo labeled\n"
    assert kubectl("label", "pod", "solo", "env-").out == "pod/solo unlabeled\n"
    assert kubectl("annotate", "pod", "solo", "note=hi").out == "pod/solo annotated\n"
    assert (
        json.loads(kubectl("get", "pod", "solo", "-o", "json").out)["metadata"]["annotations"]["note"] == "hi"
    )
    assert (
        kubectl("patch", "pod", "solo", "-p", '{"metadata":{"labels":{"p":"1"}}}').out == "pod/solo patched\n"
    )
    assert (
        kubectl("patch", "pod", "solo", "--type=merge", "-p", '{"metadata":{"labels":{"p":"1"}}}').out
        == "pod/solo patched (no change)\n"
    )
    assert (
        kubectl(
            "patch", "rc", "web", "--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":4}]'
        ).code
        == 0
    )
    assert kubectl("get", "rc", "web", "-o", "jsonpath={.spec.replicas}").out == "4"
    same(kubectl, real, "patch", "pod", "nope", "-p", "{}")


def test_run_and_expose(ns, kubectl, real):
    assert (
        kubectl("run", "one", "--image=busybox", "--restart=Never", "--", "sleep", "30").out
        == "pod/one created\n"
    )
    pod = json.loads(kubectl("get", "pod", "one", "-o", "json").out)
    assert pod["spec"]["containers"][0]["args"] == ["sleep", "30"] and pod["spec"]["restartPolicy"] == "Never"
    assert pod["metadata"]["labels"] == {"run": "one"}
    same(kubectl, real, "run", "two", "--image=busybox", "--dry-run=client", "-o", "yaml")
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "selector": {"app": "web"},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]},
            },
        },
    }
    from api.client import Client
    from api.config import from_kubeconfig

    with Client(from_kubeconfig()) as c:
        c.create("replicationcontrollers", rc, ns)
    r = kubectl("expose", "rc", "web", "--port=8080", "--target-port=80", "--type=NodePort", "--name=web-np")
    assert r.out == "service/web-np exposed\n", r.err
    svc = json.loads(kubectl("get", "svc", "web-np", "-o", "json").out)
    assert svc["spec"]["selector"] == {"app": "web"} and svc["spec"]["type"] == "NodePort"
    assert svc["spec"]["ports"][0]["port"] == 8080 and svc["spec"]["ports"][0]["targetPort"] == 80
    ours = kubectl("expose", "rc", "web", "--port=81", "--dry-run=client", "-o", "yaml")
    theirs = real("expose", "rc", "web", "--port=81", "--dry-run=client", "-o", "yaml")
    assert ours.out == theirs.out


def test_wait_condition_and_delete(objects, kubectl, server):
    from api.client import Client
    from api.config import from_kubeconfig

    r = kubectl("wait", "--for=condition=Ready", "pod/solo", "--timeout=1s")
    assert r.code == 1 and r.err == "error: timed out waiting for the condition on pods/solo\n"

    def become_ready() -> None:
        with Client(from_kubeconfig([server.kubeconfig])) as c:
            pod = c.get("pods", "solo", objects)
            pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
            c.update("pods", pod, objects, subresource="status")

    t = threading.Timer(0.5, become_ready)
    t.start()
    r = kubectl("wait", "--for=condition=Ready", "pod/solo", "--timeout=20s")
    t.join()
    assert (r.code, r.out) == (0, "pod/solo condition met\n")
    assert (
        kubectl("wait", "--for=jsonpath={.status.phase}=Running", "pods", "--all").out
        == "pod/solo condition met\n"
    )

    def delete() -> None:  # through the API, not in-process kubectl, whose output would mix with wait's
        with Client(from_kubeconfig([server.kubeconfig])) as c:
            c.delete("pods", "solo", objects)

    t = threading.Timer(0.5, delete)
    t.start()
    r = kubectl("wait", "--for=delete", "pod/solo", "--timeout=20s")
    t.join()
    assert r.out == "pod/solo condition met\n"


def test_edit_saves_change_and_reopens_on_invalid(objects, kubectl, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # edit buffers and kept copies stay in tmp_path
    monkeypatch.setenv("EDITOR", "sed -i s/image:.busybox/image:\\ busybox:1.36/")
    assert kubectl("edit", "pod", "solo").out == "pod/solo edited\n"
    assert kubectl("get", "pod", "solo", "-o", "jsonpath={.spec.containers[0].image}").out == "busybox:1.36"
    monkeypatch.setenv("EDITOR", "true")
    assert kubectl("edit", "pod", "solo").err == "Edit cancelled, no changes made.\n"
    # an editor that writes invalid YAML: re-opened with the error on top, then given up
    script = write(
        tmp_path,
        "ed.sh",
        '#!/bin/sh\nif grep -q \'syntax error\' "$1"; then cp "$1" '
        + str(tmp_path)
        + "/seen.yaml; exit 0; fi\nprintf 'a: [\\n' >> \"$1\"\n",
    )
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    r = kubectl("edit", "pod", "solo")
    seen = (tmp_path / "seen.yaml").read_text()
    assert "# The edited file had a syntax error: error converting YAML to JSON: yaml: line" in seen
    assert r.code == 1 and f'A copy of your changes has been stored to "{tmp_path}/kubectl-edit-' in r.err


def test_config_verbs_match_real(server, kubectl, real, tmp_path, monkeypatch):
    kc = tmp_path / "config"
    kc.write_text(server.kubeconfig.read_text())
    monkeypatch.setenv("KUBECONFIG", str(kc))
    for args in (
        ("config", "view"),
        ("config", "view", "--raw"),
        ("config", "view", "--minify", "-o", "json"),
        ("config", "get-contexts"),
        ("config", "current-context"),
        ("config", "use-context", "nope"),
    ):
        same(kubectl, real, *args)
    assert (
        kubectl("config", "set-context", "--current", "--namespace=team").out
        == 'Context "default" modified.\n'
    )
    assert real("config", "view", "--minify", "-o", "jsonpath={.contexts[0].context.namespace}").out == "team"
    assert (
        kubectl("config", "set-context", "other", "--cluster=default", "--user=default").out
        == 'Context "other" created.\n'
    )
    assert kubectl("config", "use-context", "other").out == 'Switched to context "other".\n'
    same(kubectl, real, "config", "get-contexts")
    # KUBECONFIG lists merge, the first file wins
    second = write_kubeconfig(tmp_path / "second", "https://127.0.0.1:1", namespace="x")
    monkeypatch.setenv("KUBECONFIG", f"{kc}:{second}")
    same(kubectl, real, "config", "get-contexts")


def test_info_commands_match_real(ns, kubectl, real):
    same(kubectl, real, "cluster-info")
    same(kubectl, real, "api-resources")
    same(kubectl, real, "api-resources", "--namespaced=false", "-o", "name")
    r = kubectl("version")
    assert r.code == 0 and r.out.startswith("Client Version: v1.33.0-kubelite\n")
    assert r.out.splitlines()[-1] == real("version").out.splitlines()[-1]  # Server Version
    assert kubectl("version", "--client", "--server=https://127.0.0.1:1").code == 0
    bash = kubectl("completion", "bash").out
    assert subprocess.run(["bash", "-n"], input=bash, text=True).returncode == 0 and "rolling-update" in bash
    assert kubectl("completion", "zsh").out.startswith("#compdef kubectl")


def test_connection_errors_are_one_line(ns, server, kubectl, real, tmp_path, monkeypatch):
    port = free_port()
    down = write_kubeconfig(tmp_path / "down", f"https://127.0.0.1:{port}")
    r = kubectl("--kubeconfig", str(down), "get", "pods")
    assert (r.code, r.out) == (1, "")
    assert (
        r.err
        == f"The connection to the server 127.0.0.1:{port} was refused - did you specify the right host "
        "or port?\n"
    )
    assert real("--kubeconfig", str(down), "get", "pods").err.endswith(r.err)
    # a server whose certificate our CA did not sign
    import base64

    from tests.tls import self_signed

    ca = base64.b64encode(self_signed("other-ca", ca=True)[0]).decode()
    token = (server.data_dir / "admin-token").read_text().strip()
    wrong = write_kubeconfig(tmp_path / "wrong-ca", server.url, ca_data=ca, token=token)
    r = kubectl("--kubeconfig", str(wrong), "get", "pods")
    assert r.code == 1 and len(r.err.splitlines()) == 1
    assert r.err.startswith("Unable to connect to the server: tls: failed to verify certificate")
    assert kubectl("--kubeconfig", str(wrong), "--insecure-skip-tls-verify", "get", "ns", "default").code == 0
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    r = kubectl("get", "pods")  # no configuration at all: localhost:8080, as kubectl
    assert r.code == 1 and len(r.err.splitlines()) == 1
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8080)) != 0:  # nothing listens there: refused
            assert (
                r.err
                == "The connection to the server localhost:8080 was refused - did you specify the right "
                "host or port?\n"
            )


def test_usage_errors(ns, kubectl, real):
    same(kubectl, real, "get", "pods", "--bogus")
    assert kubectl("frobnicate").code == 1
    assert kubectl("get").err.startswith("You must specify the type of resource to get.")
    r = kubectl("scale", "rc", "web")
    assert r.code == 1 and "replicas" in r.err


def test_console_script_and_kubelite_entry(ns):
    for cmd in (
        [str(REPO / ".venv" / "bin" / "kubectl"), "get", "pods"],
        [str(REPO / ".venv" / "bin" / "kubelite"), "kubectl", "get", "pods"],
        [sys.executable, "-m", "kubectl.main", "get", "pods", "nope"],
    ):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert r.stdout == ""
        assert r.stderr in (
            f"No resources found in {ns} namespace.\n",
            'Error from server (NotFound): pods "nope" not found\n',
        )
        assert r.returncode == (1 if "nope" in cmd else 0)


def test_discovery_finds_types_the_table_does_not_know(ns, monkeypatch):
    from api import resources as table
    from kubectl import discovery
    from kubectl.env import Env
    from kubectl.flags import parse

    env = Env(parse([], {}))
    found = discovery.by_name(env, "leases.coordination.k8s.io")
    assert found is not None and (found.group, found.kind, found.namespaced) == (
        "coordination.k8s.io",
        "Lease",
        True,
    )
    assert discovery.by_kind(env, "v1", "Endpoints") == discovery.by_name(env, "ep")
    # a type only discovery knows resolves through it (and the answer is cached)
    monkeypatch.setattr(
        table, "_BY_NAME", {k: v for k, v in table._BY_NAME.items() if v.plural != "endpoints"}
    )
    assert env.resource("endpoints").kind == "Endpoints"
    assert discovery.by_name(env, "nothing-like-it") is None
    env.close()


def test_connection_flags_without_kubeconfig(server, kubectl, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    token = (server.data_dir / "admin-token").read_text().strip()
    ca = str(server.data_dir / "tls" / "ca.crt")
    r = kubectl(
        "--server",
        server.url,
        "--token",
        token,
        "--certificate-authority",
        ca,
        "get",
        "ns",
        "default",
        "-o",
        "name",
    )
    assert (r.code, r.out) == (0, "namespace/default\n"), r.err
    r = kubectl(
        "-s",
        server.url,
        "--token",
        token,
        "--insecure-skip-tls-verify",
        "--request-timeout=5s",
        "get",
        "ns",
        "default",
        "-o",
        "name",
    )
    assert r.out == "namespace/default\n"
    r = kubectl("-s", server.url, "--token", "wrong", "--insecure-skip-tls-verify", "get", "pods")
    assert (r.code, r.err) == (1, "error: You must be logged in to the server (Unauthorized)\n")
    assert kubectl(
        "-s", server.url, "--token", token, "--certificate-authority", str(tmp_path / "nope"), "get", "pods"
    ).err.startswith("error: unable to read certificate-authority")


def test_context_cluster_user_overrides(server, kubectl, real, tmp_path, monkeypatch):
    import yaml

    doc = yaml.safe_load(server.kubeconfig.read_text())
    doc["clusters"].append({"name": "dead", "cluster": {"server": "https://127.0.0.1:1"}})
    doc["contexts"].append({"name": "dead", "context": {"cluster": "dead", "user": "default"}})
    doc["current-context"] = "dead"
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("KUBECONFIG", str(kc))
    assert kubectl("get", "ns", "default").code == 1
    assert kubectl("--context", "default", "get", "ns", "default", "-o", "name").out == "namespace/default\n"
    assert kubectl("--cluster", "default", "get", "ns", "default", "-o", "name").out == "namespace/default\n"
    for flag in ("--context", "--cluster"):
        same(kubectl, real, flag, "missing", "get", "pods")


RICH_POD = """apiVersion: v1
kind: Pod
metadata:
  name: rich
  labels: {app: rich, tier: web}
  annotations: {note: "hello world"}
spec:
  nodeName: n1
  volumes:
  - name: data
    emptyDir: {}
  - name: host
    hostPath: {path: /var/log}
  initContainers:
  - name: init
    image: busybox
    command: ["sh", "-c", "true"]
  containers:
  - name: web
    image: nginx:1.25
    ports: [{containerPort: 80}, {containerPort: 443, hostPort: 8443}]
    args: ["--flag", "multi\\nline"]
    env: [{name: A, value: "1"}, {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
    livenessProbe: {httpGet: {path: /healthz, port: 80}, initialDelaySeconds: 3}
    readinessProbe: {tcpSocket: {port: 80}}
    volumeMounts: [{name: data, mountPath: /data}, {name: host, mountPath: /logs, readOnly: true}]
  - name: side
    image: busybox
    command: ["sleep", "3600"]
"""
RICH_STATUS = {
    "phase": "Running",
    "hostIP": "10.0.0.5",
    "podIP": "10.244.1.7",
    "podIPs": [{"ip": "10.244.1.7"}],
    "startTime": "2026-01-01T08:00:00Z",
    "nominatedNodeName": "node-b",  # preemption's: describe's NominatedNodeName, get -o wide's column
    "conditions": [
        {"type": "Initialized", "status": "True"},
        {"type": "Ready", "status": "False"},
        {"type": "PodScheduled", "status": "True"},
    ],
    "initContainerStatuses": [
        {
            "name": "init",
            "ready": True,
            "restartCount": 0,
            "image": "busybox",
            "imageID": "i",
            "containerID": "runc://111",
            "state": {
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": "2026-01-01T08:00:01Z",
                    "finishedAt": "2026-01-01T08:00:02Z",
                }
            },
        }
    ],
    "containerStatuses": [
        {
            "name": "web",
            "ready": True,
            "restartCount": 2,
            "image": "nginx:1.25",
            "imageID": "sha256:def",
            "containerID": "runc://222",
            "state": {"running": {"startedAt": "2026-01-01T08:00:03Z"}},
            "lastState": {
                "terminated": {
                    "exitCode": 137,
                    "reason": "Error",
                    "startedAt": "2026-01-01T08:00:02Z",
                    "finishedAt": "2026-01-01T08:00:03Z",
                }
            },
        },
        {
            "name": "side",
            "ready": False,
            "restartCount": 5,
            "image": "busybox",
            "imageID": "",
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
        },
    ],
}


def test_describe_and_get_of_a_busy_pod_match_real(ns, server, kubectl, real, tmp_path):
    from api.client import Client
    from api.config import from_kubeconfig

    assert kubectl("apply", "-f", str(write(tmp_path, "rich.yaml", RICH_POD))).code == 0
    with Client(from_kubeconfig([server.kubeconfig])) as c:
        pod = c.get("pods", "rich", ns)
        pod["status"] = RICH_STATUS
        c.update("pods", pod, ns, subresource="status")
    same(kubectl, real, "describe", "pod", "rich")
    r = same(kubectl, real, "get", "pod", "rich", "-o", "wide")
    assert r.out.splitlines()[1].split()[:4] == ["rich", "1/2", "CrashLoopBackOff", "7"]


def test_describe_namespace_lists_quotas_and_limit_ranges_as_real(ns, kubectl, real, tmp_path):
    """kubectl describe ns reads the namespace's ResourceQuotas and LimitRanges (kube's sections);
    one resource per LimitRange item, since kubectl prints several in a Go map's order."""
    objects = (
        "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\nspec:\n  hard:\n    pods: '4'\n"
        "  scopes: [NotTerminating]\n---\n"
        "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: lr\nspec:\n  limits:\n"
        "  - type: Container\n    max:\n      cpu: '1'\n"
    )
    assert kubectl("apply", "-f", str(write(tmp_path, "q.yaml", objects))).code == 0
    out = same(kubectl, real, "describe", "ns", ns).out
    assert "Resource Quotas\n  Name:" in out and " Container  cpu" in out, out
