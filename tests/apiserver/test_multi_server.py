"""Two real `kubelite server` processes on one PostgreSQL, joined by a token: one cluster.

The second server starts with the token alone (no files copied) and serves the same objects with
the same CA; both appear in the `kubernetes` endpoints; a hollow agent given both servers stays
Ready, and its pods untouched, when the first is killed -9, while the survivor's controllers and
scheduler take over.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.apiserver.conftest import KUBELITE, Server, free_port, hollow_agent
from tests.polling import wait_for
from tests.storage.conftest import pg_engine, pg_url  # noqa: F401 - fixtures

TOKEN = "multi-server-test-token"


def server(tmp: Path, name: str, datastore: str, token: str = TOKEN, loops: bool = True) -> Server:
    return Server(
        tmp / name,
        free_port(),
        ["--datastore", datastore, "--token", token, "--node-monitor-grace-period", "3s"],
        control_loops=loops,
    )


@pytest.fixture
def two_servers(tmp_path: Path, pg_url: str) -> Iterator[tuple[Server, Server]]:  # noqa: F811
    a, b = server(tmp_path, "a", pg_url), server(tmp_path, "b", pg_url)
    a.start()
    try:
        b.start()
        yield a, b
    finally:
        b.stop()
        a.stop()


def failover_kubeconfig(path: Path, first: Server, servers: list[Server]) -> Path:
    """A kubeconfig naming `first` as its server, every server in the kubelite.io/servers extension."""
    import yaml

    doc = yaml.safe_load(servers[-1].kubeconfig.read_text())
    doc["clusters"][0]["cluster"]["server"] = first.url
    doc["clusters"][0]["cluster"]["extensions"] = [
        {"name": "kubelite.io/servers", "extension": {"servers": [s.url for s in servers]}}
    ]
    path.write_text(yaml.safe_dump(doc))
    return path


def our_kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUBELITE.parent / "kubectl"), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def ports_in_endpoints(c: Any) -> set[int]:
    ep = c.get("/api/v1/namespaces/default/endpoints/kubernetes").json()
    return {p["port"] for s in ep.get("subsets") or [] for p in s["ports"]}


def test_second_server_joins_with_the_token_alone(
    two_servers: tuple[Server, Server],
    tmp_path: Path,
    pg_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    a, b = two_servers
    for name in ("tls/ca.crt", "tls/ca.key", "tls/sa.key", "admin-token", "node-token"):
        assert (a.data_dir / name).read_bytes() == (b.data_dir / name).read_bytes(), name
    assert (a.data_dir / "tls/server.crt").read_bytes() != (b.data_dir / "tls/server.crt").read_bytes()
    with a.client() as ca, b.client() as cb:
        cm = {"metadata": {"name": "shared"}, "data": {"k": "v"}}
        assert ca.post("/api/v1/namespaces/default/configmaps", json=cm).status_code == 201
        got = cb.get("/api/v1/namespaces/default/configmaps/shared").json()
        assert got["data"] == {"k": "v"}
        wait_for(lambda: ports_in_endpoints(ca) == {a.port, b.port}, 20, "both servers in the endpoints")
    # the first server's kubeconfig (its CA, its token) works against the second
    r = a.kubectl("--server", b.url, "get", "configmap", "shared", "-o", "jsonpath={.data.k}", check=True)
    assert r.stdout == "v"
    # the real kubectl takes a kubeconfig carrying the servers extension (and uses `server`)
    kc = failover_kubeconfig(tmp_path / "both.yaml", a, [a, b])
    r = a.kubectl(
        "--kubeconfig", str(kc), "get", "configmap", "shared", "-o", "jsonpath={.data.k}", check=True
    )
    assert r.stdout == "v"
    # a service-account token issued by one server is accepted by the other (shared signing key)
    with a.client() as ca, b.client() as cb:
        tr = ca.post("/api/v1/namespaces/default/serviceaccounts/default/token", json={"spec": {}})
        if tr.status_code == 404:  # the serviceaccount controller has not made `default` yet
            wait_for(
                lambda: ca.get("/api/v1/namespaces/default/serviceaccounts/default").status_code == 200, 20
            )
            tr = ca.post("/api/v1/namespaces/default/serviceaccounts/default/token", json={"spec": {}})
        sa_token = tr.json()["status"]["token"]
        who = cb.get(
            "/api/v1/namespaces/default/configmaps/shared", headers={"Authorization": f"Bearer {sa_token}"}
        )
        assert who.status_code in (200, 403)  # authenticated (RBAC may refuse), never 401
    # a third server with another token is refused, non-zero and saying why
    wrong = server(tmp_path, "c", pg_url, token="not-the-token", loops=False)
    cmd = [
        str(KUBELITE),
        "server",
        "--data-dir",
        str(wrong.data_dir),
        "--listen",
        f"127.0.0.1:{wrong.port}",
        "--no-controllers",
        "--no-scheduler",
        *wrong.args,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "different token" in done.stderr


def test_agent_on_two_servers_survives_the_first_ones_death(
    two_servers: tuple[Server, Server], tmp_path: Path
) -> None:
    a, b = two_servers
    with hollow_agent(tmp_path, [a, b], "twin"), b.client() as cb:

        def ready() -> bool:
            node = cb.get("/api/v1/nodes/twin")
            conds = node.json().get("status", {}).get("conditions") or [] if node.status_code == 200 else []
            return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)

        def renew_time() -> str:
            r = cb.get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/twin")
            return str(r.json()["spec"]["renewTime"]) if r.status_code == 200 else ""

        def pod_phase(name: str) -> tuple[str, str]:
            p = cb.get(f"/api/v1/namespaces/default/pods/{name}").json()
            return p.get("status", {}).get("phase", ""), p["metadata"]["uid"]

        def pod(name: str) -> dict[str, Any]:
            return {
                "metadata": {"name": name},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            }

        wait_for(ready, 60, "node twin Ready")
        assert cb.post("/api/v1/namespaces/default/pods", json=pod("before")).status_code == 201
        wait_for(lambda: pod_phase("before")[0] == "Running", 60, "pod before Running")
        uid = pod_phase("before")[1]
        assert a.proc is not None
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(10)
        a.proc = None
        # the agent keeps renewing its lease through the second server
        seen = {renew_time()}
        for _ in range(3):
            seen.add(wait_for(lambda: t if (t := renew_time()) not in seen else "", 20, "a lease renewal"))
        # past the grace period (3 s) the node is still Ready and its pod untouched
        assert ready()
        assert pod_phase("before") == ("Running", uid)
        # our kubectl, given the dead server first, moves on to the live one
        kc = failover_kubeconfig(tmp_path / "both.yaml", a, [a, b])  # `server` names the dead one
        r = our_kubectl(kc, "get", "node", "twin", "-o", "name")
        assert (r.returncode, r.stdout.strip()) == (0, "node/twin"), r.stderr
        # the survivor's scheduler and controllers take over (leader election: <= 15 s + retry)
        assert cb.post("/api/v1/namespaces/default/pods", json=pod("after")).status_code == 201
        wait_for(lambda: pod_phase("after")[0] == "Running", 60, "pod after Running")
        rs = {
            "metadata": {"name": "rs"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "rs"}},
                "template": {
                    "metadata": {"labels": {"app": "rs"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        }
        assert cb.post("/apis/apps/v1/namespaces/default/replicasets", json=rs).status_code == 201
        wait_for(
            lambda: (
                cb.get("/apis/apps/v1/namespaces/default/replicasets/rs")
                .json()
                .get("status", {})
                .get("readyReplicas")
                == 2
            ),
            60,
            "replicaset ready",
        )
        # the dead server's lease expires and it leaves the kubernetes endpoints
        wait_for(lambda: ports_in_endpoints(cb) == {b.port}, 40, "the dead server out of the endpoints")
        assert ready()


def test_two_first_servers_at_once_make_one_cluster(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    from concurrent.futures import ThreadPoolExecutor

    a, b = server(tmp_path, "a", pg_url, loops=False), server(tmp_path, "b", pg_url, loops=False)
    try:
        with ThreadPoolExecutor(2) as pool:
            for started in [pool.submit(a.start), pool.submit(b.start)]:
                started.result()  # both serve: the loser of the race took the winner's secrets
        assert (a.data_dir / "tls/ca.crt").read_bytes() == (b.data_dir / "tls/ca.crt").read_bytes()
        assert a.token == b.token
        with a.client() as ca:
            wait_for(lambda: ports_in_endpoints(ca) == {a.port, b.port}, 20, "both servers in the endpoints")
    finally:
        b.stop()
        a.stop()
