"""Unpack one layer tar into an overlayfs lower directory, safely and exactly once.

A layer is unpacked into a temp dir beside its final place (`layers/.unpack-*`) and renamed to
`layers/<diff-id hex>` only when every entry is in and the uncompressed stream hashed to the
layer's diff_id, so a half-unpacked or forged layer never looks usable. Docker's whiteouts
become overlayfs ones (`.wh.NAME` -> a 0:0 character device, `.wh..wh..opq` -> the
`trusted.overlay.opaque=y` xattr on the directory). Any entry that would land outside the root
(`..`, an absolute name, a parent or hard-link target reached through a symlink pointing out)
fails the whole layer with `UnsafeLayer`. Assumes root (ownership, whiteout devices); device
nodes are skipped where mknod is not permitted.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path
from typing import IO

from runtime.images.errors import DigestMismatch, ImageError, UnsafeLayer, UnsupportedMedia

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class _HashingReader:
    """Hashes everything read through it, so the diff_id is checked in the same pass as the unpack."""

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner
        self._hash = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n)
        self._hash.update(data)
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()


def open_uncompressed(raw: IO[bytes]) -> IO[bytes]:
    """The layer's tar stream whether it is stored gzip-compressed or plain."""
    magic = raw.read(4)
    raw.seek(0)
    if magic.startswith(_GZIP_MAGIC):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if magic == _ZSTD_MAGIC:
        raise UnsupportedMedia("zstd-compressed layers are not supported")
    return raw


