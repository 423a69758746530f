"""Container runtime figures, side by side in one run on this machine:

1. `kubelite runtime run --rm busybox true` (bridge network, and --net none), timed until the
   process exits, which is after the container is removed (runc state, cgroups, overlay mount,
   bundle, netns: checked after every run), interleaved run by run with raw `runc run` of a
   prepared bundle (it removes its container before exiting too); `podman run --rm busybox`
   (the same image, loaded from our `save`), the interpreter's own start and its start with the
   stdlib every Python CLI of ours imports (re, json, pathlib, ctypes) beside them. A
   foreground `run --rm` has no conmon (runtime/containers/foreground.py): the CLI runs `runc
   create` and is the container's monitor, as `runc run` is for the raw figure;
2. a pod sandbox + 2 containers (httpd and a sidecar) through RealRuntime up to HTTP 200 from
   the pod IP vs the raw floor (netns + veth by rtnetlink, two `runc run -d` on overlay mounts).

Targets (issue D): run --rm <= 100 ms median; pod to HTTP 200 <= 150 ms. Everything it makes
lives under one temp dir and is removed at the end (containers, mounts, netns, the bridge).
bench/runtime_ops.py has the per-operation figures (sandbox network, exec, logs).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stats import percentile, summary_ms, table
from runtime import preload
from runtime.cgroupdirs import remove as remove_cgroup_dirs
from runtime.containers import rootfs
from runtime.containers.spec import DEFAULT_PATH, BundleRequest, build_spec
from runtime.images import ImageStore
from runtime.images.base import build_base
from runtime.interface import ContainerConfig, SandboxConfig
from runtime.network import BridgeNetwork, NetworkConfig
from runtime.real import RealRuntime

DEVNULL = subprocess.DEVNULL


def timed(fn: Callable[[], object], n: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def interleaved(
    commands: dict[str, list[str] | Callable[[], list[str]]],
    n: int,
    env: dict[str, str],
    after: Callable[[str], object] = lambda name: None,
    warmup: int = 2,
) -> dict[str, list[float]]:
    """Run each command n times, round-robin (one of each per round), so that a change in the
    machine's load (2 cores shared with others) weighs on every column alike. `after(name)` runs
    untimed after each run."""
    out: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(warmup + n):
        for name, argv in commands.items():
            args = argv() if callable(argv) else argv
            t = time.perf_counter()
            check(args, env)
            elapsed = time.perf_counter() - t
            after(name)
            if i >= warmup:
                out[name].append(elapsed)
    return out


def check_removed(root: Path) -> None:
    """Nothing of a `run --rm` container may be left once the command has returned."""
    left = [d for d in (root / "containers").iterdir() if not d.name.startswith(".")]
    left += [
        Path(m.split()[4])
        for m in Path("/proc/self/mountinfo").read_text().splitlines()
        if str(root) in m.split()[4]
    ]
    left += list((root / "network" / "sandboxes").glob("*.json"))
    if left:
        raise SystemExit(f"run --rm returned before its container was removed: {left}")


def check(argv: list[str], env: dict[str, str] | None = None) -> None:
    res = subprocess.run(argv, stdin=DEVNULL, stdout=DEVNULL, stderr=subprocess.PIPE, env=env)
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {res.returncode}: {res.stderr.decode()[-300:]}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def wait_http(url: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not http_ok(url):
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} never answered")
        time.sleep(0.002)


def raw_bundle(work: Path, store: ImageStore, ref: str, args: list[str], name: str, netns: str = "") -> Path:
    """An overlay rootfs + config.json like ours, for runc alone."""
    image = store.get(ref)
    b = work / name
    rootfs.mount_overlay(store.layer_dirs(image), b / "upper", b / "work", b / "rootfs")
    spec = build_spec(
        BundleRequest(
            args=args,
            env=[DEFAULT_PATH],
            rootfs=os.path.realpath(b / "rootfs"),
            cgroups_path=f"/klbench/{name}",
            netns=netns,
        )
    )
    (b / "config.json").write_text(json.dumps(spec))
    return b


def bench_podman(work: Path, root: Path, runs: int) -> list[float] | str:
    if not shutil.which("podman"):
        return "podman not installed"
    conf = work / "containers.conf"
    conf.write_text(
        '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
        '[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\nevents_logger = "file"\n'
        f'[network]\nnetwork_config_dir = "{work}/podman-net"\ndefault_subnet = "10.237.0.0/24"\n'
    )
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    podman = ["podman", "--root", str(work / "podman-root"), "--runroot", str(work / "podman-run")]
    check(
        [
            sys.executable,
            "-m",
            "runtime.cli",
            "--root",
            str(root),
            "save",
            "-o",
            str(work / "bb.tar"),
            "busybox:latest",
        ]
    )
    check([*podman, "load", "-i", str(work / "bb.tar")], env)
    try:
        return timed(lambda: check([*podman, "run", "--rm", "busybox", "true"], env), runs)
    finally:
        subprocess.run([*podman, "rm", "-af"], env=env, stdout=DEVNULL, stderr=DEVNULL)
        subprocess.run([*podman, "rmi", "-af"], env=env, stdout=DEVNULL, stderr=DEVNULL)


async def pod_once(rt: RealRuntime, i: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    sb = await rt.run_sandbox(
        SandboxConfig(name=f"bench{i}", namespace="default", uid=f"u{i}", hostname="bench")
    )
    web = await rt.create_container(sb.id, ContainerConfig(name="web", image="kubelite/web:1.0"))
    side = await rt.create_container(
        sb.id, ContainerConfig(name="side", image="busybox", command=["sleep", "60"])
    )
    await asyncio.gather(rt.start_container(web), rt.start_container(side))
    await asyncio.to_thread(wait_http, f"http://{sb.ip}:8080/")
    up = time.perf_counter() - t0
    t1 = time.perf_counter()
    await rt.remove_sandbox(sb.id)
    return up, time.perf_counter() - t1


def raw_pod_once(work: Path, store: ImageStore, net: BridgeNetwork, i: int) -> float:
    runc = shutil.which("runc") or "runc"
    sid = f"klbench-raw-{os.getpid()}-{i}"
    bundles: list[Path] = []
    t0 = time.perf_counter()
    try:
        sbnet = net.setup(sid)
        bundles.append(
            raw_bundle(
                work,
                store,
                "kubelite/web:1.0",
                ["httpd", "-f", "-p", "8080", "-h", "/www"],
                f"{sid}-a",
                sbnet.netns_path,
            )
        )
        bundles.append(raw_bundle(work, store, "busybox", ["sleep", "60"], f"{sid}-b", sbnet.netns_path))
        for (
            b
        ) in bundles:  # detached: the container keeps runc's stdio, so none of it may be a pipe we wait on
            subprocess.run(
                [runc, "run", "-d", "--bundle", str(b), b.name],
                stdin=DEVNULL,
                stdout=DEVNULL,
                stderr=DEVNULL,
                check=True,
            )
        wait_http(f"http://{sbnet.ip}:8080/")
        return time.perf_counter() - t0
    finally:
        for b in bundles:
            subprocess.run([runc, "delete", "-f", b.name], stdout=DEVNULL, stderr=DEVNULL)
            rootfs.unmount(b / "rootfs")
        net.teardown(sid)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--pod-runs", type=int, default=10)
    ap.add_argument("--no-podman", action="store_true")
    opts = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout still cleans up
    for package in ("runtime", "kubelite"):  # the CLI's start-up: no source compiles in the figures
        compileall.compile_dir(str(Path(__file__).resolve().parent.parent / package), quiet=1)
    preload.build()  # the launcher's bundle of the run path's modules, current (as make install writes it)
    work = Path(tempfile.mkdtemp(prefix="klbench-"))
    root = work / "root"
    store = ImageStore(root)
    build_base(store)
    bridge, subnet = f"klb{os.getpid() % 100000}", "10.238.0.0/24"
    env = dict(os.environ, KUBELITE_BRIDGE=bridge, KUBELITE_SUBNET=subnet)
    kubelite = [str(Path(sys.executable).parent / "kubelite"), "runtime", "--root", str(root)]
    net = BridgeNetwork(NetworkConfig(state_dir=root / "network", bridge=bridge, subnet=subnet))
    rows = []
    try:
        runc = shutil.which("runc") or "runc"
        bundle = raw_bundle(work, store, "busybox", ["true"], "rawrun")
        counter = iter(range(10**6))
        runs: dict[str, list[str] | Callable[[], list[str]]] = {
            "kubelite": [*kubelite, "run", "--rm", "busybox", "true"],
            "kubelite --net none": [*kubelite, "run", "--rm", "--net", "none", "busybox", "true"],
            "runc": lambda: [runc, "run", "--bundle", str(bundle), f"klbench-{os.getpid()}-{next(counter)}"],
            "python": [sys.executable, "-c", "pass"],
            # what any Python CLI of ours pays before its own code: the stdlib our modules stand on
            "python stdlib": [sys.executable, "-c", "import re, json, pathlib, ctypes"],
        }
        times = interleaved(
            runs, opts.runs, env, after=lambda name: check_removed(root) if "kubelite" in name else None
        )
        rootfs.unmount(bundle / "rootfs")
        pm = bench_podman(work, root, max(5, opts.runs // 2)) if not opts.no_podman else "skipped"
        kl, raw = times["kubelite"], times["runc"]
        rows += [
            ("kubelite runtime run --rm busybox true (returns after removal)", summary_ms(kl)),
            ("  ... --net none", summary_ms(times["kubelite --net none"])),
            ("raw runc run (prepared bundle; deletes before exit)", summary_ms(raw)),
            ("podman run --rm busybox true", pm if isinstance(pm, str) else summary_ms(pm)),
            ("python3 -c pass (interpreter floor)", summary_ms(times["python"])),
            (
                "python3 -c 'import re, json, pathlib, ctypes' (+ stdlib floor)",
                summary_ms(times["python stdlib"]),
            ),
        ]

        rt = RealRuntime(root / "rt", network=net, image_root=root)

        async def pods() -> list[tuple[float, float]]:
            await pod_once(rt, -1)  # warm-up
            return [await pod_once(rt, i) for i in range(opts.pod_runs)]

        pod = asyncio.run(pods())
        raw_pod = [raw_pod_once(work, store, net, i) for i in range(opts.pod_runs)]
        rows += [
            ("pod sandbox + 2 containers -> HTTP 200 (RealRuntime)", summary_ms([p[0] for p in pod])),
            ("  remove_sandbox (2 containers)", summary_ms([p[1] for p in pod])),
            ("raw floor: netns+veth + 2x runc run -d -> HTTP 200", summary_ms(raw_pod)),
        ]
        print(table(rows, ("what", "figures")))
        with open(kubelite[0]) as f:  # make install's launcher (kubelite/launcher.py), or pip's script
            launcher = f.readline().rstrip().endswith(" -S")
        print(
            f"kubelite command: {'the launcher (python -S, run-path bundle)' if launcher else 'pip console script'}"
        )
        verdict = [
            f"run --rm median {percentile(kl, 50) * 1000:.0f} ms (target <= 100), raw runc run "
            f"{percentile(raw, 50) * 1000:.0f} ms in the same run: {percentile(kl, 50) / percentile(raw, 50):.1f}x",
            f"pod to HTTP 200 median {percentile([p[0] for p in pod], 50) * 1000:.0f} ms (target <= 150)",
        ]
        print("\n".join(verdict))
    finally:
        from runtime.containers.service import Containers

        c = Containers(root, network=lambda: net)
        for rec in c.store.all():
            with contextlib.suppress(Exception):
                c.remove(rec, force=True)
        for sb in net.list():
            net.teardown(sb.sandbox_id)
        net.delete_bridge()
        with open("/proc/self/mountinfo") as f:
            for line in f:
                if str(work) in line.split()[4]:
                    rootfs.unmount(Path(line.split()[4]))
        shutil.rmtree(work, ignore_errors=True)
        remove_cgroup_dirs("/klbench")  # the raw bundles' parent cgroup (runc removes only the leaves)


if __name__ == "__main__":
    main()
