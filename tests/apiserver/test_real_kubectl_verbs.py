"""Verbs of the real kubectl (1.27 and 1.33) that no other module drives against a real `kubelite
server`: `diff` (client-side and `--server-side`, through the system `diff` and
KUBECTL_EXTERNAL_DIFF), `kustomize` / `apply -k`, `events` (`--for`, `--types`, `-w`) and
`get events --sort-by`, `proxy`, and `wait` for a jsonpath value and for a deletion.

What is expected is kubectl's documented behaviour: `diff` exits 0 when the server would change
nothing, 1 when it would, more on an error, and changes nothing itself (a dry-run); `apply -k`
stores what `kustomize` prints; `events` lists a namespace's events oldest first.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import yaml

from tests.apiserver.conftest import Server, table_rows
from tests.kubectls import kubectl

VERSIONS = ["1.27", "1.33"]


def run(
    server: Server, version: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server._kubectl_cmd(kubectl(version), args),
        capture_output=True,
        text=True,
        timeout=60,
        env={**server._kubectl_env(), **(env or {})},
    )


class Lines:
    """A kubectl left running (`events -w`, `proxy`, `wait`): its stdout and stderr lines as they
    come, in one stream."""

    def __init__(self, server: Server, version: str, *args: str) -> None:
        self.proc = server.kubectl_background(*args, binary=kubectl(version))
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.lines.put(line)

    def until(self, text: str, timeout: float = 20) -> str:
        """The first line (from the start) holding `text`."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.seen):
            left = deadline - time.monotonic()
            try:
                self.seen.append(self.lines.get(timeout=max(left, 0.01)))
            except queue.Empty:
                if left <= 0:
                    raise AssertionError(f"no line with {text!r} in {timeout}s: {self.seen}") from None
        return next(line for line in self.seen if text in line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)


def configmap(name: str, value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {{a: b}}\ndata:\n  k: {value}\n"


def stored(http: httpx.Client, ns: str, plural: str, name: str, group: str = "") -> dict[str, Any]:
    base = f"/apis/{group}" if group else "/api/v1"
    r = http.get(f"{base}/namespaces/{ns}/{plural}/{name}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize("version", VERSIONS)
def test_diff_client_and_server_side(
    server: Server, http: httpx.Client, ns: str, tmp_path: Path, version: str
) -> None:
    same, changed, new = tmp_path / "same.yaml", tmp_path / "changed.yaml", tmp_path / "new.yaml"
    same.write_text(configmap("d1", "v"))
    changed.write_text(configmap("d1", "w"))
    new.write_text(configmap("d2", "v"))
    assert run(server, version, "-n", ns, "apply", "-f", str(same)).returncode == 0
    before = stored(http, ns, "configmaps", "d1")

    for mode in ((), ("--server-side",)):
        r = run(server, version, "-n", ns, "diff", *mode, "-f", str(same))
        assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), (mode, r.stderr)
        r = run(server, version, "-n", ns, "diff", *mode, "-f", str(changed))
        assert r.returncode == 1, (mode, r.stderr)  # 409 from the server-side one before the fix
        assert f"/v1.ConfigMap.{ns}.d1\t" in r.stdout.splitlines()[1], r.stdout
        assert "\n-  k: v\n+  k: w\n" in r.stdout, r.stdout
        # an object the server has not got: all of it is new, and it is not made
        r = run(server, version, "-n", ns, "diff", *mode, "-f", str(new))
        assert r.returncode == 1, (mode, r.stderr)
        assert "\n+kind: ConfigMap\n" in r.stdout and f"\n+  name: d2\n+  namespace: {ns}\n" in r.stdout
    assert stored(http, ns, "configmaps", "d1") == before  # dry-runs, all of them
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps/d2").status_code == 404

    r = run(server, version, "-n", ns, "diff", "-f", str(changed), env={"KUBECTL_EXTERNAL_DIFF": "diff -q"})
    assert r.returncode == 1 and r.stdout.endswith(f"/v1.ConfigMap.{ns}.d1 differ\n"), r
    # an error is more than 1, in the server's words
    bad = tmp_path / "bad.yaml"
    bad.write_text(configmap("Bad_Name", "v"))
    r = run(server, version, "-n", ns, "diff", "-f", str(bad))
    assert r.returncode > 1 and 'The ConfigMap "Bad_Name" is invalid: metadata.name' in r.stderr, r


@pytest.mark.parametrize("version", VERSIONS)
def test_ssa_after_csa(server: Server, http: httpx.Client, ns: str, tmp_path: Path, version: str) -> None:
    """kubectl's move from client-side to server-side apply: no conflict, and its JSON patch of
    managedFields gives the client-side apply's fields to `kubectl` (so the next apply is one
    PATCH, no further moving)."""
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.write_text(configmap("m", "v"))
    two.write_text(configmap("m", "w"))
    assert run(server, version, "-n", ns, "apply", "-f", str(one)).returncode == 0
    r = run(server, version, "-n", ns, "apply", "--server-side", "-f", str(two))
    assert (r.returncode, r.stdout) == (0, "configmap/m serverside-applied\n"), r.stderr
    got = stored(http, ns, "configmaps", "m")
    assert got["data"] == {"k": "w"}
    assert "kubectl-client-side-apply" not in {e["manager"] for e in got["metadata"]["managedFields"]}
    r = run(server, version, "-n", ns, "-v=6", "apply", "--server-side", "-f", str(one))
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("PATCH") == 1, r.stderr
    assert stored(http, ns, "configmaps", "m")["data"] == {"k": "v"}


def test_diff_after_server_side_apply_counts_the_generation(server: Server, ns: str, tmp_path: Path) -> None:
    """A Deployment's template change: the dry-run's object has the next generation, as kube's."""
    manifest = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: IMAGE}]}
