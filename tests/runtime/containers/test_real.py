"""RealRuntime beyond the shared contract (test_runtime_contract.py runs that over the real and the
fake runtime): pod sandboxes whose containers share localhost, reachable from the host at the pod
IP; tty exec sessions; adoption after a restart of the caller; host network; a vanished netns."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from runtime.containers.errors import InvalidConfig
from runtime.interface import ContainerConfig, ContainerInfo, SandboxConfig
from runtime.network import BridgeNetwork
from runtime.real import RealRuntime
from tests.polling import http_text, until
from tests.runtime.containers.conftest import NetParams

T = TypeVar("T")


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on a fresh event loop (the suite has no pytest-asyncio)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        # a deadline well inside pytest's own: a hang fails the test and the fixtures still clean up
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 60))

    return wrapper


async def run_to_exit(runtime: RealRuntime, cid: str, timeout: float = 10.0) -> ContainerInfo:
    """Start a container and poll its status until it has exited; fail after `timeout`."""
    await runtime.start_container(cid)
    deadline = time.monotonic() + timeout
    while (st := await runtime.container_status(cid)).state != "exited":
        assert time.monotonic() < deadline, f"container {cid} still {st.state} after {timeout} s"
        await asyncio.sleep(0.02)
    return st


def pod(uid: str, **kw: object) -> SandboxConfig:
    return SandboxConfig(
        name=f"pod-{uid}",
        namespace="default",
        uid=f"{uid}-{os.getpid()}",
        hostname=f"pod-{uid}",
        **kw,  # type: ignore[arg-type]
    )


@sync
async def test_two_container_pod_shares_localhost_and_is_reachable(
    runtime: RealRuntime, net_params: NetParams
) -> None:
    sb = await runtime.run_sandbox(pod("u1", labels={"app": "web"}))
    assert sb.state == "ready" and sb.ip.startswith(net_params.prefix) and os.path.exists(sb.netns_path)
    web = await runtime.create_container(
        sb.id, ContainerConfig(name="web", image="kubelite/web:1.0", labels={"pod": "u1", "c": "web"})
    )
    side = await runtime.create_container(
        sb.id, ContainerConfig(name="side", image="busybox", command=["sleep", "300"], labels={"pod": "u1"})
    )
    for cid in (web, side):
        await runtime.start_container(cid)
    body = await until(lambda: http_text(f"http://{sb.ip}:8080/"))
    assert "kubelite web" in body
    res = await runtime.exec_sync(side, ["wget", "-qO-", "localhost:8080"])
    assert res.exit_code == 0 and b"kubelite web" in res.stdout
    res = await runtime.exec_sync(
        side, ["sh", "-c", "hostname; cat /etc/hostname; grep pod-u1 /etc/hosts; exit 3"]
    )
    assert res.exit_code == 3 and res.stdout.decode().split()[:2] == ["pod-u1", "pod-u1"]
    infos = {c.name: c for c in await runtime.list_containers({"pod": "u1"})}
    assert set(infos) == {"web", "side"} and infos["web"].state == "running" and infos["web"].pid > 0
    assert infos["web"].labels == {"pod": "u1", "c": "web"} and infos["web"].image_id.startswith("sha256:")
    assert [c.name for c in await runtime.list_containers({"c": "web"})] == ["web"]

    await runtime.stop_container(side, 1)
    st = await runtime.container_status(side)
    assert st.state == "exited" and st.exit_code == 137 and st.finished_at >= st.started_at > 0
    await runtime.start_container(side)  # a restart of an exited container
    assert (await runtime.container_status(side)).state == "running"

    await runtime.stop_sandbox(sb.id)
    assert all(c.state == "exited" for c in await runtime.list_containers({"pod": "u1"}))
    await runtime.remove_sandbox(sb.id)
    assert await runtime.list_sandboxes() == [] and await runtime.list_containers() == []
    assert not os.path.exists(sb.netns_path)
    assert not os.path.exists(f"/sys/fs/cgroup/memory/kubelite/pod{sb.config.uid}")  # the pod's cgroup too


@sync
async def test_exit_codes_logs_and_exec_sessions(runtime: RealRuntime) -> None:
    sb = await runtime.run_sandbox(pod("u2"))
    log = (
        runtime.root / "pods" / "ns_job_uid" / "job" / "0.log"
    )  # a kubelet-style path whose dirs do not exist yet
    job = await runtime.create_container(
        sb.id,
        ContainerConfig(
            name="job", image="busybox", log_path=str(log), command=["sh", "-c", "echo done; exit 5"]
        ),
    )
    st = await run_to_exit(runtime, job)
    assert st.exit_code == 5 and st.reason == "Error"
    assert st.log_path == str(log) and log.read_text().split(" ", 3)[1:] == ["stdout", "F", "done\n"]

    sh = await runtime.create_container(
        sb.id, ContainerConfig(name="sh", image="busybox", command=["sleep", "300"])
    )
    await runtime.start_container(sh)
    session = await runtime.exec(sh, ["sh"], tty=True, stdin=True)
    out = b""
    typed = False
    async for _, chunk in session.output():
        out += chunk
        if not typed and b"/ # " in out:  # type at the prompt, as a person would
            typed = True
            await session.resize(100, 40)
            await session.write_stdin(b"sleep 0.2; stty size; echo hi-$((6*7)); exit 4\n")
    assert await session.wait() == 4
    assert b"hi-42" in out and b"40 100" in out
    session = await runtime.exec(sh, ["sh", "-c", "cat; echo err >&2"], stdin=True)
    await session.write_stdin(b"piped")
    await session.close_stdin()
    streams: dict[int, bytes] = {1: b"", 2: b""}
    async for n, chunk in session.output():
        streams[n] += chunk
    assert await session.wait() == 0 and streams == {1: b"piped", 2: b"err\n"}


@sync
async def test_restarted_runtime_adopts_running_containers(
    runtime: RealRuntime, tmp_path: Path, image_root: Path, network: BridgeNetwork
) -> None:
    sb = await runtime.run_sandbox(pod("u3"))
    cid = await runtime.create_container(
        sb.id, ContainerConfig(name="app", image="kubelite/web:1.0", labels={"k": "v"})
    )
    await runtime.start_container(cid)
    before = await runtime.container_status(cid)
    again = RealRuntime(tmp_path / "rt", network=network, image_root=image_root)  # a kubelet restart
    [sandbox] = await again.list_sandboxes()
    assert sandbox.id == sb.id and sandbox.ip == sb.ip and sandbox.config.uid == f"u3-{os.getpid()}"
    [info] = await again.list_containers({"k": "v"})
    assert info.id == cid and info.state == "running" and info.pid == before.pid and info.name == "app"
    assert "kubelite web" in await until(lambda: http_text(f"http://{sb.ip}:8080/"))
    await again.stop_container(cid, 0)
    assert (await runtime.container_status(cid)).state == "exited"


@sync
async def test_host_network_sandbox(runtime: RealRuntime) -> None:
    sb = await runtime.run_sandbox(pod("u4", host_network=True))
    assert sb.ip == "" and sb.netns_path == ""
    cid = await runtime.create_container(
        sb.id, ContainerConfig(name="c", image="busybox", command=["sleep", "60"])
    )
    await runtime.start_container(cid)
    res = await runtime.exec_sync(cid, ["ip", "-o", "link"])
    seen = {line.split(b":")[1].strip().split(b"@")[0].decode() for line in res.stdout.splitlines()}
    assert seen == set(os.listdir("/sys/class/net"))  # the host's interfaces


@sync
async def test_image_status_and_missing_image(runtime: RealRuntime) -> None:
    info = await runtime.image_status("busybox")
    assert info is not None and info.id.startswith("sha256:") and info.config.get("Cmd")
    assert await runtime.image_status("no-such:image") is None
    sb = await runtime.run_sandbox(pod("u5"))
    with pytest.raises(Exception, match="no-such"):
        await runtime.create_container(sb.id, ContainerConfig(name="x", image="no-such:image"))
    assert await runtime.list_containers() == []


@sync
async def test_sandbox_whose_netns_vanished_is_not_ready(
    runtime: RealRuntime, network: BridgeNetwork
) -> None:
    sb = await runtime.run_sandbox(pod("u6"))
    network.teardown(sb.id)  # as after a reboot: the record survives, the namespace does not
    [info] = await runtime.list_sandboxes()
    assert info.id == sb.id and info.state == "notready"
    await runtime.remove_sandbox(sb.id)  # still cleans up
    assert await runtime.list_sandboxes() == []


@sync
async def test_a_read_only_root_and_supplementary_groups(runtime: RealRuntime) -> None:
    """A pod's readOnlyRootFilesystem and its supplementalGroups/fsGroup, as runc applies them."""
    sb = await runtime.run_sandbox(pod("u9"))
    log = runtime.root / "ro.log"
    script = "id; touch /made 2>&1 || echo refused; touch /tmp/x 2>&1 || echo tmp-refused"
    cid = await runtime.create_container(
        sb.id,
        ContainerConfig(
            name="ro",
            image="busybox",
            user="1000:3000",
            groups=[2000, 4000],
            read_only_rootfs=True,
            log_path=str(log),
            command=["sh", "-c", script],
        ),
    )
    st = await run_to_exit(runtime, cid)
    lines = [line.split(" ", 3)[3] for line in log.read_text().splitlines()]
    assert st.exit_code == 0, lines
    assert lines == [
        "uid=1000 gid=3000 groups=2000,4000",  # as kube's docs show for busybox
        "touch: /made: Read-only file system",
        "refused",
        "touch: /tmp/x: Read-only file system",
        "tmp-refused",
    ]


