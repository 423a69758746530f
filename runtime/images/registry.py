"""Pull and push images over the OCI distribution v2 protocol.

Pull: when the store holds the tag already, one `HEAD manifests/<tag>` (with every manifest and
index type in `Accept`) compares the registry's digest with the one pulled before and ends the
pull if they agree (a re-pull of an unchanged image, as `imagePullPolicy: Always` asks for).
Otherwise `GET manifests/<tag|digest>`; if an image already in the store has that repo digest
the pull ends there. Otherwise an
index picks the linux/<host arch> manifest, the config and the missing layer blobs are fetched
(layers concurrently, streamed straight into verified blobs), the image is indexed and its layers
unpacked. Push: per blob `HEAD` (skip if present) -> `POST uploads/` -> `PUT <location>&digest=`,
then `PUT manifests/<tag>` with the stored manifest bytes, so the digest survives the trip.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from runtime.datarecord import replace
from runtime.images import manifest as mf
from runtime.images.auth import load_credentials
from runtime.images.errors import AuthError, DigestMismatch, ImageError
from runtime.images.model import Image
from runtime.images.reference import Reference, parse_reference
from runtime.images.regclient import RegistrySession, registry_error
from runtime.images.store import ImageStore

# progress(digest, bytes_done, bytes_total, status), status: "waiting", "downloading", "done", "exists",
# then "extracting" and "complete" per fetched layer (a pull); "pushed" (a push). progress.py shows them.
Progress = Callable[[str, int, int, str], None]
CONCURRENT_LAYERS = 4


def _session(
    store: ImageStore,
    ref: Reference,
    insecure: bool,
    authfile: Path | None,
    event_hooks: dict[str, list[Callable[..., Any]]] | None,
    transport: httpx.AsyncBaseTransport | None,
    credentials: tuple[str, str] | None = None,
) -> RegistrySession:
    """`credentials` given (a kubelet's pull secret, CRI's AuthConfig) win over the auth files."""
    creds = credentials or load_credentials(ref.domain, authfile, store.root)
    return RegistrySession(ref.domain, creds, insecure, event_hooks, transport)


async def _get_manifest(
    session: RegistrySession, ref: Reference, target: str, scope: str
) -> tuple[bytes, str]:
    resp = await session.request(
        "GET", f"/v2/{ref.path}/manifests/{target}", scope, headers={"Accept": mf.ACCEPT}
    )
    if resp.status_code == 404:
        raise ImageError(
            f"image not found in registry: {ref.repository}:{target}"
            if not target.startswith("sha256:")
            else f"image not found in registry: {ref.repository}@{target}"
        )
    if resp.status_code != 200:
        raise registry_error(resp, f"fetching manifest {ref.repository}:{target}")
    body = resp.content
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if target.startswith("sha256:") and digest != target:
        raise DigestMismatch(f"manifest digest mismatch: asked for {target}, got {digest}")
    media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
    return body, media_type


async def _manifest_digest(session: RegistrySession, ref: Reference, target: str, scope: str) -> str | None:
    """The digest the registry names `target` by (`HEAD`, same Accept as a pull: an OCI manifest is
    "unknown" to a client that does not accept it); None when it does not say, so the caller GETs."""
    resp = await session.request(
        "HEAD", f"/v2/{ref.path}/manifests/{target}", scope, headers={"Accept": mf.ACCEPT}
    )
    if resp.status_code == 404:
        raise ImageError(f"image not found in registry: {ref.repository}:{target}")
    digest = resp.headers.get("Docker-Content-Digest", "")
    return digest if resp.status_code == 200 and digest.startswith("sha256:") else None


def _held(store: ImageStore, ref: str) -> Image | None:
    """The image the store holds under `ref`, if all its layer blobs are there too."""
    image = store.resolve(ref)
    return image if image is not None and all(store.blobs.has(x.digest) for x in image.layers) else None


def _digests_of(image: Image, ref: Reference) -> set[str]:
    prefix = f"{ref.repository}@"
    return {d[len(prefix) :] for d in image.repo_digests if d.startswith(prefix)}


async def _fetch_blob(
    session: RegistrySession,
    store: ImageStore,
    ref: Reference,
    desc: mf.Descriptor,
    scope: str,
    progress: Progress | None,
) -> None:
    resp = await session.request("GET", f"/v2/{ref.path}/blobs/{desc.digest}", scope, stream=True)
    try:
        if resp.status_code != 200:
            await resp.aread()
            raise registry_error(resp, f"fetching blob {desc.digest}")

        async def chunks() -> Any:
            async for chunk in resp.aiter_bytes(1 << 20):
                yield chunk
                if progress:
                    progress(desc.digest, resp.num_bytes_downloaded, desc.size, "downloading")

        await store.blobs.put_async_stream(chunks(), desc.digest, desc.size)
    finally:
        await resp.aclose()
    if progress:
        progress(desc.digest, desc.size, desc.size, "done")


async def pull(
    store: ImageStore,
    ref_text: str,
    insecure: bool = False,
    authfile: Path | None = None,
    progress: Progress | None = None,
    event_hooks: dict[str, list[Callable[..., Any]]] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    credentials: tuple[str, str] | None = None,
) -> Image:
    """Pull `ref_text` into the store (unpacking its layers) and return the image."""
    ref = parse_reference(ref_text)
    target = ref.digest or ref.tag
    scope = f"repository:{ref.path}:pull"
    tags = [str(ref.with_tag(ref.tag))] if ref.tag else []
    async with _session(store, ref, insecure, authfile, event_hooks, transport, credentials) as session:
        held = _held(store, str(ref)) if ref.tag and not ref.digest else None
        if held is not None and await _manifest_digest(session, ref, target, scope) in _digests_of(held, ref):
            return held  # the tag still names the manifest we hold: nothing changed
        top, media_type = await _get_manifest(session, ref, target, scope)
        top_digest = "sha256:" + hashlib.sha256(top).hexdigest()
        present = store.resolve(f"{ref.repository}@{top_digest}")
        if present is not None and all(store.blobs.has(x.digest) for x in present.layers):
            for tag in tags:
                if tag not in present.refs:
                    store.tag(present.id, tag)
            return store.get(present.id)
        body = top
        if mf.media_type_of(mf.load_json(top, "manifest"), media_type) in mf.INDEX_TYPES:
            store.blobs.put(top)
            chosen = mf.pick_platform(top)
            body, media_type = await _get_manifest(session, ref, chosen.digest, scope)
        manifest = mf.parse_manifest(body, media_type)
        if not store.blobs.has(manifest.config.digest):
            await _fetch_blob(session, store, ref, manifest.config, scope, None)
        config_bytes = store.blobs.read(manifest.config.digest)
        layers = mf.layer_refs(manifest, mf.config_diff_ids(mf.load_json(config_bytes, "image config")))
        missing = [d for d in manifest.layers if not store.blobs.has(d.digest)]
        for d in manifest.layers:
            if progress:  # every layer up front, so a display knows the totals from the start
                progress(
                    d.digest, 0 if d in missing else d.size, d.size, "waiting" if d in missing else "exists"
                )
        limit = asyncio.Semaphore(CONCURRENT_LAYERS)

        async def fetch(desc: mf.Descriptor) -> None:
            async with limit:
                await _fetch_blob(session, store, ref, desc, scope, progress)

        await asyncio.gather(*(fetch(d) for d in missing))
    image = store.add_image(config_bytes, body, layers, tags, digest=top_digest, repository=ref.repository)
    if progress is None:
        await asyncio.to_thread(store.layer_dirs, image)
        return image
    fetched = {d.digest for d in missing}
    for i, layer in enumerate(image.layers):  # one at a time, lowest first, so each can say it is done
        if layer.digest in fetched:
            progress(layer.digest, layer.size, layer.size, "extracting")
        await asyncio.to_thread(store.layer_dirs, replace(image, layers=image.layers[: i + 1]))
        if layer.digest in fetched:
            progress(layer.digest, layer.size, layer.size, "complete")
    return image


async def _push_blob(
    session: RegistrySession,
    store: ImageStore,
    ref: Reference,
    digest: str,
    scope: str,
    progress: Progress | None,
) -> None:
    size = store.blobs.size(digest)
    head = await session.request("HEAD", f"/v2/{ref.path}/blobs/{digest}", scope)
    if head.status_code == 200:
        if progress:
            progress(digest, size, size, "exists")
        return
    start = await session.request("POST", f"/v2/{ref.path}/blobs/uploads/", scope)
    if start.status_code != 202 or "Location" not in start.headers:
        raise registry_error(start, f"starting upload of {digest}")
    location = str(httpx.URL(session.base + f"/v2/{ref.path}/blobs/uploads/").join(start.headers["Location"]))
    url = httpx.URL(location).copy_merge_params({"digest": digest})
    data = store.blobs.read(digest) if size <= (8 << 20) else _file_chunks(store.blobs.path(digest))
    put = await session.request(
        "PUT",
        str(url),
        scope,
        content=data,
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
    )
    if put.status_code != 201:
        raise registry_error(put, f"uploading blob {digest}")
    if progress:
        progress(digest, size, size, "pushed")


def _file_chunks(path: Path) -> Any:
    async def gen() -> Any:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk

    return gen()


async def push(
    store: ImageStore,
    ref_or_id: str,
    dest: str | None = None,
    insecure: bool = False,
    authfile: Path | None = None,
    progress: Progress | None = None,
    event_hooks: dict[str, list[Callable[..., Any]]] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> str:
    """Push a local image to `dest` (default: the reference itself); returns the manifest digest."""
    image = store.get(ref_or_id)
    ref = parse_reference(dest or ref_or_id)
    if ref.digest:
        raise ImageError(f"cannot push to a digest reference: {ref}")
    manifest_bytes = store.blobs.read(image.manifest)
    media_type = mf.media_type_of(mf.load_json(manifest_bytes, "manifest"))
    scope = f"repository:{ref.path}:pull,push"
    async with _session(store, ref, insecure, authfile, event_hooks, transport) as session:
        limit = asyncio.Semaphore(CONCURRENT_LAYERS)

        async def upload(digest: str) -> None:
            async with limit:
                await _push_blob(session, store, ref, digest, scope, progress)

        await asyncio.gather(*(upload(x.digest) for x in image.layers))
        await _push_blob(session, store, ref, image.id, scope, progress)
        resp = await session.request(
            "PUT",
            f"/v2/{ref.path}/manifests/{ref.tag}",
            scope,
            content=manifest_bytes,
            headers={"Content-Type": media_type},
        )
        if resp.status_code not in (200, 201):
            raise registry_error(resp, f"pushing manifest {ref}")
    digest = "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
    store.add_image(
        store.blobs.read(image.id), manifest_bytes, image.layers, [], digest=digest, repository=ref.repository
    )
    return digest


async def check_login(
    registry: str,
    credentials: tuple[str, str],
    insecure: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Raise AuthError unless the registry accepts `credentials` (`GET /v2/`, answering its challenge)."""
    domain = parse_reference(f"{registry}/probe").domain if "/" not in registry else registry.split("/")[0]
    async with RegistrySession(domain, credentials, insecure, None, transport) as session:
        try:
            resp = await session.request("GET", "/v2/", "")
        except AuthError as e:
            raise AuthError(f"login to {registry} failed: {e}") from None
        if resp.status_code != 200:
            raise registry_error(resp, f"login to {registry} failed")
