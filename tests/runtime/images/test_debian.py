"""`kubelite runtime build-base debian`: the mirror it picks, the tree it trims, the image it makes.

debootstrap itself is replaced by a runner that lays out a small tree with what debootstrap leaves
behind (device nodes, .debs, package lists, the host's resolv.conf); the real run is exercised by
`make install` (scripts/install-images.sh) and the guestbook e2e test.
"""

from __future__ import annotations

import argparse
import os
import tarfile
from pathlib import Path

import pytest

from runtime import cli_images
from runtime.images import ImageStore, debian
from runtime.images.errors import ImageError

HOST_SOURCES = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
"""


def test_mirrors_come_from_the_hosts_deb822_sources() -> None:
    files = [
        ("nodesource.sources", "Types: deb\nURIs: https://deb.example/node\nSuites: nodistro\n"),
        ("debian.sources", HOST_SOURCES),
    ]
    assert debian.find_mirrors(files) == (
        "http://deb.debian.org/debian",
        "http://deb.debian.org/debian-security",
    )


def test_mirrors_from_one_line_sources_skip_options_comments_and_disabled_stanzas() -> None:
    files = [
        ("off.sources", "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n"),
        ("src.sources", "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n"),
        (
            "sources.list",
            "# deb http://old.example/debian bookworm main\n"
            "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main\n"
            "deb http://mirror.example/debian-security bookworm-security main\n",
        ),
    ]
    assert debian.find_mirrors(files) == (
        "http://mirror.example/debian",
        "http://mirror.example/debian-security",
    )


def test_no_sources_means_debs_own_mirror_and_no_security_entry() -> None:
    assert debian.find_mirrors([]) == (debian.DEFAULT_MIRROR, "")
    text = debian.image_sources(debian.DEFAULT_MIRROR, "")
    assert "Suites: bookworm bookworm-updates" in text and "security" not in text
    assert "URIs: http://s.example/sec\nSuites: bookworm-security" in debian.image_sources(
        "m", "http://s.example/sec"
    )


def test_debootstrap_is_minbase_of_main_from_the_mirror(tmp_path: Path) -> None:
    argv = debian.debootstrap_argv(tmp_path / "rootfs", "http://m.example/debian")
    assert argv == [
        "debootstrap",
        "--variant=minbase",
        "--components=main",
        "bookworm",
        str(tmp_path / "rootfs"),
        "http://m.example/debian",
    ]


def fake_debootstrap(calls: list[list[str]]) -> debian.Runner:
    """What debootstrap leaves that an image must not keep, plus a little that it must."""

    def run(argv: list[str]) -> None:
        calls.append(argv)
        if argv[0] != "debootstrap":  # the apt-get upgrade in a chroot: it must see the sources
            root = Path(argv[argv.index("chroot") + 1])
            assert (root / "etc/apt/sources.list.d/debian.sources").is_file()
            assert (root / "usr/sbin/policy-rc.d").is_file()
            return
        root = Path(argv[4])
        for rel, data in {
            "bin/sh": "#!fake shell\n",
            "dev/null": "",
            "dev/pts/0": "",
            "etc/resolv.conf": "nameserver 10.0.0.1\n",
            "etc/hostname": "builder\n",
            "etc/apt/sources.list": "deb http://m.example/debian bookworm main\n",
            "etc/apt/apt.conf.d/01autoremove": "APT {};\n",
            "var/cache/apt/archives/bash_5.2_amd64.deb": "deb",
            "var/cache/apt/pkgcache.bin": "cache",
            "var/lib/apt/lists/m.example_dists_bookworm_Release": "release",
            "var/log/dpkg.log": "installed",
            "var/log/apt/history.log": "apt",
            "usr/sbin/.keep": "",
        }.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data)
        (root / "var/lib/apt/lists/partial").mkdir()
        (root / "proc").mkdir()
        os.symlink("/proc/self/fd", root / "dev/fd")

    return run


def layer_members(store: ImageStore, ref: str) -> dict[str, tarfile.TarInfo]:
    image = store.get(ref)
    assert len(image.layers) == 1
    with tarfile.open(store.blobs.path(image.layers[0].digest), "r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def test_build_debian_trims_the_tree_into_one_tagged_layer(store: ImageStore) -> None:
    calls: list[list[str]] = []
    mirrors = ("http://m.example/debian", "http://m.example/debian-security")
    image = debian.build_debian(store, mirrors=mirrors, run=fake_debootstrap(calls))
    assert calls[0][:4] == ["debootstrap", "--variant=minbase", "--components=main", "bookworm"]
    assert calls[0][5] == "http://m.example/debian"
    assert [c[-3:] for c in calls[1:]] == [["apt-get", "-q", "update"], ["-q", "-y", "upgrade"]]
    assert "DEBIAN_FRONTEND=noninteractive" in calls[2]
    assert sorted(image.refs) == ["docker.io/library/debian:12", "docker.io/library/debian:bookworm"]
    assert image.config["config"]["Cmd"] == ["bash"]
    assert "debootstrap --variant=minbase bookworm" in image.config["history"][0]["created_by"]
    members = layer_members(store, "debian:bookworm")
    kept = {
        "bin/sh",
        "dev",
        "proc",
        "var/log/apt",
        "var/lib/apt/lists/partial",
        "var/cache/apt/archives/partial",
    }
    assert kept <= set(members)
    gone = {
        "dev/null",
        "dev/pts",
        "dev/fd",
        "etc/resolv.conf",
        "etc/hostname",
        "etc/apt/sources.list",
        "var/cache/apt/archives/bash_5.2_amd64.deb",
        "var/cache/apt/pkgcache.bin",
        "var/lib/apt/lists/m.example_dists_bookworm_Release",
        "var/log/dpkg.log",
        "var/log/apt/history.log",
    }
    assert not gone & set(members)
    policy = members["usr/sbin/policy-rc.d"]
    assert policy.mode & 0o777 == 0o755
    with tarfile.open(store.blobs.path(image.layers[0].digest), "r:gz") as tar:
        sources = tar.extractfile("etc/apt/sources.list.d/debian.sources")
        assert sources is not None
        text = sources.read().decode()
        policy_text = tar.extractfile("usr/sbin/policy-rc.d").read()  # type: ignore[union-attr]
    assert text == debian.image_sources(*mirrors)
    assert policy_text.endswith(b"exit 101\n")
    assert "etc/apt/apt.conf.d/kubelite-clean" in members
    assert not [p for p in store.root.iterdir() if p.name.startswith("debootstrap-")]


def test_if_missing_reuses_the_image_and_a_plain_build_makes_a_new_one(store: ImageStore) -> None:
    calls: list[list[str]] = []
    first = debian.build_debian(store, mirrors=("http://m/debian", ""), run=fake_debootstrap(calls))
    again = debian.build_debian(store, if_missing=True, run=fake_debootstrap(calls))
    assert again.id == first.id and len(calls) == 3
    debian.build_debian(store, mirrors=("http://m/debian", ""), run=fake_debootstrap(calls))
    assert len(calls) == 6


def test_a_failed_debootstrap_leaves_no_image_and_no_tree(store: ImageStore) -> None:
    def fail(argv: list[str]) -> None:
        Path(argv[4], "half").mkdir(parents=True)
        raise ImageError("debootstrap failed (exit 1)")

    with pytest.raises(ImageError, match="debootstrap failed"):
        debian.build_debian(store, mirrors=("http://m/debian", ""), run=fail)
    assert store.resolve("debian:bookworm") is None
    assert not [p for p in store.root.iterdir() if p.name.startswith("debootstrap-")]


def test_a_missing_debootstrap_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ImageError, match="install Debian's debootstrap package"):
        debian._run(["debootstrap", "--version"])


def test_cli_build_base_debian(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = tmp_path / "apt" / "sources.list.d"
    sources.mkdir(parents=True)
    (sources / "debian.sources").write_text(HOST_SOURCES)
    monkeypatch.setattr(debian, "APT_SOURCES", (tmp_path / "apt" / "sources.list", sources))
    calls: list[list[str]] = []
    monkeypatch.setattr(debian, "_run", fake_debootstrap(calls))
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=str(tmp_path / "root"))
    cli_images.register(parser.add_subparsers(dest="verb", required=True))
    for argv in (["build-base", "debian"], ["build-base", "debian", "--if-missing"]):
        args = parser.parse_args(argv)
        assert args.func(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(calls) == 3 and calls[0][5] == "http://deb.debian.org/debian"
    assert out[0] == out[1] and out[0].endswith("  debian:12 debian:bookworm")
    image = ImageStore(tmp_path / "root").get("debian:12")
    with tarfile.open(ImageStore(tmp_path / "root").blobs.path(image.layers[0].digest), "r:gz") as tar:
        text = tar.extractfile("etc/apt/sources.list.d/debian.sources").read().decode()  # type: ignore[union-attr]
    assert "URIs: http://deb.debian.org/debian-security\nSuites: bookworm-security" in text
    assert parser.parse_args(["build-base"]).base == "busybox"
