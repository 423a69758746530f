"""Fixtures for the image store tests: a temp runtime root and a crafted-layer helper."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.images import ImageStore, LayerRef


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ImageStore]:
    yield ImageStore(tmp_path / "root")


def tar_bytes(entries: list[tuple[str, str, bytes | str]]) -> bytes:
    """entries: (name, kind, payload) with kind in file|dir|sym|hard|chr|suid; payload = data or link target."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1_600_000_000
            data = b""
            if kind == "file":
                data = payload if isinstance(payload, bytes) else payload.encode()
                info.size, info.mode = len(data), 0o644
            elif kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, str(payload)
            elif kind == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, str(payload)
            elif kind == "suid":  # a setuid file owned by 1234:5678
                data = payload if isinstance(payload, bytes) else payload.encode()
                info.size, info.mode, info.uid, info.gid = len(data), 0o4755, 1234, 5678
            elif kind == "chr":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            tf.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def add_layer(store: ImageStore, entries: list[tuple[str, str, bytes | str]]) -> LayerRef:
    raw = tar_bytes(entries)
    blob = gzip.compress(raw, mtime=0)
    digest = store.blobs.put(blob)
    return LayerRef("sha256:" + hashlib.sha256(raw).hexdigest(), digest, len(blob))


def image_config() -> dict:
    return {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["sh"]},
    }
