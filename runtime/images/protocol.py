"""The image store seam: what the container side needs from an image store, and a fake of it.

`ImageStore` (store.py) is the real one. `FakeImageStore` keeps images in memory and hands out
empty layer directories under a root you give it, so container-side unit tests (bundle
generation, CLI dispatch) run without blobs or tarballs; it records every call in `calls`. Its
naming, tagging and removal rules are the real store's: tests/runtime/images/test_protocol.py
runs one suite over both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from runtime.images.errors import AmbiguousImage, ImageError, ImageInUse, ImageNotFound, InvalidReference
from runtime.images.model import Image, LayerRef
from runtime.images.reference import looks_like_id, normalize


class ImageSource(Protocol):
    def resolve(self, ref_or_id: str) -> Image | None: ...

    def get(self, ref_or_id: str) -> Image: ...

    def layer_dirs(self, image: Image) -> list[Path]: ...

    def layer_from_dir(self, upper: Path) -> LayerRef: ...

    def create_image(self, config: dict[str, Any], layers: list[LayerRef], tags: list[str]) -> Image: ...

    def tag(self, ref_or_id: str, new_ref: str) -> None: ...

    def remove(
        self, ref_or_id: str, force: bool = False, in_use: Callable[[str], bool] | None = None
    ) -> list[str]: ...

    def list(self) -> list[Image]: ...

    def gc(self) -> int: ...


class FakeImageStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.images: dict[str, Image] = {}
        self.calls: list[tuple[str, Any]] = []

    def add(self, ref: str, config: dict[str, Any] | None = None, layers: int = 1) -> Image:
        """Seed an image named `ref` whose config section is `config`."""
        diff_ids = ["sha256:" + hashlib.sha256(f"{ref}/{i}".encode()).hexdigest() for i in range(layers)]
        refs = [LayerRef(d, d, 0) for d in diff_ids]
        return self.create_image({"config": config or {"Cmd": ["sh"]}}, refs, [ref])

    def resolve(self, ref_or_id: str) -> Image | None:
        """As ImageStore.resolve: a normalised reference, or a unique id prefix of >= 4 hex digits."""
        self.calls.append(("resolve", ref_or_id))
        try:
            wanted = normalize(ref_or_id)
        except InvalidReference:
            wanted = ""
        for image in self.images.values():
            if wanted and wanted in image.refs:
                return image
        if looks_like_id(ref_or_id):
            prefix = ref_or_id.removeprefix("sha256:")
            matches = [i for i in self.images.values() if i.id[7:].startswith(prefix)]
            if len(matches) > 1:
                raise AmbiguousImage(f"image id prefix {ref_or_id!r} is ambiguous ({len(matches)} images)")
            if matches:
                return matches[0]
        if not wanted:
            raise InvalidReference(f"invalid reference format: {ref_or_id!r}")
        return None

    def get(self, ref_or_id: str) -> Image:
        image = self.resolve(ref_or_id)
        if image is None:
            raise ImageNotFound(f"image not found: {ref_or_id}")
        return image

    def layer_dirs(self, image: Image) -> list[Path]:
        self.calls.append(("layer_dirs", image.id))
        dirs = [self.root / "layers" / d[7:] for d in image.diff_ids]
        for d in dirs:
            d.mkdir(parents=True, exist_ok=True)
        return dirs

    def layer_from_dir(self, upper: Path) -> LayerRef:
        self.calls.append(("layer_from_dir", upper))
        listing = "\n".join(sorted(str(p.relative_to(upper)) for p in Path(upper).rglob("*")))
        digest = "sha256:" + hashlib.sha256(listing.encode()).hexdigest()
        return LayerRef(digest, digest, len(listing))

    def create_image(self, config: dict[str, Any], layers: list[LayerRef], tags: list[str]) -> Image:
        """Content-addressed as the real store: the same config is the same image (refs merge), and
        a tag moves from whichever image had it."""
        self.calls.append(("create_image", tags))
        config = {**config, "rootfs": {"type": "layers", "diff_ids": [x.diff_id for x in layers]}}
        image_id = "sha256:" + hashlib.sha256(repr(sorted(config.items())).encode()).hexdigest()
        refs = [normalize(t) for t in tags]
        for ref in refs:
            self._untag_everywhere(ref)
        old = self.images.get(image_id)
        image = Image(
            image_id,
            sorted({*refs, *(old.refs if old else [])}),
            image_id,
            config,
            [x.diff_id for x in layers],
            0,
            str(config.get("created", "")),
            image_id,
            list(layers),
        )
        self.images[image_id] = image
        return image

    def _untag_everywhere(self, ref: str) -> None:
        for other in self.images.values():
            other.refs = [r for r in other.refs if r != ref]

    def tag(self, ref_or_id: str, new_ref: str) -> None:
        self.calls.append(("tag", (ref_or_id, new_ref)))
        image = self.get(ref_or_id)
        ref = normalize(new_ref)
        self._untag_everywhere(ref)
        image.refs = sorted({*image.refs, ref})

    def remove(
        self, ref_or_id: str, force: bool = False, in_use: Callable[[str], bool] | None = None
    ) -> list[str]:
        """As ImageStore.remove: a ref of an image with other refs is only untagged; an id naming an
        image of several refs needs force; an image in use is refused, or with force only untagged."""
        self.calls.append(("remove", ref_or_id))
        image = self.get(ref_or_id)
        try:
            by_ref = normalize(ref_or_id) in image.refs
        except InvalidReference:
            by_ref = False
        if by_ref and len(image.refs) > 1:
            ref = normalize(ref_or_id)
            image.refs.remove(ref)
            return [f"Untagged: {ref}"]
        if not by_ref and len(image.refs) > 1 and not force:
            raise ImageError(
                f"unable to delete {image.id[7:19]} (must force): image is referenced "
                f"in multiple repositories"
            )
        used = in_use is not None and in_use(image.id)
        if used and not force:
            raise ImageInUse(f"image is in use by a container: {ref_or_id} ({image.id[7:19]})")
        lines = [f"Untagged: {r}" for r in image.refs]
        if used:
            image.refs = []
            return lines
        del self.images[image.id]
        return [*lines, f"Deleted: {image.id}"]

    def gc(self) -> int:
        self.calls.append(("gc", None))
        return 0

    def list(self) -> list[Image]:  # last: in the class body, `list` names this method from here on
        return sorted(self.images.values(), key=lambda im: (im.created, im.id), reverse=True)
