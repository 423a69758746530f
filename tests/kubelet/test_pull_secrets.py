"""imagePullSecrets are used for pulls, as kubelet's keyring does: the credentials a pod's
dockerconfigjson (or dockercfg) Secrets hold for the image's registry are tried in order, then an
anonymous pull. Checked against a real docker-registry with basic auth and with the fake runtime."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelet.images import PullError, ensure_image, pull_credentials
from runtime.fake import FakeRuntime
from runtime.images import ImageStore
from runtime.images.base import build_base
from runtime.images.errors import AuthError
from runtime.images.registry import pull, push
from tests.runtime.images.registry_fixture import Registry, run_registry


def docker_secret(host: str, user: str, password: str, legacy: bool = False) -> dict[str, Any]:
    entry = {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
    doc = {host: entry} if legacy else {"auths": {host: entry}}
    key = ".dockercfg" if legacy else ".dockerconfigjson"
    return {
        "type": "kubernetes.io/" + key[1:],
        "data": {key: base64.b64encode(json.dumps(doc).encode()).decode()},
    }


def test_credentials_are_the_ones_for_the_images_registry() -> None:
    secrets = [
        docker_secret("other.example:5000", "x", "y"),
        docker_secret("reg.local:5000", "alice", "pw"),
        docker_secret("https://reg.local:5000/v1/", "bob", "pw2", legacy=True),
    ]
    assert pull_credentials("reg.local:5000/team/app:1", secrets) == [("alice", "pw"), ("bob", "pw2")]
    assert pull_credentials("busybox:1.35", secrets) == []


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with run_registry(tmp_path_factory.mktemp("auth-registry"), "alice", "s3cret") as reg:
        yield reg


def test_real_pull_with_a_pull_secret(auth_registry: Registry, tmp_path: Path) -> None:
    src = ImageStore(tmp_path / "src")
    build_base(src)
    dest = f"{auth_registry.host}/team/busybox:1.35"
    login = tmp_path / "login.json"
    login.write_text(
        json.dumps({"auths": {auth_registry.host: {"auth": base64.b64encode(b"alice:s3cret").decode()}}})
    )
    asyncio.run(push(src, "busybox:1.35", dest, authfile=login))
    store = ImageStore(tmp_path / "dst")
    with pytest.raises(AuthError):
        asyncio.run(pull(store, dest, authfile=tmp_path / "none.json"))
    (creds,) = pull_credentials(dest, [docker_secret(auth_registry.host, "alice", "s3cret")])
    image = asyncio.run(pull(store, dest, authfile=tmp_path / "none.json", credentials=creds))
    assert image.id == src.get("busybox:1.35").id


def test_ensure_image_tries_each_secret_then_reports_the_failure() -> None:
    rt = FakeRuntime()
    rt.private["reg.local:5000/app:1"] = ("alice", "pw")
    rt.missing_images.add("reg.local:5000/app:1")
    events: list[tuple[str, str]] = []
    pod = {"metadata": {"name": "p", "namespace": "d", "uid": "u"}}
    c = {"name": "c", "image": "reg.local:5000/app:1", "imagePullPolicy": "IfNotPresent"}

    def record(pod: dict[str, Any], type_: str, reason: str, message: str) -> None:
        events.append((reason, message))

    with pytest.raises(PullError, match="authentication required"):
        asyncio.run(
            ensure_image(rt, pod, c, record, lambda: 0.0, [docker_secret("reg.local:5000", "alice", "no")])
        )
    asyncio.run(
        ensure_image(
            rt,
            pod,
            c,
            record,
            lambda: 0.0,
            [docker_secret("reg.local:5000", "alice", "no"), docker_secret("reg.local:5000", "alice", "pw")],
        )
    )
    assert events[-1][0] == "Pulled" and events[-1][1].startswith(
        'Successfully pulled image "reg.local:5000/app:1"'
    )
