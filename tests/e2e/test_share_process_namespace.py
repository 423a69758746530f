"""shareProcessNamespace on real nodes, as kube's task page "Share Process Namespace between
Containers in a Pod" runs it (its nginx is kubelite/web's busybox httpd; its shell is busybox):
from the shell container, `ps` lists the web container's processes under PID 1, the sandbox's
pause; a SIGHUP reaches the web container's process; its files are read through
/proc/<pid>/root; the init container ran under the same PID 1, and so does an ephemeral container
(even with --target). Then `kubectl debug --copy-to --profile=general` (the real kubectl 1.31, which
sets shareProcessNamespace on the copy) gives a copy whose debug container sees the copied
containers' processes. Each pod's pause process runs on its node while the pod does, and is gone
once the pod is deleted."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Cluster
from tests.e2e.manifests import pod
from tests.kubectls import kubectl as kubectl_binary
from tests.polling import wait_for

KUBECTL = kubectl_binary("1.31")  # 1.32+ send protobuf bodies, which kubelite does not decode yet
# the web container: serves /www (httpd daemonizes: its child is reparented to PID 1, the pause)
# and writes down each SIGHUP it gets where httpd serves it
INIT = "tr '\\0' ' ' < /proc/1/cmdline > /data/init-saw"
WEB = "trap 'echo got-hup >> /www/signals' HUP; httpd -p 8080 -h /www; while :; do sleep 1 & wait $!; done"


def manifest(name: str) -> dict[str, Any]:
    """The task page's pod (a web server, a shell that may trace it), and an init container."""
    shell = {
        "name": "shell",
        "image": "busybox:1.35",
        "command": ["sleep", "3600"],
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
        "stdin": True,
        "tty": True,
    }
    web = {"name": "web", "image": "kubelite/web:1.0", "command": ["sh", "-c", WEB]}
    # an init container notes its PID 1 where the shell finds it
    init: dict[str, Any] = {"name": "init", "image": "busybox:1.35", "command": ["sh", "-c", INIT]}
    data = {"name": "data", "mountPath": "/data"}
    for c in (init, shell):
        c["volumeMounts"] = [data]
    return pod(
        name,
        [web, shell],
        initContainers=[init],
        volumes=[{"name": "data", "emptyDir": {}}],
        shareProcessNamespace=True,
    )


def run(c: Cluster, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUBECTL, "--cache-dir", str(c.data_dir / "kubectl-cache"), *args],
        env=c.env(),
        capture_output=True,
        text=True,
        timeout=120,
        input=input,
    )


def pod_json(c: Cluster, name: str) -> dict[str, Any]:
    r = run(c, "get", "pod", name, "-o", "json")
    return json.loads(r.stdout) if r.returncode == 0 else {}


def running(c: Cluster, name: str) -> bool:
    st = pod_json(c, name).get("status") or {}
    return st.get("phase") == "Running" and all(
        "running" in (cs.get("state") or {}) for cs in st.get("containerStatuses") or [{}]
    )


def ps(c: Cluster, name: str, container: str) -> dict[int, str]:
    """pid -> command line of every process the container sees (busybox ps: PID USER COMMAND)."""
    r = run(c, "exec", name, "-c", container, "--", "ps")
    assert r.returncode == 0, r
    header, *rows = r.stdout.splitlines()
    at = header.split().index("COMMAND")
    return {int(f[0]): f[at] for f in (row.split(None, at) for row in rows) if len(f) > at}


def web_shell_pid(processes: dict[int, str]) -> int:
    return next(pid for pid, cmd in processes.items() if "echo got-hup" in cmd)


def pauses(c: Cluster, of: dict[str, Any]) -> list[int]:
    """The pids of the pod's pause processes, from its sandboxes' records on its node."""
    found = []
    for record in c.data_dir.glob("nodes/*/runtime/sandboxes/*/pause.json"):
        sandbox = json.loads((record.parent / "sandbox.json").read_text())
        if sandbox["config"]["uid"] == of["metadata"]["uid"]:
            found.append(int(json.loads(record.read_text())["pid"]))
    return found


def gone_after_deletion(c: Cluster, name: str, pids: list[int]) -> None:
    r = run(c, "delete", "pod", name, "--grace-period=1")
    assert r.returncode == 0, r
    wait_for(lambda: not pod_json(c, name), 60, what=f"{name} deleted")
    # gone from the process table: its unshare parent reaps it (and is itself left to the node's init)
    wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in pids), 15, what=f"the pause of {name} gone")


