"""Per-operation runtime latencies, each beside the raw tool doing the same work, in one run:

1. pod network sandbox up + down: BridgeNetwork.setup + teardown (netns, lo up, veth pair on the
   bridge, address, default route, IPAM; in-process, rtnetlink) and RealRuntime.run_sandbox +
   remove_sandbox (the same plus records and /etc files), vs 3 `ip` processes doing less (`ip
   netns add`; a veth pair on the bridge with its peer in the netns; `ip netns del`: no address,
   route or lo);
2. exec of `true` in a running container: `kubelite runtime exec` (a CLI process) and
   RealRuntime.exec_sync (in-process, what the kubelet calls) vs `runc exec` (the process both
   end up running);
3. logs: `kubelite runtime logs --tail 10` of a container that wrote 1,000 lines (CRI format,
   parsed) vs `tail -n 10` of the same log file (raw bytes, no parsing).

    .venv/bin/python bench/runtime_ops.py [--runs 30]

Everything lives under one temp dir, a bridge of its own and a /24 of its own; all of it is removed
at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stats import summary_ms, table
from bench.runtime import check, interleaved
from runtime.images import ImageStore
from runtime.images.base import build_base
from runtime.interface import ContainerConfig, SandboxConfig
from runtime.network import BridgeNetwork, NetworkConfig
from runtime.real import RealRuntime

WANT_LOG_LINES = 1000


def sandbox_network(net: BridgeNetwork, bridge: str, runs: int) -> list[tuple[str, str]]:
    ip = shutil.which("ip") or "ip"
    seq = iter(range(10**6))

    def ours() -> float:
        sid = f"klbops-{os.getpid()}-{next(seq)}"
        t = time.perf_counter()
        net.setup(sid, "bridge")
        net.teardown(sid)
        return time.perf_counter() - t

    def raw() -> float:
        n = next(seq)
        ns, veth = f"klbops-raw-{os.getpid()}-{n}", f"klbr{os.getpid() % 10000}x{n}"[:15]
        t = time.perf_counter()
        check([ip, "netns", "add", ns])
        check(
            [ip, "link", "add", veth, "master", bridge, "type", "veth", "peer", "name", "eth0", "netns", ns]
        )
        check([ip, "netns", "del", ns])
        return time.perf_counter() - t

    for _ in range(3):  # warm-up (and the bridge exists before the first timed round)
        ours()
        raw()
    mine, theirs = [], []
    for _ in range(runs):
        mine.append(ours())
        theirs.append(raw())
    return [
        ("sandbox network up + down (BridgeNetwork, in-process)", summary_ms(mine)),
        ("  reference: 3 `ip` processes (netns add, veth on the bridge, netns del)", summary_ms(theirs)),
    ]


async def sandbox_and_exec(rt: RealRuntime, runs: int) -> list[tuple[str, str]]:
    ups = []
    for i in range(runs + 2):
        t = time.perf_counter()
        sb = await rt.run_sandbox(
            SandboxConfig(name=f"ops{i}", namespace="bench", uid=f"ops-{os.getpid()}-{i}", hostname="ops")
        )
        await rt.remove_sandbox(sb.id)
        ups.append(time.perf_counter() - t)
    sb = await rt.run_sandbox(
        SandboxConfig(name="ops-exec", namespace="bench", uid=f"ops-exec-{os.getpid()}", hostname="ops")
    )
    cid = await rt.create_container(
        sb.id, ContainerConfig(name="sleeper", image="busybox", command=["sleep", "300"])
    )
    await rt.start_container(cid)
    runc = shutil.which("runc") or "runc"
    mine, theirs = [], []
    for i in range(runs + 2):
        t = time.perf_counter()
        res = await rt.exec_sync(cid, ["true"])
        elapsed = time.perf_counter() - t
        if res.exit_code != 0:
            raise SystemExit(f"exec_sync true: exit {res.exit_code}: {res.stderr!r}")
        t = time.perf_counter()
        check([runc, "exec", cid, "true"])
        raw = time.perf_counter() - t
        if i >= 2:
            mine.append(elapsed)
            theirs.append(raw)
    await rt.remove_sandbox(sb.id)
    return [
        ("RealRuntime run_sandbox + remove_sandbox (network, records, /etc files)", summary_ms(ups[2:])),
        ("RealRuntime.exec_sync(true) (in-process, as the kubelet)", summary_ms(mine)),
        ("  reference: runc exec <id> true", summary_ms(theirs)),
    ]


def cli_exec_and_logs(
    kubelite: list[str], root: Path, env: dict[str, str], runs: int
) -> list[tuple[str, str]]:
    runc = shutil.which("runc") or "runc"
    cid = subprocess.run(
        [*kubelite, "run", "-d", "--name", "ops-exec", "busybox", "sleep", "300"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    logs_id = subprocess.run(
        [
            *kubelite,
            "run",
            "-d",
            "--name",
            "ops-logs",
            "busybox",
            "sh",
            "-c",
            f"seq {WANT_LOG_LINES}; sleep 300",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    log = root / "containers" / logs_id / "ctr.log"
    deadline = time.monotonic() + 10
    while (
        log.read_bytes().count(b"\n") < WANT_LOG_LINES
    ):  # the container is still writing: poll with a deadline
        if time.monotonic() > deadline:
            raise SystemExit(f"{log} never reached {WANT_LOG_LINES} lines")
        time.sleep(0.01)
    out = subprocess.run(
        [*kubelite, "logs", "--tail", "10", "ops-logs"], env=env, capture_output=True, text=True, check=True
    ).stdout
    if out.split() != [str(n) for n in range(WANT_LOG_LINES - 9, WANT_LOG_LINES + 1)]:
        raise SystemExit(f"logs --tail 10 printed {out!r}")
    times = interleaved(
        {
            "exec": [*kubelite, "exec", "ops-exec", "true"],
            "runc exec": [runc, "exec", cid, "true"],
            "logs": [*kubelite, "logs", "--tail", "10", "ops-logs"],
            "tail": ["tail", "-n", "10", str(log)],
            "python": [sys.executable, "-c", "pass"],
        },
        runs,
        env,
    )
    return [
        ("kubelite runtime exec <name> true (CLI process)", summary_ms(times["exec"])),
        ("  reference: runc exec <id> true", summary_ms(times["runc exec"])),
        (f"kubelite runtime logs --tail 10 (of {WANT_LOG_LINES} CRI lines)", summary_ms(times["logs"])),
        ("  reference: tail -n 10 of the log file (no parsing)", summary_ms(times["tail"])),
        ("python3 -c pass (interpreter floor)", summary_ms(times["python"])),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30)
    opts = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout still cleans up
    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "runtime"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="klbench-ops-"))
    root = work / "root"
    build_base(ImageStore(root))
    bridge, subnet = f"klo{os.getpid() % 100000}", "10.236.0.0/24"
    env = dict(os.environ, KUBELITE_BRIDGE=bridge, KUBELITE_SUBNET=subnet)
    kubelite = [str(Path(sys.executable).parent / "kubelite"), "runtime", "--root", str(root)]
    net = BridgeNetwork(NetworkConfig(state_dir=root / "network", bridge=bridge, subnet=subnet))
    rt = RealRuntime(root / "rt", network=net, image_root=root)
    rows: list[tuple[str, str]] = []
    try:
        rows += sandbox_network(net, bridge, opts.runs)
        rows += asyncio.run(sandbox_and_exec(rt, opts.runs))
        rows += cli_exec_and_logs(kubelite, root, env, opts.runs)
        print(table(rows, ("what", "figures")))
    finally:
        from runtime.containers.service import Containers

        c = Containers(root, network=lambda: net)
        for rec in c.store.all():
            with contextlib.suppress(Exception):
                c.remove(rec, force=True)

        async def clean() -> None:
            for sb in await rt.list_sandboxes():
                await rt.remove_sandbox(sb.id)

        asyncio.run(clean())
        for sb in net.list():
            net.teardown(sb.sandbox_id)
        for name in os.listdir("/run/netns") if os.path.isdir("/run/netns") else []:
            if name.startswith(f"klbops-raw-{os.getpid()}-"):
                subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)
        net.delete_bridge()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
