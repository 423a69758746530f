"""The image verbs of `kubelite runtime` (docker-style): pull, push, images, rmi, tag, load, save,
build-base, login.

`runtime/cli.py` owns the top-level parser and the global `--root`; it calls
`register(subparsers)` and dispatches to `args.func(args) -> int`. Every handler turns an
`ImageError` (or an OS error) into one `Error: ...` line on stderr and exit code 125, as docker
does for its own failures. Heavy modules (httpx, tarfile) are imported inside the verbs that use
them; a pull shows per-layer progress (redrawn in place only on a terminal: pulls.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runtime.images import ImageStore
from runtime.images.errors import ImageError
from runtime.images.progress import human_size
from runtime.images.reference import Reference, parse_reference

DEFAULT_ROOT = "/var/lib/kubelite/runtime"
EXIT_RUNTIME_ERROR = 125
InUse = Callable[[Path, str], bool]  # (runtime root, image id) -> is a container using it?


def register(subparsers: argparse._SubParsersAction, in_use: InUse | None = None) -> None:
    """Add the image verbs; `in_use` lets `rmi` refuse images that containers use (unless -f)."""
    p = subparsers.add_parser("pull", help="pull an image from a registry")
    p.add_argument("ref")
    _registry_flags(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print only the image id")
    p.set_defaults(func=cmd_pull)

    p = subparsers.add_parser("push", help="push an image to a registry")
    p.add_argument("ref")
    p.add_argument("dest", nargs="?", help="destination reference (default: the image's own name)")
    _registry_flags(p)
    p.set_defaults(func=cmd_push)

    p = subparsers.add_parser("images", help="list images")
    p.add_argument("-q", "--quiet", action="store_true", help="only image ids")
    p.add_argument("-a", "--all", action="store_true", help="accepted for docker compatibility")
    p.add_argument("--digests", action="store_true", help="show repo digests")
    p.add_argument("--no-trunc", action="store_true")
    p.set_defaults(func=cmd_images)

    p = subparsers.add_parser("rmi", help="remove images")
    p.add_argument("images", nargs="+")
    p.add_argument("-f", "--force", action="store_true")
    p.set_defaults(func=cmd_rmi, in_use=in_use)

    p = subparsers.add_parser("tag", help="give an image another name")
    p.add_argument("source")
    p.add_argument("target")
    p.set_defaults(func=cmd_tag)

    p = subparsers.add_parser("load", help="load images from a docker or OCI archive")
    p.add_argument("-i", "--input", required=True)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_load)

    p = subparsers.add_parser("save", help="save images to an archive")
    p.add_argument("images", nargs="+")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--format", choices=["docker-archive", "oci-archive"], default="docker-archive")
    p.set_defaults(func=cmd_save)

    p = subparsers.add_parser(
        "build-base", help="build base images: busybox + web (busybox-static) or debian (debootstrap)"
    )
    p.add_argument("base", nargs="?", choices=["busybox", "debian"], default="busybox")
    p.add_argument("--if-missing", action="store_true", help="do nothing when they exist")
    p.set_defaults(func=cmd_build_base)

    p = subparsers.add_parser("login", help="store credentials for a registry")
    p.add_argument("registry")
    p.add_argument("-u", "--username", required=True)
    p.add_argument("-p", "--password", required=True)
    p.add_argument("--authfile", help="credentials file (default: <root>/auth.json)")
    p.add_argument("--insecure", action="store_true", help="plain HTTP")
    p.set_defaults(func=cmd_login)


def _registry_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--insecure", action="store_true", help="plain HTTP (automatic for localhost)")
    p.add_argument(
        "--authfile", help="credentials file (default: <root>/auth.json, then ~/.docker/config.json)"
    )


def _store(args: argparse.Namespace) -> ImageStore:
    return ImageStore(Path(getattr(args, "root", None) or DEFAULT_ROOT))


def _authfile(args: argparse.Namespace) -> Path | None:
    return Path(args.authfile) if getattr(args, "authfile", None) else None


def _fail(message: str) -> int:
    print(f"Error: {message}", file=sys.stderr)
    return EXIT_RUNTIME_ERROR


def guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Errors -> one line on stderr and exit 125."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ImageError as e:
            return _fail(str(e))
        except OSError as e:
            return _fail(f"{e.strerror or e}{': ' + str(e.filename) if e.filename else ''}")
        except KeyboardInterrupt:
            return 130

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


class _Progress:
    """One self-rewriting status line on a terminal: layers done and bytes fetched."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.layers: dict[str, tuple[int, int, str]] = {}
        self._last = 0.0

    def __call__(self, digest: str, done: int, total: int, status: str) -> None:
        self.layers[digest] = (done, total, status)
        now = time.monotonic()
        if status == "downloading" and now - self._last < 0.1:
            return
        self._last = now
        finished = sum(1 for _, _, s in self.layers.values() if s in ("done", "exists", "pushed"))
        got = sum(d for d, _, _ in self.layers.values())
        size = sum(t for _, t, _ in self.layers.values())
        sys.stderr.write(
            f"\r{self.what}: {finished}/{len(self.layers)} layers, {human_size(got)}/{human_size(size)}\x1b[K"
        )
        sys.stderr.flush()

    def end(self) -> None:
        if self.layers:
            sys.stderr.write("\n")


