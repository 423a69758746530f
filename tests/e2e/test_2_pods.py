"""Pods on real nodes: shared localhost, logs and exec (ours and the real kubectl), restart
back-off, liveness restarts, readiness gating the endpoints."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.conftest import KUBELITE, MANIFESTS, REAL_KUBECTL, Cluster
from tests.kubectls import kubectl as kubectl_binary
from tests.polling import http_text, wait_for


def pod_json(c: Cluster, name: str) -> dict:
    r = c.kubectl("get", "pod", name, "-o", "json", check=False)
    return json.loads(r.stdout) if r.returncode == 0 else {}


def container_status(c: Cluster, pod: str, name: str) -> dict:
    for cs in pod_json(c, pod).get("status", {}).get("containerStatuses") or []:
        if cs["name"] == name:
            return cs
    return {}


def test_two_containers_share_localhost_and_logs_exec_work(cluster: Cluster) -> None:
    c = cluster
    c.kubectl("apply", "-f", str(MANIFESTS / "two-containers.yaml"))
    wait_for(
        lambda: pod_json(c, "two-containers").get("status", {}).get("phase") == "Running",
        60,
        what="two-containers Running",
    )
    # the client container fetches from localhost:8080 every 5 s and its log shows the page
    logs = wait_for(
        lambda: "<" in c.kubectl("logs", "two-containers", "-c", "client", check=False).stdout,
        30,
        what="client log",
    )
    assert logs
    for real in (False, True):
        r = c.kubectl(
            "exec",
            "two-containers",
            "-c",
            "client",
            "--",
            "wget",
            "-qO-",
            "http://localhost:8080/",
            real=real,
        )
        assert "<" in r.stdout, r
        r = c.kubectl(
            "exec", "two-containers", "-c", "client", "--", "sh", "-c", "exit 3", check=False, real=real
        )
        assert r.returncode == 3
    # -i: stdin reaches the process
    r = c.kubectl("exec", "-i", "two-containers", "-c", "client", "--", "cat", input="hello stdin\n")
    assert r.stdout == "hello stdin\n"
    # logs -f follows until the request times out (kubectl --request-timeout)
    follow = subprocess.run(
        [*KUBELITE, "kubectl", "logs", "-f", "two-containers", "-c", "client", "--request-timeout=6s"],
        env=c.env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "<" in follow.stdout
    real_logs = c.kubectl("logs", "two-containers", "-c", "client", "--tail=1", real=True)
    assert real_logs.stdout.count("\n") == 1
    c.kubectl("delete", "pod", "two-containers", "--grace-period=1")
    assert not pod_json(c, "two-containers")


@pytest.mark.parametrize("tty_real", [False, True])
def test_exec_with_a_tty(cluster: Cluster, tty_real: bool) -> None:
    """`exec -it` in a pty (script(1) gives kubectl a terminal): a shell that answers and exits."""
    c = cluster
    c.kubectl("run", "shell", "--image=busybox:1.35", "--restart=Never", "--", "sleep", "3600", check=False)
    wait_for(
        lambda: pod_json(c, "shell").get("status", {}).get("phase") == "Running", 60, what="shell Running"
    )
    kubectl = (
        f"{REAL_KUBECTL} --cache-dir {c.data_dir}/kubectl-cache"
        if tty_real
        else f"{' '.join(KUBELITE)} kubectl"
    )
    r = subprocess.run(
        ["script", "-qec", f"{kubectl} exec -it shell -- sh -c 'tty; echo in-pod; exit 4'", "/dev/null"],
        env=c.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "in-pod" in r.stdout and "/dev/pts/" in r.stdout, r
    assert r.returncode == 4


def test_kubectl_1_27_execs_over_spdy(cluster: Cluster) -> None:
    """kubectl before 1.30 execs only over SPDY/3.1: into a real container, stdout and stderr apart,
    the exit code from the error stream's Status, stdin to its end."""
    c = cluster
    c.kubectl("run", "spdy-exec", "--image=busybox:1.35", "--restart=Never", "--", "sleep", "3600")
    wait_for(
        lambda: pod_json(c, "spdy-exec").get("status", {}).get("phase") == "Running",
        60,
        what="spdy-exec Running",
    )
    old = [kubectl_binary("1.27"), "--cache-dir", str(c.data_dir / "kubectl-cache"), "exec"]

    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*old, *args], env=c.env(), capture_output=True, text=True, timeout=60, input=input
        )

    r = run("spdy-exec", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.returncode, r.stdout) == (3, "out\n") and r.stderr.startswith("err\n"), r
    r = run("-i", "spdy-exec", "--", "cat", input="hi\n")
    assert (r.returncode, r.stdout) == (0, "hi\n"), r
    c.kubectl("delete", "pod", "spdy-exec", "--grace-period=1")


