"""A real `kubelite server` subprocess per session (tmp data dir, free port), and clients for it.

`start_server` is also used directly by tests that need their own server (restart, compaction,
PostgreSQL). Readiness is polled on /readyz with a deadline; every server is stopped with
SIGTERM (then SIGKILL) and its data dir removed by the fixture that made it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.kubectls import kubectl as kubectl_binary

REPO = Path(__file__).resolve().parents[2]
KUBELITE = REPO / ".venv" / "bin" / "kubelite"
KUBECTL = kubectl_binary("1.33")
KUBECTL_OLD = kubectl_binary("1.30")
KUBECTL_127 = kubectl_binary("1.27")
PG_URL = os.environ.get("KUBELITE_TEST_PG", "postgresql://kubelite:kubelite@127.0.0.1/kubelite_test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    data_dir: Path
    port: int
    args: list[str] = field(default_factory=list)
    control_loops: bool = False  # run the in-process controllers and scheduler too
    # the node token + X-Kubelite-Node-Name acts as that node (`--trust-node-name-header`: what the
    # hollow agents and the tests acting as a node with the token need); False: as in production, the
    # token only bootstraps, a node is its client certificate
    node_name_header: bool = True
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig.yaml"

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "tls" / "ca.crt"

    @property
    def token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log = self.data_dir.parent / f"server-{self.port}.log"
        loops = [] if self.control_loops else ["--no-controllers", "--no-scheduler"]
        if self.node_name_header:
            loops.append("--trust-node-name-header")
        cmd = [
            str(KUBELITE),
            "server",
            "--data-dir",
            str(self.data_dir),
            "--listen",
            f"127.0.0.1:{self.port}",
            *loops,
            *self.args,
        ]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            try:
                if (
                    self.kubeconfig.exists()
                    and httpx.get(self.url + "/readyz", verify=False, timeout=1).text == "ok"
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server not ready in {timeout}s: {self.log.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def client(self, token: str | None = None, **kw: object) -> httpx.Client:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.url, verify=ctx, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]

    def kubectl(
        self,
        *args: str,
        binary: str = KUBECTL,
        input: str | None = None,
        check: bool = False,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            self._kubectl_cmd(binary, args),
            input=input,
            capture_output=True,
            text=True,
            env=self._kubectl_env(),
            timeout=timeout,
        )
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def kubectl_background(self, *args: str, binary: str = KUBECTL) -> subprocess.Popen[str]:
        """The real kubectl running on (e.g. `delete` waiting, `get -w`), stdout and stderr piped."""
        return subprocess.Popen(
            self._kubectl_cmd(binary, args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self._kubectl_env(),
        )

    def _kubectl_cmd(self, binary: str, args: tuple[str, ...]) -> list[str]:
        cache = self.data_dir.parent / "kubectl-cache"
        return [binary, "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(cache), *args]

    def _kubectl_env(self) -> dict[str, str]:
        return {"PATH": "/usr/bin:/bin", "HOME": str(self.data_dir.parent)}


def start_server(tmp: Path, *args: str) -> Server:
    srv = Server(tmp / "data", free_port(), list(args))
    srv.start()
    return srv


def peer_server(first: Server, tmp: Path, *args: str) -> Server:
    """A second server (not started yet) with `first`'s identity (CA, tokens) copied, as a cluster's
    servers share theirs."""
    data = tmp / "data"
    data.mkdir(parents=True)
    shutil.copytree(first.data_dir / "tls", data / "tls")
    for f in ("admin-token", "node-secret"):
        shutil.copy(first.data_dir / f, data / f)
    return Server(data, free_port(), list(args))


@contextmanager
def two_servers(tmp: Path, datastore: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two servers on one datastore (the second with the first's identity) and a client of each;
    both stopped after."""
    a = start_server(tmp / "a", "--datastore", datastore)
    b = peer_server(a, tmp / "b", "--datastore", datastore)
    try:
        b.start()
        with a.client() as ha, b.client() as hb:
            yield ha, hb
    finally:
        b.stop()
        a.stop()


