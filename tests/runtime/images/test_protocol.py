"""Both image stores satisfy the ImageSource seam; the fake behaves like the real one where it matters."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.images import ImageStore
from runtime.images.errors import ImageInUse, ImageNotFound
from runtime.images.protocol import FakeImageStore, ImageSource


def test_both_implement_the_seam(tmp_path: Path) -> None:
    stores: list[ImageSource] = [ImageStore(tmp_path / "real"), FakeImageStore(tmp_path / "fake")]
    assert all(s.resolve("busybox") is None for s in stores)


def test_fake_store_records_and_resolves(tmp_path: Path) -> None:
    fake = FakeImageStore(tmp_path)
    image = fake.add("busybox", {"Cmd": ["sh"], "Env": ["PATH=/bin"]}, layers=2)
    assert fake.get("busybox:latest").id == image.id == fake.get(image.id[:12]).id
    dirs = fake.layer_dirs(image)
    assert len(dirs) == 2 and all(d.is_dir() for d in dirs)
    fake.tag("busybox", "mine:1")
    assert "docker.io/library/mine:1" in fake.get("busybox").refs
    with pytest.raises(ImageInUse):
        fake.remove("busybox", in_use=lambda _: True)
    assert fake.remove("busybox")[-1] == f"Deleted: {image.id}"
    with pytest.raises(ImageNotFound):
        fake.get("busybox")
    assert [c[0] for c in fake.calls][:3] == ["create_image", "resolve", "resolve"]
