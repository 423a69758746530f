"""Unpacked layers stack under a real overlayfs mount, and an upper dir turns back into a layer."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runtime.images import ImageStore
from runtime.images.base import build_base
from tests.runtime.images.conftest import add_layer


@contextmanager
def overlay(lowers: list[Path], work: Path) -> Iterator[tuple[Path, Path]]:
    """Mount lowers (given LOWEST first, as layer_dirs returns them) with a fresh upper."""
    upper, scratch, merged = work / "upper", work / "work", work / "merged"
    for d in (upper, scratch, merged):
        d.mkdir(parents=True)
    lowerdir = ":".join(str(d) for d in reversed(lowers))
    subprocess.run(
        [
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            f"lowerdir={lowerdir},upperdir={upper},workdir={scratch}",
            str(merged),
        ],
        check=True,
    )
    try:
        yield merged, upper
    finally:
        subprocess.run(["umount", str(merged)], check=True)
        shutil.rmtree(scratch, ignore_errors=True)


def test_layers_stack_and_whiteouts_hide(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "root")
    _, web = build_base(store)
    hide = add_layer(
        store,
        [
            ("www", "dir", ""),
            ("www/.wh.index.html", "file", ""),
            ("bin", "dir", ""),
            ("bin/.wh.busybox", "file", ""),
            ("etc", "dir", ""),
            ("etc/.wh..wh..opq", "file", ""),
            ("etc/motd", "file", "hi"),
        ],
    )
    image = store.create_image(web.config, [*web.layers, hide], ["hidden:1"])
    with overlay(store.layer_dirs(web), tmp_path / "a") as (merged, _):
        assert (merged / "www/index.html").is_file() and os.readlink(merged / "bin/sh") == "/bin/busybox"
    with overlay(store.layer_dirs(image), tmp_path / "b") as (merged, _):
        assert not (merged / "www/index.html").exists() and not (merged / "bin/busybox").exists()
        assert sorted(os.listdir(merged / "etc")) == ["motd"]  # opaque: passwd and group hidden


def test_upper_dir_becomes_a_layer_that_replays_the_change(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "root")
    busybox, _ = build_base(store)
    with overlay(store.layer_dirs(busybox), tmp_path / "a") as (merged, upper):
        (merged / "etc/passwd").unlink()
        (merged / "etc/new").write_text("new")
        layer = store.layer_from_dir(upper)
    child = store.create_image(busybox.config, [*busybox.layers, layer], ["child:1"])
    with overlay(store.layer_dirs(child), tmp_path / "b") as (merged, _):
        assert not (merged / "etc/passwd").exists()
        assert (merged / "etc/new").read_text() == "new" and (merged / "etc/group").is_file()


def test_volatile_rootfs_mounts_again_and_keeps_its_writes(tmp_path: Path) -> None:
    """A `--rm` container's rootfs is a volatile overlay (no syncs); overlay leaves a marker that
    refuses the workdir on the next mount, which a restart in the same boot must survive."""
    from runtime.containers import rootfs

    store = ImageStore(tmp_path / "root")
    busybox, _ = build_base(store)
    b = tmp_path / "ctr"
    for i in range(2):
        rootfs.mount_overlay(store.layer_dirs(busybox), b / "upper", b / "work", b / "rootfs", volatile=True)
        try:
            assert rootfs.is_mounted(b / "rootfs")
            (b / "rootfs" / f"written-{i}").write_text("x")
            assert sorted(p.name for p in (b / "rootfs").glob("written-*")) == [
                f"written-{n}" for n in range(i + 1)
            ]
        finally:
            rootfs.unmount(b / "rootfs")
        assert not rootfs.is_mounted(b / "rootfs")
        assert (
            b / "work" / "work" / "incompat" / "volatile"
        ).exists()  # the marker the next mount must clear
