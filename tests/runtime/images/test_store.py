"""The store: verified blobs, resolve by ref/id/prefix, tag, rmi (in-use guard), gc, build_base."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.images import ImageStore
from runtime.images.base import build_base
from runtime.images.errors import AmbiguousImage, DigestMismatch, ImageError, ImageInUse, ImageNotFound
from runtime.images.manifest import canonical_json
from tests.runtime.images.conftest import add_layer, image_config


def test_blob_digest_and_size_mismatch_keep_nothing(store: ImageStore) -> None:
    data = b"hello blob"
    good = "sha256:" + hashlib.sha256(data).hexdigest()
    with pytest.raises(DigestMismatch, match="digest mismatch"):
        store.blobs.put(data, "sha256:" + "1" * 64)
    with pytest.raises(DigestMismatch, match="size mismatch"):
        store.blobs.put_stream([data[:4], data[4:]], good, len(data) + 1)
    assert store.blobs.all_digests() == [] and os.listdir(store.blobs.tmp_dir) == []
    assert store.blobs.put_stream([data[:4], data[4:]], good, len(data)) == good
    assert store.blobs.read(good) == data


def test_resolve_by_ref_id_and_prefix(store: ImageStore) -> None:
    layer = add_layer(store, [("f", "file", "x")])
    image = store.create_image(image_config(), [layer], ["busybox", "localhost:5000/a/b:v1"])
    assert image.refs == ["docker.io/library/busybox:latest", "localhost:5000/a/b:v1"]
    for key in (
        "busybox",
        "busybox:latest",
        "docker.io/library/busybox",
        image.id,
        image.id[7:11],
        f"busybox@{image.digest}",
    ):
        found = store.resolve(key)
        assert found is not None and found.id == image.id, key
    assert store.resolve("busybox:nope") is None
    got = store.get("busybox")
    assert got.config["rootfs"]["diff_ids"] == [layer.diff_id] and got.layers == [layer]
    with pytest.raises(ImageNotFound, match="image not found: nope"):
        store.get("nope")


def test_ambiguous_prefix(store: ImageStore) -> None:
    layer = add_layer(store, [("f", "file", "x")])
    seen: dict[str, int] = {}
    n = 0
    while True:  # birthday search for two configs whose ids share 4 hex digits (~300 hashes)
        config = {**image_config(), "n": n, "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]}}
        prefix = hashlib.sha256(canonical_json(config)).hexdigest()[:4]
        if prefix in seen:
            break
        seen[prefix] = n
        n += 1
    a = store.create_image({**image_config(), "n": seen[prefix]}, [layer], [])
    b = store.create_image({**image_config(), "n": n}, [layer], [])
    assert a.id[7:11] == b.id[7:11] == prefix
    with pytest.raises(AmbiguousImage):
        store.resolve(prefix)
    assert store.get(a.id[:20]).id == a.id


def test_tag_moves_and_rmi_untags_then_deletes(store: ImageStore) -> None:
    layer = add_layer(store, [("f", "file", "x")])
    a = store.create_image(image_config(), [layer], ["app:1"])
    store.tag("app:1", "app:2")
    assert store.get("app:2").id == a.id
    assert store.remove("app:1") == ["Untagged: docker.io/library/app:1"]
    lines = store.remove("app:2")
    assert lines == ["Untagged: docker.io/library/app:2", f"Deleted: {a.id}"]
    assert store.list() == [] and store.blobs.all_digests() == []


def test_rmi_refused_while_in_use_unless_forced(store: ImageStore) -> None:
    layer = add_layer(store, [("f", "file", "x")])
    image = store.create_image(image_config(), [layer], ["app:1"])
    dirs = store.layer_dirs(image)
    with pytest.raises(ImageInUse, match="in use"):
        store.remove("app:1", in_use=lambda i: i == image.id)
    assert store.get("app:1").id == image.id
    assert store.remove("app:1", force=True, in_use=lambda i: True) == ["Untagged: docker.io/library/app:1"]
    assert store.resolve("app:1") is None
    dangling = store.get(image.id)  # kept for the container using it, layers too
    assert dangling.refs == [] and dirs[0].is_dir()
    assert store.gc() == 0 and dirs[0].is_dir()
    assert store.remove(image.id)[-1] == f"Deleted: {image.id}"
    assert not dirs[0].exists()


def test_rmi_by_id_with_several_refs_needs_force(store: ImageStore) -> None:
    image = store.create_image(image_config(), [add_layer(store, [("f", "file", "x")])], ["a:1", "b:1"])
    with pytest.raises(ImageError, match="must force"):
        store.remove(image.id)
    assert store.remove(image.id, force=True)[-1] == f"Deleted: {image.id}"


def test_gc_removes_unreferenced_blobs_and_layers(store: ImageStore) -> None:
    keep = add_layer(store, [("k", "file", "k")])
    orphan = add_layer(store, [("o", "file", "o")])
    image = store.create_image(image_config(), [keep], ["a:1"])
    store.layer_dirs(image)
    (store.layers_dir / ("f" * 64)).mkdir()
    assert store.gc() == 2
    assert not store.blobs.has(orphan.digest) and store.blobs.has(keep.digest)
    assert store.layer_dirs(store.get("a:1"))[0].is_dir()
    assert sorted(os.listdir(store.layers_dir)) == [keep.diff_id[7:]]


def test_build_base_is_reproducible_and_shares_the_base_layer(tmp_path: Path) -> None:
    one = build_base(ImageStore(tmp_path / "a"))
    two = build_base(ImageStore(tmp_path / "b"))
    assert [(i.id, i.digest) for i in one] == [(i.id, i.digest) for i in two]
    busybox, web = one
    store = ImageStore(tmp_path / "a")
    assert store.get("busybox:1.35").id == store.get("busybox").id == busybox.id
    assert store.get("kubelite/web:1.0").id == store.get("kubelite/web").id == web.id
    assert web.diff_ids[0] == busybox.diff_ids[0] and len(web.diff_ids) == 2
    assert web.config["config"]["Cmd"] == ["httpd", "-f", "-p", "8080", "-h", "/www"]
    assert web.config["config"]["ExposedPorts"] == {"8080/tcp": {}}
    base, www = store.layer_dirs(web)
    assert os.readlink(base / "bin/sh") == "/bin/busybox"
    assert (base / "etc/passwd").read_text().startswith("root:x:0:0:")
    assert os.stat(base / "tmp").st_mode & 0o7777 == 0o1777
    assert b"kubelite" in (www / "www/index.html").read_bytes()
    assert build_base(store, if_missing=True)[0].id == busybox.id


def test_hot_path_stays_light(tmp_path: Path) -> None:
    """resolve + layer_dirs of a present image: no httpx, no tarfile, no gzip in the process."""
    store = ImageStore(tmp_path)
    build_base(store)
    store.layer_dirs(store.get("kubelite/web"))
    code = (
        "import sys\nfrom pathlib import Path\nfrom runtime.images import ImageStore\n"
        f"s = ImageStore(Path({str(tmp_path)!r}))\n"
        "dirs = s.layer_dirs(s.get('kubelite/web:1.0'))\n"
        "heavy = [m for m in ('httpx', 'tarfile', 'gzip', 'tempfile', 'shutil') if m in sys.modules]\n"
        "print(len(dirs), heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "2 []"


def test_corrupt_index_is_a_clear_error_and_image_info(store: ImageStore) -> None:
    image = store.create_image(image_config(), [add_layer(store, [("f", "file", "x")])], ["app:1"])
    info = image.info()
    assert (info.id, info.ref, info.digest, info.config) == (
        image.id,
        "docker.io/library/app:1",
        image.digest,
        {"Cmd": ["sh"]},
    )
    store.index.path.write_text("{not json")
    with pytest.raises(ImageError, match="corrupt"):
        store.resolve("app:1")
