"""From a docker-style request to a created container: image, network, user, spec, engine.

Shared by the CLI (`run`, `create`, `build`'s RUN steps) and RealRuntime (containers of a pod
sandbox). The network package is imported only when a request needs a network namespace, and
the image store only resolves and stats layer dirs, so `run --rm` stays on its time budget.
"""

from __future__ import annotations

import _thread
import os
import time

from runtime.containers import ids
from runtime.containers.engine import Engine
from runtime.containers.errors import ContainerError, InvalidConfig
from runtime.containers.propagation import check_propagation
from runtime.containers.spec import BundleRequest, build_spec, merge_env, resolve_args
from runtime.containers.store import Record
from runtime.containers.users import resolve_in_rootfs
from runtime.datarecord import asdict, field, record
from runtime.mounts import Mount

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from runtime.containers.foreground import Monitor
    from runtime.containers.rootfs import StrPath
    from runtime.images import ImageStore
    from runtime.network import Network, PortMapping, SandboxNet


@record
class RunRequest:
    """A docker-style `run`/`create` request, or a pod container with its pre-resolved parts."""

    image: str
    name: str = ""
    command: list[str] | None = None  # replaces ENTRYPOINT
    args: list[str] | None = None  # replaces CMD
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = ""
    user: str = ""
    hostname: str = ""
    tty: bool = False
    stdin: bool = False
    # docker's -i closes stdin with the attached client; a pod container's stdinOnce false keeps it
    stdin_once: bool = True
    labels: dict[str, str] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)
    memory_limit: int | None = None
    cpu_quota_millis: int | None = None
    cpu_shares: int | None = None
    pids_limit: int | None = None
    privileged: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)  # docker's --group-add (numeric)
    read_only_rootfs: bool = False  # docker's --read-only
    no_new_privileges: bool = True  # the CLI's run always sets it; a pod only when asked
    seccomp_unconfined: bool = False
    sysctls: dict[str, str] = field(default_factory=dict)  # docker's --sysctl
    # docker's --pid: "" a namespace of its own, "host" the node's, container:<id> another's, or the
    # path of one to join (a pod sandbox's, /proc/<its pause>/ns/pid)
    pid: str = ""
    ipc: str = ""  # docker's --ipc: "" a namespace of its own, "host" the node's, or a path to join
    shm_path: str = ""  # a directory bound at /dev/shm instead of a tmpfs of its own (a pod's)
    net: str = "bridge"  # bridge | none | host | container:<name> | sandbox (join netns_path)
    netns_path: str = ""  # with net="sandbox"
    sandbox_id: str = ""
    etc_files: dict[str, str] = field(default_factory=dict)  # with net="sandbox": the pod's files
    ports: list[str] = field(default_factory=list)
    auto_remove: bool = False
    cgroup_parent: str = ""  # e.g. /kubepods/pod<uid>; the container's cgroup is <parent>/<name or id>
    log_path: str = ""
    image_id: str = ""  # pre-resolved (build steps on an unnamed rootfs)
    layer_dirs: list[str] | None = None  # pre-resolved, lowest first
    image_config: dict[str, Any] | None = None  # pre-resolved `config` section
    exit_command: list[str] = field(
        default_factory=list
    )  # run by conmon after exit; "{id}" = the container id


