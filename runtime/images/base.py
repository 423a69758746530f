"""The built-in base images, made offline from Debian's busybox-static.

`busybox:latest` = `busybox:1.35`: one gzip layer holding `/bin/busybox`, its applet symlinks
(`busybox --list-full`), `/etc/passwd` and `/etc/group` (root, nobody), `/root`, `/tmp` (1777).
`kubelite/web:1.0` = `kubelite/web:latest`: the same base layer plus `/www/index.html`, served
by busybox httpd on 8080. Every entry has a fixed mtime, owner and order and the gzip header
has no name or time, so two builds give the same bytes and the same digests.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from runtime.images.manifest import host_arch
from runtime.images.model import Image, LayerRef
from runtime.images.pack import LayerWriter, tar_entry
from runtime.images.store import ImageStore

BUSYBOX = Path("/bin/busybox")
BUSYBOX_REFS = ["busybox:latest", "busybox:1.35"]
WEB_REFS = ["kubelite/web:1.0", "kubelite/web:latest"]
EPOCH = 1700000000  # fixed mtime of every entry: reproducible layers
CREATED = "2023-11-14T22:13:20Z"  # the same instant, for the image configs
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = b"root:x:0:\nnobody:x:65534:\n"
INDEX_HTML = (
    b"<!doctype html>\n<html><body><h1>kubelite web</h1><p>served by busybox httpd</p></body></html>\n"
)


def applets(busybox: Path = BUSYBOX) -> list[str]:
    """`bin/sh`, `usr/bin/awk`, ...: where each applet lives, from the binary itself."""
    out = subprocess.run([str(busybox), "--list-full"], check=True, capture_output=True, text=True).stdout
    return sorted(
        {line.strip() for line in out.splitlines() if line.strip() and line.strip() != "bin/busybox"}
    )


def _dir(name: str, mode: int = 0o755) -> tarfile.TarInfo:
    return tar_entry(name, tarfile.DIRTYPE, mode, EPOCH)


def _file(writer: LayerWriter, name: str, data: bytes, mode: int = 0o644) -> None:
    writer.add(tar_entry(name, tarfile.REGTYPE, mode, EPOCH, size=len(data)), io.BytesIO(data))


def busybox_layer(store: ImageStore, busybox: Path = BUSYBOX) -> LayerRef:
    links = applets(busybox)
    dirs = {"bin", "etc", "root", "tmp", "usr", "usr/bin", "usr/sbin", "sbin", "var"}
    for link in links:
        parts = link.split("/")[:-1]
        dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    mode_of = {"root": 0o700, "tmp": 0o1777}
    data = busybox.read_bytes()
    with LayerWriter(store.blobs) as writer:
        for d in sorted(dirs):
            writer.add(_dir(d, mode_of.get(d, 0o755)))
        _file(writer, "bin/busybox", data, 0o755)
        for link in links:
            writer.add(tar_entry(link, tarfile.SYMTYPE, 0o777, EPOCH, linkname="/bin/busybox"))
        _file(writer, "etc/group", GROUP)
        _file(writer, "etc/passwd", PASSWD)
        return writer.finish()


def web_layer(store: ImageStore) -> LayerRef:
    with LayerWriter(store.blobs) as writer:
        writer.add(_dir("www"))
        _file(writer, "www/index.html", INDEX_HTML)
        return writer.finish()


def _config(cmd: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "created": CREATED,
        "architecture": host_arch(),
        "os": "linux",
        "config": {"Env": [PATH_ENV], "Cmd": cmd, "WorkingDir": "/", **(extra or {})},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created": CREATED, "created_by": "kubelite runtime build-base"}],
    }


def build_base(store: ImageStore, if_missing: bool = False, busybox: Path = BUSYBOX) -> list[Image]:
    """Make busybox:latest/1.35 and kubelite/web:1.0/latest; returns [busybox, web]."""
    if if_missing:
        present = [store.resolve(r) for r in (*BUSYBOX_REFS, *WEB_REFS)]
        if all(present):
            return [present[0], present[2]]  # type: ignore[list-item]
    if not busybox.is_file():
        from runtime.images.errors import ImageError

        raise ImageError(f"{busybox} not found: install Debian's busybox-static")
    base = busybox_layer(store, busybox)
    web = web_layer(store)
    bb = store.create_image(_config(["sh"]), [base], BUSYBOX_REFS)
    web_config = _config(["httpd", "-f", "-p", "8080", "-h", "/www"], {"ExposedPorts": {"8080/tcp": {}}})
    web_config["history"].append({"created": CREATED, "created_by": "COPY index.html /www/index.html"})
    wb = store.create_image(web_config, [base, web], WEB_REFS)
    return [bb, wb]
