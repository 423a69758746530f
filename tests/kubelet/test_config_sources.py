"""ConfigMaps and Secrets in a pod, as the kubelet builds them: env (valueFrom, envFrom), the
downward API, and written volumes with kubelet's atomic `..data` swap."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any, cast

import pytest

from api.podrefs import references
from api.protocol import ApiClient
from kubelet.env import container_env
from kubelet.podobjects import ContainerConfigError, ObjectSource, PodObjects
from kubelet.projection import VolumeError, volume_files, write_atomic

NS = "team"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def objects(**found: dict[str, Any] | None) -> PodObjects:
    out = PodObjects(NS)
    for key, obj in found.items():
        resource, name = key.split("__")
        out.found[(resource, name)] = obj
    return out


CM = {"data": {"mode": "fast", "level": "3", "bad key": "x"}, "binaryData": {"blob": b64("raw")}}
SECRET = {"data": {"password": b64("s3cret")}}


def pod(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": NS, "uid": "u1", "labels": {"app": "web", "tier": 'a"b'}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec},
    }


def test_references_walk_every_use() -> None:
    p = pod(
        volumes=[
            {"name": "v", "configMap": {"name": "cm1"}},
            {"name": "s", "secret": {"secretName": "s1"}},
            {
                "name": "pr",
                "projected": {"sources": [{"configMap": {"name": "cm2"}}, {"secret": {"name": "s2"}}]},
            },
        ],
        initContainers=[{"name": "i", "envFrom": [{"secretRef": {"name": "s3"}}]}],
        imagePullSecrets=[{"name": "pull"}],
    )
    p["spec"]["containers"][0]["env"] = [
        {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm3", "key": "k"}}}
    ]
    refs = references(p)
    assert refs["configmaps"] == {"cm1", "cm2", "cm3"} and refs["secrets"] == {"s1", "s2", "s3", "pull"}


def test_env_from_config_map_and_secret() -> None:
    c = {
        "name": "c",
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "env": [
            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "password"}}},
            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
            {
                "name": "GONE",
                "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": True}},
            },
            {"name": "BOTH", "value": "$(MODE)-$(PW)"},
        ],
    }
    env = container_env(
        pod(enableServiceLinks=False),
        c,
        "",
        "",
        objects=objects(configmaps__cfg=CM, secrets__sec=SECRET, configmaps__nope=None),
    )
    assert env == {
        "CFG_mode": "fast",
        "CFG_level": "3",
        "CFG_blob": "raw",
        "PW": "s3cret",
        "MODE": "fast",
        "BOTH": "fast-s3cret",
    }  # "bad key" is no variable name: skipped, as kubelet does


def test_missing_sources_are_kubelets_errors() -> None:
    missing = {
        "name": "c",
        "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}],
    }
    with pytest.raises(ContainerConfigError, match=r'^configmap "cfg" not found$'):
        container_env(pod(), missing, "", "", objects=objects(configmaps__cfg=None))
    with pytest.raises(ContainerConfigError, match=f"^couldn't find key k in ConfigMap {NS}/cfg$"):
        container_env(pod(), missing, "", "", objects=objects(configmaps__cfg=CM))
    no_secret = {"name": "c", "envFrom": [{"secretRef": {"name": "s"}}]}
    with pytest.raises(ContainerConfigError, match=r'^secret "s" not found$'):
        container_env(pod(), no_secret, "", "", objects=objects(secrets__s=None))


def test_resource_field_ref_rounds_up_by_divisor() -> None:
    c = {
        "name": "c",
        "resources": {"limits": {"cpu": "1500m", "memory": "64Mi"}},
        "env": [
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {
                "name": "MEM",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
            },
            {"name": "REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu"}}},
        ],
    }
    p = pod(enableServiceLinks=False)
    p["spec"]["containers"] = [c]
    assert container_env(p, c, "", "") == {"CPU": "2", "MEM": "64", "REQ": "0"}


def test_volume_files_items_modes_and_optional() -> None:
    vol = {
        "name": "v",
        "configMap": {
            "name": "cfg",
            "items": [{"key": "mode", "path": "conf/mode", "mode": 0o600}],
            "defaultMode": 0o644,
        },
    }
    assert volume_files(pod(), vol, objects(configmaps__cfg=CM)) == {"conf/mode": (b"fast", 0o600)}
    secret = {"name": "s", "secret": {"secretName": "sec", "defaultMode": 0o400}}
    assert volume_files(pod(), secret, objects(secrets__sec=SECRET)) == {"password": (b"s3cret", 0o400)}
    optional = {"name": "o", "configMap": {"name": "nope", "optional": True}}
    assert volume_files(pod(), optional, objects(configmaps__nope=None)) == {}
    with pytest.raises(
        VolumeError, match=r'MountVolume\.SetUp failed for volume "v" : configmap "cfg" not found'
    ):
        volume_files(pod(), vol, objects(configmaps__cfg=None))
    bad_key = {"name": "v", "configMap": {"name": "cfg", "items": [{"key": "zzz", "path": "z"}]}}
    with pytest.raises(VolumeError, match="non-existent config key: zzz"):
        volume_files(pod(), bad_key, objects(configmaps__cfg=CM))
    down = {
        "name": "d",
        "downwardAPI": {
            "items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
            ]
        },
    }
    assert volume_files(pod(), down, objects()) == {
        "labels": (b'app="web"\ntier="a\\"b"', 0o644),
        "name": (b"p", 0o644),
    }
    token = {
        "name": "t",
        "projected": {"sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}}]},
    }
    with pytest.raises(VolumeError, match='failed to fetch token: serviceaccounts "default" not found'):
        volume_files(pod(), token, objects())
    got = objects()
    got.tokens[("", 3607)] = "eyJ.x.y"
    assert volume_files(pod(), token, got) == {"token": (b"eyJ.x.y", 0o644)}
    clusterbundle = {"name": "b", "projected": {"sources": [{"clusterTrustBundle": {"path": "b"}}]}}
    with pytest.raises(VolumeError, match="not supported"):
        volume_files(pod(), clusterbundle, objects())


def test_atomic_writer_swaps_data_and_drops_stale_names(tmp_path: Path) -> None:
    target = tmp_path / "vol"
    assert write_atomic(target, {"a": (b"1", 0o644), "dir/b": (b"2", 0o600)})
    first = os.readlink(target / "..data")
    assert (target / "a").read_bytes() == b"1" and os.readlink(target / "a") == "..data/a"
    assert (target / "dir" / "b").read_bytes() == b"2"
    assert (target / "dir" / "b").stat().st_mode & 0o777 == 0o600
    assert not write_atomic(target, {"a": (b"1", 0o644), "dir/b": (b"2", 0o600)})  # unchanged: untouched
    assert os.readlink(target / "..data") == first
    assert write_atomic(target, {"a": (b"new", 0o644)})
    assert (target / "a").read_bytes() == b"new"
    assert not (target / "dir").exists()  # stale name gone
    assert not (target / first).exists()  # old generation removed
    assert sorted(p.name for p in target.iterdir()) == sorted(["..data", "a", os.readlink(target / "..data")])


class _Client:
    def __init__(self) -> None:
        self.gets: list[tuple[str, str, str]] = []

    async def get(self, resource: str, name: str, namespace: str) -> dict[str, Any]:
        from api.errors import not_found

        self.gets.append((resource, name, namespace))
        if name == "missing":
            raise not_found(resource, name)
        return {"metadata": {"name": name}, "data": {}}


@pytest.mark.anyio
async def test_object_source_caches_briefly_and_records_absence() -> None:
    now = [0.0]
    client = _Client()
    source = ObjectSource(cast(ApiClient, client), ttl=1.0, clock=lambda: now[0])  # a fake with get only
    p = pod(
        volumes=[
            {"name": "v", "configMap": {"name": "cfg"}},
            {"name": "m", "secret": {"secretName": "missing"}},
        ]
    )
    got = await source.fetch(p)
    assert got.get("configmaps", "cfg") == {"metadata": {"name": "cfg"}, "data": {}}
    assert got.get("secrets", "missing") is None
    await source.fetch(p)
    assert len(client.gets) == 2  # within the ttl: no new GETs
    now[0] = 1.5
    await source.fetch(p)
    assert len(client.gets) == 4


@pytest.mark.parametrize(
    ("rel", "why"),
    [
        ("/etc/cron.d/x", "must be a relative path"),
        ("a/../../x", "must not contain '..'"),
        ("..data", "start with"),
    ],
)
def test_atomic_writer_refuses_a_path_out_of_its_volume(tmp_path: Path, rel: str, why: str) -> None:
    with pytest.raises(VolumeError, match=why):
        write_atomic(tmp_path / "vol", {"ok": (b"1", 0o644), rel: (b"2", 0o644)})
    assert not (tmp_path / "x").exists() and not (tmp_path / "vol" / "ok").exists()  # nothing written