def test_kubectl_run_i_attaches_to_the_pods_own_process(cluster: Cluster) -> None:
    """`kubectl run -i --rm` (the real kubectl): the pod's process reads what is typed through the
    attach (conmon's socket, stdinOnce), its output comes back, and the pod is removed after."""
    c = cluster
    r = c.kubectl(
        "run",
        "asker",
        "-i",
        "--rm",
        "--restart=Never",
        "--image=busybox:1.35",
        "--",
        "sh",
        "-c",
        "read answer; echo got $answer",
        input="forty-two\n",
        real=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0 and "got forty-two" in r.stdout, r
    wait_for(lambda: not pod_json(c, "asker"), 60, what="the --rm pod gone")
    # -it: the container's own terminal (conmon's pty), in a pty of ours (script(1))
    kubectl = f"{REAL_KUBECTL} --cache-dir {c.data_dir}/kubectl-cache"
    line = f"{kubectl} run teller -it --rm --restart=Never --image=busybox:1.35 -- sh -c 'read w; tty; echo said $w'"
    r = subprocess.run(
        ["script", "-qec", line, "/dev/null"],
        env=c.env(),
        capture_output=True,
        text=True,
        timeout=120,
        input="hi\n",
    )
    assert "said hi" in r.stdout and "/dev/pts/" in r.stdout, r


def ephemeral_status(c: Cluster, pod: str, name: str) -> dict:
    for cs in pod_json(c, pod).get("status", {}).get("ephemeralContainerStatuses") or []:
        if cs["name"] == name:
            return cs
    return {}


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_debug_joins_the_targets_processes_and_network(cluster: Cluster, version: str) -> None:
    """`kubectl debug POD --target=C -i` (the real kubectl): an ephemeral container starts in the
    running pod, `ps` in it lists the target's processes and localhost is the pod's; then one run
    without -i is read with `logs -c`, one left running takes an exec, and the pod stays Ready."""
    c = cluster
    pod = f"debugged-{version.replace('.', '-')}"
    serve = "mkdir -p /www && echo target-page > /www/index.html && exec httpd -f -p 8080 -h /www"
    c.kubectl("run", pod, "--image=busybox:1.35", "--restart=Never", "--", "sh", "-c", serve)
    wait_for(lambda: pod_json(c, pod).get("status", {}).get("phase") == "Running", 60, what=f"{pod} Running")
    kubectl = [kubectl_binary(version), "--cache-dir", str(c.data_dir / "kubectl-cache")]

    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*kubectl, *args], env=c.env(), capture_output=True, text=True, timeout=120, input=input
        )

    # it waits for a line on stdin, so that its output comes after kubectl has attached
    look = "read go; ps; wget -qO- http://localhost:8080/"
    r = run(
        "debug",
        pod,
        "--image=busybox:1.35",
        f"--target={pod}",
        "-c",
        "look",
        "-i",
        "--",
        "sh",
        "-c",
        look,
        input="go\n",
    )
    assert r.returncode == 0, r
    assert "httpd -f -p 8080" in r.stdout and "target-page" in r.stdout, r
    done = wait_for(
        lambda: ephemeral_status(c, pod, "look").get("state", {}).get("terminated"), 60, what="look ended"
    )
    assert done["exitCode"] == 0
    # without -i: it runs on its own; its log is read by name
    r = run("debug", pod, "--image=busybox:1.35", f"--target={pod}", "-c", "once", "--", "sh", "-c", "ps")
    assert r.returncode == 0, r
    out = wait_for(
        lambda: "httpd" in (t := run("logs", pod, "-c", "once").stdout) and t, 60, what="once's log"
    )
    assert "ps" in out
    # one that keeps running takes an exec, in the target's processes too
    r = run("debug", pod, "--image=busybox:1.35", f"--target={pod}", "-c", "stay", "--", "sleep", "3600")
    assert r.returncode == 0, r
    wait_for(lambda: "running" in ephemeral_status(c, pod, "stay").get("state", {}), 60, what="stay running")
    r = run("exec", pod, "-c", "stay", "--", "ps")
    assert r.returncode == 0 and "httpd -f -p 8080" in r.stdout, r
    st = pod_json(c, pod)["status"]
    assert st["phase"] == "Running" and {x["type"]: x["status"] for x in st["conditions"]}["Ready"] == "True"
    assert [x["name"] for x in st["ephemeralContainerStatuses"]] == ["look", "once", "stay"]
    assert ephemeral_status(c, pod, "look")["restartCount"] == 0 and "terminated" in ephemeral_status(
        c, pod, "look"
    ).get("state", {}), "an ended one is not run again"
    # a name the pod already uses is refused in kube's words
    r = run("debug", pod, "--image=busybox:1.35", "-c", f"{pod}", "--", "true")
    assert r.returncode != 0 and "Duplicate value" in r.stderr, r
    # a copy of the pod: kubectl 1.33 sends it as a protobuf Pod (decoded whole), 1.27 as JSON;
    # either way the copy has the pod's volumes (the service account's projected one too)
    r = run("debug", pod, f"--copy-to={pod}-copy", "--image=busybox:1.35", "-c", "dbg", "--", "true")
    assert r.returncode == 0, r
    copy = pod_json(c, f"{pod}-copy")
    assert [x["name"] for x in copy["spec"]["containers"]] == [pod, "dbg"], copy
    assert copy["spec"]["volumes"] == pod_json(c, pod)["spec"]["volumes"]
    c.kubectl("delete", "pod", f"{pod}-copy", "--grace-period=1")
    # the node debugger pod (protobuf too): the node's root at /host, in its PID namespace
    node = pod_json(c, pod)["spec"]["nodeName"]
    r = run(  # the line on stdin again: what it prints comes after kubectl has attached
        "debug",
        f"node/{node}",
        "-i",
        "--image=busybox:1.35",
        "--",
        "sh",
        "-c",
        "read go; ls /host/etc/os-release; ps | head -2",
        input="go\n",
    )
    assert r.returncode == 0 and "/host/etc/os-release" in r.stdout, r
    assert "PID" in r.stdout and " 1 " in r.stdout, r
    c.kubectl("delete", "pod", pod, "--grace-period=1")
    assert not pod_json(c, pod)


