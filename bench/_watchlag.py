"""Watch delivery lag under load: how long after a create returns does a watcher see it?

While the control plane bench runs, one thread creates small ConfigMaps at a steady rate and
notes when each create returned; another follows a watch of ConfigMaps in the same namespace
and notes when each one arrived. The lag is the difference (the target: p99 <= 1 s), measured
on the same server, under the same load as the pods. Each side has its own client (one
connection each), as a controller and a writer would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from api.client import Client

NAMESPACE = "default"
PREFIX = "watch-lag-"


class WatchLag:
    def __init__(self, make_client: Callable[[], Client], rate: float = 10.0) -> None:
        self.make_client = make_client
        self.interval = 1.0 / rate
        self.returned: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()  # no more creates
        self._finished = threading.Event()  # no more watching
        self._threads: list[threading.Thread] = []
        self.errors = 0

    def start(self) -> None:
        rv = self.make_client().list("configmaps", NAMESPACE, limit=1)["metadata"]["resourceVersion"]
        self._threads = [  # the watch starts at the listed revision: it misses no create
            threading.Thread(target=self._watch, args=(rv,), daemon=True),
            threading.Thread(target=self._create, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self) -> list[float]:
        """Stop creating, give the watch a moment for the last ones, return the lags in seconds."""
        self._stop.set()
        self._threads[1].join()
        deadline = time.monotonic() + 10
        while set(self.returned) - set(self.seen) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._finished.set()
        return [self.seen[n] - t for n, t in self.returned.items() if n in self.seen]

    @property
    def created(self) -> int:
        return len(self.returned)

    def missing(self) -> int:
        return len(set(self.returned) - set(self.seen))

    def _create(self) -> None:
        c = self.make_client()
        i = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            name = f"{PREFIX}{i}"
            try:
                c.create("configmaps", {"metadata": {"name": name}, "data": {"i": str(i)}}, NAMESPACE)
                self.returned[name] = time.monotonic()
            except Exception:
                self.errors += 1
            i += 1
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _watch(self, rv: str) -> None:
        c = self.make_client()
        while not self._finished.is_set():
            try:
                for ev in c.watch("configmaps", NAMESPACE, resource_version=rv, timeout_seconds=5):
                    if self._finished.is_set():
                        break
                    obj = ev["object"]
                    if ev["type"] == "ERROR":  # 410: start again from now (lags of the gap are lost)
                        rv = c.list("configmaps", NAMESPACE, limit=1)["metadata"]["resourceVersion"]
                        break
                    rv = obj["metadata"]["resourceVersion"]
                    name = obj["metadata"].get("name", "")
                    if ev["type"] == "ADDED" and name.startswith(PREFIX):
                        self.seen.setdefault(name, time.monotonic())
            except Exception:
                self.errors += 1
                time.sleep(0.5)
