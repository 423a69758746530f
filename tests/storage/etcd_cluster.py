"""A real etcd cluster on loopback for tests and benches: N members of Debian's etcd-server.

Each member gets free loopback ports and its own data dir under one temp dir; the members
form a static cluster (`--initial-cluster`), so nothing is discovered over the network. The
context manager waits (by polling with a deadline) until every member answers /health, and on
exit stops every member it started (SIGTERM, then SIGKILL after a grace) and removes the dir:
no etcd process is left behind, whatever the tests did.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class EtcdCluster:
    client_urls: list[str]
    workdir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def endpoints(self) -> str:
        """`h1:p1,h2:p2,...` as etcdctl's --endpoints and our etcd:// URL want them."""
        return ",".join(u.removeprefix("http://") for u in self.client_urls)

    def datastore_url(self, prefix: str = "") -> str:
        return f"etcd://{self.endpoints}/{prefix.lstrip('/')}"

    def etcdctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ETCDCTL, f"--endpoints={self.endpoints}", *args], capture_output=True,
                              text=True, timeout=timeout, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as r:
            return bool(json.loads(r.read()).get("health") == "true")
    except (OSError, ValueError):
        return False


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@contextlib.contextmanager
def etcd_cluster(members: int = 3, timeout: float = 30) -> Iterator[EtcdCluster]:
    workdir = Path(tempfile.mkdtemp(prefix="kubelite-etcd-"))
    ports = free_ports(2 * members)
    names = [f"m{i}" for i in range(members)]
    peer = [f"http://127.0.0.1:{ports[2 * i + 1]}" for i in range(members)]
    client = [f"http://127.0.0.1:{ports[2 * i]}" for i in range(members)]
    initial = ",".join(f"{n}={u}" for n, u in zip(names, peer, strict=True))
    cluster = EtcdCluster(client, workdir)
    try:
        for i, name in enumerate(names):
            log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 (the child keeps it)
            cluster.procs.append(subprocess.Popen(
                [ETCD, "--name", name, "--data-dir", str(workdir / name),
                 "--listen-client-urls", client[i], "--advertise-client-urls", client[i],
                 "--listen-peer-urls", peer[i], "--initial-advertise-peer-urls", peer[i],
                 "--initial-cluster", initial, "--initial-cluster-state", "new",
                 "--initial-cluster-token", workdir.name, "--logger", "zap", "--log-level", "error",
                 "--heartbeat-interval", "50", "--election-timeout", "500"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
            log.close()
        deadline = time.monotonic() + timeout
        while not all(_healthy(u) for u in client):
            dead = [p.args for p in cluster.procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "\n".join((workdir / f"{n}.log").read_text(errors="replace")[-2000:] for n in names)
                raise RuntimeError(f"etcd cluster did not become healthy (exited: {len(dead)}):\n{logs}")
            time.sleep(0.05)
        yield cluster
    finally:
        _stop(cluster.procs)
        shutil.rmtree(workdir, ignore_errors=True)
