"""Registry protocol logic against an in-process fake (httpx.MockTransport): bearer tokens and
manifest lists. The real docker-registry tests cover anonymous and basic auth end to end."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import httpx
import pytest

from runtime.images import ImageStore
from runtime.images import manifest as mf
from runtime.images.auth import credentials_from, host_key, parse_challenge
from runtime.images.errors import AuthError, DigestMismatch
from runtime.images.registry import pull


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(name: str, body: bytes) -> tuple[bytes, str]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(name)
        info.size = len(body)
        tf.addfile(info, io.BytesIO(body))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0), _digest(raw)


class FakeRegistry:
    """Serves one repository `team/app` whose tag `v1` is a docker manifest list (amd64 + arm64)."""

    def __init__(self, corrupt_layer: bool = False) -> None:
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, tuple[bytes, str]] = {}
        self.log: list[str] = []
        by_arch = {}
        for arch in ("amd64", "arm64"):
            blob, diff_id = _layer("arch.txt", arch.encode())
            config = json.dumps(
                {
                    "architecture": arch,
                    "os": "linux",
                    "config": {"Cmd": ["sh"]},
                    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                }
            ).encode()
            self.blobs[_digest(blob)] = blob[:-3] + b"xyz" if corrupt_layer else blob
            self.blobs[_digest(config)] = config
            manifest = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": mf.DOCKER_MANIFEST,
                    "config": {"mediaType": mf.DOCKER_CONFIG, "digest": _digest(config), "size": len(config)},
                    "layers": [
                        {"mediaType": mf.DOCKER_LAYER_GZIP, "digest": _digest(blob), "size": len(blob)}
                    ],
                }
            ).encode()
            self.manifests[_digest(manifest)] = (manifest, mf.DOCKER_MANIFEST)
            by_arch[arch] = (_digest(manifest), len(manifest))
        index = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": mf.DOCKER_LIST,
                "manifests": [
                    {
                        "mediaType": mf.DOCKER_MANIFEST,
                        "digest": d,
                        "size": n,
                        "platform": {"os": "linux", "architecture": a},
                    }
                    for a, (d, n) in by_arch.items()
                ],
            }
        ).encode()
        self.manifests["v1"] = self.manifests[_digest(index)] = (index, mf.DOCKER_LIST)
        self.amd64_config = next(d for d, b in self.blobs.items() if b'"amd64"' in b)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.log.append(f"{request.method} {request.url.path}")
        if request.url.path == "/token":
            if request.headers.get("Authorization") != "Basic " + base64.b64encode(b"u:p").decode():
                return httpx.Response(401)
            assert request.url.params["scope"] == "repository:team/app:pull"
            return httpx.Response(200, json={"token": "t0k"})
        if request.headers.get("Authorization") != "Bearer t0k":
            challenge = 'Bearer realm="https://reg.example/token",service="reg.example",scope="repository:team/app:pull"'
            return httpx.Response(
                401,
                headers={"WWW-Authenticate": challenge},
                json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
            )
        assert (
            "application/vnd.oci.image.index.v1+json" in request.headers.get("Accept", "")
            or "/blobs/" in request.url.path
        )
        kind, _, key = request.url.path.removeprefix("/v2/team/app/").partition("/")
        if kind == "manifests" and key in self.manifests:
            body, media_type = self.manifests[key]  # as distribution answers: the digest on GET and HEAD
            headers = {"Content-Type": media_type, "Docker-Content-Digest": _digest(body)}
            return httpx.Response(200, content=b"" if request.method == "HEAD" else body, headers=headers)
        if kind == "blobs" and key in self.blobs:
            return httpx.Response(200, content=self.blobs[key])
        return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]})


def _authfile(tmp_path: Path, user: str, password: str) -> Path:
    path = tmp_path / "auth.json"
    path.write_text(
        json.dumps(
            {
                "auths": {
                    "https://reg.example": {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
                }
            }
        )
    )
    return path


def test_bearer_flow_and_manifest_list_picks_host_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mf, "host_arch", lambda: "amd64")
    fake = FakeRegistry()
    store = ImageStore(tmp_path / "root")
    image = asyncio.run(
        pull(
            store,
            "reg.example/team/app:v1",
            authfile=_authfile(tmp_path, "u", "p"),
            transport=httpx.MockTransport(fake.handler),
        )
    )
    assert image.id == fake.amd64_config and image.config["architecture"] == "amd64"
    assert image.digest == _digest(fake.manifests["v1"][0])  # the repo digest is the list's
    assert (store.layer_dirs(image)[0] / "arch.txt").read_text() == "amd64"
    assert fake.log.count("GET /token") == 1
    fake.log.clear()
    asyncio.run(
        pull(
            store,
            "reg.example/team/app:v1",
            authfile=_authfile(tmp_path, "u", "p"),
            transport=httpx.MockTransport(fake.handler),
        )
    )
    # the tag still names what we hold: a HEAD (401, then 200 with the same digest) and nothing else
    assert [p for p in fake.log if "/manifests/" in p] == ["HEAD /v2/team/app/manifests/v1"] * 2
    assert not [p for p in fake.log if "/blobs/" in p]


def test_bad_token_credentials_and_corrupt_layers_are_refused(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "root")
    with pytest.raises(AuthError, match="token"):
        asyncio.run(
            pull(
                store,
                "reg.example/team/app:v1",
                authfile=_authfile(tmp_path, "u", "wrong"),
                transport=httpx.MockTransport(FakeRegistry().handler),
            )
        )
    with pytest.raises(DigestMismatch):
        asyncio.run(
            pull(
                store,
                "reg.example/team/app:v1",
                authfile=_authfile(tmp_path, "u", "p"),
                transport=httpx.MockTransport(FakeRegistry(corrupt_layer=True).handler),
            )
        )
    assert store.list() == [] and list(store.blobs.tmp_dir.iterdir()) == []


def test_auth_helpers() -> None:
    scheme, params = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/busybox:pull"'
    )
    assert scheme == "bearer" and params["service"] == "registry.docker.io"
    assert params["scope"] == "repository:library/busybox:pull"
    assert parse_challenge('Basic realm="x"') == ("basic", {"realm": "x"})
    assert (
        host_key("https://index.docker.io/v1/") == "docker.io"
        and host_key("localhost:5000") == "localhost:5000"
    )
    doc = {"auths": {"https://index.docker.io/v1/": {"auth": base64.b64encode(b"a:b:c").decode()}}}
    assert credentials_from(doc, "docker.io") == ("a", "b:c")
    assert credentials_from(doc, "quay.io") is None
