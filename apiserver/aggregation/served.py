"""The APIServices this server follows, and the one lookup a request makes.

Every API server mirrors the APIServices (list, then watch), as kube-aggregator's informer does,
so one written through any server routes on all. `remote` maps (group, version) to the
service-backed APIService that serves it: the request path consults it only when it is not
empty (`app` checks its truthiness first), so a cluster with Local APIServices alone pays one
attribute read per request. `fetched` keeps each extension server's last APIResourceList (what
the availability check read), for aggregated discovery; `generation` counts every change that
alters a discovery document, which `handlers.meta` keys its cached documents by.
`listeners` (the availability controller's enqueue) hear the name of every APIService that
changed. The relay to extension servers (`proxy.Relay`) is made on its first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api import jsonutil
from apiserver.aggregation.apiservices import APIServiceInfo, parse
from apiserver.mirror import StoreMirror
from apiserver.storage.interface import Store

log = logging.getLogger(__name__)
PREFIX = "/registry/apiregistration.k8s.io/apiservices/"


class Aggregator:
    def __init__(self, store: Store, client_cert: tuple[Path, Path] | None = None) -> None:
        self.store = store
        self.client_cert = client_cert  # the front-proxy client certificate and key
        self.objects: dict[str, dict[str, Any]] = {}
        self.infos: dict[str, APIServiceInfo] = {}
        self.remote: dict[tuple[str, str], APIServiceInfo] = {}
        self.fetched: dict[str, dict[str, Any]] = {}
        self.generation = 0
        self.listeners: list[Callable[[str], None]] = []
        self.mirror = StoreMirror(store, PREFIX, self._changed, self._relisted)
        self._relay: Any = None

    # --- following the store ---
    def note(self, key: str, value: bytes | None) -> None:
        """This server's own APIService write, seen at once (another server's come by the watch)."""
        self.mirror.note(key, value)

    def _relisted(self) -> None:
        for name in list(self.objects):
            self._set(name, None)

    def _changed(self, key: str, value: bytes | None) -> None:
        self._set(key[len(PREFIX) :], None if value is None else jsonutil.loads(value))

    def _set(self, name: str, obj: dict[str, Any] | None) -> None:
        before = self.infos.get(name)
        if obj is None:
            self.objects.pop(name, None)
            self.infos.pop(name, None)
            self.fetched.pop(name, None)
        else:
            self.objects[name] = obj
            self.infos[name] = parse(obj)
        info = self.infos.get(name)
        if info != before:
            self.generation += 1
            self.remote = {
                (i.group, i.version): i for i in self.infos.values() if i.service is not None and i.group
            }
            if (
                before is not None
                and before.service is not None
                and (info is None or info.service != before.service)
            ):
                self.fetched.pop(name, None)  # another backend now, or none: its list is no longer true
        for listener in self.listeners:
            listener(name)

    def set_fetched(self, name: str, resource_list: dict[str, Any] | None) -> None:
        """The extension server's APIResourceList as the last check read it (None: forget it)."""
        if resource_list is None:
            if self.fetched.pop(name, None) is not None:
                self.generation += 1
        elif self.fetched.get(name) != resource_list:
            self.fetched[name] = resource_list
            self.generation += 1

    # --- what requests consult ---
    def backend_for(self, path: str) -> APIServiceInfo | None:
        """The service-backed APIService serving `path` (`/apis/<group>/<version>[/...]`), if any."""
        parts = path.split("/", 4)
        if len(parts) < 4 or parts[0] or parts[1] != "apis":
            return None
        return self.remote.get((parts[2], parts[3]))

    def all(self) -> list[APIServiceInfo]:
        return list(self.infos.values())

    def relay(self) -> Any:
        """The relay to extension servers (`apiserver.aggregation.proxy.Relay`), made on first use."""
        if self._relay is None:
            from apiserver.aggregation.proxy import Relay

            self._relay = Relay(self.store, self.client_cert, self._unreachable)
        return self._relay

    def _unreachable(self, name: str) -> None:
        for listener in self.listeners:  # a relay that could not reach the backend: check it again now
            listener(name)

    async def start(self) -> None:
        await self.mirror.start()

    async def stop(self) -> None:
        await self.mirror.stop()
        if self._relay is not None:
            await self._relay.aclose()