@contextmanager
def hollow_agent(
    tmp: Path, servers: list[Server], name: str, nodes: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """`kubelite agent --hollow` given every server (in order), renewing its Lease each second;
    `nodes` > 1 runs NAME-0..NAME-(n-1). Stopped (SIGTERM, then SIGKILL) after."""
    log = open(tmp / f"agent-{name}.log", "wb")  # noqa: SIM115 - closed below
    flags = [arg for s in servers for arg in ("--server", s.url)]
    agent = subprocess.Popen(
        [
            str(KUBELITE),
            "agent",
            *flags,
            "--token-file",
            str(servers[-1].data_dir / "node-token"),
            "--node-name",
            name,
            "--data-dir",
            str(tmp / f"agent-{name}"),
            "--hollow",
            "--hollow-nodes",
            str(nodes),
            "--lease-renew",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield agent
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(20)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
        log.close()


@contextmanager
def hollow_cluster(tmp: Path, nodes: int) -> Iterator[tuple[Server, subprocess.Popen[bytes]]]:
    """A server with its controllers and scheduler, and one `kubelite agent --hollow` process
    running `nodes` hollow nodes against it (names hollow, hollow-1, ...); both stopped after."""
    srv = Server(tmp / "server", free_port(), ["--node-monitor-grace-period", "3s"], control_loops=True)
    srv.start()
    try:
        with hollow_agent(tmp, [srv], "hollow", nodes) as agent:
            yield srv, agent
    finally:
        srv.stop()


@pytest.fixture
def loops_http(tmp_path: Path) -> Iterator[httpx.Client]:
    """A client of this test's own `kubelite server`, its controllers and scheduler in process
    (stopped after the test)."""
    srv = Server(tmp_path / "data", free_port(), control_loops=True)
    srv.start()
    try:
        with srv.client() as http:
            yield http
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Server]:
    """A server of the test module's own (its admission configuration is seen by no other module)."""
    s = start_server(tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2]))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def api(srv: Server) -> Iterator[httpx.Client]:
    """A client of the module's own server (`srv`)."""
    with srv.client() as c:
        yield c


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("apiserver"), "--bookmark-interval", "1s")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def api_client(server: Server) -> Iterator[Any]:
    """The official Python client (kubernetes.client.ApiClient) on the session server's kubeconfig."""
    from kubernetes import config

    api = config.new_client_from_config(str(server.kubeconfig))
    yield api
    api.close()


def table_rows(out: str) -> list[list[str]]:
    """kubectl's table output as rows of whitespace-separated cells (blank lines dropped)."""
    return [line.split() for line in out.splitlines() if line.strip()]


def watch_events(http: httpx.Client, url: str, count: int) -> list[dict[str, Any]]:
    """The first `count` events of a watch (fewer if the server ends the stream first)."""
    out: list[dict[str, Any]] = []
    with http.stream("GET", url, timeout=30) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line:
                out.append(json.loads(line))
            if len(out) == count:
                break
    return out


@pytest.fixture(scope="session")
def http(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture
def ns(http: httpx.Client, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, removed (with its finalizer cleared) afterwards."""
    name = "t-" + request.node.name.lower().replace("_", "-")[:40].strip("-") + f"-{os.getpid() % 1000}"
    name = "".join(c if c.isalnum() or c == "-" else "-" for c in name)[:60].strip("-")
    r = http.post("/api/v1/namespaces", json={"metadata": {"name": name}})
    assert r.status_code == 201, r.text
    yield name
    http.delete(f"/api/v1/namespaces/{name}")
    http.put(
        f"/api/v1/namespaces/{name}/finalize", json={"metadata": {"name": name}, "spec": {"finalizers": []}}
    )


def pod(name: str, image: str = "busybox:1", **meta: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **meta},
        "spec": {"containers": [{"name": "c", "image": image}]},
    }


if __name__ == "__main__":  # pragma: no cover - a manual aid: start one server and wait
    s = start_server(Path(sys.argv[1]))
    print(s.url, s.kubeconfig)
    s.proc.wait()  # type: ignore[union-attr]
