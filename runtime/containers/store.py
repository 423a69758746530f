"""Container records on disk: `<root>/containers/<id>/record.json` plus a name index.

Everything a restarted caller needs to rebuild its view lives here (labels, image, times, exit
code, reason, network); the kernel-side truth (exit file, pid) is merged in by the engine.
Names are reserved with O_EXCL files under `.names/`, so two concurrent `run --name x` cannot both win.
"""

from __future__ import annotations

import _thread  # built in and loaded at start-up, unlike itertools
import os

from runtime import cjson as json  # not `json` (it imports re and enum: ~15 ms of `run`)
from runtime.containers import ids
from runtime.containers.errors import AmbiguousContainer, InvalidConfig, NameInUse, NoSuchContainer
from runtime.containers.propagation import mount_table
from runtime.datarecord import asdict, field, fields, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any


@record
class Record:
    """A container as kept on disk: what a restarted caller needs to rebuild its view."""

    id: str
    name: str
    image: str  # the reference the user gave, normalised
    image_id: str
    created_at: float
    sandbox_id: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    state: str = "created"  # created | running | exited | unknown
    pid: int = 0
    exit_code: int | None = None
    reason: str = ""
    started_at: float = 0.0
    finished_at: float = 0.0
    log_path: str = ""
    cgroups_path: str = ""
    stop_signal: str = "SIGTERM"
    terminal: bool = False
    stdin: bool = False
    stdin_once: bool = True  # docker's -i and kube's stdinOnce: stdin closes with the attached client
    auto_remove: bool = False
    net_mode: str = ""  # bridge | none | host | container:<id> | sandbox
    netns_path: str = ""
    ip: str = ""
    owns_network: bool = False  # the CLI's own per-container sandbox, torn down on rm
    ports: list[str] = field(default_factory=list)
    layer_dirs: list[str] = field(default_factory=list)  # lowest first, for re-mounting on restart
    config: dict[str, Any] = field(default_factory=dict)  # the request, for inspect and commit
    restart_count: int = 0
    exit_command: list[str] = field(default_factory=list)  # conmon runs it after the container exits
    monitor_pid: int = 0  # a foreground `run --rm` CLI that runs it without conmon (foreground.py)
    monitor_started: int = 0  # that process's start time (clock ticks), against pid reuse

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class ContainerStore:
    # str paths, not pathlib (it imports re, urllib.parse and ipaddress: ~10 ms of every `run`)
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.fspath(root)  # <runtime root>/containers
        self.names = f"{self.root}/.names"

    def dir(self, container_id: str) -> str:
        return f"{self.root}/{container_id}"

    def save(self, rec: Record) -> None:
        d = self.dir(rec.id)
        os.makedirs(d, exist_ok=True)
        _write_record(d, rec)

    def update(self, rec: Record) -> bool:
        """Save the record of a container that may be being removed meanwhile (a stop racing a
        removal): False, with nothing written or recreated, once its directory is gone."""
        try:
            _write_record(self.dir(rec.id), rec)
        except FileNotFoundError:
            return False
        return True

    def load(self, container_id: str) -> Record:
        try:
            return Record.from_json(json.loads(_read(f"{self.dir(container_id)}/record.json")))
        except (OSError, ValueError):
            raise NoSuchContainer(f"no such container: {container_id}") from None

    def reserve_name(self, name: str, container_id: str) -> None:
        if not ids.valid_name(name):
            raise InvalidConfig(
                f"invalid container name {name!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )
        os.makedirs(self.names, exist_ok=True)
        try:
            fd = os.open(f"{self.names}/{name}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = _read(f"{self.names}/{name}").strip()
            raise NameInUse(
                f'the container name "{name}" is already in use by container "{owner}". '
                "Remove that container to be able to reuse the name"
            ) from None
        with os.fdopen(fd, "w") as f:
            f.write(container_id)

    def release_name(self, name: str, container_id: str) -> None:
        path = f"{self.names}/{name}"
        try:
            if _read(path).strip() == container_id:
                os.unlink(path)
        except OSError:
            pass

    def taken_names(self) -> set[str]:
        try:
            return set(os.listdir(self.names))
        except OSError:
            return set()

    def ids(self, names: list[str] | None = None) -> list[str]:
        """The containers (directories with a record) among `names`, by default the directory's."""
        try:
            listed = os.listdir(self.root) if names is None else names
        except OSError:
            return []
        return [n for n in listed if len(n) == 64 and os.path.exists(f"{self.root}/{n}/record.json")]

    def lookup(self, ref: str) -> str:
        """A name, full id or unique id prefix -> the full id; NoSuchContainer / AmbiguousContainer."""
        if ref and ids.valid_name(ref):
            try:
                return _read(f"{self.names}/{ref}").strip()
            except OSError:
                pass
        if ref and ids.is_hex_prefix(ref):
            found = [i for i in self.ids() if i.startswith(ref)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise AmbiguousContainer(f"multiple containers match id prefix {ref!r}: be more specific")
        raise NoSuchContainer(f"no such container: {ref}")

    def delete(self, rec: Record) -> None:
        """Forget a container: its name and its directory (the caller has unmounted the rootfs).

        Quiet when it is gone already. The directory is renamed away first, so that a concurrent
        `update` finds nothing to write into once the removal has begun, instead of leaving a record
        in a directory emptied under it (which rmdir then keeps, as a container again)."""
        self.release_name(rec.name, rec.id)
        d = gone = self.dir(rec.id)
        try:
            os.rename(d, f"{self.root}/.{rec.id}.removing")
            gone = f"{self.root}/.{rec.id}.removing"
        except FileNotFoundError:
            return  # removed already, or being removed by another caller
        except OSError:
            pass  # e.g. a crashed removal's leftover in the way: removed in place, as before
        remove_tree(gone)

    def all(self) -> list[Record]:
        """Every container's record. On the way, removals that crashed halfway are finished (one
        listing of the directory serves both: the kubelet asks every second)."""
        try:
            names = os.listdir(self.root)
        except OSError:
            return []
        self.sweep_removals(names)
        out = []
        for cid in self.ids(names):
            try:
                out.append(self.load(cid))
            except NoSuchContainer:
                continue  # removed while we listed
        return out

    def sweep_removals(self, names: list[str] | None = None) -> None:
        """Remove what a removal left when it crashed between renaming the directory away and
        emptying it (`delete`): nothing refers to a `.<id>.removing` directory any more. One with a
        mount still below it is left alone: walking into a mount would delete what it shows (a
        bind-mounted host directory). A removal still running in another process is harmless to
        help: both ignore what the other removed first. `names`: the directory's listing, if read."""
        try:
            listed = os.listdir(self.root) if names is None else names
        except OSError:
            return
        leftovers = [n for n in listed if n[:1] == "." and n.endswith(".removing")]
        if not leftovers:
            return
        mounts = mount_points()
        for name in leftovers:
            top = os.path.realpath(f"{self.root}/{name}")
            if not any(m == top or m.startswith(top + "/") for m in mounts):
                remove_tree(top)


def mount_points() -> list[str]:
    """Where things are mounted in this mount namespace (/proc/self/mountinfo's fifth field, with
    the kernel's octal escapes of space, tab, newline and backslash undone)."""
    try:
        text = _read("/proc/self/mountinfo")
    except OSError:
        return []
    return [point for point, _ in mount_table(text)]


def _write_record(d: str, rec: Record) -> None:
    """record.json, replaced atomically through a temporary file of this thread's own: two callers
    finishing one container at once must not rename (or truncate) each other's."""
    tmp = f"{d}/record.json.{os.getpid()}-{_thread.get_ident()}.tmp"
    data = json.dumps(asdict(rec))
    with open(tmp, "w") as f:
        f.write(data)
    try:
        os.replace(tmp, f"{d}/record.json")
    except FileNotFoundError:
        _unlink_quietly(tmp)  # the directory was removed meanwhile: this file is gone or goes with it
        raise


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def remove_tree(top: str) -> None:
    """`shutil.rmtree(top, ignore_errors=True)` without importing shutil (it loads bz2 and lzma: ~3 ms
    of every `run --rm`). Symlinks are removed, never followed; what cannot be removed stays."""
    for parent, dirs, files in os.walk(top, topdown=False):
        for name in files:
            try:
                os.unlink(os.path.join(parent, name))
            except OSError:
                pass
        for name in dirs:
            path = os.path.join(parent, name)
            try:
                if os.path.islink(path):
                    os.unlink(path)
                else:
                    os.rmdir(path)
            except OSError:
                pass
    try:
        os.rmdir(top)
    except OSError:
        pass
