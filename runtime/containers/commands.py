"""Handlers of the container verbs of `kubelite runtime` (docker-style, daemonless).

Each takes the parsed argparse namespace and returns the exit code; runtime failures raise
`ContainerError` (or an image/network error), which `runtime.cli` prints as one line with exit
code 125. `run` in the foreground returns the container's own exit code, as docker does.
"""

from __future__ import annotations

import os
import sys
import time

from runtime import cjson
from runtime.containers import proc
from runtime.containers.engine import Engine
from runtime.containers.errors import ContainerError, InvalidConfig
from runtime.containers.service import Containers, RunRequest
from runtime.containers.store import Record
from runtime.mounts import Mount

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    import _thread
    import argparse
    from typing import Any

    from runtime.containers.foreground import Monitor
    from runtime.containers.rootfs import StrPath
    from runtime.images import ImageStore

VERSION = "0.1.0"


def containers(args: argparse.Namespace) -> Containers:
    image_root = str(args.image_root or args.root)
    return Containers(str(args.root), images=lambda: _image_store(image_root))


def _image_store(root: StrPath) -> ImageStore:
    from runtime.images import ImageStore

    return ImageStore(root)


def parse_size(text: str) -> int:
    """`512m`, `1g`, `100000` -> bytes (docker's -m syntax)."""
    units = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().rstrip("b") if text.strip().lower()[-2:-1].isalpha() else text.strip().lower()
    try:
        if t and t[-1] in units:
            return int(float(t[:-1]) * units[t[-1]])
        return int(t)
    except ValueError:
        raise InvalidConfig(f"invalid size: {text!r}") from None


def parse_volume(spec: str) -> Mount:
    """`-v HOST:CTR[:ro|rw]`, or `-v CTR` / `--tmpfs CTR` for a fresh tmpfs."""
    parts = spec.split(":")
    if len(parts) == 1:
        return Mount(container_path=parts[0], host_path="", tmpfs=True)
    if len(parts) in (2, 3) and parts[0] and parts[1]:
        mode = parts[2] if len(parts) == 3 else "rw"
        if mode not in ("ro", "rw"):
            raise InvalidConfig(f"invalid volume mode {mode!r} in {spec!r}: want ro or rw")
        return Mount(container_path=parts[1], host_path=os.path.abspath(parts[0]), read_only=mode == "ro")
    raise InvalidConfig(f"invalid volume {spec!r}: want HOST_PATH:CONTAINER_PATH[:ro]")


