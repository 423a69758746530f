"""The modules of `kubelite runtime run` from one file of compiled code, instead of one import each.

A plain `run --rm` imports ~40 modules of this package. Each normal import looks the module up
(stats along the package path), opens, reads and checks its .pyc and runs the import system's
Python code for it: 3-4 ms of the run when the machine is quiet and 5-9 ms when it is loaded, as
file system calls slow down most then. The launcher (kubelite/launcher.py) puts a finder over a
bundle first in `sys.meta_path`: one read at start-up, then each module's code unmarshalled when
it is imported and run in a module made the way the import system makes one (`__file__`,
`__spec__`, `__path__` of a package: all as a normal import sets them).

A bundle never runs stale code: every entry carries its source's mtime (ns) and size, as a
.pyc does, and a module whose source has changed since (or a bundle of another Python) is left
to the normal import. `make install` and bench/runtime.py write it (`build`); without one,
everything imports as usual.
"""

from __future__ import annotations

import _frozen_importlib  # the import system itself (loaded at start-up): its ModuleSpec
import _frozen_importlib_external
import marshal
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    Entry = tuple[str, bool, int, int, bytes]  # source path, is a package, mtime ns, size, code

MAGIC = _frozen_importlib_external.MAGIC_NUMBER
# what a plain `run` imports (tests/runtime/test_runflags.py guards it): with what they import
RUN_PATH = (
    "runtime.cli",
    "runtime.runflags",
    "runtime.containers.commands",
    "runtime.containers.foreground",
    "runtime.images",
    "runtime.network.bridge",
    "runtime.network.etcfiles",
)


def default_path() -> str:
    """`runtime/__pycache__/runpath.<python>.bundle`, beside the package's .pyc files."""
    tag = sys.implementation.cache_tag
    return os.path.join(os.path.dirname(__file__), "__pycache__", f"runpath.{tag}.bundle")


class BundleFinder:
    """A meta path finder and loader for the modules in one bundle (see the module docstring)."""

    def __init__(self, entries: dict[str, Entry]) -> None:
        self.entries = entries

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        entry = self.entries.get(name)
        if entry is None:
            return None
        origin, is_package, mtime_ns, size, _ = entry
        try:
            st = os.stat(origin)
        except OSError:
            return None
        if st.st_mtime_ns != mtime_ns or st.st_size != size:
            return None  # edited since the bundle was built: the normal import compiles it
        # a loader by its methods (importlib.abc.Loader would import importlib.abc on the run path)
        spec: ModuleSpec = _frozen_importlib.ModuleSpec(name, self, origin=origin, is_package=is_package)  # type: ignore[arg-type]
        spec.has_location = True  # __file__ (and __cached__) from origin, as for a source file
        if is_package:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        return spec

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        code = marshal.loads(self.entries[module.__name__][4])
        exec(code, module.__dict__)


def install(path: str = "") -> BundleFinder | None:
    """Put the bundle's finder first in sys.meta_path; None (nothing changed) without a usable one."""
    try:
        with open(path or default_path(), "rb") as f:
            magic, entries = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if magic != MAGIC:
        return None  # written by another Python
    finder = BundleFinder(entries)
    sys.meta_path.insert(0, finder)
    return finder


def run_path_modules() -> list[str]:
    """This package's modules that the run path imports (imported here to find them)."""
    for name in RUN_PATH:
        __import__(name)
    return sorted(name for name in sys.modules if name == "runtime" or name.startswith("runtime."))


def entry_of(name: str) -> Entry | None:
    """A module's bundle entry from its source file; None for one without a .py source."""
    module = sys.modules.get(name) or __import__(name, fromlist=["_"])
    origin = getattr(module, "__file__", None)
    if not origin or not origin.endswith(".py"):
        return None
    st = os.stat(origin)  # before the read: an edit in between makes the entry stale, not wrong
    with open(origin, "rb") as f:
        source = f.read()
    code = compile(source, origin, "exec", dont_inherit=True)
    is_package = os.path.basename(origin) == "__init__.py"
    return origin, is_package, st.st_mtime_ns, st.st_size, marshal.dumps(code)


def build(path: str = "", modules: Iterable[str] = ()) -> str:
    """Write the bundle of `modules` (default: the run path's) atomically; its path."""
    target = path or default_path()
    entries: dict[str, Entry] = {}
    for name in modules or run_path_modules():
        entry = entry_of(name)
        if entry is not None:
            entries[name] = entry
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = f"{target}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(marshal.dumps((MAGIC, entries)))
    os.replace(tmp, target)
    return target
