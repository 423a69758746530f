"""What the tests of the kubelet's loop on the fake API and fake runtime share: a running
Kubelet on node n1, pod bodies bound to it, what its status writes say, its events, the API
server's graceful deletion, and a loopback HTTP server for hooks and probes to call."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from kubelet.kubelet import Kubelet, KubeletOptions
from kubelet.node import NodeAgent, node_object, read_machine
from tests.controller.fakeapi import FakeApi

NODE = "n1"


@contextlib.asynccontextmanager
async def running_kubelet(
    api: FakeApi, rt: Any, data: Path, files_in_memory: bool = False
) -> AsyncIterator[Kubelet]:
    """A Kubelet on node n1 running against the fake API and runtime; `files_in_memory` as a
    hollow node keeps its pods' files."""
    agent = NodeAgent(
        api, node_object(NODE, "192.0.2.10", read_machine(), "fake://1", 10250), lease_renew=0.2
    )
    options = KubeletOptions(
        NODE,
        "192.0.2.10",
        data,
        relist_period=0.02,
        backoff_initial=0.2,
        backoff_max=0.8,
        files_in_memory=files_in_memory,
    )
    k = Kubelet(api, rt, agent, options)
    task = asyncio.create_task(k.run())
    try:
        yield k
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def pod(name: str, containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": NODE, "containers": containers, **spec},
    }


def lifecycle_pod(name: str, lifecycle: dict[str, Any], **spec: Any) -> dict[str, Any]:
    # a finalizer keeps the object while the kubelet terminates it, as the API server's graceful deletion does
    return {
        "metadata": {"name": name, "namespace": "default", "finalizers": ["kubelite.io/test"]},
        "spec": {
            "nodeName": NODE,
            "containers": [
                {"name": "c", "image": "busybox:1.35", "lifecycle": lifecycle, **spec.pop("container", {})}
            ],
            **spec,
        },
    }


def failing_probe(rt: Any, command: str, failure_threshold: int = 1) -> dict[str, Any]:
    """An exec probe of `command` every 50 ms, which the fake runtime `rt` fails (exit code 1)."""
    rt.exec_exit_codes[command] = 1
    return {"exec": {"command": [command]}, "periodSeconds": 0.05, "failureThreshold": failure_threshold}


def status(api: FakeApi, name: str) -> dict[str, Any]:
    obj = api.objects.get(("pods", "default", name))
    return (obj or {}).get("status") or {}


def statuses(api: FakeApi, name: str) -> dict[str, dict[str, Any]]:
    return {cs["name"]: cs for cs in status(api, name).get("containerStatuses") or []}


async def delete(api: FakeApi, name: str, grace: int) -> None:
    await api.patch(
        "pods",
        name,
        {"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z", "deletionGracePeriodSeconds": grace}},
        namespace="default",
    )


def events(api: FakeApi, name: str) -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in api.objs("events") if e["involvedObject"]["name"] == name]


def running(api: FakeApi, name: str) -> bool:
    return "running" in statuses(api, name).get("c", {}).get("state", {})


@contextlib.asynccontextmanager
async def http_server(answer: int = 200) -> AsyncIterator[tuple[int, list[str]]]:
    """A loopback HTTP server answering `answer`; yields (port, request heads seen)."""
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        seen.append(head)
        writer.write(f"HTTP/1.1 {answer} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
