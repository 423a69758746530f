"""The image side of kubelite's container runtime: a content-addressed OCI image store.

Public API (what the container side and the CLI call)::

    store = ImageStore(root)                  # root = the runtime root; data lives in root/"images"
    store.resolve(ref_or_id) -> Image | None  # normalised ref, repo digest, full id or unique id prefix
    store.get(ref_or_id) -> Image             # the same, raising ImageNotFound
    store.layer_dirs(image) -> list[Path]     # unpacked layer dirs, LOWEST first (unpacks missing ones)
    store.layer_from_dir(upper) -> LayerRef   # overlay upper dir -> new gzip layer blob (.wh. whiteouts)
    store.create_image(config, layers, tags) -> Image   # writes config + manifest blobs, indexes, tags
    store.tag(ref_or_id, new_ref); store.list() -> list[Image]; store.gc() -> int
    store.remove(ref_or_id, force=False, in_use=None) -> list[str]   # "Untagged: ..." / "Deleted: ..."
    store.load(path) -> list[Image]; store.save(path, refs, fmt="docker-archive" | "oci-archive")
    build_base(store, if_missing=False) -> [busybox, web]             # runtime.images.base
    await pull(store, ref, insecure=False, authfile=None) -> Image    # runtime.images.registry
    await push(store, ref, dest=None, insecure=False, authfile=None) -> str (manifest digest)

`Image(id, refs, digest, config, diff_ids, size, created, manifest, layers, repo_digests)`;
`LayerRef(diff_id, digest, size, media_type)`. Every user-caused failure is an `ImageError`
(runtime.images.errors) whose str() is one line. Importing this package stays light (no
tarfile, no httpx): the hot path of `run` only resolves and stats layer dirs.
"""

from runtime.images.errors import ImageError, ImageInUse, ImageNotFound
from runtime.images.model import Image, LayerRef
from runtime.images.reference import Reference, normalize, parse_reference
from runtime.images.store import ImageStore

__all__ = [
    "Image",
    "ImageError",
    "ImageInUse",
    "ImageNotFound",
    "ImageStore",
    "LayerRef",
    "Reference",
    "normalize",
    "parse_reference",
]
