"""Content-addressed blob storage: `<root>/images/blobs/sha256/<hex>`, verified on write.

A blob is written to a temp file beside its final place, hashed and measured while it streams,
and renamed into place only when both the digest and the size match what the caller expected;
on a mismatch the temp file is removed and `DigestMismatch` raised, so a corrupt or truncated
download never leaves anything behind. Assumes one filesystem for `tmp/` and `blobs/` (rename).
"""

from __future__ import annotations

import os

from runtime.images.errors import DigestMismatch, ImageError
from runtime.images.reference import valid_digest
from runtime.textfile import PathOf

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable
    from pathlib import Path
    from typing import IO

    from runtime.containers.rootfs import StrPath

CHUNK = 1 << 20


def check_digest(digest: str) -> str:
    if not valid_digest(digest):
        raise ImageError(f"unsupported or malformed digest: {digest!r}")
    return digest


def sha256_digest(data: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()


class PendingBlob:
    """A blob being written: `write()` chunks, then `commit(expected_digest, expected_size)`."""

    def __init__(self, blobs: BlobStore) -> None:
        import hashlib  # imported here: the read-only hot path never writes blobs
        import tempfile

        self._blobs = blobs
        from pathlib import Path

        fd, name = tempfile.mkstemp(dir=blobs.tmp_dir, prefix="blob-")
        self.path = Path(name)
        self._file: IO[bytes] = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0
        self._done = False

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self._file.write(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._file.flush()

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def commit(self, expected_digest: str | None = None, expected_size: int | None = None) -> str:
        """Verify and move into place; returns the digest. Discards everything on a mismatch."""
        self._file.close()
        digest = self.digest
        try:
            if expected_size is not None and expected_size != self.size:
                raise DigestMismatch(
                    f"size mismatch for {expected_digest or digest}: expected {expected_size} bytes, got {self.size}"
                )
            if expected_digest is not None and expected_digest != digest:
                raise DigestMismatch(f"digest mismatch: expected {expected_digest}, got {digest}")
            final = self._blobs.path(digest)
            os.chmod(self.path, 0o644)
            os.replace(self.path, final)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return digest

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        if not self._done:
            self.path.unlink(missing_ok=True)
            self._done = True

    def __enter__(self) -> PendingBlob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()  # a no-op after commit


class BlobStore:
    """`dir`, `tmp_dir` and `path()` are pathlib Paths; what `run` reads goes through `file()`, a
    str path, so that `run` never imports pathlib (re, urllib.parse, ipaddress: ~10 ms)."""

    def __init__(self, images_dir: StrPath) -> None:
        self._dir = os.path.join(images_dir, "blobs", "sha256")
        self._tmp_dir = os.path.join(images_dir, "tmp")

    dir = PathOf("_dir")

    tmp_dir = PathOf("_tmp_dir")

    def file(self, digest: str) -> str:
        """`path(digest)` as a str."""
        return f"{self._dir}/{check_digest(digest)[7:]}"

    def ensure_dirs(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        from pathlib import Path

        return Path(self.file(digest))

    def has(self, digest: str) -> bool:
        return os.path.isfile(self.file(digest))

    def size(self, digest: str) -> int:
        return os.stat(self.file(digest)).st_size

    def read(self, digest: str) -> bytes:
        try:
            with open(self.file(digest), "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise ImageError(f"blob {digest} is missing from the store") from None

    def open(self, digest: str) -> IO[bytes]:
        try:
            return open(self.file(digest), "rb")
        except FileNotFoundError:
            raise ImageError(f"blob {digest} is missing from the store") from None

    def begin(self) -> PendingBlob:
        self.ensure_dirs()
        return PendingBlob(self)

    def put(self, data: bytes, expected_digest: str | None = None, expected_size: int | None = None) -> str:
        digest = sha256_digest(data)
        if expected_digest is None and self.has(digest):
            return digest
        with self.begin() as pending:
            pending.write(data)
            return pending.commit(expected_digest, expected_size)

    def put_stream(
        self, chunks: Iterable[bytes], expected_digest: str | None = None, expected_size: int | None = None
    ) -> str:
        with self.begin() as pending:
            for chunk in chunks:
                pending.write(chunk)
                if expected_size is not None and pending.size > expected_size:
                    break  # no point reading past what was promised
            return pending.commit(expected_digest, expected_size)

    async def put_async_stream(
        self,
        chunks: AsyncIterator[bytes],
        expected_digest: str | None = None,
        expected_size: int | None = None,
    ) -> str:
        with self.begin() as pending:
            async for chunk in chunks:
                pending.write(chunk)
                if expected_size is not None and pending.size > expected_size:
                    break
            return pending.commit(expected_digest, expected_size)

    def put_file(
        self, src: IO[bytes], expected_digest: str | None = None, expected_size: int | None = None
    ) -> str:
        return self.put_stream(iter(lambda: src.read(CHUNK), b""), expected_digest, expected_size)

    def remove(self, digest: str) -> bool:
        try:
            self.path(digest).unlink()
            return True
        except FileNotFoundError:
            return False

    def all_digests(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        return ["sha256:" + p.name for p in self.dir.iterdir() if len(p.name) == 64]
