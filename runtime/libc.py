"""The few libc calls `os` lacks (mount, umount2, prctl, unshare, setns), without the ctypes package.

`import ctypes` defines a class per C type (~30) and imports struct: 2-4 ms of a `kubelite
runtime run --rm`, which needs three libc functions. ctypes itself stands on the `_ctypes` C
module, and so do these calls, the way `ctypes.CDLL(None, use_errno=True)` makes them: a
function pointer type with the C calling convention, errno saved after each call (read with
`get_errno`), an int result, and each argument converted as ctypes converts it without argtypes
(bytes -> char *, int -> int, None -> NULL). The symbols are the process's own (dlopen(NULL)):
libc is loaded already, so nothing is looked up on disk.
"""

from __future__ import annotations

import _ctypes
import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import Callable

    Function = Callable[..., int]


class _Int(_ctypes._SimpleCData):  # ctypes.c_int
    _type_ = "i"


class _CFunction(_ctypes.CFuncPtr):  # what ctypes.CDLL(None, use_errno=True) makes of each function
    _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
    _restype_ = _Int


class _Process:
    """The running process's symbols, as CDLL(None) holds them (`CFuncPtr` reads `_handle`)."""

    _handle = _ctypes.dlopen(None, os.RTLD_LOCAL)  # type: ignore[arg-type]  # NULL: the process itself


_functions: dict[str, Function] = {}


def function(name: str) -> Function:
    """libc's `name` (AttributeError when there is none), cached."""
    found = _functions.get(name)
    if found is None:
        found = _functions[name] = _CFunction((name, _Process))  # type: ignore[arg-type]  # duck-typed CDLL
    return found


def get_errno() -> int:
    """errno as the last call of this thread through `function` left it."""
    return int(_ctypes.get_errno())


def check(result: int, what: str) -> None:
    """OSError(errno) naming `what` for a failed call (a non-zero result)."""
    if result != 0:
        code = get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
