"""`kubelite server` wires the control loops and the pod proxy into the API server by argument.

A by-string import that swallowed ImportError once left a cluster with no controllers and one
info line; now a broken import fails the command, and `serve()` cannot be called without them.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import pytest

from apiserver import serve as serve_module
from kubelite import server


def test_serve_requires_the_loops_and_the_pod_proxy() -> None:
    params = inspect.signature(serve_module.serve).parameters
    for name in ("loops", "pod_proxy"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert params[name].default is inspect.Parameter.empty
    assert not hasattr(serve_module, "importlib")


def test_a_broken_controller_import_fails_kubelite_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[Any] = []

    async def fake_serve(*args: Any, **kwargs: Any) -> None:
        called.append(args)

    monkeypatch.setattr(serve_module, "serve", fake_serve)
    monkeypatch.setitem(sys.modules, "controller.manager", None)  # importing it raises ImportError
    with pytest.raises(ImportError):
        server.main(["--data-dir", str(tmp_path)])
    assert called == []  # nothing served


def test_kubelite_server_hands_in_the_controllers_scheduler_and_pod_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiserver.podproxy import PodProxy
    from controller.manager import run_controllers
    from controller.scheduler import run_scheduler

    seen: dict[str, Any] = {}

    async def fake_serve(config: Any, *, loops: Any, pod_proxy: Any, mounts: Any = None) -> None:
        seen.update(config=config, loops=dict(loops), pod_proxy=pod_proxy, mounts=dict(mounts or {}))

    monkeypatch.setattr(serve_module, "serve", fake_serve)
    assert server.main(["--data-dir", str(tmp_path)]) == 0
    assert seen["loops"] == {"run_controllers": run_controllers, "run_scheduler": run_scheduler}
    assert seen["pod_proxy"] is PodProxy
    from dashboard.mount import mount

    assert seen["mounts"] == {"/dashboard": mount}  # the web dashboard, on the API's port

    # with neither loop, the controller packages are not needed at all
    monkeypatch.setitem(sys.modules, "controller.manager", None)
    bare = ["--no-controllers", "--no-scheduler", "--no-dashboard"]
    assert server.main(["--data-dir", str(tmp_path), *bare]) == 0
    assert seen["loops"] == {}
    assert seen["mounts"] == {}
