"""`ImageStore`: the content-addressed image store under `<root>/images/`.

Layout: `blobs/sha256/<hex>` (configs, manifests, layer blobs), `index.json` (images, their
refs and layer digests), `layers/<diff-id hex>/` (each layer unpacked once, overlayfs form).
`resolve` + `layer_dirs` of a present image is on the hot path of `run`: one index read, one
config read and a stat per layer, nothing heavier imported. Registry, archive and unpack code
is imported only by the methods that need it.
"""

from __future__ import annotations

import builtins
import os
import time

from runtime import cjson
from runtime.images import index as idx
from runtime.images.blobs import BlobStore
from runtime.images.errors import AmbiguousImage, ImageError, ImageInUse, ImageNotFound, InvalidReference
from runtime.images.model import Image, LayerRef
from runtime.images.reference import Reference, looks_like_id, parse_reference
from runtime.textfile import PathOf

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from runtime.containers.rootfs import StrPath


class ImageStore:
    """`root`, `dir` and `layers_dir` are pathlib Paths; `run`'s path (resolve, layer_paths) works
    on str paths, so that it never imports pathlib (re, urllib.parse, ipaddress: ~10 ms)."""

    def __init__(self, root: StrPath) -> None:
        self._root = os.fspath(root)
        self._dir = f"{self._root}/images"
        self._layers_dir = f"{self._dir}/layers"
        self.blobs = BlobStore(self._dir)
        self.index = idx.Index(self._dir)

    root = PathOf("_root")

    dir = PathOf("_dir")

    layers_dir = PathOf("_layers_dir")

    # ---- reading -------------------------------------------------------------------------------
    def _image(self, image_id: str, record: idx.Record) -> Image:
        config: dict[str, Any] = cjson.loads(self.blobs.read(image_id))
        layers = idx.record_layers(record)
        return Image(
            id=image_id,
            refs=list(record["refs"]),
            digest=record["digest"],
            config=config,
            diff_ids=[x.diff_id for x in layers],
            size=record["size"],
            created=record["created"],
            manifest=record["manifest"],
            layers=layers,
            repo_digests=list(record["repo_digests"]),
        )

    def _find(self, images: dict[str, idx.Record], ref_or_id: str) -> str | None:
        ref: Reference | None = None
        try:
            ref = parse_reference(ref_or_id)
        except InvalidReference:
            pass
        if ref is not None:
            wanted = str(ref)
            for image_id, record in images.items():
                if wanted in record["refs"] or wanted in record["repo_digests"]:
                    return image_id
            if ref.digest:
                for image_id, record in images.items():
                    if ref.digest in (record["digest"], record["manifest"]):
                        return image_id
        if looks_like_id(ref_or_id):
            hexpart = ref_or_id.removeprefix("sha256:")
            matches = [i for i in images if i[7:].startswith(hexpart)]
            if len(matches) > 1:
                raise AmbiguousImage(f"image id prefix {ref_or_id!r} is ambiguous ({len(matches)} images)")
            if matches:
                return matches[0]
        if ref is None:
            raise InvalidReference(f"invalid reference format: {ref_or_id!r}")
        return None

    def resolve(self, ref_or_id: str) -> Image | None:
        """An image by normalised reference, repo digest, full id, or unique id prefix (>= 4 hex)."""
        images = self.index.read()
        image_id = self._find(images, ref_or_id)
        return None if image_id is None else self._image(image_id, images[image_id])

    def get(self, ref_or_id: str) -> Image:
        """`resolve`, raising ImageNotFound instead of returning None."""
        image = self.resolve(ref_or_id)
        if image is None:
            raise ImageNotFound(f"image not found: {ref_or_id}")
        return image

    def list(self) -> builtins.list[Image]:
        images = self.index.read()
        out = [self._image(i, r) for i, r in images.items()]
        out.sort(key=lambda im: (im.created, im.id), reverse=True)
        return out

    def layer_dirs(self, image: Image) -> builtins.list[Path]:
        """The unpacked layer dirs, lowest first (overlayfs wants lowerdir highest first: reverse it)."""
        from pathlib import Path

        return [Path(d) for d in self.layer_paths(image)]

    def layer_paths(self, image: Image) -> builtins.list[str]:
        """`layer_dirs` as str paths (what `run` mounts), each layer unpacked first if it is not yet."""
        dirs = []
        for layer in image.layers:
            d = f"{self._layers_dir}/{layer.diff_id[7:]}"
            if not os.path.isdir(d):
                from pathlib import Path

                from runtime.images.unpack import unpack_layer

                if not self.blobs.has(layer.digest):
                    raise ImageError(f"layer blob {layer.digest} of image {image.short_id} is missing")
                unpack_layer(self.blobs.path(layer.digest), layer.diff_id, Path(d))
            dirs.append(d)
        return dirs

    # ---- writing -------------------------------------------------------------------------------
    def layer_from_dir(self, upper: Path) -> LayerRef:
        """An overlay upper dir -> a new gzip layer blob (whiteouts converted back to `.wh.` files)."""
        from pathlib import Path

        from runtime.images.pack import pack_dir

        return pack_dir(self.blobs, Path(upper))

    def add_image(
        self,
        config_bytes: bytes,
        manifest_bytes: bytes,
        layers: builtins.list[LayerRef],
        tags: builtins.list[str],
        digest: str = "",
        repository: str = "",
    ) -> Image:
        """Index an image whose layer blobs are in the store; writes the config and manifest blobs.

        `digest` is the repo digest when it differs from the manifest's own (a pulled index);
        `repository` (normalised, no tag) records `repository@digest` for pulled images.
        """
        config = cjson.loads(config_bytes)
        from runtime.images.manifest import config_diff_ids

        if config_diff_ids(config) != [x.diff_id for x in layers]:
            raise ImageError("image config rootfs.diff_ids do not match its layers")
        for layer in layers:
            if not self.blobs.has(layer.digest):
                raise ImageError(f"layer blob {layer.digest} is not in the store")
        image_id = self.blobs.put(config_bytes)
        manifest_digest = self.blobs.put(manifest_bytes)
        digest = digest or manifest_digest
        refs = [str(parse_reference(t)) for t in tags]
        size = len(config_bytes) + sum(x.size for x in layers)
        with self.index.update() as images:
            for ref in refs:
                idx.untag_everywhere(images, ref)
            old = images.get(image_id)
            all_refs = sorted(set(refs) | set(old["refs"] if old else []))
            repo_digests = set(old["repo_digests"] if old else [])
            if repository:
                repo_digests.add(f"{repository}@{digest}")
            images[image_id] = idx.make_record(
                all_refs,
                digest,
                manifest_digest,
                layers,
                size,
                str(config.get("created", "")),
                sorted(repo_digests),
            )
            record = images[image_id]
        return self._image(image_id, record)

    def create_image(
        self, config: dict[str, Any], layers: builtins.list[LayerRef], tags: builtins.list[str]
    ) -> Image:
        """A new image from a config and layer blobs already in the store (rootfs.diff_ids set for you)."""
        from runtime.images.manifest import canonical_json, make_manifest

        config = dict(config)
        config["rootfs"] = {"type": "layers", "diff_ids": [x.diff_id for x in layers]}
        config_bytes = canonical_json(config)
        manifest = make_manifest("sha256:" + _sha256_hex(config_bytes), len(config_bytes), layers)
        return self.add_image(config_bytes, manifest, layers, tags)

    def tag(self, ref_or_id: str, new_ref: str) -> None:
        ref = parse_reference(new_ref)
        if ref.digest:
            raise InvalidReference(f"cannot tag with a digest reference: {new_ref}")
        with self.index.update() as images:
            image_id = self._find(images, ref_or_id)
            if image_id is None:
                raise ImageNotFound(f"image not found: {ref_or_id}")
            idx.untag_everywhere(images, str(ref))
            images[image_id]["refs"] = sorted({*images[image_id]["refs"], str(ref)})

    def remove(
        self, ref_or_id: str, force: bool = False, in_use: Callable[[str], bool] | None = None
    ) -> builtins.list[str]:
        """Untag a ref (when the image keeps other refs) or delete the image; docker-style result lines.

        Refused while `in_use(image_id)` unless `force`; a forced removal of an image in use
        only untags it, so the layers under running containers stay.
        """
        with self.index.update() as images:
            image_id = self._find(images, ref_or_id)
            if image_id is None:
                raise ImageNotFound(f"image not found: {ref_or_id}")
            record = images[image_id]
            by_ref = _as_tag_ref(ref_or_id) in record["refs"]
            if by_ref and len(record["refs"]) > 1:
                ref = _as_tag_ref(ref_or_id)
                record["refs"].remove(ref)
                return [f"Untagged: {ref}"]
            if not by_ref and len(record["refs"]) > 1 and not force:
                raise ImageError(
                    f"unable to delete {image_id[7:19]} (must force): image is referenced "
                    f"in multiple repositories"
                )
            used = in_use is not None and in_use(image_id)
            if used and not force:
                raise ImageInUse(f"image is in use by a container: {ref_or_id} ({image_id[7:19]})")
            lines = [f"Untagged: {r}" for r in record["refs"]]
            if used:
                record["refs"] = []
                return lines
            del images[image_id]
            dropped = _unreferenced(images, record)
        import shutil

        for digest in (image_id, *dropped["blobs"]):
            self.blobs.remove(digest)
        for diff_id in dropped["layers"]:
            shutil.rmtree(self.layers_dir / diff_id[7:], ignore_errors=True)
        return [*lines, f"Deleted: {image_id}"]

    def gc(self) -> int:
        """Remove blobs and unpacked layers no image references; returns how many went."""
        import shutil

        removed = 0
        with self.index.update() as images:
            keep_blobs = set(images)
            keep_layers = set()
            for record in images.values():
                keep_blobs.update((record["digest"], record["manifest"]))
                for layer in idx.record_layers(record):
                    keep_blobs.add(layer.digest)
                    keep_layers.add(layer.diff_id[7:])
            for digest in self.blobs.all_digests():
                if digest not in keep_blobs and self.blobs.remove(digest):
                    removed += 1
            stale = time.time() - 3600  # an unpack or download in progress elsewhere is younger than this
            if self.blobs.tmp_dir.is_dir():
                for f in self.blobs.tmp_dir.iterdir():
                    if f.stat().st_mtime < stale:
                        f.unlink(missing_ok=True)
                        removed += 1
            if self.layers_dir.is_dir():
                for d in self.layers_dir.iterdir():
                    if d.name.startswith(".unpack-") and d.stat().st_mtime > stale:
                        continue
                    if d.name not in keep_layers:
                        shutil.rmtree(d, ignore_errors=True)
                        removed += 1
        return removed

    # ---- heavier operations, imported on demand -----------------------------------------------
    def load(self, path: Path) -> builtins.list[Image]:
        """Import an OCI layout archive or a `docker save` archive."""
        from pathlib import Path

        from runtime.images.archive import load_archive

        return load_archive(self, Path(path))

    def save(self, path: Path, refs: builtins.list[str], fmt: str = "docker-archive") -> None:
        """Export images as `docker-archive` (manifest.json + repositories) or `oci-archive`."""
        from pathlib import Path

        from runtime.images.archive import save_archive

        save_archive(self, Path(path), refs, fmt)


def _sha256_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _as_tag_ref(text: str) -> str:
    try:
        return str(parse_reference(text))
    except InvalidReference:
        return ""


def _unreferenced(images: dict[str, idx.Record], gone: idx.Record) -> dict[str, set[str]]:
    """Blobs and layers of a deleted image that no remaining image shares."""
    blobs = {gone["digest"], gone["manifest"], *(x.digest for x in idx.record_layers(gone))}
    layers = {x.diff_id for x in idx.record_layers(gone)}
    for record in images.values():
        blobs -= {record["digest"], record["manifest"]}
        for layer in idx.record_layers(record):
            blobs.discard(layer.digest)
            layers.discard(layer.diff_id)
    return {"blobs": blobs, "layers": layers}
