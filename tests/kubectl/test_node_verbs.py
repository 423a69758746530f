"""`cordon`, `uncordon`, `drain` and `taint` against a real `kubelite server`, side by side with the
real kubectl 1.33 where its output is deterministic.

The session server runs no kubelet or controllers: nodes are Node objects made here, pods are bound
by `spec.nodeName`, a pod's status and a PodDisruptionBudget's status are written by the test (as
the kubelet and the disruption controller would). Nodes are cluster-wide, so every test names its
own; a side-by-side run gets two alike nodes (`o-...` for ours, `r-...` for the real kubectl) and
compares the outputs with the names swapped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api import requests as rq
from kubectl.drain import Options, classify
from kubectl.env import CommandError
from tests.kubectl.conftest import REPO
from tests.kubectl.helpers import same
from tests.polling import wait_for

Run = Callable[..., Any]


@pytest.fixture
def node_names(client: Any) -> Iterator[Callable[..., str]]:
    """make(labels=...) -> the name of a new Node; all deleted after the test."""
    made: list[str] = []

    def make(name: str = "", labels: dict[str, str] | None = None) -> str:
        name = name or "n-" + uuid.uuid4().hex[:6]
        meta: dict[str, Any] = {"name": name, "labels": labels or {}}
        client.create("nodes", {"apiVersion": "v1", "kind": "Node", "metadata": meta})
        made.append(name)
        return name

    yield make
    for name in made:
        client.delete("nodes", name)


def alike(ours: Run, real: Run, nodes: tuple[str, str], *args: str, unordered: bool = False) -> Any:
    """ARGS with `NODE` as our node for ours and the real kubectl's own node for it: the same
    exit code and output, but for the node names (and, `unordered`, the order of the lines)."""
    a = ours(*[x.replace("NODE", nodes[0]) for x in args])
    b = real(*[x.replace("NODE", nodes[1]) for x in args])

    def seen(r: Any, node: str) -> tuple[int, Any, Any]:
        out, err = r.out.replace(node, "NODE"), r.err.replace(node, "NODE")
        return (
            (r.code, sorted(out.splitlines()), sorted(err.splitlines())) if unordered else (r.code, out, err)
        )

    assert seen(a, nodes[0]) == seen(b, nodes[1]), args
    return a


def pair(make: Callable[..., str], **kw: Any) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:6]
    return make(f"o-{tag}", **kw), make(f"r-{tag}", **kw)


def test_cordon_and_uncordon_match_real(ns, kubectl, real, node_names, client):
    nodes = pair(node_names)
    for args in (
        ("cordon", "NODE"),
        ("cordon", "NODE"),
        ("uncordon", "node/NODE", "--dry-run=client"),
        ("uncordon", "NODE", "--dry-run=server"),
        ("uncordon", "NODE"),
        ("uncordon", "NODE"),
        ("cordon", "NODE", "--dry-run=bad"),
    ):
        alike(kubectl, real, nodes, *args)
    for name in nodes:
        assert not client.get("nodes", name).get("spec", {}).get("unschedulable")
    assert kubectl("cordon", nodes[0]).out == f"node/{nodes[0]} cordoned\n"
    assert client.get("nodes", nodes[0])["spec"]["unschedulable"] is True
    for wrong in (("cordon",), ("cordon", "x", "-l", "a=b"), ("cordon", "nope-node"), ("cordon", "pod/x")):
        same(kubectl, real, *wrong)


def test_cordon_by_selector(ns, kubectl, node_names, client):
    pool = "p" + uuid.uuid4().hex[:6]
    a, b = node_names(labels={"pool": pool}), node_names(labels={"pool": pool})
    node_names(labels={"pool": "other"})
    kubectl("cordon", a)
    r = kubectl("cordon", "-l", f"pool={pool}")
    assert (r.code, sorted(r.out.splitlines())) == (
        0,
        sorted([f"node/{a} already cordoned", f"node/{b} cordoned"]),
    )
    assert kubectl("uncordon", "-l", "pool=none-such").out == ""


def test_taint_changes_match_real(ns, kubectl, real, node_names, client):
    nodes = pair(node_names)
    for args in (
        ("taint", "nodes", "NODE", "dedicated=special:NoSchedule"),
        ("taint", "nodes", "NODE", "dedicated=other:NoSchedule"),  # exists: --overwrite needed
        ("taint", "nodes", "NODE", "dedicated=other:NoSchedule", "--overwrite"),
        ("taint", "node", "NODE", "dedicated:PreferNoSchedule", "a=b:NoExecute"),
        ("taint", "nodes", "NODE", "dedicated:NoSchedule-"),
        ("taint", "nodes", "NODE", "dedicated:NoSchedule-"),  # not found
        ("taint", "no", "NODE", "a-", "c=d:NoSchedule"),
        ("taint", "nodes", "NODE", "q1-", "q2-"),
        ("taint", "nodes", "NODE", "k=v:NoSchedule", "--dry-run=client"),
        ("taint", "nodes", "NODE", "k=v:NoSchedule", "-o", "name"),
        ("taint", "nodes", "NODE", "dedicated-"),
    ):
        alike(kubectl, real, nodes, *args)
    ours, theirs = (client.get("nodes", n)["spec"].get("taints") for n in nodes)
    assert (
        ours
        == theirs
        == [
            {"key": "k", "value": "v", "effect": "NoSchedule"},
            {"key": "c", "value": "d", "effect": "NoSchedule"},
        ]
    )


def test_taint_refusals_match_real(ns, kubectl, real, node_names):
    name = node_names()
    for specs in (
        ["x=y:Bad"],
        ["x=y"],
        ["x"],
        ["x=y=z:NoSchedule"],
        ["a/b/c:NoSchedule"],
        ["Example.com/x:NoSchedule"],
        [":NoSchedule"],
        ["k=bad value:NoSchedule"],
        ["k:-"],
        ["x=1:NoSchedule", "x=2:NoSchedule"],
        ["x=1:NoSchedule", "x-"],
        ["x=1:NoSchedule", "x:NoSchedule-", "y=1:NoExecute", "y-"],
        ["k=v:NoSchedule", "later"],
    ):
        same(kubectl, real, "taint", "nodes", name, *specs)
    for args in (
        ("taint", "nodes"),
        ("taint", "nodes", "k=v:NoSchedule"),
        ("taint", name, "k=v:NoSchedule"),
        ("taint", "pods", name, "k=v:NoSchedule"),
        ("taint", "nodes", "--all", "-l", "a=b", "k=v:NoSchedule"),
        ("taint", "nodes", "nope-node", "k=v:NoSchedule"),
    ):
        same(kubectl, real, *args)


def test_taint_several_nodes_goes_on_past_failures(ns, kubectl, node_names):
    a, b = node_names(), node_names()
    assert kubectl("taint", "nodes", a, "k=v:NoSchedule").code == 0
    r = kubectl("taint", "nodes", a, b, "nope-node", "k=v:NoSchedule")
    assert r.code == 1 and r.out == f"node/{b} tainted\n"
    assert r.err == (
        f"node {a} already has k taint(s) with same effect(s) and --overwrite is false\n"
        'Error from server (NotFound): nodes "nope-node" not found\n'
    )


# --- drain -----------------------------------------------------------------------------------


def pod(
    name: str, node: str, owner: str | None = None, emptydir: bool = False, grace: int = 0, **meta: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "nodeName": node,
        "terminationGracePeriodSeconds": grace,
        "containers": [{"name": "c", "image": "busybox"}],
    }
    if emptydir:
        spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    metadata: dict[str, Any] = {"name": name, "labels": {"app": name}, **meta}
    if owner:
        kind, _, owner_name = owner.partition("/")
        metadata["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": kind,
                "name": owner_name,
                "uid": str(uuid.uuid4()),
                "controller": True,
            }
        ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def make_pods(client: Any, ns: str, node: str, prefix: str, *pods: dict[str, Any]) -> None:
    for p in pods:
        p["metadata"]["name"] = prefix + p["metadata"]["name"]
        p["spec"]["nodeName"] = node
        client.create("pods", p, ns)


def daemonset(client: Any, ns: str) -> None:
    client.create(
        "daemonsets",
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "ds"},
            "spec": {
                "selector": {"matchLabels": {"app": "ds"}},
                "template": {
                    "metadata": {"labels": {"app": "ds"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        },
        ns,
    )


def test_drain_refusals_and_dry_runs_match_real(ns, kubectl, real, node_names, client):
    """One refusal kind per node (kubectl orders several by a Go map: not comparable)."""
    daemonset(client, ns)
    cases: list[tuple[str, dict[str, Any], list[str]]] = [
        ("bare", {}, ["--ignore-daemonsets"]),
        ("dsp", {"owner": "DaemonSet/ds"}, []),
        ("scratch", {"owner": "ReplicaSet/rs", "emptydir": True}, ["--force"]),
    ]
    for i, (name, kw, flags) in enumerate(cases):
        nodes = pair(node_names)
        for side, node in zip("or", nodes, strict=True):
            make_pods(
                client, ns, node, f"{side}{i}-", pod(name, "", **kw), pod("web", "", owner="ReplicaSet/rs")
            )
        ours = _renamed(kubectl, {f"o{i}-{name}": "P", f"o{i}-web": "W"})
        theirs = _renamed(real, {f"r{i}-{name}": "P", f"r{i}-web": "W"})
        alike(ours, theirs, nodes, "drain", "NODE", *flags)
        for dry in ("--dry-run=client", "--dry-run=server", "--pod-selector=app!=web"):
            # kubectl evicts in one goroutine per pod: the lines come in any order
            every = ["--ignore-daemonsets", "--force", "--delete-emptydir-data", dry]
            alike(ours, theirs, nodes, "drain", "NODE", *every, unordered=dry == "--dry-run=server")
    for args in (
        ("drain",),
        ("drain", "a", "-l", "x=y"),
        ("drain", "nope-node"),
        ("drain", "x", "--pod-selector=a b"),
    ):
        same(kubectl, real, *args)


def _renamed(run: Run, names: dict[str, str]) -> Run:
    """`run` with pod names in its output replaced (ours and the real kubectl's pods differ by prefix)."""

    def wrapped(*args: str) -> Any:
        r = run(*args)
        for old, new in names.items():
            r.out, r.err = r.out.replace(old, new), r.err.replace(old, new)
        return r

    return wrapped


def test_drain_every_refusal_at_once(ns, kubectl, node_names, client):
    daemonset(client, ns)
    node = node_names()
    make_pods(
        client,
        ns,
        node,
        "",
        pod("bare", ""),
        pod("dsp", "", owner="DaemonSet/ds"),
        pod("mirror", "", annotations={"kubernetes.io/config.mirror": "x"}),
        pod("scratch", "", owner="ReplicaSet/rs", emptydir=True),
        pod("web", "", owner="ReplicaSet/rs"),
    )
    r = kubectl("drain", node)
    errors = [
        f"cannot delete cannot delete Pods that declare no controller (use --force to override): {ns}/bare",
        f"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): {ns}/dsp",
        f"cannot delete Pods with local storage (use --delete-emptydir-data to override): {ns}/scratch",
    ]
    assert (r.code, r.out) == (1, f"node/{node} cordoned\n")
    assert r.err == (
        f'error: unable to drain node "{node}" due to error: [{", ".join(errors)}], continuing command...\n'
        f"There are pending nodes to be drained:\n {node}\n" + "".join(e + "\n" for e in errors)
    )
    assert client.get("pods", "web", ns)  # nothing evicted
    r = kubectl("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force")
    assert r.code == 0, r.err
    assert (
        r.err
        == f"Warning: deleting Pods that declare no controller: {ns}/bare; ignoring DaemonSet-managed Pods: {ns}/dsp\n"
    )
    lines = r.out.splitlines()
    assert lines[0] == f"node/{node} already cordoned" and lines[-1] == f"node/{node} drained"
    assert sorted(lines[1:-1]) == sorted(
        [f"evicting pod {ns}/{n}" for n in ("bare", "scratch", "web")]
        + [f"pod/{n} evicted" for n in ("bare", "scratch", "web")]
    )
    left = {p["metadata"]["name"] for p in client.list("pods", ns)["items"]}
    assert left == {"dsp", "mirror"}


def test_drain_timeout_on_a_pod_that_lingers_matches_real(ns, kubectl, real, node_names, client):
    """No kubelet confirms the graceful deletion: the evicted pod stays Terminating past --timeout."""
    nodes = pair(node_names)
    for side, node in zip("or", nodes, strict=True):
        make_pods(client, ns, node, f"{side}-", pod("slow", "", owner="ReplicaSet/rs", grace=30))
    r = alike(
        _renamed(kubectl, {"o-slow": "P"}),
        _renamed(real, {"r-slow": "P"}),
        nodes,
        "drain",
        "NODE",
        "--timeout=2s",
    )
    assert r.code == 1
    assert (
        'error when waiting for pod "P" in namespace' in r.err
        and "to terminate: context deadline exceeded" in r.err
    )


def test_drain_retries_evictions_a_budget_refuses(ns, node_names, client, tmp_path, server):
    """A PodDisruptionBudget allowing no disruption answers 429: drain says it will retry, and does
    once the budget allows one, then waits for the pod to go."""
    node = node_names()
    make_pods(
        client,
        ns,
        node,
        "",
        pod("guarded", "", owner="ReplicaSet/rs"),
        pod("free", "", owner="ReplicaSet/rs"),
    )
    client.patch(
        "pods",
        "guarded",
        {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
        rq.MERGE_PATCH,
        ns,
        subresource="status",
    )
    client.create(
        "poddisruptionbudgets",
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "pdb"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}},
        },
        ns,
    )
    budget = {
        "observedGeneration": 1,
        "disruptionsAllowed": 0,
        "currentHealthy": 1,
        "desiredHealthy": 1,
        "expectedPods": 1,
    }
    client.patch("poddisruptionbudgets", "pdb", {"status": budget}, rq.MERGE_PATCH, ns, subresource="status")
    out, err = tmp_path / "out", tmp_path / "err"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open(out, "w") as o, open(err, "w") as e:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kubectl.main", "drain", node, "--timeout=60s"],
            stdout=o,
            stderr=e,
            env=env,
            cwd=REPO,
        )
    try:
        wait_for(lambda: "will retry after 5s" in err.read_text(), 30, "the refused eviction")
        assert client.get("pods", "guarded", ns)
        wait_for(lambda: "pod/free evicted" in out.read_text(), 30, "the free pod evicted meanwhile")
        budget["disruptionsAllowed"] = 1
        client.patch(
            "poddisruptionbudgets", "pdb", {"status": budget}, rq.MERGE_PATCH, ns, subresource="status"
        )
        assert proc.wait(30) == 0, err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert err.read_text().startswith(
        f'error when evicting pods/"guarded" -n "{ns}" (will retry after 5s): '
        "Cannot evict pod as it would violate the pod's disruption budget.\n"
    )
    lines = out.read_text().splitlines()
    assert lines[0] == f"node/{node} cordoned" and lines[-1] == f"node/{node} drained"
    assert lines.count(f"evicting pod {ns}/guarded") >= 2 and "pod/guarded evicted" in lines
    assert client.list("pods", ns)["items"] == []


