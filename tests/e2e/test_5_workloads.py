"""DaemonSets, StatefulSets, Jobs and CronJobs on a real 2-node cluster, driven by the real kubectl.

A DaemonSet lands on both nodes and on a (hollow) node that joins later; a StatefulSet's pods
come up one at a time with stable names and hostnames; a Job of 5 completions 2 at a time
finishes; a failing Job stops at its backoffLimit with the pods' exit codes as the kubelet saw
them; a CronJob made by `kubectl create cronjob` with `*/1 * * * *` runs within its minute.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from typing import Any

from api.config import from_kubeconfig
from api.errors import ApiError
from tests.apiserver.conftest import free_port
from tests.e2e.conftest import KUBELITE, Cluster
from tests.objects import apps_body
from tests.polling import wait_for

BUSYBOX = "busybox:1.35"
Obj = dict[str, Any]


def apply(c: Cluster, obj: Obj) -> str:
    return c.kubectl("apply", "-f", "-", real=True, input=json.dumps(obj)).stdout


def pods(c: Cluster, selector: str) -> list[Obj]:
    with c.client() as api:
        items = api.list("pods", "default", label_selector=selector)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def get(c: Cluster, resource: str, name: str) -> Obj:
    with c.client() as api:
        return dict(api.get(resource, name, "default"))


def running(p: Obj) -> bool:
    return (p.get("status") or {}).get("phase") == "Running" and any(
        x.get("type") == "Ready" and x.get("status") == "True" for x in p["status"].get("conditions") or []
    )


def conditions(obj: Obj) -> dict[str, str]:
    return {
        x["type"]: x.get("reason", "")
        for x in (obj.get("status") or {}).get("conditions") or []
        if x.get("status") == "True"
    }


def sleeper(labels: dict[str, str]) -> Obj:
    return {
        "metadata": {"labels": labels},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "main", "image": BUSYBOX, "command": ["sleep", "3600"]}],
        },
    }


def test_daemonset_on_every_node_and_on_a_node_that_joins(cluster: Cluster, tmp_path: Any) -> None:
    c = cluster
    ds = apps_body("DaemonSet", "node-agent", template=sleeper({"app": "node-agent"}))
    assert apply(c, ds) == "daemonset.apps/node-agent created\n"

    seen: list[object] = []

    def on_nodes(want: set[str]) -> list[Obj] | None:
        ps = pods(c, "app=node-agent")
        seen[:] = [
            (p["metadata"]["name"], p["spec"].get("nodeName"), (p.get("status") or {}).get("phase"))
            for p in ps
        ]  # shown when the wait times out
        return (
            ps
            if {p["spec"].get("nodeName") for p in ps} == want
            and len(ps) == len(want)
            and all(running(p) for p in ps)
            else None
        )

    def wait_on(want: set[str], timeout: float, what: str) -> list[Obj]:
        try:
            found = wait_for(lambda: on_nodes(want), timeout, what=what)
        except AssertionError as e:
            raise AssertionError(f"{e}; the DaemonSet's pods: {seen}") from None
        assert found is not None
        return found

    ps = wait_on({"node-0", "node-1"}, 90, "a running pod on each node")
    assert ps is not None
    assert len({p["metadata"]["labels"]["controller-revision-hash"] for p in ps}) == 1
    r = c.kubectl("rollout", "status", "ds/node-agent", "--timeout=60s", real=True, timeout=70)
    assert r.stdout.endswith('daemon set "node-agent" successfully rolled out\n'), r.stdout

    # a node joining later gets its pod: a hollow agent (fake runtime) on the same server
    server = from_kubeconfig([c.kubeconfig]).server
    agent = subprocess.Popen(
        [
            *KUBELITE,
            "agent",
            "--server",
            server,
            "--token-file",
            str(c.data_dir / "server" / "node-token"),
            "--hollow",
            "--node-name",
            "late-node",
            "--data-dir",
            str(tmp_path / "agent"),
            "--kubelet-port",
            str(free_port()),
            "--no-serve-dns",
            "--cluster-dns",
            "",
            "--lease-renew",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_on({"node-0", "node-1", "late-node"}, 60, "a pod on the node that joined")
        wait_for(
            lambda: get(c, "daemonsets", "node-agent")["status"].get("numberAvailable") == 3,
            30,
            what="3 available",
        )
        described = c.kubectl("describe", "ds", "node-agent").stdout
        assert "Desired Number of Nodes Scheduled: 3" in described, described
        assert "3 Running / 0 Waiting / 0 Succeeded / 0 Failed" in described, described
        # a rolling update through all three nodes, judged by the real kubectl's status viewer
        old_hash = ps[0]["metadata"]["labels"]["controller-revision-hash"]
        c.kubectl("set", "env", "ds/node-agent", "ROUND=2", real=True)
        r = c.kubectl("rollout", "status", "ds/node-agent", "--timeout=120s", real=True, timeout=130)
        assert r.stdout.endswith('daemon set "node-agent" successfully rolled out\n'), r.stdout
        now = wait_on({"node-0", "node-1", "late-node"}, 60, "3 updated pods")
        assert all(p["metadata"]["labels"]["controller-revision-hash"] != old_hash for p in now)
        history = c.kubectl("rollout", "history", "ds/node-agent", real=True).stdout
        assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"], history
    finally:
        agent.terminate()
        agent.wait(30)
        with c.client() as api:
            try:
                api.delete("nodes", "late-node")
            except ApiError:
                pass
            for p in api.list("pods", "default", field_selector="spec.nodeName=late-node")["items"]:
                try:
                    api.delete("pods", p["metadata"]["name"], "default", grace_period_seconds=0)
                except ApiError:
                    pass
    c.kubectl("delete", "ds", "node-agent", real=True, timeout=90)


def test_statefulset_pods_come_up_in_order_with_stable_names(cluster: Cluster) -> None:
    c = cluster
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db"},
        "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 80}]},
    }
    sts = apps_body("StatefulSet", "db", 3, serviceName="db", template=sleeper({"app": "db"}))
    apply(c, svc)
    assert apply(c, sts) == "statefulset.apps/db created\n"

    def three_running() -> list[Obj] | None:
        ps = pods(c, "app=db")
        return ps if len(ps) == 3 and all(running(p) for p in ps) else None

    ps = wait_for(three_running, 120, what="db-0..2 running")
    assert ps is not None
    by_name = {p["metadata"]["name"]: p for p in ps}
    assert sorted(by_name) == ["db-0", "db-1", "db-2"]

    def ready_at(p: Obj) -> str:
        return next(x["lastTransitionTime"] for x in p["status"]["conditions"] if x["type"] == "Ready")

    # OrderedReady: each pod was created only once the one before it was Running and Ready
    for i in (1, 2):
        assert by_name[f"db-{i}"]["metadata"]["creationTimestamp"] >= ready_at(by_name[f"db-{i - 1}"])
    assert c.kubectl("exec", "db-1", "--", "hostname", real=True).stdout.strip() == "db-1"
    assert by_name["db-2"]["spec"]["subdomain"] == "db"
    # stable network identity: db-1.db resolves (cluster DNS, through the headless service) to db-1
    ip = by_name["db-1"]["status"]["podIP"]
    wait_for(
        lambda: (
            ip
            in c.kubectl(
                "exec", "db-0", "--", "nslookup", "db-1.db.default.svc.cluster.local", real=True, check=False
            ).stdout
        ),
        60,
        what=f"db-1.db -> {ip}",
    )

    old_uid = by_name["db-1"]["metadata"]["uid"]
    c.kubectl("delete", "pod", "db-1", real=True, timeout=60)
    wait_for(
        lambda: any(
            p["metadata"]["name"] == "db-1" and p["metadata"]["uid"] != old_uid and running(p)
            for p in pods(c, "app=db")
        ),
        60,
        what="db-1 back under the same name",
    )
    r = c.kubectl("rollout", "status", "statefulset/db", "--timeout=60s", real=True, timeout=70)
    assert "roll out complete" in r.stdout or "rolling update complete" in r.stdout, r.stdout
    c.kubectl("scale", "statefulset", "db", "--replicas=1", real=True)
    wait_for(
        lambda: [p["metadata"]["name"] for p in pods(c, "app=db")] == ["db-0"], 60, what="scaled to db-0"
    )
    c.kubectl("delete", "statefulset", "db", real=True, timeout=90)
    c.kubectl("delete", "service", "db", real=True)


def job(name: str, command: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "main", "image": BUSYBOX, "command": ["sh", "-c", command]}],
                }
            },
            **spec,
        },
    }


def test_jobs_complete_and_fail_at_the_backoff_limit(cluster: Cluster) -> None:
    c = cluster
    apply(c, job("five", "sleep 1; echo done", completions=5, parallelism=2))
    apply(c, job("broken", "echo oops; exit 3", backoffLimit=1))
    apply(
        c,
        job(
            "indexed",
            "echo index=$JOB_COMPLETION_INDEX host=$(hostname)",
            completions=2,
            parallelism=2,
            completionMode="Indexed",
        ),
    )
    r = c.kubectl("wait", "--for=condition=complete", "job/five", "--timeout=120s", real=True, timeout=130)
    assert r.stdout == "job.batch/five condition met\n"
    st = get(c, "jobs", "five")["status"]
    assert st["succeeded"] == 5 and st.get("failed", 0) == 0 and st["completionTime"]
    done = pods(c, "batch.kubernetes.io/job-name=five")
    assert len(done) == 5 and all(p["status"]["phase"] == "Succeeded" for p in done)
    term = done[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert term["exitCode"] == 0 and term["reason"] == "Completed"
    assert not any(p["metadata"].get("finalizers") for p in done)
    assert c.kubectl("logs", done[0]["metadata"]["name"], real=True).stdout == "done\n"

    # backoffLimit 1: two failed pods (the second after a 10 s back-off), then Failed
    def job_failed() -> Obj | None:
        j = get(c, "jobs", "broken")
        return j if "Failed" in conditions(j) else None

    failed = wait_for(job_failed, 90, what="the broken Job Failed")
    assert failed is not None
    assert conditions(failed) == {"FailureTarget": "BackoffLimitExceeded", "Failed": "BackoffLimitExceeded"}
    assert failed["status"]["failed"] == 2 and failed["status"]["active"] == 0
    bad = pods(c, "batch.kubernetes.io/job-name=broken")
    assert len(bad) == 2 and all(p["status"]["phase"] == "Failed" for p in bad)
    terms = [p["status"]["containerStatuses"][0]["state"]["terminated"] for p in bad]
    assert all(t["exitCode"] == 3 and t["reason"] == "Error" for t in terms)
    first, second = sorted(terms, key=lambda t: t["finishedAt"])
    assert second["startedAt"] >= first["finishedAt"]

    c.kubectl("wait", "--for=condition=complete", "job/indexed", "--timeout=60s", real=True, timeout=70)
    assert get(c, "jobs", "indexed")["status"]["completedIndexes"] == "0,1"
    logs = sorted(
        c.kubectl("logs", p["metadata"]["name"], real=True).stdout
        for p in pods(c, "batch.kubernetes.io/job-name=indexed")
    )
    assert logs == ["index=0 host=indexed-0\n", "index=1 host=indexed-1\n"]
    described = c.kubectl("describe", "job", "five").stdout
    assert "Pods Statuses:" in described and "5 Succeeded" in described, described
    for name in ("five", "broken", "indexed"):
        c.kubectl("delete", "job", name, real=True, timeout=60)


def test_a_job_with_a_native_sidecar_completes(cluster: Cluster) -> None:
    """A sidecar (an init container with restartPolicy Always) starts before the app and shares
    its volume; when the app is done the kubelet stops the sidecar and the Job completes."""
    c = cluster
    spec = job("sidecar", "until [ -f /shared/ready ]; do sleep 0.1; done; echo app saw $(cat /shared/ready)")
    pod_spec = spec["spec"]["template"]["spec"]
    pod_spec["volumes"] = [{"name": "shared", "emptyDir": {}}]
    pod_spec["containers"][0]["volumeMounts"] = [{"name": "shared", "mountPath": "/shared"}]
    pod_spec["initContainers"] = [
        {
            "name": "helper",
            "image": BUSYBOX,
            "restartPolicy": "Always",
            "command": ["sh", "-c", "echo up > /shared/ready; exec sleep 3600"],
            "volumeMounts": [{"name": "shared", "mountPath": "/shared"}],
        }
    ]
    apply(c, spec)
    c.kubectl("wait", "--for=condition=complete", "job/sidecar", "--timeout=90s", real=True, timeout=100)
    (done,) = pods(c, "batch.kubernetes.io/job-name=sidecar")
    assert done["status"]["phase"] == "Succeeded"
    assert "terminated" in done["status"]["initContainerStatuses"][0]["state"]  # stopped by the kubelet
    name = done["metadata"]["name"]
    assert c.kubectl("logs", name, "-c", "main", real=True).stdout == "app saw up\n"
    c.kubectl("delete", "job", "sidecar", real=True, timeout=60)


def test_create_job_and_a_cronjob_every_minute(cluster: Cluster) -> None:
    c = cluster
    r = c.kubectl("create", "job", "hello", f"--image={BUSYBOX}", "--", "echo", "hello", real=True)
    assert r.stdout == "job.batch/hello created\n"
    c.kubectl("wait", "--for=condition=complete", "job/hello", "--timeout=60s", real=True, timeout=70)
    assert c.kubectl("logs", "job/hello", real=True).stdout == "hello\n"

    r = c.kubectl(
        "create", "cronjob", "tick", f"--image={BUSYBOX}", "--schedule=*/1 * * * *", "--", "echo", "tick"
    )
    assert r.stdout == "cronjob.batch/tick created\n"

    def ran() -> Obj | None:
        cj = get(c, "cronjobs", "tick")
        return cj if (cj.get("status") or {}).get("lastSuccessfulTime") else None

    cj = wait_for(ran, 150, what="a successful run of the CronJob")
    assert cj is not None
    with c.client() as api:
        jobs = [
            j
            for j in api.list("jobs", "default")["items"]
            if (j["metadata"].get("ownerReferences") or [{}])[0].get("name") == "tick"
        ]
    assert jobs and all(j["metadata"]["name"].startswith("tick-") for j in jobs)
    minutes = int(jobs[0]["metadata"]["name"].rsplit("-", 1)[1])
    scheduled = jobs[0]["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert scheduled.endswith(":00Z") and cj["status"]["lastScheduleTime"] >= scheduled
    assert minutes * 60 == int(dt.datetime.fromisoformat(scheduled.replace("Z", "+00:00")).timestamp())
    described = c.kubectl("describe", "cronjob", "tick").stdout
    assert "Schedule:" in described and "*/1 * * * *" in described
    c.kubectl("delete", "cronjob", "tick", real=True, timeout=60)
    c.kubectl("delete", "job", "hello", real=True, timeout=60)
