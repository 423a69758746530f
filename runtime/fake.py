"""FakeRuntime: the `Runtime` Protocol with no kernel objects, for hollow nodes and kubelet tests.

Sandboxes get fake IPs from 10.200.0.0/16 (never routed); containers "run" until stopped or
until a test makes them exit (`exit(container_id, code)`, or `exit_after_start` for images
that crash). Like busybox, a container whose command is `true`, `false` or `echo ...` exits
right after it starts (0, 1, 0), and `echo` writes its line to the CRI log at `log_path` as
conmon would; `exec` of `false` exits 1, of anything else 0 (or what `exec_exit_codes` says).
A sandbox that shares its process namespace (share_pid) starts no pause here: what was asked is
recorded in its config and its containers' (pod_pid), and joining one that does not share fails.
Stopping or removing a sandbox stops or removes its containers, as the real runtime does; the
behaviour shared with RealRuntime is proven by tests/runtime/containers/test_runtime_contract.py.
Every call is recorded in `calls`, so tests assert what the kubelet asked for,
not how. Images are "present" unless listed in `missing_images`; pulls of `unpullable`
references fail. State lives in plain dicts: a second FakeRuntime shares nothing, which is
what a hollow node wants (hundreds of them in one process). Containers are indexed by label
pair, so the kubelet's per-pod `list_containers({pod uid})` does not scan the node's containers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace

from runtime.interface import (
    ContainerConfig,
    ContainerInfo,
    ExecResult,
    ImageInfo,
    SandboxConfig,
    SandboxInfo,
)


class FakeRuntimeError(Exception):
    """What the fake raises where the real runtime would fail (missing image, unknown id)."""


@dataclass
class _Container:
    info: ContainerInfo
    config: ContainerConfig


@dataclass
class FakeExecSession:
    """An exec that echoes stdin to stdout and exits with `exit_code`."""

    exit_code: int = 0
    _queue: asyncio.Queue[tuple[int, bytes] | None] = field(default_factory=asyncio.Queue)

    async def write_stdin(self, data: bytes) -> None:
        await self._queue.put((1, data))

    async def close_stdin(self) -> None:
        await self._queue.put(None)

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        while (item := await self._queue.get()) is not None:
            yield item

    async def resize(self, cols: int, rows: int) -> None:
        return None

    async def wait(self) -> int:
        return self.exit_code


class FakeRuntime:
    """Containers are recorded as ContainerInfo values replaced, never changed in place, on a
    start or an exit: so a listing hands out the recorded objects themselves, and what a caller
    holds stays as it was when read, as a real runtime's answers do. Hollow kubelets list every
    container of their node every second (PLEG relist); copying each one on every list was most
    of that cost."""

    _net = ipaddress.IPv4Network("10.200.0.0/16")

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.sandboxes: dict[str, SandboxInfo] = {}
        self.containers: dict[str, _Container] = {}
        self._by_label: dict[tuple[str, str], set[str]] = {}  # (label, value) -> container ids
        self.calls: list[tuple[str, str]] = []
        self.missing_images: set[str] = set()
        self.unpullable: set[str] = set()
        self.private: dict[str, tuple[str, str]] = {}  # image -> the only credentials that pull it
        self.exit_after_start: dict[str, int] = {}  # image -> exit code right after start
        self.exec_exit_codes: dict[str, int] = {"false": 1}  # first word of the command -> exit code
        self.written: dict[str, int] = {}  # container id -> bytes its writable layer and log hold
        self._ids = itertools.count(1)
        self._ips = (str(ip) for ip in self._net.hosts())
        self._clock = clock

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):012x}"

    # sandboxes
    async def run_sandbox(self, config: SandboxConfig) -> SandboxInfo:
        self.calls.append(("run_sandbox", config.uid))
        sb = SandboxInfo(
            self._id("sb"),
            config,
            "" if config.host_network else next(self._ips),
            "" if config.host_network else f"/run/netns/fake-{config.uid}",
            "ready",
            self._clock(),
        )
        self.sandboxes[sb.id] = sb
        return sb

    async def stop_sandbox(self, sandbox_id: str) -> None:
        self.calls.append(("stop_sandbox", sandbox_id))
        if sandbox_id in self.sandboxes:
            self.sandboxes[sandbox_id] = replace(self.sandboxes[sandbox_id], state="notready")
        for c in list(self.containers.values()):
            if c.info.sandbox_id == sandbox_id and c.info.state == "running":
                self.exit(c.info.id, 137)

    async def remove_sandbox(self, sandbox_id: str) -> None:
        self.calls.append(("remove_sandbox", sandbox_id))
        for c in list(self.containers.values()):
            if c.info.sandbox_id == sandbox_id:
                self._forget(c.info.id)
        self.sandboxes.pop(sandbox_id, None)

    async def list_sandboxes(self) -> list[SandboxInfo]:
        return list(self.sandboxes.values())

    # images
    async def pull_image(self, ref: str, auth: tuple[str, str] | None = None) -> ImageInfo:
        self.calls.append(("pull_image", ref))
        if ref in self.private and auth != self.private[ref]:
            raise FakeRuntimeError(f"pull access denied for {ref}: authentication required")
        if ref in self.unpullable:
            raise FakeRuntimeError(f"pull access denied for {ref}, repository does not exist")
        self.missing_images.discard(ref)
        return self._image(ref)

    async def image_status(self, ref: str) -> ImageInfo | None:
        return None if ref in self.missing_images or ref in self.unpullable else self._image(ref)

    @staticmethod
    def _image(ref: str) -> ImageInfo:
        return ImageInfo(f"sha256:{abs(hash(ref)):064x}"[:71], ref, "", 1024)

    # containers
    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        self.calls.append(("create_container", config.name))
        if sandbox_id not in self.sandboxes:
            raise FakeRuntimeError(f"no such sandbox: {sandbox_id}")
        if config.image in self.missing_images:
            raise FakeRuntimeError(f"image not found: {config.image}")
        if config.pod_pid and not (config.host_pid or self.sandboxes[sandbox_id].config.share_pid):
            raise FakeRuntimeError("the sandbox has no process namespace to share (made without one)")
        cid = self._id("c")
        info = ContainerInfo(
            cid,
            sandbox_id,
            config.name,
            config.image,
            self._image(config.image).id,
            dict(config.labels),
            "created",
            created_at=self._clock(),
            log_path=config.log_path,
        )
        self.containers[cid] = _Container(info, config)
        for kv in info.labels.items():
            self._by_label.setdefault(kv, set()).add(cid)
        return cid

    async def start_container(self, container_id: str) -> None:
        self.calls.append(("start_container", container_id))
        c = self._get(container_id)
        c.info = replace(c.info, state="running", started_at=self._clock(), pid=1000 + len(self.containers))
        if c.config.image in self.exit_after_start:
            self.exit(container_id, self.exit_after_start[c.config.image])
            return
        argv = [*(c.config.command or []), *(c.config.args or [])]
        if argv[:1] == ["echo"]:
            self._log(c, " ".join(argv[1:]))
        if argv[:1] in (["true"], ["echo"], ["false"]):
            self.exit(container_id, 1 if argv[0] == "false" else 0)

    def _log(self, c: _Container, line: str) -> None:
        """One stdout line in CRI format, where conmon would write it."""
        if not c.info.log_path:
            return
        import os

        now = self._clock()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e9):09d}Z"
        os.makedirs(os.path.dirname(c.info.log_path), exist_ok=True)
        with open(c.info.log_path, "a") as f:
            f.write(f"{stamp} stdout F {line}\n")

    def exit(self, container_id: str, code: int, reason: str = "") -> None:
        """Make a running container exit (a crash, a completed job, an OOM kill)."""
        c = self._get(container_id)
        c.info = replace(
            c.info,
            state="exited",
            exit_code=code,
            finished_at=self._clock(),
            pid=0,
            reason=reason or ("Completed" if code == 0 else "Error"),
        )

    async def stop_container(self, container_id: str, timeout: float) -> None:
        self.calls.append(("stop_container", container_id))
        c = self.containers.get(container_id)  # a removed one is stopped (CRI: idempotent)
        if c is not None and c.info.state == "running":
            self.exit(container_id, 137)

    async def remove_container(self, container_id: str) -> None:
        self.calls.append(("remove_container", container_id))
        self._forget(container_id)

    def _forget(self, container_id: str) -> None:
        c = self.containers.pop(container_id, None)
        for kv in c.info.labels.items() if c is not None else ():
            ids = self._by_label.get(kv)
            if ids is not None:
                ids.discard(container_id)
                if not ids:
                    del self._by_label[kv]

    async def list_containers(self, labels: Mapping[str, str] | None = None) -> list[ContainerInfo]:
        want = dict(labels or {})
        if not want:
            # every hollow kubelet's relist lists all its containers every second
            return [c.info for c in self.containers.values()]
        first = next(iter(want.items()))
        candidates = sorted(self._by_label.get(first, ()), key=self._order)  # creation order, as unindexed
        return [
            c.info
            for c in (self.containers[i] for i in candidates)
            if all(c.info.labels.get(k) == v for k, v in want.items())
        ]

    async def container_status(self, container_id: str) -> ContainerInfo:
        return self._get(container_id).info

    async def container_disk_usage(self, container_id: str) -> int:
        self._get(container_id)
        return self.written.get(container_id, 0)

    def config_of(self, container_id: str) -> ContainerConfig:
        return self._get(container_id).config

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: float | None = None) -> ExecResult:
        self.calls.append(("exec_sync", container_id))
        if self._get(container_id).info.state != "running":
            raise FakeRuntimeError(f"container {container_id} is not running")
        return ExecResult(self.exec_exit_codes.get(cmd[0] if cmd else "", 0), b"", b"")

    async def exec(
        self, container_id: str, cmd: list[str], tty: bool = False, stdin: bool = False
    ) -> FakeExecSession:
        self.calls.append(("exec", container_id))
        return FakeExecSession(self.exec_exit_codes.get(cmd[0] if cmd else "", 0))

    async def attach(self, container_id: str) -> FakeExecSession:
        """An echo of what is written, as a container whose process copies stdin to stdout."""
        self.calls.append(("attach", container_id))
        self._get(container_id)
        return FakeExecSession(0)

    @staticmethod
    def _order(container_id: str) -> int:
        return int(container_id[1:], 16)  # ids are "c" + a hex counter

    def _get(self, container_id: str) -> _Container:
        c = self.containers.get(container_id)
        if c is None:
            raise FakeRuntimeError(f"no such container: {container_id}")
        return c
