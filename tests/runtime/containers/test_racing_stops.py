"""Two callers stopping or removing one container at once (a pod's deletion and its sync, `rm -f`
and a `stop`, a foreground `run --rm` and a `stop`) both succeed, and a removed container stays
removed: as CRI's StopContainer and RemoveContainer, this is idempotent and quiet.

The engine's side runs on records alone (a container whose init and monitor are gone, its exit
code written): no runc, conmon or network here. Each test lets the other caller run at one chosen
moment of the first (hooked at the write it is about to make), so the interleaving is the same on
every run rather than left to the scheduler.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.containers import ids
from runtime.containers.engine import Engine
from runtime.containers.store import Record


def exited_container(engine: Engine) -> Record:
    """A container recorded as running whose process is gone, exit code 137 written (as conmon
    does): the next stop or remove of it finishes it (runc's state, the rootfs, the record)."""
    cid = ids.new_id()
    rec = Record(
        id=cid,
        name=f"racing-{cid[:8]}",
        image="busybox",
        image_id="sha256:" + "0" * 64,
        created_at=time.time(),
        state="running",
        cgroups_path=f"/kubelite-test-none/{cid}",  # no cgroup: not OOM-killed
        started_at=time.time(),
    )
    engine.store.reserve_name(rec.name, cid)
    engine.store.save(rec)
    os.makedirs(engine.exits, exist_ok=True)
    with open(f"{engine.exits}/{cid}", "w") as f:
        f.write("137")
    return rec


def copy(rec: Record) -> Record:
    """What another caller loaded: its own copy of the same record."""
    return Record.from_json(dict(rec.__dict__))


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(tmp_path / "rt")


def in_another_thread(fn: Callable[[], object]) -> None:
    """Run `fn` to its end in a thread of its own (as the kubelet's runtime calls run), raising
    what it raised."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as e:
            failed.append(e)

    t = threading.Thread(target=run)
    t.start()
    t.join(60)
    assert not t.is_alive()
    if failed:
        raise failed[0]


def run_before_record_replace(monkeypatch: pytest.MonkeyPatch, other: Callable[[], object]) -> None:
    """Run `other` once, in another thread, when a caller has written its new record and is about
    to rename it into place (the moment a concurrent caller's removal or write met it)."""
    real = os.replace
    pending = [other]

    def replace(src: str, dst: str) -> None:
        if pending and str(dst).endswith("/record.json"):
            in_another_thread(pending.pop())
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_two_stops_of_one_container_both_succeed(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = exited_container(engine)
    run_before_record_replace(monkeypatch, lambda: engine.stop(copy(rec), 0))

    stopped = engine.stop(copy(rec), 0)

    assert (stopped.state, stopped.exit_code) == ("exited", 137)
    kept = engine.store.load(rec.id)
    assert (kept.state, kept.exit_code, kept.reason) == ("exited", 137, "Error")
    assert sorted(os.listdir(engine.bundle(rec.id))) == ["record.json"]  # no temporary file left


def test_a_stop_racing_a_removal_is_quiet_and_the_container_stays_removed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = exited_container(engine)
    run_before_record_replace(monkeypatch, lambda: engine.remove(copy(rec), force=True))

    stopped = engine.stop(copy(rec), 0)

    assert (stopped.state, stopped.exit_code) == ("exited", 137)
    assert engine.store.ids() == [] and engine.store.taken_names() == set()
    assert not os.path.exists(engine.bundle(rec.id))
    assert os.listdir(engine.store.root) == [".names"]  # nothing else, nor a half-removed directory


def test_two_removals_of_one_container_both_succeed(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = exited_container(engine)
    run_before_record_replace(monkeypatch, lambda: engine.remove(copy(rec), force=True))

    engine.remove(copy(rec), force=True)
    engine.remove(copy(rec), force=True)  # and once more, after it is gone

    assert engine.store.ids() == [] and os.listdir(engine.store.root) == [".names"]


def test_a_stop_writing_while_the_removal_empties_the_directory_leaves_no_ghost(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The removal has emptied the container's directory and is about to remove it when the stop
    writes its record there: the directory must not survive as a container again."""
    rec = exited_container(engine)
    stopper = copy(rec)
    remover = engine.refresh(copy(rec))  # finished: its removal goes straight to the files
    real_walk = os.walk
    stopped: list[Record] = []

    def walk(top: str, topdown: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:
        yield from real_walk(top, topdown=topdown)
        if not stopped:  # every entry is removed by now; the directory itself is next
            in_another_thread(lambda: stopped.append(engine.stop(stopper, 0)))

    monkeypatch.setattr(os, "walk", walk)
    engine.remove(remover, force=True)

    assert stopped and stopped[0].state == "exited"
    assert engine.store.ids() == [] and engine.store.all() == []
    assert os.listdir(engine.store.root) == [".names"]


def crashed_removal(engine: Engine) -> str:
    """What a removal that died between its rename and its emptying leaves: `.<id>.removing`
    holding the record and a log."""
    rec = exited_container(engine)
    left = f"{engine.store.root}/.{rec.id}.removing"
    os.rename(engine.store.dir(rec.id), left)
    os.makedirs(f"{left}/userdata")
    Path(f"{left}/userdata/ctr.log").write_text("a line\n")
    return left


def test_a_crashed_removals_leftover_is_swept_by_the_next_listing(engine: Engine) -> None:
    left = crashed_removal(engine)
    live = exited_container(engine)
    assert [r.id for r in engine.store.all()] == [live.id]
    assert not os.path.exists(left)
    assert sorted(os.listdir(engine.store.root)) == sorted([live.id, ".names"])


def test_a_leftover_with_a_mount_below_it_is_left_alone(engine: Engine) -> None:
    """Walking into a mount would delete what it shows (a bind-mounted host directory)."""
    left = crashed_removal(engine)
    below = f"{left}/rootfs"
    os.makedirs(below)
    subprocess.run(["mount", "-t", "tmpfs", "kubelite-test", below], check=True)
    try:
        Path(f"{below}/host-data").write_text("keep me")
        assert engine.store.all() == []
        assert Path(f"{below}/host-data").read_text() == "keep me"
    finally:
        subprocess.run(["umount", below], check=True)
    engine.store.all()
    assert not os.path.exists(left)


def test_an_exit_conmon_writes_while_a_refresh_looks_keeps_its_code(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """conmon writes the exit file and then exits. A refresh that found no file, and then no
    conmon, must read the file again: a Job's container that exited 3 was once reported as 255."""
    rec = exited_container(engine)
    os.remove(f"{engine.exits}/{rec.id}")  # not written yet when the refresh first looks

    def conmon_writes_and_exits(r: Record) -> int:
        with open(f"{engine.exits}/{r.id}", "w") as f:
            f.write("3")
        return 0

    monkeypatch.setattr(engine, "conmon_pid", conmon_writes_and_exits)

    done = engine.refresh(copy(rec))

    assert (done.state, done.exit_code, done.reason) == ("exited", 3, "Error")
