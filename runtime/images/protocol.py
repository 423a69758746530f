"""The image store seam: what the container side needs from an image store, and a fake of it.

`ImageStore` (store.py) is the real one. `FakeImageStore` keeps images in memory and hands out
empty layer directories under a root you give it, so container-side unit tests (bundle
generation, CLI dispatch) run without blobs or tarballs; it records every call in `calls`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from runtime.images.errors import ImageInUse, ImageNotFound
from runtime.images.model import Image, LayerRef
from runtime.images.reference import normalize


class ImageSource(Protocol):
    def resolve(self, ref_or_id: str) -> Image | None: ...

    def get(self, ref_or_id: str) -> Image: ...

    def layer_dirs(self, image: Image) -> list[Path]: ...

    def layer_from_dir(self, upper: Path) -> LayerRef: ...

    def create_image(self, config: dict[str, Any], layers: list[LayerRef], tags: list[str]) -> Image: ...

    def tag(self, ref_or_id: str, new_ref: str) -> None: ...

    def remove(self, ref_or_id: str, force: bool = False,
               in_use: Callable[[str], bool] | None = None) -> list[str]: ...

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
        self.calls.append(("resolve", ref_or_id))
        for image in self.images.values():
            prefix = ref_or_id.removeprefix("sha256:")
            if len(prefix) >= 4 and image.id[7:].startswith(prefix):
                return image
            try:
                if normalize(ref_or_id) in image.refs:
                    return image
            except Exception:
                continue
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
        self.calls.append(("create_image", tags))
        config = {**config, "rootfs": {"type": "layers", "diff_ids": [x.diff_id for x in layers]}}
        image_id = "sha256:" + hashlib.sha256(repr(sorted(config.items())).encode()).hexdigest()
        refs = [normalize(t) for t in tags]
        for other in self.images.values():
            other.refs = [r for r in other.refs if r not in refs]
        image = Image(image_id, refs, image_id, config, [x.diff_id for x in layers], 0,
                      str(config.get("created", "")), image_id, list(layers))
        self.images[image_id] = image
        return image

    def tag(self, ref_or_id: str, new_ref: str) -> None:
        self.calls.append(("tag", (ref_or_id, new_ref)))
        image = self.get(ref_or_id)
        image.refs = sorted({*image.refs, normalize(new_ref)})

    def remove(self, ref_or_id: str, force: bool = False,
               in_use: Callable[[str], bool] | None = None) -> list[str]:
        self.calls.append(("remove", ref_or_id))
        image = self.get(ref_or_id)
        if in_use is not None and in_use(image.id) and not force:
            raise ImageInUse(f"image is in use by a container: {ref_or_id}")
        del self.images[image.id]
        return [f"Untagged: {r}" for r in image.refs] + [f"Deleted: {image.id}"]

    def list(self) -> list[Image]:
        return list(self.images.values())

    def gc(self) -> int:
        self.calls.append(("gc", None))
        return 0
