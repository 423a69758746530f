"""`load` / `save`: image archives in the two formats other tools read and write.

* `docker-archive`: what `docker save` writes — `manifest.json` (Config, RepoTags, Layers),
  `repositories`, `<config hex>.json`, and one `<layer id>/layer.tar` (uncompressed) per layer.
* `oci-archive`: a tar of an OCI image layout — `oci-layout`, `index.json` (each manifest
  annotated with `org.opencontainers.image.ref.name` = the full reference, and containerd's
  `io.containerd.image.name`), `blobs/sha256/<hex>` as stored.

Loading detects the format (`manifest.json` wins when both are present, as in newer docker
archives), copies every blob through the verified blob store, and reuses layers the store
already has by diff_id. Saving writes a temp file beside the target and renames it, so a failed
save leaves no half archive.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import IO, Any

from runtime.images import manifest as mf
from runtime.images.errors import ArchiveError, ImageError, InvalidReference
from runtime.images.model import Image, LayerRef
from runtime.images.reference import parse_reference
from runtime.images.store import ImageStore

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
FORMATS = ("docker-archive", "oci-archive")


# ---- load ------------------------------------------------------------------------------------------
def load_archive(store: ImageStore, path: Path) -> list[Image]:
    try:
        tf = tarfile.open(path, mode="r:*")  # noqa: SIM115 (closed by the with below)
    except FileNotFoundError:
        raise ArchiveError(f"no such file: {path}") from None
    except (tarfile.TarError, OSError) as e:
        raise ArchiveError(f"{path} is not a tar archive: {e}") from None
    with tf:
        members = {_clean(m.name): m for m in tf.getmembers()}
        if "manifest.json" in members:
            return _load_docker(store, tf, members)
        if "index.json" in members:
            return _load_oci(store, tf, members)
    raise ArchiveError(f"{path} is neither a docker archive (manifest.json) nor an OCI layout (index.json)")


def _clean(name: str) -> str:
    return name.removeprefix("./").lstrip("/")


def _member(tf: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> IO[bytes]:
    info = members.get(_clean(name))
    f = tf.extractfile(info) if info is not None else None
    if f is None:
        raise ArchiveError(f"archive has no file {name!r}")
    return f


def _read_json(tf: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> Any:
    try:
        return json.loads(_member(tf, members, name).read())
    except ValueError as e:
        raise ArchiveError(f"{name} in the archive is not valid JSON: {e}") from None


def _known_layers(store: ImageStore) -> dict[str, LayerRef]:
    return {
        layer.diff_id: layer
        for image in store.list()
        for layer in image.layers
        if store.blobs.has(layer.digest)
    }


def _tags(names: list[str]) -> list[str]:
    tags = []
    for name in names:
        try:
            ref = parse_reference(name)
        except InvalidReference:
            continue  # a bare tag with no repository names nothing we can keep
        if ref.tag and not ref.digest:
            tags.append(str(ref))
    return tags


def _load_docker(store: ImageStore, tf: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> list[Image]:
    entries = _read_json(tf, members, "manifest.json")
    if not isinstance(entries, list):
        raise ArchiveError("manifest.json is not a list")
    known = _known_layers(store)
    loaded = []
    for entry in entries:
        config_bytes = _member(tf, members, entry["Config"]).read()
        diff_ids = mf.config_diff_ids(mf.load_json(config_bytes, "image config"))
        if len(diff_ids) != len(entry.get("Layers") or []):
            raise ArchiveError(
                f"{entry['Config']}: {len(diff_ids)} diff_ids but {len(entry['Layers'])} layers"
            )
        layers = []
        for diff_id, name in zip(diff_ids, entry["Layers"], strict=True):
            if diff_id in known:
                layers.append(known[diff_id])
                continue
            f = _member(tf, members, name)
            head = f.read(2)
            f.seek(0)
            size = members[_clean(name)].size
            if head == b"\x1f\x8b":  # compressed layer: the diff_id is checked when it is unpacked
                digest = store.blobs.put_file(f, None, size)
                layer = LayerRef(diff_id, digest, size, mf.OCI_LAYER_GZIP)
            else:
                store.blobs.put_file(f, diff_id, size)
                layer = LayerRef(diff_id, diff_id, size, mf.OCI_LAYER_TAR)
            known[diff_id] = layer
            layers.append(layer)
        config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
        manifest = mf.make_manifest(config_digest, len(config_bytes), layers)
        loaded.append(store.add_image(config_bytes, manifest, layers, _tags(entry.get("RepoTags") or [])))
    return loaded


def _copy_blob(
    store: ImageStore, tf: tarfile.TarFile, members: dict[str, tarfile.TarInfo], desc: mf.Descriptor
) -> None:
    if not store.blobs.has(desc.digest):
        store.blobs.put_file(_member(tf, members, f"blobs/sha256/{desc.digest[7:]}"), desc.digest, desc.size)


def _load_oci(store: ImageStore, tf: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> list[Image]:
    index = _read_json(tf, members, "index.json")
    loaded = []
    for desc_json in index.get("manifests") or []:
        desc = mf.Descriptor.from_json(desc_json)
        names = [n for n in ((desc.annotations or {}).get(k) for k in (CONTAINERD_NAME, REF_NAME)) if n]
        if desc.media_type in mf.INDEX_TYPES:
            _copy_blob(store, tf, members, desc)
            desc = mf.pick_platform(store.blobs.read(desc.digest))
        _copy_blob(store, tf, members, desc)
        manifest_bytes = store.blobs.read(desc.digest)
        manifest = mf.parse_manifest(manifest_bytes, desc.media_type)
        _copy_blob(store, tf, members, manifest.config)
        for layer in manifest.layers:
            _copy_blob(store, tf, members, layer)
        config_bytes = store.blobs.read(manifest.config.digest)
        layers = mf.layer_refs(manifest, mf.config_diff_ids(mf.load_json(config_bytes, "image config")))
        loaded.append(store.add_image(config_bytes, manifest_bytes, layers, _tags(names[:1])))
    return loaded


# ---- save ------------------------------------------------------------------------------------------
def save_archive(store: ImageStore, path: Path, refs: list[str], fmt: str = "docker-archive") -> None:
    if fmt not in FORMATS:
        raise ImageError(f"unknown archive format {fmt!r} (use {' or '.join(FORMATS)})")
    if not refs:
        raise ImageError("nothing to save: name at least one image")
    chosen: list[tuple[Image, list[str]]] = []
    for text in refs:
        image = store.get(text)
        tag = _tags([text])
        tag = [t for t in tag if t in image.refs]
        for i, (other, tags) in enumerate(chosen):
            if other.id == image.id:
                chosen[i] = (other, tags + [t for t in tag if t not in tags])
                break
        else:
            chosen.append((image, tag))
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
            if fmt == "oci-archive":
                _save_oci(store, tf, chosen)
            else:
                _save_docker(store, tf, chosen)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tf.addfile(info, io.BytesIO(data))


def _add_dir(tf: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    tf.addfile(info)


def _save_oci(store: ImageStore, tf: tarfile.TarFile, chosen: list[tuple[Image, list[str]]]) -> None:
    _add_bytes(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    _add_dir(tf, "blobs")
    _add_dir(tf, "blobs/sha256")
    written: set[str] = set()
    descriptors = []
    for image, tags in chosen:
        manifest_bytes = store.blobs.read(image.manifest)
        media_type = mf.media_type_of(mf.load_json(manifest_bytes, "manifest"))
        for digest in (*(x.digest for x in image.layers), image.id, image.manifest):
            if digest not in written:
                written.add(digest)
                tf.add(store.blobs.path(digest), arcname=f"blobs/sha256/{digest[7:]}", recursive=False)
        base = {"mediaType": media_type, "digest": image.manifest, "size": len(manifest_bytes)}
        for tag in tags or [""]:
            annotations = {REF_NAME: tag, CONTAINERD_NAME: tag} if tag else None
            descriptors.append({**base, **({"annotations": annotations} if annotations else {})})
    _add_bytes(
        tf,
        "index.json",
        mf.canonical_json({"schemaVersion": 2, "mediaType": mf.OCI_INDEX, "manifests": descriptors}),
    )


def _save_docker(store: ImageStore, tf: tarfile.TarFile, chosen: list[tuple[Image, list[str]]]) -> None:
    entries: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    written: set[str] = set()
    for image, tags in chosen:
        layer_names = []
        parent = ""
        for layer in image.layers:
            layer_id = hashlib.sha256(f"{parent} {layer.diff_id}".encode()).hexdigest()  # v1-style chain id
            if layer_id not in written:
                written.add(layer_id)
                _add_dir(tf, layer_id)
                _add_bytes(tf, f"{layer_id}/VERSION", b"1.0")
                v1: dict[str, Any] = {"id": layer_id, **({"parent": parent} if parent else {})}
                _add_bytes(tf, f"{layer_id}/json", json.dumps(v1).encode())
                _add_layer_tar(store, tf, layer, f"{layer_id}/layer.tar")
            layer_names.append(f"{layer_id}/layer.tar")
            parent = layer_id
        config_name = f"{image.id[7:]}.json"
        if config_name not in written:
            written.add(config_name)
            _add_bytes(tf, config_name, store.blobs.read(image.id))
        familiar = [parse_reference(t).familiar() for t in tags]
        entries.append({"Config": config_name, "RepoTags": familiar or None, "Layers": layer_names})
        for tag in tags:
            ref = parse_reference(tag)
            repositories.setdefault(ref.familiar_repository(), {})[ref.tag] = parent
    _add_bytes(tf, "manifest.json", json.dumps(entries).encode())
    if repositories:
        _add_bytes(tf, "repositories", json.dumps(repositories).encode())


def _add_layer_tar(store: ImageStore, tf: tarfile.TarFile, layer: LayerRef, name: str) -> None:
    """docker archives carry uncompressed layers: decompress into a temp file to know its size."""
    with store.blobs.open(layer.digest) as raw:
        if raw.read(2) != b"\x1f\x8b":
            raw.seek(0)
            tf.add(store.blobs.path(layer.digest), arcname=name, recursive=False)
            return
        raw.seek(0)
        store.blobs.ensure_dirs()
        with tempfile.TemporaryFile(dir=store.blobs.tmp_dir) as tmp, gzip.GzipFile(fileobj=raw) as gz:
            shutil.copyfileobj(gz, tmp, 1 << 20)
            info = tarfile.TarInfo(name)
            info.size, info.mode = tmp.tell(), 0o644
            tmp.seek(0)
            tf.addfile(info, tmp)
