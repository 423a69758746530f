"""Fixtures for kubectl's tests.

- `server`: one real `kubelite server` subprocess per session (`tests.apiserver.conftest.start_server`:
  tmp data dir, free port, /readyz polled with a deadline; no controllers or scheduler, so what
  kubectl shows is only what the tests made), stopped and removed at the end.
- `ns`: a fresh namespace per test and a kubeconfig whose context points at it (`KUBECONFIG`
  set), so tests never see each other's objects.
- `kubectl(...)`: our kubectl run in-process (`main([...])`), stdout/stderr captured;
  `real(...)`: the real kubectl 1.33 binary against the same server, for side-by-side output.
- `client`: an API client of the session server, for objects and status the tests write themselves.
- `standin`: the in-memory stand-in server (logs, exec, rolling updates that need ready RCs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubectl.main import main
from tests.apiserver.conftest import KUBECTL as REAL_KUBECTL
from tests.apiserver.conftest import Server, start_server
from tests.kubectl.standin import StandIn

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("kubectl-server"))
    try:
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(srv.data_dir.parent, ignore_errors=True)


def write_kubeconfig(
    path: Path, server: str, namespace: str | None = None, token: str = "secret", ca_data: str | None = None
) -> Path:
    ns = f"\n    namespace: {namespace}" if namespace else ""
    ca = f"\n    certificate-authority-data: {ca_data}" if ca_data else ""
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: {server}{ca}
users:
- name: admin
  user:
    token: {token}
contexts:
- name: test
  context:
    cluster: test
    user: admin{ns}
current-context: test
""")
    return path


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path / "cache"))


@pytest.fixture
def ns(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new namespace, made current through a kubeconfig of this test's own."""
    import yaml

    name = "t-" + uuid.uuid4().hex[:8]
    doc = yaml.safe_load(server.kubeconfig.read_text())
    doc["contexts"][0]["context"]["namespace"] = name
    kc = tmp_path / "kubeconfig"
    kc.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("KUBECONFIG", str(kc))
    from api.client import Client
    from api.config import from_kubeconfig

    with Client(from_kubeconfig([kc])) as c:
        c.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


@pytest.fixture
def client(server: Server) -> Iterator[Any]:
    """An API client of the session server (admin), for writing what no controller writes here."""
    from api.client import Client
    from api.config import from_kubeconfig

    with Client(from_kubeconfig([server.kubeconfig])) as c:
        yield c


@pytest.fixture
def kubectl(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        cap = capsys.readouterr()
        return Result(code, cap.out, cap.err)

    return run


@pytest.fixture
def real(tmp_path: Path) -> Callable[..., Result]:
    def run(*args: str, input: str | None = None) -> Result:
        r = subprocess.run(
            [REAL_KUBECTL, "--cache-dir", str(tmp_path / "real-cache"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            input=input,
            env=dict(os.environ),
        )
        return Result(r.returncode, r.stdout, r.stderr)

    return run


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    s = StandIn()
    url = s.start()
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "standin-kubeconfig", url)))
    try:
        yield s
    finally:
        s.stop()