class Containers:
    def __init__(
        self,
        root: StrPath,
        network: Callable[[], Network] | None = None,
        images: Callable[[], ImageStore] | None = None,
    ) -> None:
        root = self.root = os.fspath(root)  # str paths: pathlib costs ~10 ms of `run` (engine.py)
        self.engine = Engine(root)
        self.store = self.engine.store
        self._network_factory = network or (lambda: default_network(root))
        self._network: Network | None = None
        self._images_factory = images or (lambda: default_images(root))
        self._images: ImageStore | None = None

    @property
    def network(self) -> Network:
        if self._network is None:
            self._network = self._network_factory()
        return self._network

    @property
    def images(self) -> ImageStore:
        if self._images is None:
            self._images = self._images_factory()
        return self._images

    def get(self, ref: str) -> Record:
        return self.engine.refresh(self.store.load(self.store.lookup(ref)))

    def create(self, req: RunRequest, foreground: Monitor | None = None) -> Record:
        """Reserve the name, set up rootfs and network, write the bundle, conmon `runc create`.

        `foreground` (a `run --rm` whose caller waits): the container is created without conmon, this
        process its monitor, when the monitor accepts it (foreground.py); `rec.monitor_pid` says so."""
        if req.image_config is not None and req.layer_dirs is not None:
            image_ref, image_id, layers, cfg = req.image, req.image_id, list(req.layer_dirs), req.image_config
        else:
            image = self.images.resolve(req.image)
            if image is None:
                from runtime.images.errors import ImageNotFound

                raise ImageNotFound(f"image not found: {req.image} (pull, load or build it first)")
            image_ref = _display_ref(req.image, image.refs) or image.id
            image_id = image.id
            layers = self.images.layer_paths(image)
            cfg = dict(image.config.get("config") or {})
        cid = ids.new_id()
        name = req.name or ids.generate_name(self.store.taken_names())
        self.store.reserve_name(name, cid)
        d = self.store.dir(cid)
        os.makedirs(d, exist_ok=True)
        rec = Record(
            id=cid,
            name=name,
            image=image_ref,
            image_id=image_id,
            created_at=time.time(),
            sandbox_id=req.sandbox_id,
            labels=dict(req.labels),
            log_path=req.log_path or f"{d}/ctr.log",
            cgroups_path=f"{req.cgroup_parent.rstrip('/') or '/kubelite'}/{name if req.cgroup_parent else cid}",
            stop_signal=str(cfg.get("StopSignal") or "SIGTERM"),
            terminal=req.tty,
            stdin=req.stdin,
            stdin_once=req.stdin_once,
            auto_remove=req.auto_remove,
            ports=list(req.ports),
            layer_dirs=layers,
            exit_command=[a.replace("{id}", cid) for a in req.exit_command],
            config=_summary(req),
        )
        pending: _NetworkSetup | None = None
        try:
            pending = self._start_network(rec, req)  # the namespace is made while we mount the rootfs
            rootfs = self.engine.mount_rootfs(rec)
            user = resolve_in_rootfs(req.user or str(cfg.get("User") or ""), rootfs)
            if req.groups:
                user.additional_gids = sorted((set(user.additional_gids) | set(req.groups)) - {user.gid})
            env = merge_env(cfg.get("Env"), req.env, req.tty)
            netns, etc_files, hostname = self._network_for(rec, req, pending)
            if not any(e.startswith("HOME=") for e in env):
                env.append(f"HOME={user.home}")
            if not any(e.startswith("HOSTNAME=") for e in env):
                env.append(f"HOSTNAME={hostname}")
            bundle = BundleRequest(
                args=resolve_args(cfg, req.command, req.args),
                env=env,
                rootfs=str(rootfs),
                cgroups_path=rec.cgroups_path,
                cwd=req.working_dir or str(cfg.get("WorkingDir") or "/"),
                user=user,
                hostname=hostname,
                terminal=req.tty,
                netns=netns,
                mounts=req.mounts,
                etc_files=etc_files,
                memory_limit=req.memory_limit,
                cpu_quota_millis=req.cpu_quota_millis,
                cpu_shares=req.cpu_shares,
                pids_limit=req.pids_limit,
                privileged=req.privileged,
                cap_add=req.cap_add,
                cap_drop=req.cap_drop,
                read_only_rootfs=req.read_only_rootfs,
                no_new_privileges=req.no_new_privileges,
                seccomp_unconfined=req.seccomp_unconfined,
                sysctls=dict(req.sysctls),
                host_pid=req.pid == "host",
                pid_path=self._pid_namespace(req.pid),
                host_ipc=req.ipc == "host",
                ipc_path=req.ipc if req.ipc.startswith("/") else "",
                shm_path=req.shm_path,
            )
            for m in req.mounts:
                if not m.tmpfs and not os.path.exists(m.host_path):
                    os.makedirs(m.host_path, exist_ok=True)  # docker creates a missing bind source
            check_propagation(req.mounts)
            rec.config["argv"] = bundle.args
            launch: Callable[[Record, dict[str, Any]], Record] = self.engine.create
            if foreground is not None and not req.tty and foreground.accepts(user.uid, req.stdin):
                foreground.claim(rec)  # before the first save: other verbs must see a live monitor
                launch = foreground.create
            self.store.save(rec)
            rec = launch(rec, build_spec(bundle))
            if pending is not None:  # the links were configured while runc created the container
                pending.finish()
            return rec
        except BaseException:
            if pending is not None:
                pending.join()  # its own failure is cleaned up by setup; ours must not race it
            self._discard(rec)
            raise

    def _pid_namespace(self, mode: str) -> str:
        """The process namespace to join: a path as given; for `--pid container:<id>`, that
        container's init's, named by /proc (it must run: a stopped container has no namespace left
        to join)."""
        if mode.startswith("/"):
            return mode
        if not mode.startswith("container:"):
            return ""
        other = self.get(mode.partition(":")[2])
        if other.state != "running" or not other.pid:
            raise ContainerError(
                f"cannot join the process namespace of container {other.name}: it is not running"
            )
        return f"/proc/{other.pid}/ns/pid"

    def _start_network(self, rec: Record, req: RunRequest) -> _NetworkSetup | None:
        """Start setting up the container's own network (bridge mode), else None.

        The caller finishes it before the container starts (see _NetworkSetup). `none` needs no
        setup: runc makes the container a new network namespace with lo up (its loopback network)
        and the namespace dies with the container, so there is nothing to name, join or remove."""
        mode = req.net or "bridge"
        if mode != "bridge":
            return None
        from runtime.network import PortMapping

        ports = [PortMapping.parse(p) for p in req.ports] if mode == "bridge" else []
        rec.owns_network = True
        return _NetworkSetup(self.network, rec.id, mode, ports)

    def _network_for(
        self, rec: Record, req: RunRequest, pending: _NetworkSetup | None
    ) -> tuple[str, dict[str, str], str]:
        """(netns for the spec, etc files to bind, hostname) — and record what was made."""
        mode = req.net or "bridge"
        hostname = req.hostname or rec.short_id
        etc_dir = self.store.dir(rec.id)  # hosts, resolv.conf, hostname: in the bundle (no dir to remove)
        if mode == "sandbox":
            rec.net_mode, rec.netns_path = "sandbox", req.netns_path
            return req.netns_path or "host", dict(req.etc_files), hostname
        if mode == "host":
            rec.net_mode = "host"
            files = {"/etc/hosts": "/etc/hosts", "/etc/resolv.conf": "/etc/resolv.conf"}
            return (
                "host",
                {k: v for k, v in files.items() if os.path.exists(v)},
                req.hostname or os.uname().nodename,
            )  # gethostname(), without importing socket
        if mode.startswith("container:"):
            other = self.get(mode.partition(":")[2])
            if other.state != "running":
                raise ContainerError(f"cannot join the network of container {other.name}: it is not running")
            netns = other.netns_path
            if not netns and other.net_mode == "none":  # runc's own namespace, named by its init
                netns = f"/proc/{other.pid}/ns/net"
            rec.net_mode, rec.netns_path, rec.ip = f"container:{other.id}", netns, other.ip
            src = self.store.dir(other.id)
            files = {
                p: f"{src}/{os.path.basename(p)}" for p in ("/etc/hosts", "/etc/resolv.conf", "/etc/hostname")
            }
            return (
                netns or "host",
                {k: v for k, v in files.items() if os.path.exists(v)},
                other.config.get("hostname") or other.short_id,
            )
        from runtime.network import write_etc_files

        if mode == "none":
            rec.net_mode = "none"
            rec.config["hostname"] = hostname
            written = write_etc_files(etc_dir, hostname, "")
            return "", {k: str(v) for k, v in written.items()}, hostname
        if pending is None:
            raise InvalidConfig(f"invalid network mode {mode!r}: want bridge, host, none or container:NAME")
        net = pending.namespace()
        rec.net_mode, rec.netns_path, rec.ip = mode, net.netns_path, net.ip
        rec.config["hostname"] = hostname
        written = write_etc_files(etc_dir, hostname, net.ip)
        return net.netns_path, {k: str(v) for k, v in written.items()}, hostname

    def _discard(self, rec: Record) -> None:
        """Undo a half-made container: mounts, network, records — whatever got made."""
        try:
            self.engine.remove(rec, force=True)
        except Exception:
            self.store.delete(rec)
        if rec.owns_network:
            try:
                self.network.teardown(rec.id)
            except Exception:
                pass

    def remove(self, rec: Record, force: bool = False) -> None:
        self.engine.remove(rec, force)
        if rec.owns_network:
            self.network.teardown(rec.id)

    def restart_from_exit(self, rec: Record) -> Record:
        """`start` of an exited container: a fresh conmon + `runc create` on the kept bundle."""
        rec.restart_count += 1
        return self.engine.create(rec)


