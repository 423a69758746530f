"""Pull progress rendering (pure) and its display on a terminal and in a log (fake clock, StringIO)."""

from __future__ import annotations

import io
import re

from runtime.images.progress import LayerProgress, PullDisplay, PullState, bar, event_line, render

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def screen(written: str) -> list[str]:
    """What a terminal shows after `written`: lines, `ESC[nF` (up n lines, to column 0), `ESC[2K`."""
    lines: list[str] = []
    row = 0
    for token in re.split(r"(\x1b\[\d*F|\x1b\[2K|\n)", written):
        if not token or token == "\x1b[2K":
            if token and row < len(lines):
                lines[row] = ""
            continue
        if token == "\n":
            row += 1
        elif token.startswith("\x1b["):
            row -= int(token[2:-1] or 1)
        else:
            while len(lines) <= row:
                lines.append("")
            lines[row] += token
    return lines


def test_render_shows_each_layer_with_bytes_while_downloading() -> None:
    state = PullState("1.0: Pulling from demo/web")
    state.apply(A, 0, 3_400_000, "waiting")
    state.apply(B, 5_000, 5_000, "exists")
    state.apply(A, 1_200_000, 3_400_000, "downloading")
    assert render(state) == [
        "1.0: Pulling from demo/web",
        f"aaaaaaaaaaaa: Downloading {bar(1_200_000, 3_400_000)} 1.2MB/3.4MB",
        "bbbbbbbbbbbb: Already exists",
    ]
    assert bar(1, 2, 10) == "[=====>    ]" and bar(2, 2, 10) == "[==========]" and bar(0, 0) == ""


def test_event_lines_only_for_status_changes_a_log_wants() -> None:
    assert event_line(LayerProgress(A, 0, 10, "waiting")) == "aaaaaaaaaaaa: Pulling fs layer"
    assert event_line(LayerProgress(A, 5, 10, "downloading")) is None
    assert event_line(LayerProgress(A, 10, 10, "extracting")) is None
    assert event_line(LayerProgress(A, 10, 10, "done")) == "aaaaaaaaaaaa: Download complete"
    assert event_line(LayerProgress(A, 10, 10, "complete")) == "aaaaaaaaaaaa: Pull complete"
    state = PullState("h")
    assert state.apply(A, 0, 10, "downloading") is True
    assert state.apply(A, 5, 10, "downloading") is False  # bytes only: no new event


def pull_events(display: PullDisplay) -> None:
    display.start()
    display(A, 0, 3000, "waiting")
    display(B, 200, 200, "exists")
    for done in range(0, 3001, 500):
        display(A, done, 3000, "downloading")
    display(A, 3000, 3000, "done")
    display(A, 3000, 3000, "extracting")
    display(A, 3000, 3000, "complete")
    display.close()


def test_a_log_gets_one_line_per_layer_event_and_no_terminal_codes() -> None:
    out = io.StringIO()
    pull_events(PullDisplay(out, tty=False, header="latest: Pulling from library/busybox"))
    assert out.getvalue().splitlines() == [
        "latest: Pulling from library/busybox",
        "aaaaaaaaaaaa: Pulling fs layer",
        "bbbbbbbbbbbb: Already exists",
        "aaaaaaaaaaaa: Download complete",
        "aaaaaaaaaaaa: Pull complete",
    ]


def test_a_terminal_is_redrawn_in_place_and_throttled() -> None:
    out = io.StringIO()
    now = [0.0]
    display = PullDisplay(out, tty=True, header="latest: Pulling from library/busybox", clock=lambda: now[0])
    display.start()
    display(A, 0, 3000, "waiting")
    display(B, 200, 200, "exists")
    display(A, 500, 3000, "downloading")  # a status change: drawn at once
    redraws = out.getvalue().count("\x1b[3F")
    display(A, 1000, 3000, "downloading")  # bytes within the interval: not drawn
    assert out.getvalue().count("\x1b[3F") == redraws
    now[0] = 0.5
    display(A, 1500, 3000, "downloading")  # the interval passed: drawn
    assert out.getvalue().count("\x1b[3F") == redraws + 1
    assert screen(out.getvalue())[1].endswith("1.5kB/3kB")
    display(A, 3000, 3000, "complete")
    display.close()
    assert screen(out.getvalue()) == [
        "latest: Pulling from library/busybox",
        "aaaaaaaaaaaa: Pull complete",
        "bbbbbbbbbbbb: Already exists",
    ]