@sync
async def test_host_pid_and_ipc_join_the_nodes_namespaces(runtime: RealRuntime) -> None:
    """hostPID and hostIPC: the node's process and IPC namespaces; without them each container
    has its own."""
    sb = await runtime.run_sandbox(pod("u10"))
    script = "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc"
    seen = {}
    for host in (False, True):
        log = runtime.root / f"ns-{host}.log"
        cid = await runtime.create_container(
            sb.id,
            ContainerConfig(
                name=f"ns{int(host)}",
                image="busybox",
                host_pid=host,
                host_ipc=host,
                log_path=str(log),
                command=["sh", "-c", script],
            ),
        )
        await run_to_exit(runtime, cid)
        seen[host] = [line.split(" ", 3)[3] for line in log.read_text().splitlines()]
    node = [os.readlink("/proc/self/ns/pid"), os.readlink("/proc/self/ns/ipc")]  # ours are the node's
    assert seen[True] == node
    assert seen[False][0] != node[0] and seen[False][1] != node[1]


@sync
async def test_a_pods_containers_share_its_ipc_namespace_and_shm(runtime: RealRuntime) -> None:
    """As in kube: the containers of a pod are in one IPC namespace (not the node's) and see one
    /dev/shm; another pod has its own; removing the sandbox leaves no mount behind."""
    first, other = await runtime.run_sandbox(pod("u20")), await runtime.run_sandbox(pod("u21"))
    seen = {}
    for sb, name, script in (
        (first, "writer", "echo shared > /dev/shm/note; readlink /proc/self/ns/ipc"),
        (first, "reader", "cat /dev/shm/note; readlink /proc/self/ns/ipc"),
        (other, "stranger", "cat /dev/shm/note 2>/dev/null || echo none; readlink /proc/self/ns/ipc"),
    ):
        log = runtime.root / f"{name}.log"
        cid = await runtime.create_container(
            sb.id,
            ContainerConfig(name=name, image="busybox", log_path=str(log), command=["sh", "-c", script]),
        )
        assert (await run_to_exit(runtime, cid)).exit_code == 0
        seen[name] = [line.split(" ", 3)[3] for line in log.read_text().splitlines()]
    assert seen["reader"][0] == "shared" and seen["stranger"][0] == "none"
    assert seen["writer"][-1] == seen["reader"][-1] != seen["stranger"][-1]
    assert seen["writer"][-1] != os.readlink("/proc/self/ns/ipc")
    # a sandbox made before sandboxes had them (an upgraded node): still ready, and its
    # containers get a namespace and a /dev/shm of their own, as then
    from runtime import podipc

    where = str(runtime.sandbox_dir / other.id)
    podipc.remove(where)
    os.unlink(podipc.ipc_path(where))
    os.rmdir(podipc.shm_path(where))
    assert next(s for s in await runtime.list_sandboxes() if s.id == other.id).state == "ready"
    cid = await runtime.create_container(
        other.id, ContainerConfig(name="late", image="busybox", command=["sh", "-c", "echo x > /dev/shm/y"])
    )
    assert (await run_to_exit(runtime, cid)).exit_code == 0
    for sb in (first, other):
        await runtime.remove_sandbox(sb.id)
    with open("/proc/self/mountinfo") as f:
        assert str(runtime.root) not in f.read()


