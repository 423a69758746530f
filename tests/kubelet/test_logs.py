"""CRI log reading (runtime.containers.logs, kubelet.logs) and exec framing (kubelet.exec): pure decisions, plus the follower
over a real file that another task appends to."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from kubelet import exec as kexec
from kubelet import logs
from runtime.containers import logs as cri

T0 = "2026-11-29T07:47:40.000000000+00:00"
T1 = "2026-11-29T07:47:41.500000000+00:00"
T2 = "2026-11-29T07:47:42.775766070+00:00"
NS = cri.parse_time_ns


def raw(*records: tuple[str, str, str, str]) -> bytes:
    return b"".join(f"{ts} {stream} {tag} {text}\n".encode() for ts, stream, tag, text in records)


SAMPLE = raw(
    (T0, "stdout", "F", "one"),
    (T1, "stderr", "F", "two"),
    (T2, "stdout", "P", "thr"),
    (T2, "stdout", "F", "ee"),
    (T2, "stdout", "F", ""),
)


def render(data: bytes, **kw: object) -> bytes:
    return logs.render_all(cri.logical_lines(data.split(b"\n")), logs.LogOptions(**kw))  # type: ignore[arg-type]


def test_parse_record_and_garbage() -> None:
    r = cri.parse_record(b"2026-11-29T07:47:42.775766070+00:00 stdout P half a line")
    assert r == cri.Record(b"2026-11-29T07:47:42.775766070+00:00", b"stdout", True, b"half a line")
    assert cri.parse_record(b"not a log line") is None
    assert cri.parse_record(b"") is None
    assert cri.parse_record(b"TS stdout X text") is None
    assert cri.parse_record(b"TS stdout F") == cri.Record(b"TS", b"stdout", False, b"")


def test_partial_records_are_joined_and_keep_their_first_timestamp() -> None:
    assert render(SAMPLE) == b"one\ntwo\nthree\n\n"
    lines = list(cri.logical_lines(SAMPLE.split(b"\n")))
    assert [ln.text for ln in lines] == [b"one", b"two", b"three", b""]


def test_partials_of_two_streams_do_not_mix() -> None:
    data = raw(
        (T0, "stdout", "P", "a"), (T0, "stderr", "P", "x"), (T1, "stdout", "F", "b"), (T1, "stderr", "F", "y")
    )
    assert render(data) == b"ab\nxy\n"


def test_tail_timestamps_since_stream_limit() -> None:
    assert render(SAMPLE, tail_lines=2) == b"three\n\n"
    assert render(SAMPLE, tail_lines=0) == b""
    assert render(SAMPLE, tail_lines=99) == b"one\ntwo\nthree\n\n"
    assert render(SAMPLE, timestamps=True).split(b"\n")[:3] == [
        b"2026-11-29T07:47:40Z one",
        b"2026-11-29T07:47:41.5Z two",
        b"2026-11-29T07:47:42.77576607Z three",
    ]
    assert render(SAMPLE, since_ns=NS(T1.encode())) == b"two\nthree\n\n"
    assert render(SAMPLE, stream="Stderr") == b"two\n"
    assert render(SAMPLE, limit_bytes=6) == b"one\ntw"


def test_time_parsing() -> None:
    assert NS(b"1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert NS(b"1970-01-01T01:00:01+01:00") == 1_000_000_000
    assert NS(b"1970-01-01T00:00:00.000000001+00:00") == 1
    assert NS(b"garbage") is None
    assert cri.format_time(b"2026-11-29T08:47:42.100+01:00") == b"2026-11-29T07:47:42.1Z"


def test_parse_options() -> None:
    o = logs.parse_options(
        {"follow": "true", "tailLines": "5", "timestamps": "true", "sinceSeconds": "10"}, 100 * 10**9
    )
    assert (o.follow, o.tail_lines, o.timestamps, o.since_ns, o.previous) == (
        True,
        5,
        True,
        90 * 10**9,
        False,
    )
    assert logs.parse_options({"sinceTime": "1970-01-01T00:00:02Z"}, 0).since_ns == 2 * 10**9
    for bad in (
        {"tailLines": "x"},
        {"tailLines": "-1"},
        {"sinceSeconds": "0"},
        {"limitBytes": "0"},
        {"sinceTime": "yesterday"},
        {"stream": "Both"},
    ):
        with pytest.raises(logs.LogOptionError):
            logs.parse_options(bad, 0)


def test_tail_reads_from_the_end_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cri, "_BLOCK", 64)  # force several backward reads
    path = tmp_path / "log"
    records = [(T0, "stdout", "F", f"line {i}") for i in range(200)]
    records[-3] = (T0, "stdout", "P", "par")  # "part" + "line 198" make one logical line
    path.write_bytes(raw(*records))
    data, end = cri.read_tail(str(path), 3)
    assert end == path.stat().st_size
    assert render(data) == b"line 196\nparline 198\nline 199\n"
    data, _ = cri.read_tail(str(path), 500)
    assert render(data).count(b"\n") == 199
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert cri.read_tail(str(empty), 3) == (b"", 0)


def test_follow_sees_appended_lines_and_drains_after_exit(tmp_path: Path) -> None:
    asyncio.run(_follow_appended(tmp_path))


async def _follow_appended(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(raw((T0, "stdout", "F", "before")))
    offset = path.stat().st_size
    running = True

    async def is_running() -> bool:
        return running

    async def writer() -> None:
        nonlocal running
        with open(path, "ab") as f:
            for i in range(3):
                f.write(raw((T1, "stdout", "F", f"new {i}")))
                f.flush()
                await asyncio.sleep(0.02)
            f.write(raw((T2, "stdout", "P", "cut ")))
            f.write(b"2026-11-29T07:47:43.0+00:00 stdout F in the mid")  # conmon mid-write
            f.flush()
            await asyncio.sleep(0.05)
            f.write(b"dle\n")
            f.write(raw((T2, "stderr", "P", "dangling")))
        running = False

    task = asyncio.create_task(writer())
    got = [
        ln.text
        async for ln in cri.follow_lines(str(path), offset, is_running, cri.LineJoiner(), exit_check=0.01)
    ]
    await task
    assert got == [b"new 0", b"new 1", b"new 2", b"cut in the middle", b"dangling"]


def test_exec_query() -> None:
    o = kexec.parse_exec_query(
        [("command", "sh"), ("command", "-c"), ("command", "echo hi"), ("stdout", "true"), ("stderr", "true")]
    )
    assert o == kexec.ExecOptions(["sh", "-c", "echo hi"], False, True, True, False)
    assert kexec.parse_exec_query([("command", "sh"), ("input", "1"), ("output", "1"), ("tty", "1")]).stdin
    tty = kexec.parse_exec_query([("command", "sh"), ("stdout", "true"), ("stderr", "true"), ("tty", "true")])
    assert (tty.stdout, tty.stderr, tty.tty) == (True, False, True)
    with pytest.raises(kexec.ExecOptionError, match="at least 1 command"):
        kexec.parse_exec_query([("stdout", "true")])
    with pytest.raises(kexec.ExecOptionError, match="stdin, stdout, stderr"):
        kexec.parse_exec_query([("command", "ls")])


def test_exec_framing_and_statuses() -> None:
    assert kexec.choose_protocol(["v4.channel.k8s.io", "v5.channel.k8s.io"]) == kexec.V5
    assert kexec.choose_protocol(["v4.channel.k8s.io", "channel.k8s.io"]) == kexec.V4
    assert kexec.choose_protocol(["channel.k8s.io"]) is None
    assert kexec.frame(kexec.STDOUT, b"hi") == b"\x01hi"
    assert kexec.status_frame(kexec.exit_status(0, ["true"])) == b'\x03{"metadata":{},"status":"Success"}'
    failure = json.loads(kexec.status_frame(kexec.exit_status(3, ["sh", "-c", "exit 3"]))[1:])
    assert failure["reason"] == "NonZeroExitCode"
    assert failure["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert failure["message"].endswith("[sh -c exit 3], exit code 3")
    assert kexec.parse_resize(b'{"Width":120,"Height":40}') == (120, 40)
    assert kexec.parse_resize(b'{"Width":0,"Height":40}') is None
    assert kexec.parse_resize(b"nonsense") is None


def test_a_line_the_log_ends_inside(tmp_path: Path) -> None:
    # what conmon wrote for `echo one; printf 'no newline yet'; echo two >&2`
    data = raw((T0, "stdout", "F", "one"), (T0, "stdout", "P", "no newline yet"), (T1, "stderr", "F", "two"))
    path = tmp_path / "log"
    path.write_bytes(data)
    tail, _ = cri.read_tail(str(path), 2)
    assert tail == data[data.index(b"\n") + 1 :]  # the unfinished stdout line counts as one
    joiner = cri.LineJoiner()
    lines = [*cri.logical_lines(tail.split(b"\n"), joiner), *joiner.flush()]
    assert b"".join(logs.render(ln, False) for ln in lines) == b"two\nno newline yet"


def test_read_lines_block(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"aaaa\nbbbb\ncc")
    assert cri.read_lines_block(str(path), 0, 7) == (b"aaaa\n", 5)
    assert cri.read_lines_block(str(path), 5, 100) == (b"bbbb\n", 10)
    assert cri.read_lines_block(str(path), 10, 100) == (b"", 10)  # "cc" is not finished yet
    assert cri.read_lines_block(str(path), 0, 3) == (b"aaa", 3)  # longer than a block: given as is
