"""`kubelite runtime build-base debian`: a real `debian:bookworm` image, made with debootstrap.

No public registry is reachable from these machines, but Debian's package archive is: so the
base image is built the way Debian's own docker images are (debootstrap `--variant=minbase`
from the archive), from the same mirror this machine's apt uses, brought up to date in a chroot
(`apt-get upgrade`: the point and security updates), then trimmed as they are: `/dev` emptied (runc mounts its own), the downloaded .debs and package lists dropped (a
Dockerfile runs `apt-get update` first), apt told to keep no caches, and a `policy-rc.d`
that forbids starting services, since a build's RUN shares the host's network namespace and a
postinst must not start a daemon on the host's ports. One layer, tagged `debian:bookworm` and
`debian:12`; the Dockerfiles under images/ build nginx, redis and python:3 FROM it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from runtime.images.errors import ImageError
from runtime.images.manifest import host_arch
from runtime.images.model import Image
from runtime.images.store import ImageStore

SUITE = "bookworm"
VERSION = "12"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# apt settings of a container image: no package caches kept in layers, no translations
APT_CLEAN = """\
// a container image keeps no downloaded packages nor binary caches in its layers
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
"""
# invoke-rc.d asks this before starting a service; 101 = "action forbidden by policy"
POLICY_RC_D = "#!/bin/sh\n# no service starts inside an image build (kubelite runtime build-base)\nexit 101\n"

Runner = Callable[[list[str]], None]


def _sources_entries(text: str, deb822: bool) -> list[tuple[str, list[str]]]:
    """(URI, suites) of each `deb` entry of one apt sources file, one-line or deb822 format."""
    out: list[tuple[str, list[str]]] = []
    if not deb822:
        for line in text.splitlines():
            words = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()  # drop [options]
            if len(words) >= 3 and words[0] == "deb":
                out.append((words[1], [words[2]]))
        return out
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no":
            suites = fields.get("suites", "").split()
            out.extend((uri, suites) for uri in fields.get("uris", "").split())
    return out


def find_mirrors(files: Iterable[tuple[str, str]], suite: str = SUITE) -> tuple[str, str]:
    """(archive, security) mirrors for `suite` among (file name, text) apt sources; the archive
    defaults to deb.debian.org, the security mirror to "" (none found)."""
    archive = security = ""
    for name, text in files:
        for uri, suites in _sources_entries(text, name.endswith(".sources")):
            uri = uri.rstrip("/")
            if not archive and suite in suites:
                archive = uri
            if not security and f"{suite}-security" in suites:
                security = uri
    return archive or DEFAULT_MIRROR, security


def host_mirrors(suite: str = SUITE) -> tuple[str, str]:
    """The mirrors this machine's apt uses (the ones known to be reachable from here)."""
    files: list[tuple[str, str]] = []
    for path in APT_SOURCES:
        paths = sorted(path.glob("*")) if path.is_dir() else [path]
        for p in paths:
            if p.suffix in (".list", ".sources") or p == APT_SOURCES[0]:
                try:
                    files.append((p.name, p.read_text()))
                except OSError:
                    continue
    return find_mirrors(files, suite)


def debootstrap_argv(target: Path, mirror: str, suite: str = SUITE) -> list[str]:
    return ["debootstrap", "--variant=minbase", "--components=main", suite, str(target), mirror]


def image_sources(archive: str, security: str, suite: str = SUITE) -> str:
    """The image's /etc/apt/sources.list.d/debian.sources (deb822, as Debian's images have)."""
    text = (
        f"Types: deb\nURIs: {archive}\nSuites: {suite} {suite}-updates\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )
    if security:
        text += (
            f"\nTypes: deb\nURIs: {security}\nSuites: {suite}-security\nComponents: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        )
    return text


def _clear_dir(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        return
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def configure_rootfs(root: Path, archive: str, security: str, suite: str = SUITE) -> None:
    """apt sources (deb822, with updates and security), apt's no-cache settings, policy-rc.d."""
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    sources = root / "etc/apt/sources.list.d"
    sources.mkdir(parents=True, exist_ok=True)
    (sources / "debian.sources").write_text(image_sources(archive, security, suite))
    (root / "etc/apt/apt.conf.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/apt/apt.conf.d/kubelite-clean").write_text(APT_CLEAN)
    policy = root / "usr/sbin/policy-rc.d"
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text(POLICY_RC_D)
    policy.chmod(0o755)


def upgrade_argvs(root: Path) -> list[list[str]]:
    """debootstrap installs the release as it was; the point and security updates come after."""
    env = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive"]
    return [
        [*env, "chroot", str(root), "apt-get", "-q", "update"],
        [*env, "chroot", str(root), "apt-get", "-q", "-y", "upgrade"],
    ]


def clean_rootfs(root: Path) -> None:
    """Drop what an image must not keep: device nodes, .debs, package lists, logs, host files."""
    for rel in ("dev", "proc", "sys", "var/lib/apt/lists", "var/cache/apt/archives"):
        _clear_dir(root / rel)
    (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
    for log in (root / "var/log").rglob("*"):  # the install's logs; the directories stay
        if log.is_file() or log.is_symlink():
            log.unlink()
    for rel in (
        "etc/resolv.conf",  # the host's, copied by debootstrap; runtimes bind their own
        "etc/hostname",
        "var/cache/ldconfig/aux-cache",
        "var/cache/apt/pkgcache.bin",
        "var/cache/apt/srcpkgcache.bin",
    ):
        (root / rel).unlink(missing_ok=True)


def image_config(archive: str, suite: str = SUITE) -> dict[str, Any]:
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "created": created,
        "architecture": host_arch(),
        "os": "linux",
        "config": {
            "Env": [PATH_ENV],
            "Cmd": ["bash"],
            "WorkingDir": "/",
            "Labels": {"org.opencontainers.image.description": f"Debian {suite} (debootstrap minbase)"},
        },
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [
            {
                "created": created,
                "created_by": f"debootstrap --variant=minbase {suite} / {archive} (kubelite runtime build-base debian)",
            }
        ],
    }


def _run(argv: list[str]) -> None:
    if shutil.which(argv[0]) is None:
        raise ImageError(f"{argv[0]} not found: install Debian's {argv[0]} package")
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-15:])
        raise ImageError(f"{' '.join(argv)} failed (exit {r.returncode}):\n{tail}")


def build_debian(
    store: ImageStore,
    if_missing: bool = False,
    mirrors: tuple[str, str] | None = None,
    run: Runner | None = None,
    suite: str = SUITE,
) -> Image:
    """debian:bookworm (= debian:12) in `store`; with `if_missing`, the one already there."""
    tags = [f"debian:{suite}", f"debian:{VERSION}"]
    if if_missing:
        present = store.resolve(tags[0])
        if present is not None:
            return present
    archive, security = mirrors or host_mirrors(suite)
    store.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store.root, prefix="debootstrap-") as tmp:
        target = Path(tmp) / "rootfs"
        runner = run or _run
        runner(debootstrap_argv(target, archive, suite))
        configure_rootfs(target, archive, security, suite)
        for argv in upgrade_argvs(target):
            runner(argv)
        clean_rootfs(target)
        layer = store.layer_from_dir(target)
    return store.create_image(image_config(archive, suite), [layer], tags)