@sync
async def test_attach_reaches_a_running_containers_own_stdio(runtime: RealRuntime) -> None:
    """CRI Attach through conmon's socket: stdin in, stdout and stderr apart, the end when it exits."""
    sb = await runtime.run_sandbox(pod("u23"))
    script = "read line; echo got $line; echo oops >&2; exit 3"
    cid = await runtime.create_container(
        sb.id,
        ContainerConfig(
            name="talker",
            image="busybox",
            stdin=True,
            log_path=str(runtime.root / "talker.log"),
            command=["sh", "-c", script],
        ),
    )
    await runtime.start_container(cid)
    session = await runtime.attach(cid)
    await session.write_stdin(b"hello\n")
    got: dict[int, bytes] = {1: b"", 2: b""}
    async for stream, data in session.output():
        got[stream] += data
    assert got == {1: b"got hello\n", 2: b"oops\n"}
    assert await session.wait() == 0  # CRI's Attach reports no exit code: the pod's status has it
    deadline = time.monotonic() + 10
    while (st := await runtime.container_status(cid)).state != "exited":
        assert time.monotonic() < deadline, "the attached container never exited"
        await asyncio.sleep(0.02)
    assert st.exit_code == 3


@sync
async def test_disk_usage_counts_the_writable_layer_and_the_log(runtime: RealRuntime) -> None:
    """What a container wrote to its root and its log, as the kubelet's ephemeral-storage check asks."""
    sb = await runtime.run_sandbox(pod("u22"))
    log = runtime.root / "writer.log"
    script = "head -c 300000 /dev/zero > /big; echo done"
    cid = await runtime.create_container(
        sb.id, ContainerConfig(name="w", image="busybox", log_path=str(log), command=["sh", "-c", script])
    )
    before = await runtime.container_disk_usage(cid)
    assert (await run_to_exit(runtime, cid)).exit_code == 0
    after = await runtime.container_disk_usage(cid)
    assert after - before >= 300_000 + log.stat().st_size


