"""One real 2-node cluster (`kubelite up --nodes 2`) for the end-to-end tests, with small timeouts.

The cluster is started once per session in a temp data dir and torn down with `kubelite down`;
the session then asserts that nothing it made is left (netns, bridge, conmon, nft tables).
Helpers run kubectl (ours in-process via subprocess of the console script, or the real one by
full path) and commands inside a node's network namespace.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.kubectls import kubectl as kubectl_binary

REPO = Path(__file__).resolve().parents[2]
KUBELITE = [sys.executable, "-m", "kubelite.main"]
REAL_KUBECTL = kubectl_binary("1.33")
MANIFESTS = REPO / "manifests"


@dataclass
class Cluster:
    data_dir: Path
    kubeconfig: Path

    def env(self) -> dict[str, str]:
        return dict(os.environ, KUBECONFIG=str(self.kubeconfig))

    def kubectl(
        self,
        *args: str,
        check: bool = True,
        real: bool = False,
        timeout: float = 60,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        cmd = (
            [REAL_KUBECTL, "--cache-dir", str(self.data_dir / "kubectl-cache")]
            if real
            else [*KUBELITE, "kubectl"]
        )
        r = subprocess.run(
            [*cmd, *args], env=self.env(), capture_output=True, text=True, timeout=timeout, input=input
        )
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def client(self) -> Any:
        from api.client import Client
        from api.config import from_kubeconfig

        return Client(from_kubeconfig([self.kubeconfig]))

    def in_node(self, i: int, *cmd: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["nsenter", f"--net=/run/netns/kl-node-{i}", *cmd],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def leftovers() -> list[str]:
    found = []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    found += [line for line in netns.splitlines() if line.startswith("kl-node-")]
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    found += [line.split()[0] for line in links.splitlines() if line.startswith("kln0")]
    return found


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data = tmp_path_factory.mktemp("cluster")
    assert not leftovers(), f"a previous cluster is still around: {leftovers()}"
    r = subprocess.run(
        [
            *KUBELITE,
            "up",
            "--nodes",
            "2",
            "--data-dir",
            str(data),
            "--timeout",
            "120",
            "--node-monitor-grace-period",
            "4s",
            "--pod-eviction-timeout",
            "8s",
            "--backoff-initial",
            "1",
            "--lease-renew",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        # container usage sampled every 2 s and HPAs re-evaluated every 3 s (kube: 15 s each)
        env=dict(os.environ, KUBELITE_STATS_INTERVAL="2", KUBELITE_HPA_SYNC_PERIOD="3"),
    )
    if r.returncode != 0:
        logs = "\n".join(
            f"--- {f.name}\n{f.read_text()[-3000:]}" for f in sorted((data / "logs").glob("*.log"))
        )
        subprocess.run([*KUBELITE, "down", "--data-dir", str(data)], capture_output=True, timeout=180)
        raise AssertionError(f"kubelite up failed: {r.stdout}{r.stderr}\n{logs}")
    c = Cluster(data, data / "server" / "kubeconfig.yaml")
    try:
        yield c
    finally:
        d = subprocess.run(
            [*KUBELITE, "down", "--data-dir", str(data)], capture_output=True, text=True, timeout=180
        )
        assert d.returncode == 0, d.stderr
        assert not leftovers(), f"left behind: {leftovers()}"
        conmons = subprocess.run(["pgrep", "-f", f"conmon.*{data}"], capture_output=True, text=True).stdout
        assert not conmons.strip(), f"conmon processes left: {conmons}"
        nginx = subprocess.run(["pgrep", "-f", f"nginx.*{data}"], capture_output=True, text=True).stdout
        assert not nginx.strip(), f"ingress nginx left: {nginx}"