def test_drain_with_eviction_disabled_deletes(ns, kubectl, real, node_names, client):
    """Ours, then the real kubectl, whose typed client sends each DELETE's DeleteOptions as
    protobuf (the API server once refused that body: 415)."""
    node = node_names()
    make_pods(client, ns, node, "", pod("web", "", owner="ReplicaSet/rs"))
    r = kubectl("drain", node, "--disable-eviction", "--grace-period=0")
    assert (r.code, r.out, r.err) == (0, f"node/{node} cordoned\npod/web deleted\nnode/{node} drained\n", "")
    assert client.list("pods", ns)["items"] == []
    node = node_names()
    make_pods(client, ns, node, "", pod("api", "", owner="ReplicaSet/rs"))
    r = real("drain", node, "--disable-eviction", "--grace-period=0")
    assert (r.code, r.out, r.err) == (0, f"node/{node} cordoned\npod/api deleted\nnode/{node} drained\n", "")
    assert client.list("pods", ns)["items"] == []


# --- the decisions ---------------------------------------------------------------------------


def _opts(**kw: Any) -> Options:
    base: dict[str, Any] = dict(
        force=False,
        ignore_daemonsets=False,
        delete_emptydir_data=False,
        grace_period=-1,
        timeout=0,
        timeout_text="0s",
        pod_selector="",
        disable_eviction=False,
        skip_wait_seconds=0,
        mode="none",
    )
    return Options(**{**base, **kw})