@sync
async def test_a_pods_host_port_reaches_it_through_the_nodes_address(runtime: RealRuntime) -> None:
    """A container's hostPort is published on the node (an nft table of the sandbox's own, as
    CNI's portmap does), and the table goes with the sandbox."""
    import subprocess

    port = 20000 + os.getpid() % 20000
    sb = await runtime.run_sandbox(pod("u11", host_ports=[("", port, 8080, "tcp")]))
    web = await runtime.create_container(sb.id, ContainerConfig(name="web", image="kubelite/web:1.0"))
    await runtime.start_container(web)
    body = await until(lambda: http_text(f"http://127.0.0.1:{port}/"))
    assert "kubelite web" in body

    def tables() -> str:
        return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout

    from runtime.network import portmap

    assert portmap.table_name(sb.id) in tables()
    await runtime.remove_sandbox(sb.id)
    assert portmap.table_name(sb.id) not in tables()
    assert http_text(f"http://127.0.0.1:{port}/") == ""


@sync
async def test_no_new_privs_seccomp_and_sysctls_as_a_pod_asks(runtime: RealRuntime) -> None:
    """A pod's container gets no_new_privs only when it disallows privilege escalation, the
    default seccomp filter unless Unconfined, and the sysctls of its pod in its namespaces."""
    sb = await runtime.run_sandbox(pod("u12"))
    script = "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\\t ' ' '; cat /proc/sys/net/ipv4/ip_local_port_range"
    seen = {}
    for name, extra in (
        ("plain", {}),
        ("strict", {"no_new_privileges": True, "sysctls": {"net.ipv4.ip_local_port_range": "20000 21000"}}),
        ("loose", {"seccomp_unconfined": True}),
    ):
        log = runtime.root / f"{name}.log"
        cid = await runtime.create_container(
            sb.id,
            ContainerConfig(
                name=name, image="busybox", log_path=str(log), command=["sh", "-c", script], **extra
            ),
        )
        await run_to_exit(runtime, cid)
        seen[name] = [line.split(" ", 3)[3] for line in log.read_text().splitlines()]
    assert seen["plain"][:2] == ["NoNewPrivs: 0", "Seccomp: 2"]
    assert seen["strict"] == ["NoNewPrivs: 1", "Seccomp: 2", "20000\t21000"]
    assert seen["loose"][:2] == ["NoNewPrivs: 0", "Seccomp: 0"]


