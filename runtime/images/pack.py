"""Write layers: a tar stream gzip-compressed straight into a verified blob, hashed twice on the way.

`LayerWriter` computes the diff_id (sha256 of the tar) and the blob digest (sha256 of the gzip)
in one pass with no temp copy of the tar; gzip's header carries no name and mtime 0, so the same
entries always give the same bytes (the base images are reproducible because of this).
`pack_dir` turns an overlay upper directory back into a layer: a 0:0 character device becomes a
`.wh.NAME` file and an opaque directory gets a `.wh..wh..opq` entry, as docker writes them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import tarfile
from pathlib import Path
from typing import IO

from runtime.images.blobs import BlobStore
from runtime.images.errors import ImageError
from runtime.images.model import LayerRef
from runtime.images.unpack import OPAQUE_MARKER, OPAQUE_XATTR, WHITEOUT_PREFIX

REDIRECT_XATTR = "trusted.overlay.redirect"
METACOPY_XATTR = "trusted.overlay.metacopy"


class _HashingWriter:
    def __init__(self, inner: IO[bytes] | gzip.GzipFile) -> None:
        self._inner = inner
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.size += len(data)
        return self._inner.write(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()


class LayerWriter:
    """`add()` tar entries, then `finish()` -> LayerRef. Use as a context manager to discard on error."""

    def __init__(self, blobs: BlobStore, compresslevel: int = 6) -> None:
        self._pending = blobs.begin()
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._pending, mtime=0, compresslevel=compresslevel
        )
        self._tar_hash = _HashingWriter(self._gzip)
        self.tar = tarfile.open(fileobj=self._tar_hash, mode="w|", format=tarfile.PAX_FORMAT)  # type: ignore[call-overload]  # noqa: SIM115

    def add(self, info: tarfile.TarInfo, data: IO[bytes] | None = None) -> None:
        self.tar.addfile(info, data)

    def finish(self) -> LayerRef:
        self.tar.close()
        self._gzip.close()
        digest = self._pending.commit()
        return LayerRef(diff_id=self._tar_hash.digest, digest=digest, size=self._pending.size)

    def __enter__(self) -> LayerWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pending.abort()  # no-op after a commit


def tar_entry(
    name: str,
    kind: bytes,
    mode: int,
    mtime: int,
    uid: int = 0,
    gid: int = 0,
    size: int = 0,
    linkname: str = "",
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = mtime
    info.uid, info.gid = uid, gid
    info.uname = info.gname = ""
    info.size = size
    info.linkname = linkname
    return info


def pack_dir(blobs: BlobStore, upper: Path) -> LayerRef:
    """An overlay upper dir (or any directory tree) -> a new gzip layer blob."""
    with LayerWriter(blobs) as writer:
        _pack_tree(writer, str(upper), "", {})
        return writer.finish()


def _xattr(path: str, name: str) -> bytes | None:
    try:
        return os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        return None


def _refuse_partial_copy_up(path: str, name: str) -> None:
    """An upper dir from a mount with redirect_dir or metacopy holds only part of the change."""
    for xattr, what in (
        (REDIRECT_XATTR, "a renamed directory (mount overlays with redirect_dir=off)"),
        (METACOPY_XATTR, "a metadata-only copy-up (mount overlays with metacopy=off)"),
    ):
        if _xattr(path, xattr) is not None:
            raise ImageError(f"cannot make a layer of {name!r}: it is {what}")


def _pack_tree(writer: LayerWriter, root: str, rel: str, inodes: dict[tuple[int, int], str]) -> None:
    base = os.path.join(root, rel) if rel else root
    with os.scandir(base) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        name = f"{rel}/{entry.name}" if rel else entry.name
        st = entry.stat(follow_symlinks=False)
        mode = stat.S_IMODE(st.st_mode)
        mtime = int(st.st_mtime)
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            whiteout = f"{rel}/{WHITEOUT_PREFIX}{entry.name}" if rel else WHITEOUT_PREFIX + entry.name
            writer.add(tar_entry(whiteout, tarfile.REGTYPE, 0o600, mtime, st.st_uid, st.st_gid))
            continue
        info = tar_entry(name, tarfile.REGTYPE, mode, mtime, st.st_uid, st.st_gid)
        if stat.S_ISDIR(st.st_mode):
            info.type = tarfile.DIRTYPE
            _refuse_partial_copy_up(entry.path, name)
            writer.add(info)
            if _xattr(entry.path, OPAQUE_XATTR) == b"y":
                writer.add(
                    tar_entry(f"{name}/{OPAQUE_MARKER}", tarfile.REGTYPE, 0o600, mtime, st.st_uid, st.st_gid)
                )
            _pack_tree(writer, root, name, inodes)
        elif stat.S_ISLNK(st.st_mode):
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(entry.path)
            writer.add(info)
        elif stat.S_ISREG(st.st_mode):
            _refuse_partial_copy_up(entry.path, name)
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in inodes:
                info.type = tarfile.LNKTYPE
                info.linkname = inodes[key]
                writer.add(info)
                continue
            if st.st_nlink > 1:
                inodes[key] = name
            info.size = st.st_size
            with open(entry.path, "rb") as f:
                writer.add(info, f)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            info.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
            writer.add(info)
        elif stat.S_ISFIFO(st.st_mode):
            info.type = tarfile.FIFOTYPE
            writer.add(info)
        # sockets are not layer content