class _NetworkSetup:
    """`network.setup` in a thread, so the veth, address and route (5-15 ms of netlink round trips)
    are configured while conmon runs `runc create`, which needs only the namespace to exist.

    `namespace()` waits for the namespace (with its address allocated); `finish()` waits for the
    rest and publishes the ports, and must return before the container starts; `join()` waits
    quietly (a failed setup has already cleaned up after itself)."""

    def __init__(self, network: Network, sandbox_id: str, mode: str, ports: list[PortMapping]) -> None:
        self._network, self._sandbox_id, self._ports = network, sandbox_id, ports
        self._ready = _Latch()  # the namespace exists (or the setup failed)
        self._done = _Latch()  # the setup has returned
        self._early: SandboxNet | None = None
        self._error: BaseException | None = None
        _thread.start_new_thread(self._run, (mode,))

    def _run(self, mode: str) -> None:
        try:
            net = self._network.setup(self._sandbox_id, mode, on_netns=self._on_netns)
            if self._early is None:
                self._early = net
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.open()
            self._done.open()

    def _on_netns(self, net: SandboxNet) -> None:
        self._early = net
        self._ready.open()

    def namespace(self) -> SandboxNet:
        self._ready.wait()
        if self._error is not None:
            self._done.wait()
            raise self._error
        assert self._early is not None
        return self._early

    def finish(self) -> None:
        self._done.wait()
        if self._error is not None:
            raise self._error
        if self._ports:
            self._network.publish(self._sandbox_id, self._ports)

    def join(self) -> None:
        self._done.wait()