@sync
async def test_mount_propagation_and_recursive_read_only(runtime: RealRuntime, tmp_path: Path) -> None:
    """HostToContainer (rslave): a mount made on the node under a shared hostPath after the
    container started shows inside it, and not in a private mount of the same path;
    recursiveReadOnly (rro) makes a read-only mount's submounts read-only too."""
    import subprocess

    from runtime.interface import Mount

    def run(*args: str) -> None:
        subprocess.run(args, check=True)

    shared, tree = tmp_path / "shared", tmp_path / "tree"
    for d in (shared, tree / "sub"):
        d.mkdir(parents=True)
    run("mount", "--bind", str(shared), str(shared))
    run("mount", "--make-rshared", str(shared))
    run("mount", "-t", "tmpfs", "tmpfs", str(tree / "sub"))
    try:
        sb = await runtime.run_sandbox(pod("u13"))
        mounts = [
            Mount("/slave", str(shared), propagation="rslave"),
            Mount("/private", str(shared)),
            Mount("/rro", str(tree), read_only=True, recursive_read_only=True),
            Mount("/ro", str(tree), read_only=True),
        ]
        cid = await runtime.create_container(
            sb.id, ContainerConfig(name="c", image="busybox", command=["sleep", "300"], mounts=mounts)
        )
        await runtime.start_container(cid)
        (shared / "late").mkdir()
        run("mount", "-t", "tmpfs", "tmpfs", str(shared / "late"))
        (shared / "late" / "hello").write_text("from the node")

        async def sh(script: str) -> tuple[int, str]:
            res = await runtime.exec_sync(cid, ["sh", "-c", script])
            return res.exit_code, (res.stdout + res.stderr).decode().strip()

        assert await sh("cat /slave/late/hello") == (0, "from the node")
        assert (await sh("cat /private/late/hello"))[0] != 0
        assert (await sh("touch /rro/sub/x"))[0] != 0  # the submount read-only too
        assert await sh("touch /ro/sub/x && echo written") == (0, "written")  # plain ro: only the top
        # a private source cannot propagate: refused in containerd's words, nothing made
        run("mount", "--make-private", str(tree / "sub"))
        before = await runtime.list_containers()
        with pytest.raises(
            InvalidConfig, match=r"is mounted on .*/sub\" but it is not a shared or slave mount"
        ):
            await runtime.create_container(
                sb.id,
                ContainerConfig(
                    name="d",
                    image="busybox",
                    command=["true"],
                    mounts=[Mount("/s", str(tree / "sub"), propagation="rslave")],
                ),
            )
        assert len(await runtime.list_containers()) == len(before)
        await runtime.remove_sandbox(sb.id)
    finally:
        subprocess.run(["umount", "-R", str(shared)], check=False)
        subprocess.run(["umount", str(tree / "sub")], check=False)