def test_containers_share_processes_with_the_pause_as_pid_1(cluster: Cluster) -> None:
    c = cluster
    r = run(c, "apply", "-f", "-", input=json.dumps(manifest("shared")))
    assert r.returncode == 0, r
    wait_for(lambda: running(c, "shared"), 90, what="shared Running")
    shared = pod_json(c, "shared")
    (pause,) = pauses(c, shared)
    assert Path(f"/proc/{pause}/cmdline").read_bytes().split(b"\0")[0].endswith(b"catatonit")

    seen = wait_for(lambda: (p := ps(c, "shared", "shell")) and "httpd" in " ".join(p.values()) and p, 30)
    assert "catatonit -P" in seen[1], seen  # PID 1 of the pod: its pause, for every container
    assert any(cmd.startswith("sleep 3600") for cmd in seen.values()), seen  # the shell's own
    httpd = next(pid for pid, cmd in seen.items() if cmd.startswith("httpd"))
    r = run(c, "exec", "shared", "-c", "shell", "--", "sh", "-c", f"awk '{{print $4}}' /proc/{httpd}/stat")
    assert r.stdout.strip() == "1", r  # the daemon httpd, orphaned, was adopted by the pause
    r = run(c, "exec", "shared", "-c", "shell", "--", "cat", "/data/init-saw")
    assert "catatonit -P" in r.stdout, r  # the init container ran in the pod's namespace too
    web = web_shell_pid(seen)
    # the other container's files, through /proc/<pid>/root
    r = run(c, "exec", "shared", "-c", "shell", "--", "cat", f"/proc/{web}/root/www/index.html")
    assert r.returncode == 0 and "kubelite web" in r.stdout, r
    # a signal to the other container's process reaches it (its trap writes where httpd serves)
    r = run(c, "exec", "shared", "-c", "shell", "--", "kill", "-HUP", str(web))
    assert r.returncode == 0, r
    got = wait_for(
        lambda: (
            "got-hup"
            in (
                t := run(
                    c, "exec", "shared", "-c", "shell", "--", "wget", "-qO-", "http://localhost:8080/signals"
                ).stdout
            )
            and t
        ),
        30,
        what="the HUP handled",
    )
    assert got.strip() == "got-hup"

    # an ephemeral container, even one naming a target, is in the pod's namespace (kube asks the
    # runtime for the target's only where each container has its own)
    r = run(c, "debug", "shared", "--image=busybox:1.35", "--target=web", "-c", "eph", "--", "sleep", "3600")
    assert r.returncode == 0, r
    seen = wait_for(lambda: (p := ps(c, "shared", "eph")) and "httpd" in " ".join(p.values()) and p, 60)
    assert "catatonit -P" in seen[1] and web in seen, seen

    # kubectl debug --copy-to with the general profile: a copy sharing its process namespace, whose
    # debug container sees the copied containers' processes and files
    r = run(
        c,
        "debug",
        "shared",
        "--copy-to=shared-copy",
        "--profile=general",
        "--image=busybox:1.35",
        "--container=dbg",
        "--",
        "sleep",
        "3600",
    )
    assert r.returncode == 0, r
    wait_for(lambda: running(c, "shared-copy"), 90, what="shared-copy Running")
    copy = pod_json(c, "shared-copy")
    assert copy["spec"]["shareProcessNamespace"] is True
    assert [x["name"] for x in copy["spec"]["containers"]] == ["web", "shell", "dbg"]
    dbg = next(x for x in copy["spec"]["containers"] if x["name"] == "dbg")
    assert dbg["securityContext"]["capabilities"]["add"] == ["SYS_PTRACE"]
    seen = wait_for(lambda: (p := ps(c, "shared-copy", "dbg")) and "httpd" in " ".join(p.values()) and p, 30)
    assert "catatonit -P" in seen[1] and any(cmd.startswith("sleep 3600") for cmd in seen.values()), seen
    r = run(
        c, "exec", "shared-copy", "-c", "dbg", "--", "cat", f"/proc/{web_shell_pid(seen)}/root/www/index.html"
    )
    assert r.returncode == 0 and "kubelite web" in r.stdout, r
    (copy_pause,) = pauses(c, copy)
    assert copy_pause != pause

    gone_after_deletion(c, "shared-copy", [copy_pause])
    gone_after_deletion(c, "shared", [pause])
    assert not pauses(c, shared) and not pauses(c, copy)