def test_crash_loop_backs_off(cluster: Cluster) -> None:
    c = cluster
    c.kubectl("apply", "-f", str(MANIFESTS / "crashloop.yaml"))
    cs = wait_for(
        lambda: (s := container_status(c, "crashloop", "crash")) and s.get("restartCount", 0) >= 2 and s,
        90,
        what="two restarts",
    )
    wait_for(
        lambda: (
            container_status(c, "crashloop", "crash").get("state", {}).get("waiting", {}).get("reason")
            == "CrashLoopBackOff"
        ),
        60,
        interval=0.05,
        what="CrashLoopBackOff",
    )
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert "failing" in c.kubectl("logs", "crashloop", "--previous", check=False).stdout
    c.kubectl("delete", "pod", "crashloop", "--grace-period=0", "--force")


def test_liveness_restarts_and_readiness_gates_endpoints(cluster: Cluster) -> None:
    c = cluster
    c.kubectl("apply", "-f", str(MANIFESTS / "probes.yaml"))
    c.kubectl("expose", "pod", "probes", "--port=80", "--target-port=8080", check=False)
    wait_for(lambda: container_status(c, "probes", "web").get("ready"), 60, what="probes ready")
    wait_for(
        lambda: json.loads(c.kubectl("get", "endpoints", "probes", "-o", "json").stdout).get("subsets"),
        30,
        what="endpoint",
    )
    # liveness: remove the file the probe reads -> the container is restarted
    c.kubectl("exec", "probes", "-c", "web", "--", "rm", "/tmp/healthy")
    wait_for(
        lambda: container_status(c, "probes", "web").get("restartCount", 0) >= 1, 60, what="liveness restart"
    )
    # readiness: remove the file the readiness probe reads -> the pod leaves the endpoints' addresses
    wait_for(lambda: container_status(c, "probes", "web").get("ready"), 60, what="ready again")
    c.kubectl("exec", "probes", "-c", "web", "--", "rm", "/tmp/ready")
    wait_for(
        lambda: (
            not any(
                s.get("addresses")
                for s in json.loads(c.kubectl("get", "endpoints", "probes", "-o", "json").stdout).get(
                    "subsets"
                )
                or []
            )
        ),
        60,
        what="pod out of the endpoints",
    )
    c.kubectl("delete", "pod", "probes", "--grace-period=0", "--force")
    c.kubectl("delete", "svc", "probes", check=False)