"""
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.write_text(manifest.replace("IMAGE", "nginx:1"))
    two.write_text(manifest.replace("IMAGE", "nginx:2"))
    assert run(server, "1.33", "-n", ns, "apply", "--server-side", "-f", str(one)).returncode == 0
    r = run(server, "1.33", "-n", ns, "diff", "--server-side", "-f", str(two))
    assert r.returncode == 1, r.stderr
    assert "\n-  generation: 1\n+  generation: 2\n" in r.stdout, r.stdout
    assert "\n-      - image: nginx:1\n+      - image: nginx:2\n" in r.stdout, r.stdout


@pytest.mark.parametrize("version", VERSIONS)
def test_diff_new_service(server: Server, http: httpx.Client, ns: str, tmp_path: Path, version: str) -> None:
    """kube's dry-run allocators: a dry-run create is given a cluster IP and node ports (a wanted
    one checked), none of them kept."""
    svc = tmp_path / "svc.yaml"
    svc.write_text(
        f"apiVersion: v1\nkind: Service\nmetadata: {{name: np-{version[2:]}}}\nspec:\n  type: NodePort\n  ports: [{{port: 80}}]\n"
    )
    r = run(server, version, "-n", ns, "diff", "-f", str(svc))
    assert r.returncode == 1, r.stderr
    body = yaml.safe_load("\n".join(line[1:] for line in r.stdout.splitlines()[4:]))
    ip, node_port = body["spec"]["clusterIP"], body["spec"]["ports"][0]["nodePort"]
    assert ip.startswith("10.96.") and body["spec"]["clusterIPs"] == [ip] and 30000 <= node_port <= 32767
    # neither is held: a service can be made with both
    made = http.post(
        f"/api/v1/namespaces/{ns}/services",
        json={
            "metadata": {"name": "takes"},
            "spec": {"type": "NodePort", "clusterIP": ip, "ports": [{"port": 80, "nodePort": node_port}]},
        },
    )
    assert made.status_code == 201, made.text
    r = run(
        server,
        version,
        "-n",
        ns,
        "create",
        "service",
        "clusterip",
        "x",
        f"--clusterip={ip}",
        "--tcp=80",
        "--dry-run=server",
    )
    assert (
        r.returncode == 1 and f"failed to allocate IP {ip}: provided IP is already allocated" in r.stderr
    ), r


KUSTOMIZATION = """namespace: NS
namePrefix: dev-
commonLabels:
  env: dev
resources: [deploy.yaml, svc.yaml]
configMapGenerator:
- name: settings
  literals: [mode=fast]
