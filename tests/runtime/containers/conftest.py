"""Fixtures for the container tests: real runc, conmon, overlayfs and network namespaces.

The base images are built once per session into a shared image root; every test gets its own
runtime root, its own bridge name and /24, and leaves nothing behind (containers, conmon
processes, netns, the bridge) — the `cli` fixture's teardown removes and then checks, and so does
the `runtime` fixture's (a RealRuntime on a bridge of its own) for its sandboxes.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from runtime.network import BridgeNetwork
    from runtime.real import RealRuntime

_seq = itertools.count()


@pytest.fixture(scope="session")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from runtime.images import ImageStore
    from runtime.images.base import build_base

    root = tmp_path_factory.mktemp("images")
    build_base(ImageStore(root))
    return root


@dataclass
class NetParams:
    bridge: str
    subnet: str
    prefix: str  # "10.241.7." — addresses handed out start with it


@pytest.fixture
def net_params() -> NetParams:
    n = (os.getpid() * 7 + next(_seq)) % 200 + 20
    return NetParams(bridge=f"klc{os.getpid() % 1000}x{n}", subnet=f"10.241.{n}.0/24", prefix=f"10.241.{n}.")


def conmons_for(root: Path) -> list[int]:
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if cmd.split(b"\0")[0].endswith(b"conmon") and str(root).encode() in cmd:
            out.append(int(pid))
    return out


CGROUP_CONTROLLERS = (
    "memory",
    "pids",
    "cpu",
    "cpuacct",
    "cpu,cpuacct",
    "unified",
    "devices",
    "freezer",
    "systemd",
)


def leftovers(cli: Cli, ids: list[str], veths: bool = True) -> list[str]:
    """What is left of these containers: mounts, netns, veth, cgroups, runc state, files, IPs, conmon."""
    from runtime.network import host_veth_name

    found = []
    links = set(os.listdir("/sys/class/net"))
    with open("/proc/self/mountinfo") as f:
        mounts = f.read()
    if str(cli.root) in mounts:
        found.append("a mount under the runtime root")
    for cid in ids:
        if os.path.exists(f"/run/netns/{cid}"):
            found.append(f"netns {cid[:12]}")
        if veths and host_veth_name(cid) in links:
            found.append(f"veth of {cid[:12]}")
        for ctl in CGROUP_CONTROLLERS:
            if os.path.exists(f"/sys/fs/cgroup/{ctl}/kubelite/{cid}"):
                found.append(f"cgroup {ctl}/kubelite/{cid[:12]}")
        if os.path.exists(f"/run/runc/{cid}"):
            found.append(f"runc state of {cid[:12]}")
        if (cli.root / "containers" / cid).exists():
            found.append(f"bundle dir of {cid[:12]}")
        if (cli.root / "exits" / cid).exists() or (cli.root / "s" / cid[:12]).exists():
            found.append(f"exit file or attach socket of {cid[:12]}")
        if (cli.root / "network" / "sandboxes" / f"{cid}.json").exists():
            found.append(f"network record of {cid[:12]}")
    names = cli.root / "containers" / ".names"
    if names.exists() and any(names.iterdir()):
        found.append(f"names {sorted(p.name for p in names.iterdir())}")
    ipam = cli.root / "network" / "ipam"
    for d in ipam.iterdir() if ipam.exists() else []:
        taken = [p.name for p in d.iterdir() if p.name != "last" and not p.name.startswith(".")]
        if taken:
            found.append(f"IP allocations {taken}")
    if conmons_for(cli.root):
        found.append("conmon processes")
    return found


def created_id(debug_log: str) -> str:
    """The container id in a `--log-level debug` run's log: a foreground `run --rm` runs
    `runc create` itself, any other run starts conmon (`-c ID`)."""
    found = re.search(
        r"runc --log \S+ create --bundle \S+ ([0-9a-f]{64})$| -c ([0-9a-f]{64}) ", debug_log, re.M
    )
    assert found, debug_log
    return found.group(1) or found.group(2)


class Cli:
    def __init__(self, root: Path, image_root: Path, net: NetParams) -> None:
        self.root = root
        self.image_root = image_root
        self.net = net
        self.env = dict(os.environ, KUBELITE_BRIDGE=net.bridge, KUBELITE_SUBNET=net.subnet)

    def argv(self, *args: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "runtime.cli",
            "--root",
            str(self.root),
            "--image-root",
            str(self.image_root),
            *args,
        ]

    def __call__(
        self, *args: str, input: bytes | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            input=input.decode() if input else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            stdin=None if input else subprocess.DEVNULL,
        )

    def ok(self, *args: str) -> str:
        res = self(*args)
        assert res.returncode == 0, f"{args}: rc={res.returncode} stderr={res.stderr}"
        return res.stdout


def cleanup_root(root: Path, net: NetParams) -> None:
    from runtime.containers.service import Containers
    from runtime.network import BridgeNetwork, NetworkConfig

    network = BridgeNetwork(NetworkConfig(state_dir=root / "network", bridge=net.bridge, subnet=net.subnet))
    c = Containers(root, network=lambda: network)
    for rec in c.store.all():
        c.remove(rec, force=True)
    for sb in network.list():
        network.teardown(sb.sandbox_id)
    network.delete_bridge()


@pytest.fixture
def cli(tmp_path: Path, image_root: Path, net_params: NetParams) -> Iterator[Cli]:
    root = tmp_path / "root"
    root.mkdir()
    yield Cli(root, image_root, net_params)
    cleanup_root(root, net_params)
    assert conmons_for(root) == []


@pytest.fixture
def network(tmp_path: Path, net_params: NetParams) -> Iterator[BridgeNetwork]:
    from runtime.network import BridgeNetwork, NetworkConfig

    net = BridgeNetwork(
        NetworkConfig(state_dir=tmp_path / "net", bridge=net_params.bridge, subnet=net_params.subnet)
    )
    yield net
    for sb in net.list():
        net.teardown(sb.sandbox_id)
    net.delete_bridge()


@pytest.fixture
def runtime(tmp_path: Path, image_root: Path, network: BridgeNetwork) -> Iterator[RealRuntime]:
    """A RealRuntime of the test's own, whose sandboxes are removed after it (no conmon left)."""
    from runtime.real import RealRuntime

    rt = RealRuntime(tmp_path / "rt", network=network, image_root=image_root)
    yield rt

    async def clean() -> None:
        for sb in await rt.list_sandboxes():
            await rt.remove_sandbox(sb.id)

    asyncio.run(clean())
    assert conmons_for(tmp_path / "rt") == []
