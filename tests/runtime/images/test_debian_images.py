"""The images `make install` builds from Debian packages (images/), run as real containers.

Each runs from the shared image store (`kubelite up`'s default image root, where
scripts/install-images.sh builds them) with a container root of the test's own: nginx serves
its default page, python:3 makes a venv with pip, redis answers, and debian:bookworm is a
trimmed Debian 12 (apt sources present, no package lists, services kept from starting).
Real runc: run under the shared lock (`flock /tmp/kl-real.lock pytest ...`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

IMAGE_ROOT = "/var/lib/kubelite/runtime"


def run(tmp_path: Path, image: str, script: str, net: str = "none") -> str:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "runtime.cli",
            "--root",
            str(tmp_path / "rt"),
            "--image-root",
            IMAGE_ROOT,
            "run",
            "--rm",
            "--net",
            net,
            image,
            "bash",
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, f"{image}: {r.stdout}{r.stderr}"
    return r.stdout


@pytest.fixture(autouse=True)
def built() -> None:
    from runtime.images import ImageStore

    store = ImageStore(Path(IMAGE_ROOT))
    for image in ("debian:bookworm", "nginx:1.22", "python:3", "redis:7.0"):
        assert store.resolve(image), f"{image} is not built: run `make install` (scripts/install-images.sh)"


def test_debian_is_a_trimmed_bookworm(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        "debian:bookworm",
        ". /etc/os-release; echo $VERSION_CODENAME; ls /var/lib/apt/lists | grep -v -c partial;"
        " grep -h Suites /etc/apt/sources.list.d/debian.sources; /usr/sbin/policy-rc.d; echo rc=$?",
    )
    assert out.split("\n")[:5] == [
        "bookworm",
        "0",
        "Suites: bookworm bookworm-updates",
        "Suites: bookworm-security",
        "rc=101",
    ]


def test_nginx_serves_its_default_page_and_logs_to_stdout(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        "nginx:1.22",
        'nginx; exec 3<>/dev/tcp/127.0.0.1/80; printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3; cat <&3',
    )
    assert "HTTP/1.1 200 OK" in out and "Server: nginx/1.22" in out and "Welcome to nginx!" in out
    assert '"GET / HTTP/1.0" 200' in out  # the access log goes to the container's stdout


def test_python3_makes_a_venv_with_pip(tmp_path: Path) -> None:
    out = run(tmp_path, "python:3", "python --version; python -m venv /tmp/v && /tmp/v/bin/pip --version")
    assert out.startswith("Python 3.11.") and "/tmp/v/lib/python3.11/site-packages/pip" in out


def test_redis_answers_as_user_redis(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        "redis:7.0",
        "redis-server --daemonize yes --protected-mode no >/dev/null; id -un;"
        " for i in $(seq 50); do redis-cli ping 2>/dev/null && break; sleep 0.1; done;"
        " redis-cli set k v >/dev/null; redis-cli get k",
    )
    assert out.split() == ["redis", "PONG", "v"]
