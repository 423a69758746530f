"""The image verbs of the docker-style CLI, driven through their argparse registration."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runtime import cli_images
from tests.runtime.images.registry_fixture import Registry, run_registry


def run(root: Path, *argv: str, in_use: cli_images.InUse | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelite runtime")
    parser.add_argument("--root", default=str(root))
    sub = parser.add_subparsers(dest="verb", required=True)
    cli_images.register(sub, in_use=in_use)
    args = parser.parse_args(list(argv))
    return int(args.func(args))


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with run_registry(tmp_path_factory.mktemp("cli-registry"), "bob", "pw") as reg:
        yield reg


def test_build_base_images_tag_rmi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "build-base") == 0
    assert run(tmp_path, "build-base", "--if-missing") == 0
    capsys.readouterr()
    assert run(tmp_path, "images") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    rows = {tuple(line.split()[:2]) for line in lines[1:]}
    assert rows == {
        ("busybox", "latest"),
        ("busybox", "1.35"),
        ("kubelite/web", "1.0"),
        ("kubelite/web", "latest"),
    }
    assert "MB" in lines[1] and "ago" in lines[1]
    assert run(tmp_path, "tag", "busybox", "localhost:5000/mine/bb:v1") == 0
    assert run(tmp_path, "images", "-q") == 0
    ids = capsys.readouterr().out.split()
    assert len(ids) == 5 and all(len(i) == 12 for i in ids)
    assert run(tmp_path, "rmi", "localhost:5000/mine/bb:v1") == 0
    assert capsys.readouterr().out == "Untagged: localhost:5000/mine/bb:v1\n"


def test_errors_are_one_line_and_exit_125(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "rmi", "foo") == 125
    assert capsys.readouterr().err == "Error: image not found: foo\n"
    assert run(tmp_path, "tag", "foo", "bar") == 125
    assert run(tmp_path, "pull", "Bad:Name") == 125
    assert capsys.readouterr().err.count("\n") == 2
    assert run(tmp_path, "load", "-i", str(tmp_path / "missing.tar")) == 125
    assert "no such file" in capsys.readouterr().err


def test_rmi_in_use_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(tmp_path, "build-base")
    seen = []

    def in_use(root: Path, image_id: str) -> bool:
        seen.append(root)
        return True

    run(tmp_path, "rmi", "busybox:1.35")  # another tag remains: just untagged
    capsys.readouterr()
    assert run(tmp_path, "rmi", "busybox", in_use=in_use) == 125
    assert "in use" in capsys.readouterr().err and seen == [tmp_path]
    assert run(tmp_path, "rmi", "-f", "busybox", in_use=in_use) == 0
    assert "Untagged: docker.io/library/busybox:latest" in capsys.readouterr().out


def test_save_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(tmp_path / "a", "build-base")
    out = tmp_path / "x.tar"
    assert run(tmp_path / "a", "save", "-o", str(out), "--format", "oci-archive", "kubelite/web:1.0") == 0
    capsys.readouterr()
    assert run(tmp_path / "b", "load", "-i", str(out)) == 0
    assert capsys.readouterr().out == "Loaded image: kubelite/web:1.0\n"


def test_login_push_pull(auth_registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    run(root, "build-base")
    assert run(root, "login", auth_registry.host, "-u", "bob", "-p", "nope") == 125
    assert "login" in capsys.readouterr().err and not (root / "auth.json").exists()
    assert run(root, "login", auth_registry.host, "-u", "bob", "-p", "pw") == 0
    assert auth_registry.host in json.loads((root / "auth.json").read_text())["auths"]
    ref = f"{auth_registry.host}/demo/web:1.0"
    assert run(root, "push", "kubelite/web:1.0", ref) == 0
    assert "digest: sha256:" in capsys.readouterr().out
    other = tmp_path / "other"
    (other).mkdir()
    (other / "auth.json").write_text((root / "auth.json").read_text())
    assert run(other, "pull", ref) == 0
    out = capsys.readouterr().out
    assert "Downloaded newer image" in out and out.splitlines()[-1] == ref
    assert run(other, "pull", ref) == 0
    assert "Image is up to date" in capsys.readouterr().out


def test_human_formats() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert cli_images.human_ago("2025-12-31T23:00:00Z", now) == "60 minutes ago"
    assert cli_images.human_ago("2023-11-14T22:13:20Z", now) == "2 years ago"
    assert cli_images.human_size(2_034_567) == "2.03MB" and cli_images.human_size(512) == "512B"


PULL_SCRIPT = """
import argparse, sys
from runtime import cli_images
p = argparse.ArgumentParser(); p.add_argument('--root'); sub = p.add_subparsers()
cli_images.register(sub)
args = p.parse_args(sys.argv[1:]); sys.exit(args.func(args))
"""


def test_pull_progress_per_layer_in_a_log_and_redrawn_on_a_terminal(
    auth_registry: Registry, tmp_path: Path
) -> None:
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    from runtime.images import ImageStore
    from tests.runtime.images.test_progress import screen

    src = tmp_path / "src"
    run(src, "build-base")
    run(src, "login", auth_registry.host, "-u", "bob", "-p", "pw")
    ref = f"{auth_registry.host}/progress/web:1"
    assert run(src, "push", "kubelite/web:1.0", ref) == 0
    layers = [layer.digest[7:19] for layer in ImageStore(src).get("kubelite/web:1.0").layers]
    assert len(layers) == 2
    authfile = str(src / "auth.json")
    argv = [sys.executable, "-c", PULL_SCRIPT, "--root"]

    # a log (stdout a pipe): a line per layer event, no byte counts, no terminal codes
    piped = subprocess.run(
        [*argv, str(tmp_path / "a"), "pull", "--authfile", authfile, ref],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.returncode == 0 and piped.stderr == ""
    lines = piped.stdout.splitlines()
    assert lines[0] == "1: Pulling from progress/web"
    for short in layers:
        events = [line.split(": ", 1)[1] for line in lines if line.startswith(f"{short}: ")]
        assert events == ["Pulling fs layer", "Download complete", "Pull complete"], lines
    assert lines[-3].startswith("Digest: sha256:")
    assert lines[-2:] == [f"Status: Downloaded newer image for {ref}", ref]
    assert "\x1b" not in piped.stdout and "Downloading" not in piped.stdout

    # a terminal (stdout a pty): the same lines redrawn in place, ending with every layer complete
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*argv, str(tmp_path / "b"), "pull", "--authfile", authfile, ref],
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break  # EIO: the child closed its end
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=30) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    text = seen.decode().replace("\r\n", "\n")  # the pty's output processing
    assert "\x1b[3F" in text  # back over the header and both layer lines
    shown = screen(text)
    assert shown[:3] == ["1: Pulling from progress/web", *(f"{short}: Pull complete" for short in layers)]
    assert shown[-2:] == [f"Status: Downloaded newer image for {ref}", ref]
