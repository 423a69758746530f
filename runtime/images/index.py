"""The image index: one small JSON file, `<root>/images/index.json`, naming every image.

Reads are one `json.loads` of a file replaced atomically (write temp, rename), so readers never
lock and never see a half-written index; writers serialise on `flock(images/lock)` and do
read-modify-write under it, so two CLI processes tagging at once both land. The record per
image holds what the hot path needs without opening the manifest: layer digests per diff_id.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from runtime.images.errors import ImageError
from runtime.images.model import LayerRef

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any

    Record = dict[str, Any]  # {"refs", "repo_digests", "digest", "manifest", "layers", "size", "created"}


class Index:
    def __init__(self, images_dir: Path) -> None:
        self.dir = images_dir
        self.path = images_dir / "index.json"
        self._lock_path = images_dir / "lock"

    def read(self) -> dict[str, Record]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            images: dict[str, Record] = json.loads(data)["images"]
        except (ValueError, KeyError, TypeError):
            raise ImageError(f"image index {self.path} is corrupt; move it away to start empty") from None
        return images

    def _write(self, images: dict[str, Record]) -> None:
        tmp = self.path.with_name(f".index.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": 1, "images": images}, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

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

        self.index.dir.mkdir(parents=True, exist_ok=True)
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
