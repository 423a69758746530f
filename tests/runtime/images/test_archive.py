"""save/load in both archive formats, cross-checked with skopeo (a real other tool)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from runtime.images import ImageStore
from runtime.images.base import build_base
from runtime.images.errors import ArchiveError, DigestMismatch


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> ImageStore:
    store = ImageStore(tmp_path_factory.mktemp("src"))
    build_base(store)
    return store


def skopeo(*args: str) -> str:
    return subprocess.run(
        ["skopeo", "--insecure-policy", *args], check=True, capture_output=True, text=True
    ).stdout


def test_docker_archive_is_readable_by_skopeo_and_round_trips(built: ImageStore, tmp_path: Path) -> None:
    out = tmp_path / "web.tar"
    built.save(out, ["kubelite/web:1.0", "busybox:latest"], "docker-archive")
    with tarfile.open(out) as tf:
        manifest = json.loads(tf.extractfile("manifest.json").read())  # type: ignore[union-attr]
        repositories = json.loads(tf.extractfile("repositories").read())  # type: ignore[union-attr]
    assert [m["RepoTags"] for m in manifest] == [["kubelite/web:1.0"], ["busybox:latest"]]
    assert set(repositories) == {"kubelite/web", "busybox"}
    web = built.get("kubelite/web:1.0")
    info = json.loads(skopeo("inspect", f"docker-archive:{out}:kubelite/web:1.0"))
    assert info["Digest"] and len(info["Layers"]) == 2
    config = json.loads(skopeo("inspect", "--config", f"docker-archive:{out}:kubelite/web:1.0"))
    assert config["rootfs"]["diff_ids"] == web.diff_ids

    fresh = ImageStore(tmp_path / "dst")
    loaded = fresh.load(out)
    assert [i.id for i in loaded] == [web.id, built.get("busybox").id]
    assert fresh.get("kubelite/web:1.0").id == web.id and fresh.get("busybox").id == loaded[1].id
    assert (fresh.layer_dirs(loaded[0])[1] / "www/index.html").is_file()


def test_oci_archive_is_readable_by_skopeo_and_round_trips(built: ImageStore, tmp_path: Path) -> None:
    out = tmp_path / "web-oci.tar"
    built.save(out, ["kubelite/web:1.0"], "oci-archive")
    web = built.get("kubelite/web:1.0")
    info = json.loads(skopeo("inspect", f"oci-archive:{out}"))
    assert info["Digest"] == web.digest
    fresh = ImageStore(tmp_path / "dst")
    loaded = fresh.load(out)
    assert loaded[0].id == web.id and loaded[0].digest == web.digest
    assert fresh.get("docker.io/kubelite/web:1.0").id == web.id


def test_skopeo_copies_into_load_both_ways(built: ImageStore, tmp_path: Path) -> None:
    web = built.get("kubelite/web:1.0")
    oci = tmp_path / "a.tar"
    built.save(oci, ["kubelite/web:1.0"], "oci-archive")
    as_docker = tmp_path / "b.tar"
    skopeo("copy", "-q", f"oci-archive:{oci}", f"docker-archive:{as_docker}:example/copied:v1")
    docker = tmp_path / "c.tar"
    built.save(docker, ["busybox:1.35"], "docker-archive")
    as_oci = tmp_path / "d.tar"
    skopeo("copy", "-q", f"docker-archive:{docker}", f"oci-archive:{as_oci}:localhost/from-docker:v2")

    fresh = ImageStore(tmp_path / "dst")
    assert fresh.load(as_docker)[0].id == web.id
    assert fresh.get("example/copied:v1").id == web.id
    assert fresh.load(as_oci)[0].id == built.get("busybox:1.35").id
    assert fresh.get("localhost/from-docker:v2").diff_ids == built.get("busybox").diff_ids
    dirs = fresh.layer_dirs(fresh.get("example/copied:v1"))
    assert (dirs[0] / "bin/busybox").is_file()


def test_bad_archives_are_refused_and_keep_nothing(built: ImageStore, tmp_path: Path) -> None:
    not_tar = tmp_path / "junk.tar"
    not_tar.write_bytes(b"no tar here")
    fresh = ImageStore(tmp_path / "dst")
    with pytest.raises(ArchiveError):
        fresh.load(not_tar)
    with pytest.raises(ArchiveError, match="no such file"):
        fresh.load(tmp_path / "missing.tar")
    # an OCI archive whose layer blob was tampered with
    good = tmp_path / "good.tar"
    built.save(good, ["busybox"], "oci-archive")
    bad = tmp_path / "bad.tar"
    layer = built.get("busybox").layers[0].digest[7:]
    with tarfile.open(good) as src, tarfile.open(bad, "w") as dst:
        for m in src.getmembers():
            f = src.extractfile(m) if m.isfile() else None
            if m.name == f"blobs/sha256/{layer}" and f is not None:
                data = bytearray(f.read())
                data[100] ^= 0xFF
                dst.addfile(m, io.BytesIO(bytes(data)))
            else:
                dst.addfile(m, f)
    with pytest.raises(DigestMismatch):
        fresh.load(bad)
    assert fresh.list() == [] and not any(p.name.startswith("blob-") for p in fresh.blobs.tmp_dir.iterdir())
    with pytest.raises(Exception, match="image not found"):
        built.save(tmp_path / "x.tar", ["nope"])
    assert not (tmp_path / "x.tar").exists() and not list(tmp_path.glob(".x.tar*"))


def test_podman_loads_our_archives_and_we_load_its(built: ImageStore, tmp_path: Path) -> None:
    runroot = Path(tempfile.mkdtemp(prefix="kl-prun-"))  # podman wants a runroot under 50 characters
    try:
        _podman_round_trip(built, tmp_path, runroot)
    finally:
        shutil.rmtree(runroot, ignore_errors=True)


def _podman_round_trip(built: ImageStore, tmp_path: Path, runroot: Path) -> None:
    def podman(*args: str) -> str:
        res = subprocess.run(
            [
                "podman",
                "--root",
                str(tmp_path / "proot"),
                "--runroot",
                str(runroot),
                "--storage-driver",
                "vfs",
                "--events-backend",
                "none",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        return res.stdout

    ours_docker, ours_oci = tmp_path / "d.tar", tmp_path / "o.tar"
    built.save(ours_docker, ["kubelite/web:1.0"], "docker-archive")
    built.save(ours_oci, ["busybox:latest"], "oci-archive")
    podman("load", "-i", str(ours_docker))
    podman("load", "-i", str(ours_oci))
    ids = set(podman("images", "--no-trunc", "--format", "{{.ID}}").split())
    assert {built.get("kubelite/web:1.0").id[7:], built.get("busybox").id[7:]} <= {
        i.removeprefix("sha256:") for i in ids
    }
    theirs = tmp_path / "p.tar"
    podman("save", "--format", "docker-archive", "-o", str(theirs), "docker.io/library/busybox:latest")
    fresh = ImageStore(tmp_path / "dst")
    assert fresh.load(theirs)[0].id == built.get("busybox").id
    assert fresh.get("busybox:latest").id == built.get("busybox").id


def test_docker_archive_with_compressed_layers_loads(built: ImageStore, tmp_path: Path) -> None:
    import gzip

    plain, packed = tmp_path / "plain.tar", tmp_path / "packed.tar"
    built.save(plain, ["busybox:latest"], "docker-archive")
    with tarfile.open(plain) as src, tarfile.open(packed, "w") as dst:
        for m in src.getmembers():
            f = src.extractfile(m) if m.isfile() else None
            if f is not None and m.name.endswith("/layer.tar"):
                data = gzip.compress(f.read(), mtime=0)
                m.size = len(data)
                dst.addfile(m, io.BytesIO(data))
            else:
                dst.addfile(m, f)
    fresh = ImageStore(tmp_path / "dst")
    image = fresh.load(packed)[0]
    assert image.id == built.get("busybox").id
    assert (fresh.layer_dirs(image)[0] / "bin/busybox").is_file()
