"""Per-sandbox network records on disk: what `BridgeNetwork.list()` and teardown read after a restart.

`STATE/sandboxes/<id>.json` holds a SandboxNet. The record is claimed before any kernel object
exists (link() of a temp file, atomic across processes: a second setup of the same id fails),
then rewritten (temp + rename) as the sandbox is built, so a crash at any point leaves a
record that names everything teardown must remove.
"""

from __future__ import annotations

import json
import os
from _thread import get_ident  # not `threading` (~1.5 ms import on `run`'s path)
from pathlib import Path

from runtime.datarecord import asdict
from runtime.network.interface import PortMapping, SandboxExistsError, SandboxNet


class Records:
    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir) / "sandboxes"

    def _path(self, sandbox_id: str) -> Path:
        return self.dir / f"{sandbox_id}.json"

    def _tmp(self) -> Path:
        return self.dir / f".tmp-{os.getpid()}-{get_ident()}"

    def claim(self, net: SandboxNet) -> None:
        """Create the record; SandboxExistsError if the id already has one."""
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp()
        tmp.write_text(json.dumps(asdict(net)))
        try:
            os.link(tmp, self._path(net.sandbox_id))
        except FileExistsError:
            raise SandboxExistsError(f"sandbox {net.sandbox_id} already has a network") from None
        finally:
            tmp.unlink(missing_ok=True)

    def save(self, net: SandboxNet) -> None:
        tmp = self._tmp()
        tmp.write_text(json.dumps(asdict(net)))
        os.replace(tmp, self._path(net.sandbox_id))

    def load(self, sandbox_id: str) -> SandboxNet | None:
        try:
            data = json.loads(self._path(sandbox_id).read_text())
        except FileNotFoundError:
            return None
        except ValueError:
            return None  # a torn or foreign file: teardown falls back to derived names
        data["ports"] = [PortMapping(**p) for p in data.get("ports", [])]
        return SandboxNet(**data)

    def remove(self, sandbox_id: str) -> None:
        self._path(sandbox_id).unlink(missing_ok=True)

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
