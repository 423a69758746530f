"""Fixtures: a stand-in API server (logs, exec, isolated verbs) and `kubectl(...)` run in-process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubectl.main import main
from tests.kubectl.standin import StandIn


@dataclass
class Result:
    code: int
    out: str
    err: str


def write_kubeconfig(path: Path, server: str, namespace: str | None = None) -> Path:
    ns = f"\n    namespace: {namespace}" if namespace else ""
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: {server}
users:
- name: admin
  user:
    token: secret
contexts:
- name: test
  context:
    cluster: test
    user: admin{ns}
current-context: test
""")
    return path


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    s = StandIn()
    url = s.start()
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", url)))
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def kubectl(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        cap = capsys.readouterr()
        return Result(code, cap.out, cap.err)
    return run
