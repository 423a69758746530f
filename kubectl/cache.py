"""kubectl's on-disk cache (KUBECACHEDIR, else ~/.kube/cache): the parsed kubeconfig and discovery.

Its own module so that `env` (which builds the client) and `discovery` (which fills the
resource table from the server) both use it without importing each other.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    return Path(os.environ.get("KUBECACHEDIR") or "~/.kube/cache").expanduser() / "kubelite"


def merged_kubeconfig(paths: list[Path] | None) -> dict[str, Any]:
    """The merged kubeconfig, from a JSON copy while the files are unchanged.

    Parsing YAML costs ~15 ms of a ~60 ms `kubectl get`; the copy is keyed by each file's path,
    size, mtime and inode, kept 0600 in a 0700 directory (it holds credentials, as the files do).
    """
    from api.config import default_paths, load_merged

    files = paths or default_paths()
    stamp = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        stamp.append(f"{f.resolve()}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
    if not stamp:
        return load_merged(files)
    import hashlib

    from api import jsonutil

    cached = cache_dir() / f"kubeconfig-{hashlib.sha1(chr(10).join(stamp).encode()).hexdigest()[:20]}.json"
    try:
        return dict(jsonutil.loads(cached.read_bytes()))
    except (OSError, ValueError):
        pass
    doc = load_merged(files)
    if write_cache(cached, doc):
        _prune_stale(cached)
    return doc


def write_cache(path: Path, doc: Any) -> bool:
    """Store `doc` as JSON at `path` under the cache dir: 0600 in a 0700 directory (a kubeconfig copy
    holds credentials), replaced atomically so a concurrent kubectl never reads half a file.
    False when it could not be written (a read-only home only costs speed)."""
    from api import jsonutil

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(jsonutil.dumps(doc))
        os.replace(tmp, path)
    except OSError:
        return False
    return True


def _prune_stale(keep: Path) -> None:
    """Copies of kubeconfigs that changed since are dropped after a day."""
    import time

    for old in keep.parent.glob("kubeconfig-*.json"):
        try:
            if old != keep and time.time() - old.stat().st_mtime > 86400:
                old.unlink()
        except OSError:
            continue
