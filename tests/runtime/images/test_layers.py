"""Layer unpacking: overlayfs whiteouts, hard links, devices, and hostile entries refused whole."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runtime.images import ImageStore
from runtime.images.errors import DigestMismatch, ImageError, UnsafeLayer
from runtime.images.model import LayerRef
from tests.runtime.images.conftest import add_layer, image_config


def _unpack(store: ImageStore, entries: list) -> Path:
    layer = add_layer(store, entries)
    image = store.create_image(image_config(), [layer], ["t:1"])
    return store.layer_dirs(image)[0]


def _leftovers(store: ImageStore) -> list[str]:
    return sorted(os.listdir(store.layers_dir)) if store.layers_dir.exists() else []


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([("a", "dir", ""), ("a/../../evil", "file", "x")], "escapes"),
        ([("../evil", "file", "x")], "escapes"),
        ([("/etc/evil", "file", "x")], "absolute"),
        ([("ok", "file", "fine"), ("link", "sym", "/etc"), ("link/evil", "file", "x")], "symlink"),
        ([("link", "sym", "../../../../.."), ("link/tmp/evil", "file", "x")], "symlink"),
        ([("ok", "file", "x"), ("hl", "hard", "../../etc/passwd")], "escapes"),
        ([("s", "sym", "/etc"), ("hl", "hard", "s/passwd")], "outside"),
    ],
)
def test_escaping_layers_are_refused_and_leave_nothing(
    store: ImageStore, entries: list, message: str
) -> None:
    with pytest.raises(UnsafeLayer, match=message):
        _unpack(store, entries)
    assert _leftovers(store) == []
    assert not Path("/etc/evil").exists()


def test_whiteouts_become_overlay_whiteouts(store: ImageStore) -> None:
    d = _unpack(
        store,
        [
            ("etc", "dir", ""),
            ("etc/.wh.gone", "file", ""),
            ("opq", "dir", ""),
            ("opq/.wh..wh..opq", "file", ""),
            ("opq/kept", "file", "k"),
        ],
    )
    st = os.lstat(d / "etc/gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)
    assert os.getxattr(d / "opq", "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(d / "opq")) == ["kept"]


def test_links_devices_and_modes(store: ImageStore) -> None:
    d = _unpack(
        store,
        [
            ("bin", "dir", ""),
            ("bin/tool", "file", "#!/bin/sh\n"),
            ("bin/alias", "hard", "bin/tool"),
            ("bin/sym", "sym", "/bin/tool"),
            ("null", "chr", ""),
            ("deep/nested/f", "file", "x"),
            ("bin/su", "suid", "s"),
        ],
    )
    su = os.stat(d / "bin/su")
    assert (su.st_uid, su.st_gid, stat.S_IMODE(su.st_mode)) == (1234, 5678, 0o4755)
    a, b = os.stat(d / "bin/tool"), os.stat(d / "bin/alias")
    assert a.st_ino == b.st_ino and a.st_nlink == 2
    assert os.readlink(d / "bin/sym") == "/bin/tool"
    assert stat.S_ISCHR(os.lstat(d / "null").st_mode)
    assert (d / "deep/nested/f").read_text() == "x"
    assert os.stat(d / "bin").st_mtime == 1_600_000_000


def test_later_entries_replace_earlier(store: ImageStore) -> None:
    d = _unpack(
        store,
        [
            ("x", "file", "one"),
            ("x", "file", "two"),
            ("y", "dir", ""),
            ("y/f", "file", "f"),
            ("y", "sym", "x"),
        ],
    )
    assert (d / "x").read_text() == "two"
    assert os.readlink(d / "y") == "x"


def test_wrong_diff_id_is_refused(store: ImageStore) -> None:
    good = add_layer(store, [("f", "file", "data")])
    forged = LayerRef("sha256:" + "0" * 64, good.digest, good.size)
    image = store.create_image(image_config(), [forged], ["t:1"])
    with pytest.raises(DigestMismatch):
        store.layer_dirs(image)
    assert _leftovers(store) == []


def test_layer_from_dir_round_trips_whiteouts(store: ImageStore, tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    (upper / "etc/new").write_text("n")
    os.link(upper / "etc/new", upper / "etc/new2")
    os.mknod(upper / "etc/removed", stat.S_IFCHR, os.makedev(0, 0))
    (upper / "opq").mkdir()
    os.setxattr(upper / "opq", "trusted.overlay.opaque", b"y")
    (upper / "opq/only").write_text("o")
    os.symlink("new", upper / "etc/link")
    layer = store.layer_from_dir(upper)
    assert store.blobs.has(layer.digest)
    image = store.create_image(image_config(), [layer], ["t:2"])
    d = store.layer_dirs(image)[0]
    assert (d / "etc/new").read_text() == "n"
    assert os.stat(d / "etc/new").st_ino == os.stat(d / "etc/new2").st_ino
    assert os.lstat(d / "etc/removed").st_rdev == 0 and stat.S_ISCHR(os.lstat(d / "etc/removed").st_mode)
    assert os.getxattr(d / "opq", "trusted.overlay.opaque") == b"y"
    assert os.readlink(d / "etc/link") == "new"
    # same tree, same bytes: the layer is reproducible
    assert store.layer_from_dir(upper) == layer


def test_layer_from_dir_refuses_partial_copy_ups(store: ImageStore, tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    (upper / "moved").mkdir(parents=True)
    os.setxattr(upper / "moved", "trusted.overlay.redirect", b"/orig")
    with pytest.raises(ImageError, match="redirect_dir=off"):
        store.layer_from_dir(upper)
    assert os.listdir(store.blobs.tmp_dir) == []