def safe_relpath(name: str) -> str:
    """The entry name relative to the layer root, or UnsafeLayer for absolute names and `..`."""
    if name.startswith("/"):
        raise UnsafeLayer(f"layer entry {name!r} is an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeLayer(f"layer entry {name!r} escapes the layer root")
    return "/".join(parts)


def unpack_layer(blob_path: Path, diff_id: str, dest: Path) -> None:
    """Unpack `blob_path` to `dest` (whose parent holds the temp dir); a no-op if `dest` exists."""
    if dest.is_dir():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".unpack-"))
    try:
        with blob_path.open("rb") as raw:
            reader = _HashingReader(open_uncompressed(raw))
            try:
                _Extractor(tmp).extract(reader)
                reader.drain()
            except (tarfile.TarError, EOFError, gzip.BadGzipFile) as e:
                raise ImageError(f"layer {diff_id} is not a valid tar stream: {e}") from None
            except ImageError:
                raise
            except OSError as e:  # e.g. a hard link to a directory: the layer is bad, say which
                raise ImageError(f"cannot unpack layer {diff_id}: {e}") from None
        if reader.digest != diff_id:
            raise DigestMismatch(f"layer diff_id mismatch: expected {diff_id}, got {reader.digest}")
        os.chmod(tmp, 0o755)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():  # lost a race with another unpacker of the same layer: fine
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class _Extractor:
    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.real_root = os.path.realpath(root)
        self.safe_dirs: set[str] = {""}  # relative dirs known to be real directories inside the root
        self.dir_times: list[tuple[str, int]] = []

    def extract(self, stream: _HashingReader) -> None:
        with tarfile.open(fileobj=stream, mode="r|") as tf:  # type: ignore[call-overload]
            for member in tf:
                self._entry(tf, member)
        for path, mtime in reversed(self.dir_times):  # children first: writing a dir touches its mtime
            os.utime(path, (mtime, mtime), follow_symlinks=False)

    def _inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.real_root or real.startswith(self.real_root + os.sep)

    def _parent(self, rel_dir: str, entry: str) -> str:
        """Make sure directory `rel_dir` exists inside the root; returns its absolute path."""
        path = os.path.join(self.root, rel_dir) if rel_dir else self.root
        if rel_dir in self.safe_dirs:
            return path
        through_link = False
        current = self.root
        for part in rel_dir.split("/"):
            current = os.path.join(current, part)
            if os.path.islink(current):
                through_link = True
                if not self._inside(current):
                    raise UnsafeLayer(
                        f"layer entry {entry!r} goes through a symlink that points outside the layer"
                    )
            elif not os.path.lexists(current):
                os.mkdir(current, 0o755)
            elif not os.path.isdir(current):
                raise ImageError(f"layer entry {entry!r}: parent {part!r} is not a directory")
        if not self._inside(path):
            raise UnsafeLayer(f"layer entry {entry!r} escapes the layer root")
        if not through_link:
            self.safe_dirs.add(rel_dir)
        return path

    def _clear(self, path: str, rel: str, keep_dir: bool) -> None:
        """Remove what an entry replaces (later entries win, as in docker)."""
        if not os.path.lexists(path):
            return
        if os.path.isdir(path) and not os.path.islink(path):
            if keep_dir:
                return
            shutil.rmtree(path)
            self.safe_dirs = {d for d in self.safe_dirs if d != rel and not d.startswith(rel + "/")}
        else:
            os.unlink(path)

    def _entry(self, tf: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        rel = safe_relpath(m.name)
        if not rel:
            return  # the root itself: the layer dir keeps its own attributes
        rel_dir, _, base = rel.rpartition("/")
        parent = self._parent(rel_dir, m.name)
        if base == OPAQUE_MARKER:
            os.setxattr(parent, OPAQUE_XATTR, b"y")
            return
        if base.startswith(WHITEOUT_PREFIX):
            hidden = base[len(WHITEOUT_PREFIX) :]
            if hidden in ("", ".", ".."):
                raise UnsafeLayer(f"layer entry {m.name!r} is a whiteout of nothing")
            target = os.path.join(parent, hidden)
            self._clear(target, rel_dir + "/" + hidden if rel_dir else hidden, keep_dir=False)
            os.mknod(target, stat.S_IFCHR | 0o000, os.makedev(0, 0))
            return
        path = os.path.join(parent, base)
        if m.isdir():
            self._clear(path, rel, keep_dir=True)
            if not os.path.isdir(path):
                os.mkdir(path, 0o755)
            self.safe_dirs.add(rel)
            self.dir_times.append((path, int(m.mtime)))
        else:
            self._clear(path, rel, keep_dir=False)
            if not self._create(tf, m, path):
                return
        self._metadata(m, path)

    def _create(self, tf: tarfile.TarFile, m: tarfile.TarInfo, path: str) -> bool:
        if m.isreg():
            src = tf.extractfile(m)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as out:
                if src is not None:
                    shutil.copyfileobj(src, out, 1 << 20)
        elif m.issym():
            os.symlink(m.linkname, path)
        elif m.islnk():
            target = os.path.join(self.root, safe_relpath(m.linkname))
            if not self._inside(target):
                raise UnsafeLayer(f"hard link {m.name!r} -> {m.linkname!r} points outside the layer")
            if not os.path.lexists(target):
                raise ImageError(f"hard link {m.name!r} -> {m.linkname!r}: target not in this layer")
            os.link(target, path, follow_symlinks=False)
            return False  # a hard link shares its target's metadata
        elif m.ischr() or m.isblk():
            kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
            try:
                os.mknod(path, kind | (m.mode & 0o7777), os.makedev(m.devmajor, m.devminor))
            except PermissionError:
                return False  # not permitted here (e.g. a user namespace): skipped, as docker does
        elif m.isfifo():
            os.mkfifo(path, m.mode & 0o7777)
        else:
            return False  # sockets and unknown types are not layer content
        return True

    def _metadata(self, m: tarfile.TarInfo, path: str) -> None:
        os.lchown(path, m.uid, m.gid)
        if not m.issym():
            os.chmod(path, m.mode & 0o7777)  # after chown, which clears setuid bits
        for key, value in m.pax_headers.items():
            if key.startswith("SCHILY.xattr."):
                try:
                    os.setxattr(
                        path,
                        key[len("SCHILY.xattr.") :],
                        value.encode("utf-8", "surrogateescape"),
                        follow_symlinks=False,
                    )
                except OSError:
                    pass  # an xattr the filesystem refuses is not worth failing the layer
        if not m.isdir():
            os.utime(path, (int(m.mtime), int(m.mtime)), follow_symlinks=False)
