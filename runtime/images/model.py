"""The two value types of the image store, kept in an import-light module for the hot path."""

from __future__ import annotations

from runtime.datarecord import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any

    from runtime.interface import ImageInfo

MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


@record(frozen=True)
class LayerRef:
    """A layer blob in the store: what a manifest and an image config need to name it."""

    diff_id: str  # sha256 of the uncompressed tar (goes into config.rootfs.diff_ids)
    digest: str  # sha256 of the blob as stored (goes into the manifest)
    size: int  # blob size in bytes
    media_type: str = MEDIA_LAYER_GZIP


@record
class Image:
    """An image in the store: its id, references, config and layers."""

    id: str  # sha256:<config digest>
    refs: list[str]  # normalised tag references naming it (may be empty: a dangling image)
    digest: str  # the manifest digest (the repo digest when pulled), may be ""
    config: dict[str, Any]  # the full OCI image config JSON
    diff_ids: list[str]
    size: int  # bytes: config + layer blobs
    created: str  # RFC 3339, from the config
    manifest: str = ""  # digest of the platform manifest in the store
    layers: list[LayerRef] = field(default_factory=list)
    repo_digests: list[str] = field(default_factory=list)  # `repo@sha256:...`

    @property
    def short_id(self) -> str:
        return self.id[7:19]

    def info(self, ref: str = "") -> ImageInfo:
        """This image as the Runtime seam's `ImageInfo` (named by `ref`, else its first ref)."""
        from runtime.interface import ImageInfo

        section = self.config.get("config") or {}
        return ImageInfo(
            id=self.id,
            ref=ref or (self.refs[0] if self.refs else ""),
            digest=self.digest,
            size=self.size,
            config=section,
        )
