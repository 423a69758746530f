"""A pull as the docker-style CLI shows it: `kubelite runtime pull`, and `run` when the image is missing.

The registry client (registry.pull) reports per-layer events; this shell puts a `PullDisplay`
(progress.py) on the stream the verb writes to (stdout for `pull`, stderr for `run`, as docker
does), redrawing on a terminal and one line per layer event otherwise, and ends with docker's
summary lines (`Digest: ...`, `Status: Downloaded newer image for ...` or `Image is up to date`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TextIO

from runtime.images.errors import ImageError, ImageNotFound
from runtime.images.model import Image
from runtime.images.progress import PullDisplay
from runtime.images.reference import Reference, parse_reference
from runtime.images.store import ImageStore

PULL_POLICIES = ("missing", "always", "never")  # docker run --pull


def header(ref: Reference) -> str:
    """`1.0: Pulling from demo/web` (the tag or digest, then the repository's path on its registry)."""
    return f"{ref.digest or ref.tag}: Pulling from {ref.path}"


def pull_with_progress(
    store: ImageStore,
    ref_text: str,
    out: TextIO,
    insecure: bool = False,
    authfile: Path | None = None,
    quiet: bool = False,
) -> tuple[Image, bool]:
    """Pull `ref_text`, showing progress on `out` unless `quiet`; (the image, whether it is new)."""
    from runtime.images.registry import pull  # httpx: only when a pull happens

    ref = parse_reference(ref_text)
    before = store.resolve(str(ref))
    display = None if quiet else PullDisplay(out, _isatty(out), header(ref))
    if display is not None:
        display.start()
    try:
        image = asyncio.run(pull(store, str(ref), insecure=insecure, authfile=authfile, progress=display))
    finally:
        if display is not None:
            display.close()
    fresh = before is None or before.id != image.id
    if not quiet:
        status = "Downloaded newer image" if fresh else "Image is up to date"
        out.write(f"Digest: {image.digest}\nStatus: {status} for {ref}\n")
        out.flush()
    return image, fresh


def pull_for_run(store: ImageStore, ref_text: str, out: TextIO, policy: str, present: bool) -> None:
    """`run --pull POLICY`: pull when the image is missing (docker's default) or always; a failed pull
    of a missing image is reported as the image not being found, naming why."""
    if policy == "never" or (policy == "missing" and present):
        if not present:
            raise ImageNotFound(f"image not found: {ref_text} (and --pull never)")
        return
    if not present:
        out.write(f"Unable to find image '{parse_reference(ref_text).familiar()}' locally\n")
        out.flush()
    try:
        pull_with_progress(store, ref_text, out)
    except ImageError as e:
        if present:
            raise
        raise ImageNotFound(f"image not found: {ref_text}: {e}") from None


def _isatty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False
