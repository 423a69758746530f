"""runtime/libc.py calls libc as ctypes.CDLL(None, use_errno=True) does: int results, errno kept per
thread, bytes/int/None arguments, an unknown symbol an AttributeError."""

from __future__ import annotations

import _thread
import errno
import os
from pathlib import Path

import pytest

from runtime import libc


def test_a_call_returns_libcs_int_result() -> None:
    assert libc.function("getpid")() == os.getpid()
    assert libc.function("getppid")() == os.getppid()


def test_a_failed_call_leaves_its_errno(tmp_path: Path) -> None:
    missing = os.path.join(str(tmp_path), "missing").encode()
    assert libc.function("umount2")(missing, 2) == -1  # bytes -> char *
    assert libc.get_errno() == errno.ENOENT
    assert libc.function("mount")(b"none", missing, None, 0, None) == -1  # None -> NULL
    assert libc.get_errno() == errno.ENOENT


def test_check_raises_the_calls_errno() -> None:
    libc.check(0, "fine")
    assert libc.function("umount2")(b"/nonexistent/kubelite-test", 2) == -1
    with pytest.raises(OSError) as caught:
        libc.check(-1, "umount /nonexistent/kubelite-test")
    assert caught.value.errno == errno.ENOENT
    assert "umount /nonexistent/kubelite-test" in str(caught.value)


def test_errno_is_per_thread() -> None:
    assert libc.function("umount2")(b"/nonexistent/kubelite-test", 2) == -1
    seen: list[int] = []
    done = _thread.allocate_lock()
    done.acquire()

    def other() -> None:
        libc.function("getpid")()  # succeeds: errno untouched in this thread
        seen.append(libc.get_errno())
        done.release()

    _thread.start_new_thread(other, ())
    done.acquire()
    assert seen == [0]
    assert libc.get_errno() == errno.ENOENT


def test_functions_are_cached_and_unknown_ones_fail() -> None:
    assert libc.function("getpid") is libc.function("getpid")
    with pytest.raises(AttributeError):
        libc.function("no_such_libc_function_kubelite")