def _progress(what: str) -> _Progress | None:
    return _Progress(what) if sys.stderr.isatty() else None


@guarded
def cmd_pull(args: argparse.Namespace) -> int:
    """Per-layer progress on stdout (redrawn on a terminal, a line per layer event otherwise), then
    docker's summary lines and the reference (see runtime/images/pulls.py)."""
    from runtime.images.pulls import pull_with_progress

    ref = str(parse_reference(args.ref))
    image, _ = pull_with_progress(
        _store(args), ref, sys.stdout, insecure=args.insecure, authfile=_authfile(args), quiet=args.quiet
    )
    print(image.id if args.quiet else ref)
    return 0


@guarded
def cmd_push(args: argparse.Namespace) -> int:
    from runtime.images.registry import push

    store = _store(args)
    dest = args.dest or args.ref
    progress = _progress(f"Pushing {dest}")
    try:
        digest = asyncio.run(
            push(
                store,
                args.ref,
                args.dest,
                insecure=args.insecure,
                authfile=_authfile(args),
                progress=progress,
            )
        )
    finally:
        if progress:
            progress.end()
    print(f"{parse_reference(dest).tag}: digest: {digest}")
    return 0


def human_ago(created: str, now: datetime | None = None) -> str:
    """`2 years ago`, `5 minutes ago`, as docker prints image ages."""
    try:
        when = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return "N/A"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    for unit, size in (
        ("year", 365 * 86400),
        ("month", 30 * 86400),
        ("week", 7 * 86400),
        ("day", 86400),
        ("hour", 3600),
        ("minute", 60),
    ):
        if seconds >= size * (2 if unit != "minute" else 1):
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "Less than a minute ago" if seconds >= 1 else "Less than a second ago"


def image_rows(images: list[Any], digests: bool = False, no_trunc: bool = False) -> list[list[str]]:
    """One row per tag (dangling images as <none> <none>), as `docker images` prints them."""
    rows = []
    for image in images:
        image_id = image.id if no_trunc else image.id[7:19]
        names: list[Reference | None] = [parse_reference(r) for r in image.refs] or [None]
        for ref in names:
            repo, tag = (ref.familiar_repository(), ref.tag) if ref else ("<none>", "<none>")
            digest = next(
                (
                    d.split("@", 1)[1]
                    for d in image.repo_digests
                    if ref and d.startswith(ref.repository + "@")
                ),
                "<none>",
            )
            row = [
                repo,
                tag,
                *([digest] if digests else []),
                image_id,
                human_ago(image.created),
                human_size(image.size),
            ]
            rows.append(row)
    return rows


@guarded
def cmd_images(args: argparse.Namespace) -> int:
    images = _store(args).list()
    if args.quiet:
        for row in image_rows(images, no_trunc=args.no_trunc):
            print(row[2])
        return 0
    header = ["REPOSITORY", "TAG", *(["DIGEST"] if args.digests else []), "IMAGE ID", "CREATED", "SIZE"]
    rows = [header, *image_rows(images, args.digests, args.no_trunc)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        print("   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


@guarded
def cmd_rmi(args: argparse.Namespace) -> int:
    store = _store(args)
    checker: InUse | None = getattr(args, "in_use", None)
    in_use = (lambda image_id: checker(store.root, image_id)) if checker else None
    status = 0
    for name in args.images:
        try:
            for line in store.remove(name, force=args.force, in_use=in_use):
                print(line)
        except ImageError as e:
            status = _fail(str(e))
    return status


@guarded
def cmd_tag(args: argparse.Namespace) -> int:
    _store(args).tag(args.source, args.target)
    return 0


@guarded
def cmd_load(args: argparse.Namespace) -> int:
    for image in _store(args).load(Path(args.input)):
        if args.quiet:
            print(image.id)
        elif image.refs:
            for ref in image.refs:
                print(f"Loaded image: {parse_reference(ref).familiar()}")
        else:
            print(f"Loaded image ID: {image.id}")
    return 0


@guarded
def cmd_save(args: argparse.Namespace) -> int:
    _store(args).save(Path(args.output), args.images, args.format)
    return 0


@guarded
def cmd_build_base(args: argparse.Namespace) -> int:
    from runtime.images.base import build_base

    if getattr(args, "base", "busybox") == "debian":
        from runtime.images.debian import build_debian

        images = [build_debian(_store(args), if_missing=args.if_missing)]
    else:
        images = build_base(_store(args), if_missing=args.if_missing)
    for image in images:
        print(f"{image.id}  {' '.join(parse_reference(r).familiar() for r in image.refs)}")
    return 0


@guarded
def cmd_login(args: argparse.Namespace) -> int:
    from runtime.images.auth import save_login
    from runtime.images.registry import check_login

    asyncio.run(check_login(args.registry, (args.username, args.password), args.insecure))
    path = _authfile(args) or _store(args).root / "auth.json"
    save_login(path, args.registry, args.username, args.password)
    print("Login Succeeded!")
    return 0