def test_security_context_and_expanded_args_reach_the_process(cluster: Cluster) -> None:
    """A pod's runAsUser/runAsGroup/fsGroup, a read-only root with a writable emptyDir, and
    `$(VAR)` in args, as a restricted Helm chart writes them; then runAsNonRoot on a root image."""
    c = cluster
    secured = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "secured"},
        "spec": {
            "restartPolicy": "Never",
            "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "runAsNonRoot": True},
            "containers": [
                {
                    "name": "app",
                    "image": "busybox:1.35",
                    "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    "command": [
                        "sh",
                        "-c",
                        'id; touch /x 2>/dev/null || echo ro; touch /data/f && echo wrote; echo "$0"',
                    ],
                    "args": ["hello-$(POD_NAME)"],
                    "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
        },
    }
    c.kubectl("apply", "-f", "-", real=True, input=json.dumps(secured))
    wait_for(
        lambda: pod_json(c, "secured").get("status", {}).get("phase") == "Succeeded", 60, what="secured done"
    )
    out = c.kubectl("logs", "secured", real=True).stdout
    assert out == "uid=1000 gid=3000 groups=2000\nro\nwrote\nhello-secured\n", out
    rooted = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "rooted"},
        "spec": {
            "securityContext": {"runAsNonRoot": True},
            "containers": [{"name": "app", "image": "busybox:1.35", "command": ["sleep", "300"]}],
        },
    }
    c.kubectl("apply", "-f", "-", real=True, input=json.dumps(rooted))
    waiting = wait_for(
        lambda: (
            container_status(c, "rooted", "app").get("state", {}).get("waiting", {}).get("message")
            and (container_status(c, "rooted", "app")["state"]["waiting"])
        ),
        60,
        what="rooted refused",
    )
    uid = pod_json(c, "rooted")["metadata"]["uid"]
    assert waiting == {
        "reason": "CreateContainerConfigError",
        "message": f'container has runAsNonRoot and image will run as root (pod: "rooted_default({uid})", container: app)',
    }
    for name in ("secured", "rooted"):
        c.kubectl("delete", "pod", name, "--grace-period=0", "--force")


def test_termination_messages_from_the_file_or_the_log(cluster: Cluster) -> None:
    """What a container writes at its terminationMessagePath is its terminated message; under
    FallbackToLogsOnError a failed container with nothing written gets its log's end."""
    c = cluster
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "farewell"},
        "spec": {
            "restartPolicy": "Never",
            "securityContext": {"runAsUser": 1000},  # any user may write it
            "containers": [
                {
                    "name": "file",
                    "image": "busybox:1.35",
                    "command": ["sh", "-c", "echo -n bye > /dev/termination-log"],
                },
                {
                    "name": "own-path",
                    "image": "busybox:1.35",
                    "terminationMessagePath": "/tmp/why",
                    "command": ["sh", "-c", "echo -n disk full > /tmp/why; exit 2"],
                },
                {
                    "name": "logs",
                    "image": "busybox:1.35",
                    "terminationMessagePolicy": "FallbackToLogsOnError",
                    "command": ["sh", "-c", "echo starting; echo oops >&2; exit 1"],
                },
            ],
        },
    }
    c.kubectl("apply", "-f", "-", real=True, input=json.dumps(pod))
    wait_for(
        lambda: pod_json(c, "farewell").get("status", {}).get("phase") == "Failed", 60, what="farewell done"
    )

    def ended(name: str) -> dict:
        return container_status(c, "farewell", name)["state"]["terminated"]

    assert (ended("file")["exitCode"], ended("file").get("message")) == (0, "bye")
    assert (ended("own-path")["exitCode"], ended("own-path").get("message")) == (2, "disk full")
    assert (ended("logs")["exitCode"], ended("logs").get("message")) == (1, "starting\noops\n")
    c.kubectl("delete", "pod", "farewell", "--grace-period=0", "--force")


def test_a_host_port_answers_on_the_nodes_address(cluster: Cluster) -> None:
    """hostPort: the pod's node publishes it (the node's address, not the pod's)."""
    c = cluster
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "published"},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "kubelite/web:1.0",
                    "ports": [{"containerPort": 8080, "hostPort": 18080}],
                }
            ]
        },
    }
    c.kubectl("apply", "-f", "-", real=True, input=json.dumps(pod))
    running = wait_for(
        lambda: (p := pod_json(c, "published")).get("status", {}).get("phase") == "Running" and p,
        60,
        what="published Running",
    )
    host_ip = running["status"]["hostIP"]
    assert host_ip != running["status"]["podIP"]
    body = wait_for(lambda: http_text(f"http://{host_ip}:18080/"), 30, what="the host port answering")
    assert "kubelite web" in body
    c.kubectl("delete", "pod", "published", "--grace-period=0", "--force")
    wait_for(lambda: not http_text(f"http://{host_ip}:18080/"), 30, what="the host port gone")


def test_each_node_has_its_own_client_certificate(cluster: Cluster) -> None:
    """The agents bootstrapped their kubelet client certificates: `kubectl get csr` lists each
    node's request Approved,Issued (kube's bootstrap words), and each node's password is recorded."""
    r = cluster.kubectl("get", "csr", real=True)
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    client = [row for row in rows if "kubernetes.io/kube-apiserver-client-kubelet" in row]
    requesters = {row[3] for row in client}
    assert len(client) >= 2 and all(row[-1] == "Approved,Issued" for row in client), r.stdout
    assert all(u.startswith("system:bootstrap:") for u in requesters), r.stdout
    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    for n in nodes:
        name = n["metadata"]["name"]
        cluster.kubectl("get", "secret", "-n", "kube-system", f"{name}.node-password.k3s")