"""
DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1
        envFrom: [{configMapRef: {name: settings}}]
"""
SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


def subset(small: Any, big: Any) -> bool:
    """`small` is `big` but for fields the server added (defaults, metadata)."""
    if isinstance(small, list):
        return isinstance(big, list) and len(small) == len(big) and all(map(subset, small, big))
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and subset(v, big[k]) for k, v in small.items())
    return bool(small == big)


@pytest.mark.parametrize("version", VERSIONS)
def test_kustomize_and_apply_k(
    server: Server, http: httpx.Client, ns: str, tmp_path: Path, version: str
) -> None:
    (tmp_path / "kustomization.yaml").write_text(KUSTOMIZATION.replace("NS", ns))
    (tmp_path / "deploy.yaml").write_text(DEPLOY)
    (tmp_path / "svc.yaml").write_text(SERVICE)
    r = run(server, version, "kustomize", str(tmp_path))
    assert r.returncode == 0, r.stderr
    built = list(yaml.safe_load_all(r.stdout))
    names = {d["kind"]: d["metadata"]["name"] for d in built}
    cm = names["ConfigMap"]
    assert cm.startswith("dev-settings-") and len(cm) == len("dev-settings-") + 10  # the content hash
    assert (names["Deployment"], names["Service"]) == ("dev-web", "dev-web")

    r = run(server, version, "apply", "-k", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"configmap/{cm} created",
        "service/dev-web created",
        "deployment.apps/dev-web created",
    ]
    where = {
        "ConfigMap": ("configmaps", ""),
        "Service": ("services", ""),
        "Deployment": ("deployments", "apps/v1"),
    }
    for doc in built:
        plural, group = where[doc["kind"]]
        got = stored(http, ns, plural, doc["metadata"]["name"], group)
        assert subset(doc, got), (doc, got)
        assert got["metadata"]["labels"]["env"] == "dev"
    deploy = stored(http, ns, "deployments", "dev-web", "apps/v1")
    assert deploy["spec"]["selector"]["matchLabels"] == {"app": "web", "env": "dev"}
    assert deploy["spec"]["template"]["spec"]["containers"][0]["envFrom"] == [{"configMapRef": {"name": cm}}]
    r = run(server, version, "apply", "-k", str(tmp_path))
    assert r.returncode == 0 and all(line.endswith(" unchanged") for line in r.stdout.splitlines()), r
    r = run(server, version, "diff", "-k", str(tmp_path))
    assert (r.returncode, r.stdout) == (0, ""), r.stderr


def event(name: str, pod: str, reason: str, kind: str, ago: int, ns: str) -> dict[str, Any]:
    when = (datetime.now(UTC) - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": ns},
        "reason": reason,
        "message": f"{reason} of {pod}",
        "type": kind,
        "firstTimestamp": when,
        "lastTimestamp": when,
        "count": 1,
        "source": {"component": "test"},
    }


@pytest.fixture
def events(http: httpx.Client, ns: str) -> Iterator[str]:
    """Three events of two pods, made 300 s, 200 s and 100 s ago, posted out of order."""
    for name, pod, reason, kind, ago in (
        ("b", "p1", "Second", "Warning", 200),
        ("a", "p1", "First", "Normal", 300),
        ("c", "p2", "Third", "Normal", 100),
    ):
        r = http.post(f"/api/v1/namespaces/{ns}/events", json=event(name, pod, reason, kind, ago, ns))
        assert r.status_code == 201, r.text
    yield ns