def test_classify_follows_kubectls_filters():
    exists = lambda ns, name: None  # noqa: E731
    missing = lambda ns, name: f'daemonsets.apps "{name}" not found'  # noqa: E731
    ds = pod("d", "n", owner="DaemonSet/ds")
    assert classify(ds, _opts(), exists) == (
        "error",
        "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
    )
    assert classify(ds, _opts(ignore_daemonsets=True), exists) == (
        "warn-skip",
        "ignoring DaemonSet-managed Pods",
    )
    assert classify(ds, _opts(), missing) == ("error", 'daemonsets.apps "ds" not found')
    assert classify(ds, _opts(force=True), missing) == ("warn-delete", 'daemonsets.apps "ds" not found')
    done = pod("d", "n", owner="DaemonSet/ds", emptydir=True)
    done["status"] = {"phase": "Succeeded"}
    assert classify(done, _opts(), exists) == ("delete", "")  # finished pods always go
    old = pod("o", "n", owner="ReplicaSet/rs")
    old["metadata"]["deletionTimestamp"] = "2020-01-01T00:00:00Z"
    assert classify(old, _opts(skip_wait_seconds=5), exists) == ("skip", "")
    assert classify(old, _opts(), exists) == ("delete", "")
    bare_scratch = pod("b", "n", emptydir=True)
    assert classify(bare_scratch, _opts(force=True), exists)[0] == "error"
    assert classify(bare_scratch, _opts(force=True, delete_emptydir_data=True), exists) == (
        "warn-delete",
        "deleting Pods that declare no controller",
    )


def test_taint_spec_parsing():
    from kubectl.cmd_taint import Taint, parse_taints, reorganize

    add, remove = parse_taints(["a=b:NoSchedule", "c:NoExecute", "d-", "e:NoSchedule-"])
    assert add == [Taint("a", "b", "NoSchedule"), Taint("c", "", "NoExecute")]
    assert remove == [Taint("d"), Taint("e", "", "NoSchedule")]
    with pytest.raises(CommandError, match="invalid taint effect: Bad"):
        parse_taints(["a=b:Bad"])
    old = [Taint("x", "1", "NoSchedule"), Taint("d", "", "NoExecute")]
    assert reorganize(old, False, [Taint("y", "", "NoSchedule")], []) == (
        "tainted",
        [Taint("y", "", "NoSchedule"), *old],
        [],
    )
    assert reorganize(old, False, [], [Taint("d")]) == ("untainted", [old[0]], [])
    assert reorganize(old, False, [], [Taint("z")])[2] == ['taint "z" not found']
