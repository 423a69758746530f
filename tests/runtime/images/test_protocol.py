"""One behavioural suite of the image store seam (`ImageSource`), run over the real ImageStore and
FakeImageStore: put (a layer from a directory, an image from it), get by reference and id prefix,
tag, list, remove; the same calls and the same assertions, so container-side tests on the fake
see what the real store does. The fake's own extras (`add`, `calls`) are tested at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.images import ImageStore
from runtime.images.errors import ImageError, ImageInUse, ImageNotFound, InvalidReference
from runtime.images.protocol import FakeImageStore, ImageSource


@pytest.fixture(params=["real", "fake"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ImageSource]:
    yield ImageStore(tmp_path / "real") if request.param == "real" else FakeImageStore(tmp_path / "fake")


def put(store: ImageSource, tmp_path: Path, tags: list[str], cmd: str = "sh", content: str = "hi") -> str:
    """A one-layer image made from a directory (as `commit` and `build` do); returns its id."""
    upper = tmp_path / f"upper-{cmd}-{content}"
    (upper / "etc").mkdir(parents=True, exist_ok=True)
    (upper / "etc" / "motd").write_text(content)
    layer = store.layer_from_dir(upper)
    assert layer.diff_id.startswith("sha256:") and layer.digest.startswith("sha256:")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": f"2024-01-0{len(tags) + 1}T00:00:00Z",
        "config": {"Cmd": [cmd]},
    }
    return store.create_image(config, [layer], tags).id


def test_an_empty_store(store: ImageSource) -> None:
    assert store.resolve("busybox") is None and store.list() == []
    with pytest.raises(ImageNotFound, match="image not found: busybox"):
        store.get("busybox")
    with pytest.raises(InvalidReference):
        store.resolve("Not A Reference!")
    assert store.gc() == 0


def test_put_get_by_reference_and_id(store: ImageSource, tmp_path: Path) -> None:
    image_id = put(store, tmp_path, ["app:1"])
    image = store.get("app:1")
    assert image.id == image_id and image_id.startswith("sha256:") and len(image_id) == 71
    assert image.refs == ["docker.io/library/app:1"]
    assert (
        store.get("docker.io/library/app:1").id
        == store.get(image_id[7:19]).id
        == store.get(image_id).id
        == image_id
    )
    assert image.config["config"] == {"Cmd": ["sh"]} and len(image.diff_ids) == 1 and len(image.layers) == 1
    dirs = store.layer_dirs(image)
    assert len(dirs) == 1 and dirs[0].is_dir()
    assert store.resolve("app:2") is None and store.resolve("other") is None
    assert [i.id for i in store.list()] == [image_id]
    # the same config and layers again is the same image: its references add up
    assert put(store, tmp_path, ["app:again"]) == image_id
    assert store.get("app:1").refs == ["docker.io/library/app:1", "docker.io/library/app:again"]


def test_tags_move_between_images(store: ImageSource, tmp_path: Path) -> None:
    first = put(store, tmp_path, ["app:1"], cmd="one")
    store.tag("app:1", "app:latest")
    assert store.get("app").id == first and store.get("app:1").refs == [
        "docker.io/library/app:1",
        "docker.io/library/app:latest",
    ]
    second = put(store, tmp_path, ["app:latest"], cmd="two")  # the tag moves to the new image
    assert second != first and store.get("app").id == second
    assert store.get(first).refs == ["docker.io/library/app:1"]
    store.tag(first[7:19], "app:latest")  # and back, by id prefix
    assert store.get("app").id == first and store.get(second).refs == []
    assert {i.id for i in store.list()} == {first, second}
    with pytest.raises(ImageNotFound):
        store.tag("nothing:1", "x:1")


def test_remove_untags_then_deletes_and_respects_use(store: ImageSource, tmp_path: Path) -> None:
    image_id = put(store, tmp_path, ["app:1", "app:2"])
    with pytest.raises(ImageError, match="must force"):  # an id naming an image of several refs
        store.remove(image_id[7:19])
    assert store.remove("app:2") == ["Untagged: docker.io/library/app:2"]  # other refs remain: only untagged
    assert store.get(image_id).refs == ["docker.io/library/app:1"]
    with pytest.raises(ImageInUse):
        store.remove("app:1", in_use=lambda i: i == image_id)
    assert store.get("app:1").id == image_id  # refused: nothing changed
    assert store.remove("app:1", force=True, in_use=lambda i: True) == ["Untagged: docker.io/library/app:1"]
    assert store.get(image_id).refs == []  # forced while in use: untagged, kept for its containers
    assert store.remove(image_id) == [f"Deleted: {image_id}"]
    assert store.list() == [] and store.resolve(image_id) is None
    with pytest.raises(ImageNotFound):
        store.remove("app:1")


def test_fake_store_seeds_images_and_records_calls(tmp_path: Path) -> None:
    fake = FakeImageStore(tmp_path)
    image = fake.add("busybox", {"Cmd": ["sh"], "Env": ["PATH=/bin"]}, layers=2)
    assert fake.get("busybox:latest").id == image.id and len(fake.layer_dirs(image)) == 2
    assert [c[0] for c in fake.calls] == ["create_image", "resolve", "layer_dirs"]
