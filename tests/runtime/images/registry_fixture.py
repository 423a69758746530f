"""Debian's docker-registry (distribution 2.8) on a free loopback port, for pull/push tests.

Storage and config live in a temp dir; `delete` is enabled; an htpasswd file turns on basic
auth. The process is killed and reaped at teardown, whatever the test did.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml


@dataclass
class Registry:
    host: str  # 127.0.0.1:<port>
    dir: Path
    proc: subprocess.Popen[bytes]
    user: str = ""
    password: str = ""

    def catalog(self) -> list[str]:
        auth = (self.user, self.password) if self.user else None
        resp = httpx.get(f"http://{self.host}/v2/_catalog", auth=auth)
        resp.raise_for_status()
        repos: list[str] = resp.json()["repositories"]
        return repos


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def run_registry(tmp: Path, user: str = "", password: str = "") -> Iterator[Registry]:
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config: dict = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(tmp / "data")}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}"},
    }
    if user:
        htpasswd = subprocess.run(
            ["htpasswd", "-Bbn", user, password], check=True, capture_output=True
        ).stdout
        (tmp / "htpasswd").write_bytes(htpasswd)
        config["auth"] = {"htpasswd": {"realm": "kubelite-test", "path": str(tmp / "htpasswd")}}
    (tmp / "config.yml").write_text(yaml.safe_dump(config))
    log = (tmp / "registry.log").open("wb")
    proc = subprocess.Popen(["docker-registry", "serve", str(tmp / "config.yml")], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                code = httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code
                if code in (200, 401):
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"docker-registry did not start: {(tmp / 'registry.log').read_text()[-2000:]}"
                )
            time.sleep(0.02)
        yield Registry(f"127.0.0.1:{port}", tmp, proc, user, password)
    finally:
        proc.kill()
        proc.wait()
        log.close()
