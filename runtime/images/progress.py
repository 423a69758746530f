"""Pull progress as docker shows it: one line per layer, redrawn in place on a terminal.

A pull reports `(digest, bytes done, bytes total, status)` events (registry.Progress). `PullState`
keeps the latest of each layer; `render` turns it into the lines a terminal shows (a header, then
`<12-hex digest>: <status>` per layer, with a bar and byte counts while downloading), and
`event_line` gives the one line a log gets when a layer's status changes (docker's non-terminal
output: no byte counts, no redraws, so no progress spam in a CI log). Both are pure and unit
tested; `PullDisplay` is the thin shell that writes them: on a terminal it moves the cursor back
up over what it drew last (ANSI) at most every `interval` seconds while bytes flow, and at once
when a status changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from runtime.datarecord import field, record

# registry statuses -> the words docker prints
STATUS_TEXT = {
    "waiting": "Pulling fs layer",
    "exists": "Already exists",
    "downloading": "Downloading",
    "done": "Download complete",
    "extracting": "Extracting",
    "complete": "Pull complete",
    "pushed": "Pushed",
}
# statuses a log gets a line for (docker leaves the byte-count ones to terminals)
EVENT_STATUSES = frozenset({"waiting", "exists", "done", "complete", "pushed"})
BAR_WIDTH = 50


@record
class LayerProgress:
    digest: str
    done: int = 0
    total: int = 0
    status: str = "waiting"

    @property
    def short(self) -> str:
        return self.digest.partition(":")[2][:12] or self.digest[:12]


@record
class PullState:
    header: str  # e.g. `1.0: Pulling from demo/web`
    layers: dict[str, LayerProgress] = field(default_factory=dict)  # in the order first reported

    def apply(self, digest: str, done: int, total: int, status: str) -> bool:
        """Record an event; True when it changed the layer's status (a line for a log)."""
        layer = self.layers.get(digest)
        if layer is None:
            layer = self.layers[digest] = LayerProgress(digest, status="")
        changed = layer.status != status
        layer.done, layer.total, layer.status = done, total, status
        return changed


def human_size(n: float) -> str:
    """docker's decimal units: 4.86MB, 120kB, 512B."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.3g}{unit}" if unit != "B" else f"{int(n)}B"
        n /= 1000
    return f"{n}TB"


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """`[=====>     ]`, as docker draws a download."""
    if total <= 0:
        return ""
    filled = min(width, done * width // total)
    arrow = ">" if filled < width else ""
    return "[" + "=" * filled + arrow + " " * (width - filled - len(arrow)) + "]"


def layer_line(layer: LayerProgress) -> str:
    text = STATUS_TEXT.get(layer.status, layer.status.capitalize())
    if layer.status == "downloading":
        text += f" {bar(layer.done, layer.total)} {human_size(layer.done)}/{human_size(layer.total)}"
    return f"{layer.short}: {text}"


def render(state: PullState) -> list[str]:
    """What a terminal shows: the header, then one line per layer."""
    return [state.header, *(layer_line(layer) for layer in state.layers.values())]


def event_line(layer: LayerProgress) -> str | None:
    """The line a log gets for this layer's new status (None for byte-count statuses)."""
    if layer.status not in EVENT_STATUSES:
        return None
    return f"{layer.short}: {STATUS_TEXT[layer.status]}"


class PullDisplay:
    """A registry.Progress callback that writes to `out`: redrawn lines on a terminal (`tty`),
    one line per status change otherwise."""

    def __init__(
        self,
        out: TextIO,
        tty: bool,
        header: str,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out, self.tty, self.interval, self.clock = out, tty, interval, clock
        self.state = PullState(header)
        self._drawn = 0  # lines on the terminal that a redraw goes back over
        self._last = float("-inf")
        self._started = False

    def __call__(self, digest: str, done: int, total: int, status: str) -> None:
        self.start()
        changed = self.state.apply(digest, done, total, status)
        if not self.tty:
            line = event_line(self.state.layers[digest]) if changed else None
            if line:
                self.out.write(line + "\n")
                self.out.flush()
            return
        now = self.clock()
        if changed or now - self._last >= self.interval:
            self._last = now
            self.redraw()

    def start(self) -> None:
        """The header, once (also for a pull that finds nothing to fetch)."""
        if self._started:
            return
        self._started = True
        if self.tty:
            self.redraw()
        else:
            self.out.write(self.state.header + "\n")
            self.out.flush()

    def redraw(self) -> None:
        lines = render(self.state)
        up = f"\x1b[{self._drawn}F" if self._drawn else ""  # to the start of the first line drawn
        self.out.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        self.out.flush()
        self._drawn = len(lines)

    def close(self) -> None:
        """The final state (a terminal may hold a throttled one)."""
        if self.tty and self._started:
            self.redraw()
