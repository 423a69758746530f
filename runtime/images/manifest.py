"""OCI and Docker schema-2 manifests, indexes and media types: building, parsing, picking a platform.

The store keeps manifests as the exact bytes it pulled or wrote (their digest is the image's repo
digest), so this module only reads them into descriptors and writes new ones canonically
(compact JSON, fixed key order) so an image built twice from the same content has one digest.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from typing import Any

from runtime.images.errors import ImageError, UnsupportedMedia
from runtime.images.model import LayerRef

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)

MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
LAYER_TYPES = (
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    DOCKER_LAYER_GZIP,
    DOCKER_LAYER_TAR,
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
)
# What a registry must be told we understand, or it answers 404 for an OCI manifest.
ACCEPT = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST))

_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "i686": "386",
    "i386": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


def host_arch() -> str:
    """The OCI architecture name of this machine (amd64, arm64, ...)."""
    machine = platform.machine().lower()
    return _ARCH.get(machine, machine)


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] | None = None
    platform: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Descriptor:
        try:
            return cls(
                d.get("mediaType", ""), d["digest"], int(d["size"]), d.get("annotations"), d.get("platform")
            )
        except (KeyError, TypeError, ValueError):
            raise ImageError(f"malformed descriptor: {d!r}") from None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            out["platform"] = self.platform
        if self.annotations:
            out["annotations"] = self.annotations
        return out


@dataclass(frozen=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: list[Descriptor]


def load_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except ValueError as e:
        raise ImageError(f"{what} is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ImageError(f"{what} is not a JSON object")
    return obj


def media_type_of(doc: dict[str, Any], fallback: str = "") -> str:
    """A manifest's media type; older OCI manifests omit it, so fall back on their shape."""
    mt = doc.get("mediaType") or fallback
    if not mt:
        mt = OCI_INDEX if "manifests" in doc else OCI_MANIFEST
    return mt


def parse_manifest(data: bytes, media_type: str = "") -> Manifest:
    doc = load_json(data, "manifest")
    mt = media_type_of(doc, media_type)
    if mt in DOCKER_SCHEMA1 or doc.get("schemaVersion") == 1:
        raise UnsupportedMedia("docker schema 1 manifests are not supported")
    if mt not in MANIFEST_TYPES:
        raise UnsupportedMedia(f"not an image manifest: {mt}")
    layers = [Descriptor.from_json(x) for x in doc.get("layers") or []]
    for layer in layers:
        if layer.media_type == OCI_LAYER_ZSTD:
            raise UnsupportedMedia("zstd-compressed layers are not supported")
        if layer.media_type not in LAYER_TYPES:
            raise UnsupportedMedia(f"unsupported layer media type: {layer.media_type}")
    return Manifest(mt, Descriptor.from_json(doc.get("config") or {}), layers)


def pick_platform(index_data: bytes, arch: str | None = None, os_name: str = "linux") -> Descriptor:
    """The manifest in an index / manifest list for linux and the host architecture."""
    doc = load_json(index_data, "image index")
    arch = arch or host_arch()
    candidates = [Descriptor.from_json(m) for m in doc.get("manifests") or []]
    for d in candidates:
        p = d.platform or {}
        if p.get("os") == os_name and p.get("architecture") == arch and d.media_type in (*MANIFEST_TYPES, ""):
            return d
    found = sorted(
        {f"{(d.platform or {}).get('os')}/{(d.platform or {}).get('architecture')}" for d in candidates}
    )
    raise ImageError(f"no image for {os_name}/{arch} in the index (has: {', '.join(found) or 'nothing'})")


def make_manifest(config_digest: str, config_size: int, layers: list[LayerRef]) -> bytes:
    """A new OCI image manifest, canonical bytes."""
    return canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
            "layers": [
                {"mediaType": layer.media_type, "digest": layer.digest, "size": layer.size}
                for layer in layers
            ],
        }
    )


def layer_refs(manifest: Manifest, diff_ids: list[str]) -> list[LayerRef]:
    if len(manifest.layers) != len(diff_ids):
        raise ImageError(
            f"image config lists {len(diff_ids)} layers but the manifest has {len(manifest.layers)}"
        )
    return [
        LayerRef(diff_id, d.digest, d.size, d.media_type)
        for diff_id, d in zip(diff_ids, manifest.layers, strict=True)
    ]


def config_diff_ids(config: dict[str, Any]) -> list[str]:
    rootfs = config.get("rootfs") or {}
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
        raise ImageError("image config has no rootfs.diff_ids")
    return ids
