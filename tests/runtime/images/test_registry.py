"""Pull and push against a real docker-registry on loopback (anonymous and basic auth)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtime.images import ImageStore
from runtime.images.auth import save_login
from runtime.images.base import build_base
from runtime.images.errors import AuthError, ImageError
from runtime.images.registry import pull, push
from tests.runtime.images.registry_fixture import Registry, run_registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with run_registry(tmp_path_factory.mktemp("registry")) as reg:
        yield reg


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with run_registry(tmp_path_factory.mktemp("auth-registry"), "alice", "s3cret") as reg:
        yield reg


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> ImageStore:
    store = ImageStore(tmp_path_factory.mktemp("src"))
    build_base(store)
    return store


class Counter:
    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.paths.append(f"{request.method} {request.url.path}")

    def manifests(self) -> int:
        return sum("/manifests/" in p for p in self.paths)

    def hooks(self) -> dict:
        return {"request": [self]}


def test_push_then_pull_and_second_pull_costs_one_manifest_request(
    registry: Registry, built: ImageStore, tmp_path: Path
) -> None:
    web = built.get("kubelite/web:1.0")
    dest = f"{registry.host}/kubelite/web:1.0"
    digest = asyncio.run(push(built, "kubelite/web:1.0", dest))
    assert digest == web.digest
    assert "kubelite/web" in registry.catalog()
    again = Counter()
    asyncio.run(push(built, "kubelite/web:1.0", dest, event_hooks=again.hooks()))
    assert not any(p.startswith("PUT /v2/kubelite/web/blobs") or p.startswith("POST") for p in again.paths)

    store = ImageStore(tmp_path / "dst")
    first = Counter()
    image = asyncio.run(pull(store, dest, event_hooks=first.hooks()))
    assert image.id == web.id and image.refs == [dest] and image.digest == digest
    assert f"{registry.host}/kubelite/web@{digest}" in image.repo_digests
    assert sum("/blobs/" in p for p in first.paths) == 3  # config + 2 layers
    assert (store.layer_dirs(image)[1] / "www/index.html").is_file()

    second = Counter()
    assert asyncio.run(pull(store, dest, event_hooks=second.hooks())).id == web.id
    assert second.paths == ["HEAD /v2/kubelite/web/manifests/1.0"]  # the digest is unchanged

    by_digest = Counter()
    asyncio.run(pull(store, f"{registry.host}/kubelite/web@{digest}", event_hooks=by_digest.hooks()))
    assert by_digest.manifests() == 1 and len(by_digest.paths) == 1


def test_pull_shares_layers_already_present(registry: Registry, built: ImageStore, tmp_path: Path) -> None:
    asyncio.run(push(built, "busybox:latest", f"{registry.host}/library/busybox:latest"))
    asyncio.run(push(built, "kubelite/web:1.0", f"{registry.host}/kubelite/web:1.0"))
    store = ImageStore(tmp_path / "dst")
    asyncio.run(pull(store, f"{registry.host}/library/busybox"))
    counter = Counter()
    asyncio.run(pull(store, f"{registry.host}/kubelite/web:1.0", event_hooks=counter.hooks()))
    assert sum("/blobs/" in p for p in counter.paths) == 2  # config + the web layer only


def test_pull_missing_image_is_a_clear_error(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not found"):
        asyncio.run(pull(ImageStore(tmp_path), f"{registry.host}/nope/nothing:1"))


def test_basic_auth_with_login(auth_registry: Registry, built: ImageStore, tmp_path: Path) -> None:
    dest = f"{auth_registry.host}/team/busybox:1.35"
    with pytest.raises(AuthError, match="authentication"):
        asyncio.run(push(built, "busybox:1.35", dest, authfile=tmp_path / "none.json"))
    bad = tmp_path / "bad.json"
    save_login(bad, auth_registry.host, "alice", "wrong")
    with pytest.raises(AuthError):
        asyncio.run(push(built, "busybox:1.35", dest, authfile=bad))
    good = tmp_path / "auth.json"
    save_login(good, auth_registry.host, "alice", "s3cret")
    assert oct(good.stat().st_mode & 0o777) == "0o600"
    assert auth_registry.host in json.loads(good.read_text())["auths"]
    asyncio.run(push(built, "busybox:1.35", dest, authfile=good))

    store = ImageStore(tmp_path / "dst")
    save_login(store.root / "auth.json", auth_registry.host, "alice", "s3cret")  # the default authfile
    counter = Counter()
    image = asyncio.run(pull(store, dest, event_hooks=counter.hooks()))
    assert image.id == built.get("busybox").id
    again = Counter()
    asyncio.run(pull(store, dest, event_hooks=again.hooks()))
    assert again.paths == ["HEAD /v2/team/busybox/manifests/1.35"]  # credentials sent up front


def test_big_layer_streams_up_and_down(registry: Registry, built: ImageStore, tmp_path: Path) -> None:
    import os

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "blob.bin").write_bytes(os.urandom(9 << 20))  # incompressible: a > 8 MiB upload is streamed
    layer = built.layer_from_dir(tree)
    assert layer.size > 8 << 20
    image = built.create_image(built.get("busybox").config, [*built.get("busybox").layers, layer], ["big:1"])
    dest = f"{registry.host}/big/image:1"
    assert asyncio.run(push(built, "big:1", dest)) == image.digest
    store = ImageStore(tmp_path / "dst")
    pulled = asyncio.run(pull(store, dest))
    assert pulled.id == image.id
    assert (store.layer_dirs(pulled)[1] / "blob.bin").read_bytes() == (tree / "blob.bin").read_bytes()
    built.remove("big:1")