@pytest.mark.parametrize("version", VERSIONS)
def test_events(server: Server, http: httpx.Client, events: str, version: str) -> None:
    ns = events

    def reasons(*args: str) -> list[str]:
        r = run(server, version, "-n", ns, *args)
        assert r.returncode == 0, r.stderr
        rows = table_rows(r.stdout)
        assert rows[0] == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], r.stdout
        return [row[2] for row in rows[1:]]

    assert reasons("events") == ["First", "Second", "Third"]  # oldest first
    assert reasons("events", "--for", "pod/p1") == ["First", "Second"]
    assert reasons("events", "--types=Warning") == ["Second"]
    assert reasons("get", "events", "--sort-by=.lastTimestamp") == ["First", "Second", "Third"]
    out = run(server, version, "-n", ns, "events", "--for", "pod/p2").stdout
    seen, *rest = table_rows(out)[1]
    assert seen in ("100s", "101s", "102s") and rest == ["Normal", "Third", "Pod/p2", "Third", "of", "p2"]
    # -w: the list, then what comes, until the request's timeout ends it
    watch = Lines(server, version, "-n", ns, "events", "-w", "--request-timeout=4s")
    try:
        watch.until("Third of p2")
        r = http.post(f"/api/v1/namespaces/{ns}/events", json=event("d", "p2", "Fourth", "Warning", 0, ns))
        assert r.status_code == 201, r.text
        assert watch.until("Fourth of p2").split()[1:4] == ["Warning", "Fourth", "Pod/p2"]
        assert watch.proc.wait(15) == 0
    finally:
        watch.stop()


@pytest.mark.parametrize("version", VERSIONS)
def test_proxy(server: Server, http: httpx.Client, ns: str, version: str) -> None:
    r = http.post(
        f"/api/v1/namespaces/{ns}/pods",
        json={"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    )
    assert r.status_code == 201, r.text
    proxy = Lines(server, version, "proxy", "--port=0")
    try:
        port = proxy.until("Starting to serve on 127.0.0.1:").rsplit(":", 1)[1].strip()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as plain:
            got = plain.get("/version")
            assert got.status_code == 200 and got.headers["content-type"] == "application/json"
            assert got.json() == http.get("/version").json()
            pods = plain.get(f"/api/v1/namespaces/{ns}/pods")
            assert pods.status_code == 200, pods.text
            assert pods.json()["kind"] == "PodList"
            assert [p["metadata"]["name"] for p in pods.json()["items"]] == ["p"]
            missing = plain.get(f"/api/v1/namespaces/{ns}/pods/nope")
            assert (missing.status_code, missing.json()["reason"]) == (404, "NotFound")
            made = plain.post(f"/api/v1/namespaces/{ns}/configmaps", json={"metadata": {"name": "via-proxy"}})
            assert made.status_code == 201, made.text
        assert stored(http, ns, "configmaps", "via-proxy")["metadata"]["name"] == "via-proxy"
    finally:
        proxy.stop()


@pytest.mark.parametrize("version", VERSIONS)
def test_wait_for_jsonpath_and_delete(server: Server, http: httpx.Client, ns: str, version: str) -> None:
    cms = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("w", "gone"):
        assert http.post(cms, json={"metadata": {"name": name}, "data": {"k": "early"}}).status_code == 201
    r = run(server, version, "-n", ns, "wait", "--for=jsonpath={.data.k}=early", "cm/w", "--timeout=10s")
    assert (r.returncode, r.stdout) == (0, "configmap/w condition met\n"), r.stderr
    r = run(server, version, "-n", ns, "wait", "--for=jsonpath={.data.k}=never", "cm/w", "--timeout=1s")
    assert r.returncode == 1 and "timed out waiting for the condition on configmaps/w" in r.stderr, r
    # a value set while it watches, and a deletion while it watches (-v=6 logs the watch requests)
    wait = ("-n", ns, "-v=6", "wait", "--timeout=30s")
    later = Lines(server, version, *wait, "--for=jsonpath={.data.k}=late", "cm/w")
    gone = Lines(server, version, *wait, "--for=delete", "cm/gone")
    try:
        later.until("watch=true")
        gone.until("watch=true")
        patch = {"data": {"k": "late"}}
        headers = {"content-type": "application/merge-patch+json"}
        assert http.patch(f"{cms}/w", content=json.dumps(patch), headers=headers).status_code == 200
        assert http.delete(f"{cms}/gone").status_code == 200
        assert later.until("configmap/w condition met") and later.proc.wait(15) == 0
        assert gone.until("configmap/gone condition met") and gone.proc.wait(15) == 0
    finally:
        later.stop()
        gone.stop()
    r = run(server, version, "-n", ns, "wait", "--for=delete", "cm/gone", "--timeout=5s")
    assert r.returncode == 0, r.stderr  # already gone: nothing to wait for