class _Latch:
    """`threading.Event`'s set-once and wait, on a bare `_thread` lock: `threading` is ~1.5 ms of
    imports on `run`'s path. Opened by one thread (the setup's), waited on by any."""

    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._lock.acquire()
        self._open = False

    def open(self) -> None:
        if not self._open:
            self._open = True
            self._lock.release()

    def wait(self) -> None:
        with self._lock:  # free once opened: every waiter passes
            pass


def _display_ref(asked: str, refs: list[str]) -> str:
    """The reference the user asked for when it names the image (not just its first tag)."""
    from runtime.images import normalize

    try:
        wanted = normalize(asked)
    except Exception:
        wanted = ""
    return wanted if wanted in refs else (refs[0] if refs else "")


def _summary(req: RunRequest) -> dict[str, Any]:
    d = asdict(req)
    for k in ("layer_dirs", "image_config", "etc_files", "exit_command"):
        d.pop(k, None)
    return d


def default_images(root: StrPath) -> ImageStore:
    from runtime.images import ImageStore

    return ImageStore(root)


def default_network(root: StrPath) -> Network:
    """The root's bridge network: chosen once (KUBELITE_BRIDGE / KUBELITE_SUBNET or kl0 10.88.0.0/16)
    and remembered in `<root>/network/config.json`, so a later `rm` tears down what `run` made."""
    from runtime import cjson
    from runtime.network import BridgeNetwork, NetworkConfig
    from runtime.textfile import read_file, write_file

    state = os.path.join(root, "network")
    saved = f"{state}/config.json"
    try:
        cfg = cjson.loads(read_file(saved))
    except (OSError, ValueError):
        cfg = {
            "bridge": os.environ.get("KUBELITE_BRIDGE", "kl0"),
            "subnet": os.environ.get("KUBELITE_SUBNET", "10.88.0.0/16"),
        }
        os.makedirs(state, exist_ok=True)
        write_file(saved, cjson.dumps(cfg))
    return BridgeNetwork(NetworkConfig(state_dir=state, bridge=str(cfg["bridge"]), subnet=str(cfg["subnet"])))
