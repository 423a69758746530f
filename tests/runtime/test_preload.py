"""runtime/preload.py: modules from a bundle are the modules a normal import makes, a changed
source is imported normally, and an unusable bundle changes nothing."""

from __future__ import annotations

import marshal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime import preload

ATTRS = ("__name__", "__file__", "__package__", "__cached__")


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    """A package `klpre` (with a submodule) on sys.path, forgotten again afterwards."""
    pkg = tmp_path / "klpre"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("VALUE = 'init'\n")
    (pkg / "mod.py").write_text("from klpre import VALUE\nSEEN = VALUE + ' mod'\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield pkg
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("klpre", "klpre.mod"):
            sys.modules.pop(name, None)


def forget() -> None:
    for name in ("klpre", "klpre.mod"):
        sys.modules.pop(name, None)


def loader_of(name: str) -> object:
    spec = sys.modules[name].__spec__
    assert spec is not None
    return spec.loader


def import_with(finder: preload.BundleFinder | None) -> object:
    try:
        return __import__("klpre.mod", fromlist=["_"])
    finally:
        if finder is not None:
            sys.meta_path.remove(finder)


def test_a_bundled_module_is_what_a_normal_import_makes(package: Path, tmp_path: Path) -> None:
    normal = import_with(None)
    expected = {a: getattr(normal, a) for a in ATTRS}
    expected_pkg = {a: getattr(sys.modules["klpre"], a) for a in ATTRS}
    pkg_path = list(sys.modules["klpre"].__path__)
    bundle = preload.build(str(tmp_path / "b.bundle"), ["klpre", "klpre.mod"])
    forget()
    finder = preload.install(bundle)
    assert finder is not None and sys.meta_path[0] is finder
    mod = import_with(finder)
    assert loader_of("klpre.mod") is finder
    assert loader_of("klpre") is finder
    assert {a: getattr(mod, a) for a in ATTRS} == expected
    assert {a: getattr(sys.modules["klpre"], a) for a in ATTRS} == expected_pkg
    assert list(sys.modules["klpre"].__path__) == pkg_path
    assert mod.SEEN == "init mod"  # type: ignore[attr-defined]


def test_a_changed_source_is_imported_normally(package: Path, tmp_path: Path) -> None:
    bundle = preload.build(str(tmp_path / "b.bundle"), ["klpre", "klpre.mod"])
    forget()
    (package / "mod.py").write_text("from klpre import VALUE\nSEEN = VALUE + ' edited'\n")
    finder = preload.install(bundle)
    assert finder is not None
    mod = import_with(finder)
    assert mod.SEEN == "init edited"  # type: ignore[attr-defined]
    assert loader_of("klpre.mod") is not finder
    assert loader_of("klpre") is finder  # unchanged: still from the bundle


def test_an_unusable_bundle_changes_nothing(tmp_path: Path) -> None:
    before = list(sys.meta_path)
    assert preload.install(str(tmp_path / "missing.bundle")) is None
    (tmp_path / "junk.bundle").write_bytes(b"not marshal data")
    assert preload.install(str(tmp_path / "junk.bundle")) is None
    (tmp_path / "other.bundle").write_bytes(marshal.dumps((b"\x00\x00\r\n", {})))
    assert preload.install(str(tmp_path / "other.bundle")) is None  # another Python's
    assert sys.meta_path == before


def test_the_run_path_bundle_holds_what_a_plain_run_imports(tmp_path: Path) -> None:
    bundle = preload.build(str(tmp_path / "run.bundle"))
    code = (
        "import sys\nfrom runtime import cli\n"
        "cli._plain_run(['run', '--rm', 'busybox', 'true'], 'run')\n"
        "import runtime.containers.foreground, runtime.images, runtime.network.bridge, runtime.network.etcfiles\n"
        "print(' '.join(m for m in sys.modules if m.startswith('runtime')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    imported = set(out.split()) - {"runtime.preload"}
    with open(bundle, "rb") as f:
        magic, entries = marshal.loads(f.read())
    assert magic == preload.MAGIC
    assert imported <= set(entries)
