"""Per-sandbox network records on disk: what `BridgeNetwork.list()` and teardown read after a restart.

`STATE/sandboxes/<id>.json` holds a SandboxNet. The record is claimed before any kernel object
exists (link() of a temp file, atomic across processes: a second setup of the same id fails),
then rewritten (temp + rename) as the sandbox is built, so a crash at any point leaves a
record that names everything teardown must remove.
"""

from __future__ import annotations

import os
from _thread import get_ident  # not `threading` (~1.5 ms import on `run`'s path)

from runtime import cjson as json  # not `json` (it imports re and enum: ~15 ms of `run`)
from runtime.datarecord import asdict
from runtime.network.interface import PortMapping, SandboxExistsError, SandboxNet
from runtime.textfile import unlink_missing_ok, write_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from runtime.containers.rootfs import StrPath


class Records:
    # str paths: pathlib costs ~10 ms of a `run` (re, urllib.parse, ipaddress)
    def __init__(self, state_dir: StrPath) -> None:
        self.dir = os.path.join(state_dir, "sandboxes")

    def _path(self, sandbox_id: str) -> str:
        return f"{self.dir}/{sandbox_id}.json"

    def _tmp(self) -> str:
        return f"{self.dir}/.tmp-{os.getpid()}-{get_ident()}"

    def claim(self, net: SandboxNet) -> None:
        """Create the record; SandboxExistsError if the id already has one."""
        os.makedirs(self.dir, exist_ok=True)
        tmp = self._tmp()
        write_file(tmp, json.dumps(asdict(net)))
        try:
            os.link(tmp, self._path(net.sandbox_id))
        except FileExistsError:
            raise SandboxExistsError(f"sandbox {net.sandbox_id} already has a network") from None
        finally:
            unlink_missing_ok(tmp)

    def save(self, net: SandboxNet) -> None:
        tmp = self._tmp()
        write_file(tmp, json.dumps(asdict(net)))
        os.replace(tmp, self._path(net.sandbox_id))

    def load(self, sandbox_id: str) -> SandboxNet | None:
        try:
            with open(self._path(sandbox_id)) as f:
                data = json.loads(f.read())
        except FileNotFoundError:
            return None
        except ValueError:
            return None  # a torn or foreign file: teardown falls back to derived names
        data["ports"] = [PortMapping(**p) for p in data.get("ports", [])]
        return SandboxNet(**data)

    def remove(self, sandbox_id: str) -> None:
        unlink_missing_ok(self._path(sandbox_id))

    def all(self) -> list[SandboxNet]:
        try:
            names = sorted(os.listdir(self.dir))
        except FileNotFoundError:
            return []
        nets = []
        for name in names:
            if name.endswith(".json") and not name.startswith("."):
                net = self.load(name[: -len(".json")])
                if net is not None:
                    nets.append(net)
        return nets
