"""Watch delivery lag under load: how long after a create returns does a watcher see it?

While the control plane bench runs, one thread creates small ConfigMaps at a steady rate and
notes when each create returned; watcher threads follow a watch of ConfigMaps in the same
namespace and note when each one arrived. The lag is the difference (the target: p99 <= 1 s),
measured on the same server, under the same load as the pods. Each thread has its own client
(one connection each), as a controller and a writer would.

Two watchers side by side, because they measure different things:
- `informer`: one long watch (client-go's reflector asks for 5-10 min), the lag of delivery;
- `rewatch`: a watch that ends every 5 s and is made again from its last revision, so each new
  request (a TLS handshake and a queue behind the server's other work) is in its figures too.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from api.client import Client

NAMESPACE = "default"
PREFIX = "watch-lag-"
WATCHERS = {"informer": 300, "rewatch": 5}  # name -> the watch's timeoutSeconds


class WatchLag:
    def __init__(self, make_client: Callable[[], Client], rate: float = 10.0) -> None:
        self.make_client = make_client
        self.interval = 1.0 / rate
        self.returned: dict[str, float] = {}
        self.seen: dict[str, dict[str, float]] = {w: {} for w in WATCHERS}
        # per watcher: (when a watch ended, how long until the next one's first event)
        self.gaps: dict[str, list[tuple[float, float]]] = {w: [] for w in WATCHERS}
        self._stop = threading.Event()  # no more creates
        self._finished = threading.Event()  # no more watching
        self._creator: threading.Thread | None = None
        self.errors = 0

    def start(self) -> None:
        rv = self.make_client().list("configmaps", NAMESPACE, limit=1)["metadata"]["resourceVersion"]
        for name, timeout in WATCHERS.items():  # each starts at the listed revision: it misses no create
            threading.Thread(target=self._watch, args=(name, timeout, rv), daemon=True).start()
        self._creator = threading.Thread(target=self._create, daemon=True)
        self._creator.start()

    def stop(self) -> dict[str, list[float]]:
        """Stop creating, give the watches a moment for the last ones; each watcher's lags in seconds."""
        self._stop.set()
        assert self._creator is not None
        self._creator.join()
        deadline = time.monotonic() + 10
        while any(set(self.returned) - set(s) for s in self.seen.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._finished.set()
        return {
            w: [seen[n] - t for n, t in self.returned.items() if n in seen] for w, seen in self.seen.items()
        }

    @property
    def created(self) -> int:
        return len(self.returned)

    def missing(self, watcher: str) -> int:
        return len(set(self.returned) - set(self.seen[watcher]))

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

    def _watch(self, watcher: str, timeout: int, rv: str) -> None:
        c = self.make_client()
        seen = self.seen[watcher]
        ended_at: float | None = None
        while not self._finished.is_set():
            # a long watch's end is jittered as client-go's reflector does (timeout * [1, 2))
            t = timeout if timeout < 60 else int(timeout * (1 + random.random()))
            try:
                for ev in c.watch("configmaps", NAMESPACE, resource_version=rv, timeout_seconds=t):
                    if ended_at is not None:
                        self.gaps[watcher].append((ended_at, time.monotonic() - ended_at))
                        ended_at = None
                    if self._finished.is_set():
                        break
                    obj = ev["object"]
                    if ev["type"] == "ERROR":  # 410: start again from now (lags of the gap are lost)
                        rv = c.list("configmaps", NAMESPACE, limit=1)["metadata"]["resourceVersion"]
                        break
                    rv = obj["metadata"]["resourceVersion"]
                    name = obj["metadata"].get("name", "")
                    if ev["type"] == "ADDED" and name.startswith(PREFIX):
                        seen.setdefault(name, time.monotonic())
            except Exception:
                self.errors += 1
                time.sleep(0.5)
            ended_at = time.monotonic() if ended_at is None else ended_at
