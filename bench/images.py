"""Image store figures: the `run` hot path (resolve + layer dirs) and pulls from a loopback registry.

Side by side in one run: kubelite's first pull and up-to-date re-pull of the web image from
Debian's docker-registry vs `skopeo copy` of the same image into an OCI layout (the reference
tool, which neither unpacks nor indexes), and `resolve` + `layer_dirs` of a present image in a
fresh process vs a bare `python3 -c pass`.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stats import summary_ms, table
from runtime.images import ImageStore
from runtime.images.base import build_base
from runtime.images.registry import pull, push
from tests.runtime.images.registry_fixture import run_registry

HOT = (
    "from runtime.images import ImageStore\nfrom pathlib import Path\n"
    "s = ImageStore(Path({root!r})); s.layer_dirs(s.get('busybox'))"
)


def timed(fn: object, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-images-"))
    try:
        src = ImageStore(tmp / "src")
        build_base(src)
        rows = []
        rows.append(
            [
                "in-process resolve + layer_dirs",
                summary_ms(timed(lambda: src.layer_dirs(src.get("busybox")), 200)),
            ]
        )
        py = sys.executable
        hot = HOT.format(root=str(tmp / "src"))
        rows.append(
            [
                "process: import + resolve + layer_dirs",
                summary_ms(timed(lambda: subprocess.run([py, "-c", hot], check=True), 15)),
            ]
        )
        rows.append(
            ["process: python -c pass", summary_ms(timed(lambda: subprocess.run([py, "-c", "pass"]), 15))]
        )
        with run_registry(tmp / "registry") as reg:
            ref = f"{reg.host}/kubelite/web:1.0"
            asyncio.run(push(src, "kubelite/web:1.0", ref))
            n = [0]

            def first_pull() -> None:
                n[0] += 1
                asyncio.run(pull(ImageStore(tmp / f"dst{n[0]}"), ref))

            rows.append(["kubelite pull (fresh store, unpacked)", summary_ms(timed(first_pull, 8))])
            again = ImageStore(tmp / "dst1")
            rows.append(
                [
                    "kubelite pull (already present)",
                    summary_ms(timed(lambda: asyncio.run(pull(again, ref)), 15)),
                ]
            )

            def skopeo() -> None:
                n[0] += 1
                subprocess.run(
                    [
                        "skopeo",
                        "--insecure-policy",
                        "copy",
                        "-q",
                        "--src-tls-verify=false",
                        f"docker://{ref}",
                        f"oci:{tmp / f'sk{n[0]}'}:web",
                    ],
                    check=True,
                )

            rows.append(["skopeo copy to oci: layout (reference)", summary_ms(timed(skopeo, 8))])
        print(table(rows, ["what", "time"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
