"""The image index: one small JSON file, `<root>/images/index.json`, naming every image.

Reads are one `json.loads` of a file replaced atomically (write temp, rename), so readers never
lock and never see a half-written index; writers serialise on `flock(images/lock)` and do
read-modify-write under it, so two CLI processes tagging at once both land. The record per
image holds what the hot path needs without opening the manifest: layer digests per diff_id.
"""

from __future__ import annotations

import os

from runtime import cjson
from runtime.images.errors import ImageError
from runtime.images.model import LayerRef
from runtime.textfile import PathOf

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any

    from runtime.containers.rootfs import StrPath

    Record = dict[str, Any]  # {"refs", "repo_digests", "digest", "manifest", "layers", "size", "created"}


class Index:
    """Paths are str inside: `run` reads the index, and pathlib would cost it ~10 ms of imports
    (re, urllib.parse, ipaddress); so would `json`'s re (cjson reads the file instead)."""

    def __init__(self, images_dir: StrPath) -> None:
        self._dir = os.fspath(images_dir)
        self._path = f"{self._dir}/index.json"
        self._lock_path = f"{self._dir}/lock"

    dir = PathOf("_dir")

    path = PathOf("_path")

    def read(self) -> dict[str, Record]:
        try:
            with open(self._path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return {}
        try:
            images: dict[str, Record] = cjson.loads(data)["images"]
        except (ValueError, KeyError, TypeError):
            raise ImageError(f"image index {self._path} is corrupt; move it away to start empty") from None
        return images

    def _write(self, images: dict[str, Record]) -> None:
        import json  # writers only: indented, sorted

        tmp = f"{self._dir}/.index.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps({"version": 1, "images": images}, indent=1, sort_keys=True))
        os.replace(tmp, self._path)

    def update(self) -> _Update:
        """`with index.update() as images:` the images map under the write lock, written back when
        the block ends cleanly."""
        return _Update(self)


class _Update:
    """What `@contextmanager` would make of a generator, without `contextlib` (and `fcntl`) on the
    start-up path of `run`, which only reads the index."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.fd = -1
        self.images: dict[str, Record] = {}

    def __enter__(self) -> dict[str, Record]:
        import fcntl

        os.makedirs(self.index._dir, exist_ok=True)
        self.fd = os.open(self.index._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            self.images = self.index.read()
        except BaseException:
            os.close(self.fd)
            raise
        return self.images

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.index._write(self.images)
        finally:
            os.close(self.fd)  # closing drops the flock


def record_layers(record: Record) -> list[LayerRef]:
    return [
        LayerRef(diff_id, digest, size, media_type) for diff_id, digest, size, media_type in record["layers"]
    ]


def make_record(
    refs: list[str],
    digest: str,
    manifest: str,
    layers: list[LayerRef],
    size: int,
    created: str,
    repo_digests: list[str],
) -> Record:
    return {
        "refs": refs,
        "repo_digests": repo_digests,
        "digest": digest,
        "manifest": manifest,
        "layers": [[x.diff_id, x.digest, x.size, x.media_type] for x in layers],
        "size": size,
        "created": created,
    }


def untag_everywhere(images: dict[str, Record], ref: str) -> None:
    """A tag names one image: moving it leaves the previous holder (maybe dangling)."""
    for record in images.values():
        if ref in record["refs"]:
            record["refs"].remove(ref)