def parse_env(items: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            if key not in os.environ:
                continue
            value = os.environ[key]
        env[key] = value
    return env


def request_from_args(args: argparse.Namespace) -> RunRequest:
    for flag, mode in (("--pid", args.pid), ("--ipc", args.ipc)):
        if mode not in (None, "", "host"):
            raise InvalidConfig(f"invalid {flag} mode {mode!r}: only host is supported")
    cpus = float(args.cpus) if args.cpus else 0.0
    return RunRequest(
        image=args.image,
        name=args.name or "",
        command=[args.entrypoint] if args.entrypoint else None,
        args=list(args.command) if args.command else None,
        env=parse_env(args.env),
        working_dir=args.workdir or "",
        user=args.user or "",
        hostname=args.hostname or "",
        tty=args.tty,
        stdin=args.interactive,
        labels=dict(kv.partition("=")[::2] for kv in args.label),
        mounts=[parse_volume(v) for v in args.volume] + [parse_volume(t) for t in args.tmpfs],
        memory_limit=parse_size(args.memory) if args.memory else None,
        cpu_quota_millis=int(cpus * 1000) if cpus else None,
        pids_limit=args.pids_limit,
        privileged=args.privileged,
        cap_add=args.cap_add,
        cap_drop=args.cap_drop,
        read_only_rootfs=args.read_only,
        pid=args.pid or "",
        ipc=args.ipc or "",
        net=args.net,
        ports=args.publish,
        auto_remove=args.rm,
    )


def create_pulling(
    c: Containers, req: RunRequest, args: argparse.Namespace, monitor: Monitor | None = None
) -> Record:
    """`c.create`, pulling the image first as `--pull` says (docker's default: when it is missing),
    with the pull's progress on stderr (runtime/images/pulls.py)."""
    from runtime.images.errors import ImageNotFound

    policy = getattr(args, "pull", "never")
    if policy == "always":
        _pull(c, req.image, policy, present=c.images.resolve(req.image) is not None)
    try:
        return c.create(req, foreground=monitor)
    except ImageNotFound:
        if policy != "missing":
            raise
    _pull(c, req.image, policy, present=False)
    return c.create(req, foreground=monitor)


def _pull(c: Containers, ref: str, policy: str, present: bool) -> None:
    from runtime.images.pulls import pull_for_run

    pull_for_run(c.images, ref, sys.stderr, policy, present)


def cmd_create(args: argparse.Namespace) -> int:
    c = containers(args)
    rec = create_pulling(c, request_from_args(args), args)
    print(rec.id)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    c = containers(args)
    req = request_from_args(args)
    if args.detach and args.rm:  # nobody waits for it: conmon runs our `rm` when it exits
        req.exit_command = [
            sys.executable,
            "-m",
            "runtime.cli",
            "--root",
            os.path.abspath(args.root),
            *(["--image-root", os.path.abspath(args.image_root)] if args.image_root else []),
            "rm",
            "-f",
            "{id}",
        ]
    monitor = None
    if args.rm and not args.detach and not args.tty:
        from runtime.containers.foreground import Monitor

        monitor = Monitor(c.engine)
    rec = create_pulling(c, req, args, monitor)
    if args.detach:
        c.engine.start(rec)
        print(rec.id)
        return 0
    if monitor is not None and rec.monitor_pid:
        return _run_foreground(c, monitor, rec)
    return _attach_and_wait(c, rec, args.interactive, args.tty, remove=args.rm)


def _run_foreground(c: Containers, monitor: Monitor, rec: Record) -> int:
    """A conmon-less `run --rm` (foreground.py): the container has our stdio, we wait for its init
    and remove it all before returning, also after an error or ^C (the container is killed)."""
    try:
        c.engine.start(rec)
        return monitor.wait()
    finally:
        if rec.owns_network and rec.pid == 0:
            # the container is reaped: its network and its files go at once (each a few waits on
            # the host's journal and netlink, so the two overlap well); `_thread`, not `threading`
            # (~1.5 ms of imports)
            import _thread

            failed: list[BaseException] = []
            done = _thread.allocate_lock()
            done.acquire()
            _thread.start_new_thread(_teardown_network, (c, rec.id, failed, done))
            try:
                monitor.remove()
            finally:
                done.acquire()  # released by the teardown when it is done
            if failed:
                raise failed[0]
        else:
            monitor.remove()
            if rec.owns_network:
                c.network.teardown(rec.id)


def _teardown_network(
    c: Containers, container_id: str, failed: list[BaseException], done: _thread.LockType
) -> None:
    try:
        c.network.teardown(container_id)
    except BaseException as e:  # re-raised by the caller once the container is removed
        failed.append(e)
    finally:
        done.release()


def _attach_and_wait(c: Containers, rec: Record, interactive: bool, use_tty: bool, remove: bool) -> int:
    """Attach, start, relay stdio until the container exits; with `remove`, return only once it is
    gone (runc state, cgroups, rootfs mount, bundle, netns), as docker and podman do."""
    from runtime.containers.terminal import pump_attach, raw_mode, window_size  # not for a foreground run

    engine = c.engine
    try:
        sock = engine.attach(rec)  # before start: no output is lost
        size = window_size(sys.stdin.fileno()) if use_tty else None
        if size:
            engine.resize(rec, *size)
        stdin_fd = sys.stdin.fileno() if interactive else None
        if use_tty:
            import signal  # only here: building its enums costs ~1 ms of every `run`

            signal.signal(signal.SIGWINCH, lambda *_: _resize_from(engine, rec))
        try:
            with raw_mode(sys.stdin.fileno()) if use_tty and interactive else _null():
                engine.start(rec)
                pump_attach(sock, stdin_fd)
        finally:
            sock.close()
        engine.wait_exit(rec)
        rec = engine.refresh(rec)
        code = rec.exit_code if rec.exit_code is not None else 255
    finally:
        if remove:  # also after an error or ^C: force stops a container still running
            c.remove(engine.refresh(rec), force=True)
    return code


def _resize_from(engine: Engine, rec: Record) -> None:
    from runtime.containers.terminal import window_size

    size = window_size(sys.stdin.fileno())
    if size:
        engine.resize(rec, *size)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def cmd_start(args: argparse.Namespace) -> int:
    c = containers(args)
    for ref in args.containers:
        rec = c.get(ref)
        if rec.state == "running":
            print(ref)
            continue
        if rec.state == "exited":
            rec = c.restart_from_exit(rec)
        if args.attach and len(args.containers) == 1:
            return _attach_and_wait(c, rec, args.interactive, rec.terminal, remove=rec.auto_remove)
        c.engine.start(rec)
        print(ref)
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    c = containers(args)
    for ref in args.containers:
        rec = c.get(ref)
        c.engine.stop(rec, float(args.time))
        print(ref)
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    c = containers(args)
    for ref in args.containers:
        rec = c.engine.stop(c.get(ref), float(args.time))
        if rec.state == "exited":
            rec = c.restart_from_exit(rec)
        c.engine.start(rec)
        print(ref)
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    """Block until each container exits; print its exit code (docker wait)."""
    c = containers(args)
    for ref in args.containers:
        rec = c.get(ref)
        c.engine.wait_exit(rec)
        rec = c.engine.refresh(rec)
        print(rec.exit_code if rec.exit_code is not None else 255)
    return 0


def cmd_kill(args: argparse.Namespace) -> int:
    c = containers(args)
    for ref in args.containers:
        c.engine.kill(c.get(ref), args.signal)
        print(ref)
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    c = containers(args)
    failed = 0
    for ref in args.containers:
        try:
            c.remove(c.get(ref), force=args.force)
            print(ref)
        except ContainerError as e:
            print(f"Error: {e}", file=sys.stderr)
            failed = 1
    return 125 if failed else 0


def _ago(t: float) -> str:
    d = max(0, int(time.time() - t))
    for unit, secs in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if d >= secs:
            n = d // secs
            return f"{n} {unit if n > 1 else unit[:-1]}"
    return "Less than a second" if d < 1 else f"{d} seconds"


def status_text(rec: Record) -> str:
    if rec.state == "running":
        return f"Up {_ago(rec.started_at)}"
    if rec.state == "exited":
        return f"Exited ({rec.exit_code}) {_ago(rec.finished_at)} ago"
    return rec.state.capitalize()


def cmd_ps(args: argparse.Namespace) -> int:
    c = containers(args)
    recs = sorted(
        (r for r in c.engine.list() if not (r.auto_remove and r.state == "exited")),
        key=lambda r: -r.created_at,
    )  # exited --rm containers are being removed
    if not args.all:
        recs = [r for r in recs if r.state == "running"]
    if args.quiet:
        for r in recs:
            print(r.id if args.no_trunc else r.short_id)
        return 0
    rows = [("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES")]
    for r in recs:
        cmd = " ".join(r.config.get("argv") or [])
        cmd = f'"{cmd[:20]}…"' if len(cmd) > 20 else f'"{cmd}"'
        ports = ", ".join(
            f"0.0.0.0:{p.split(':')[-2]}->{p.split(':')[-1]}" if p.count(":") else p for p in r.ports
        )
        rows.append(
            (
                r.id if args.no_trunc else r.short_id,
                r.image.removeprefix("docker.io/").removeprefix("library/"),
                cmd,
                f"{_ago(r.created_at)} ago",
                status_text(r),
                ports,
                r.name,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    from runtime.containers import logs

    c = containers(args)
    rec = c.get(args.container)
    if rec.monitor_pid:
        raise ContainerError(
            f"container {rec.short_id} keeps no log: it runs attached to its `run --rm`, which has its output"
        )
    lines, offset = logs.read_lines(
        rec.log_path, args.tail if args.tail is not None and args.tail >= 0 else None
    )

    def emit(line: logs.LogLine) -> None:
        out = sys.stderr.buffer if line.stream == "stderr" else sys.stdout.buffer
        out.write((line.time.encode() + b" " if args.timestamps else b"") + line.text)
        out.flush()

    for line in lines:
        emit(line)
    if args.follow and rec.state in ("created", "running"):
        for line in logs.follow(rec.log_path, offset, lambda: c.engine.conmon_pid(rec)):
            emit(line)
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    """`runc exec` replaces this process (exec(2)), so its exit code, signals and terminal (runc
    proxies a tty itself with -t) are the caller's directly, with no Python process waiting in
    between (and no `subprocess` import: ~5 ms of every exec)."""
    c = containers(args)
    rec = c.get(args.container)
    env = [f"{k}={v}" for k, v in parse_env(args.env).items()]
    argv = c.engine.exec_argv(
        rec, args.command, tty=args.tty, env=env, workdir=args.workdir or "", user=args.user or ""
    )
    proc.log_command(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    if not args.interactive:  # docker exec without -i: the command reads nothing
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    os.execv(argv[0], argv)


def inspect_record(rec: Record) -> dict[str, Any]:
    def iso(t: float) -> str:
        return (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e9):09d}Z"
            if t
            else "0001-01-01T00:00:00Z"
        )

    return {
        "Id": rec.id,
        "Name": "/" + rec.name,
        "Created": iso(rec.created_at),
        "Image": rec.image_id,
        "ImageName": rec.image,
        "Labels": rec.labels,
        "RestartCount": rec.restart_count,
        "LogPath": rec.log_path,
        "State": {
            "Status": rec.state,
            "Running": rec.state == "running",
            "Pid": rec.pid,
            "ExitCode": rec.exit_code if rec.exit_code is not None else 0,
            "OOMKilled": rec.reason == "OOMKilled",
            "Reason": rec.reason,
            "StartedAt": iso(rec.started_at),
            "FinishedAt": iso(rec.finished_at),
        },
        "Config": rec.config,
        "CgroupsPath": rec.cgroups_path,
        "NetworkSettings": {
            "Mode": rec.net_mode,
            "IPAddress": rec.ip,
            "SandboxKey": rec.netns_path,
            "Ports": rec.ports,
        },
    }


def cmd_inspect(args: argparse.Namespace) -> int:
    c = containers(args)
    out, code = [], 0
    for ref in args.containers:
        try:
            out.append(inspect_record(c.get(ref)))
        except ContainerError:
            image = _image_store(str(args.image_root or args.root)).resolve(ref)
            if image is None:
                print(f"Error: no such object: {ref}", file=sys.stderr)
                code = 125
                continue
            out.append(
                {
                    "Id": image.id,
                    "RepoTags": image.refs,
                    "RepoDigests": image.repo_digests,
                    "Created": image.created,
                    "Size": image.size,
                    "Config": image.config.get("config") or {},
                    "RootFS": {"Type": "layers", "Layers": image.diff_ids},
                }
            )
    import json  # only here: indented output (the hot paths read and write through cjson)

    print(json.dumps(out, indent=4))
    return code


def cmd_version(args: argparse.Namespace) -> int:
    runc = proc.run([proc.which("runc"), "--version"], check=False).stdout.decode().splitlines()
    conmon = proc.run([proc.which("conmon"), "--version"], check=False).stdout.decode().splitlines()
    print(
        f"Version:      {VERSION}\nAPI version:  1\nOCI runtime:  {runc[0] if runc else '?'}\n"
        f"Conmon:       {conmon[0] if conmon else '?'}\nPython:       {sys.version.split()[0]}"
    )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    c = containers(args)
    recs = c.engine.list()
    states = {s: sum(1 for r in recs if r.state == s) for s in ("running", "exited", "created")}
    hybrid = os.path.isdir("/sys/fs/cgroup/unified")
    n_images = len(_image_store(str(args.image_root or args.root)).list())
    print(
        f"Containers: {len(recs)}\n Running: {states['running']}\n Stopped: {states['exited']}\n"
        f" Created: {states['created']}\nImages: {n_images}\nRoot: {args.root}\n"
        f"Cgroups: {'hybrid (v1 controllers + unified)' if hybrid else 'v2'}\nCgroup driver: cgroupfs\n"
        f"Runtime: runc ({proc.which('runc')}) under conmon ({proc.which('conmon')})\n"
        f"Network: {_network_text(str(args.root))}"
    )
    return 0


def _network_text(root: str) -> str:
    try:
        with open(f"{root}/network/config.json") as f:
            cfg = cjson.loads(f.read())
    except (OSError, ValueError):
        cfg = {
            "bridge": os.environ.get("KUBELITE_BRIDGE", "kl0"),
            "subnet": os.environ.get("KUBELITE_SUBNET", "10.88.0.0/16"),
        }
    return f"bridge {cfg.get('bridge')} {cfg.get('subnet')}"


def in_use(root: StrPath, image_id: str) -> bool:
    """For `rmi`: does a container (any state) use this image?"""
    return any(r.image_id == image_id for r in Containers(root).store.all())
