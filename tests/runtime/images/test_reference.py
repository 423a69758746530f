"""Reference normalisation follows Docker's rules (pure unit tests)."""

from __future__ import annotations

import pytest

from runtime.images.errors import InvalidReference
from runtime.images.reference import looks_like_id, normalize, parse_reference

D = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.35", "docker.io/library/busybox:1.35"),
        ("library/busybox", "docker.io/library/busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1"),
        ("kubelite/web:1.0", "docker.io/kubelite/web:1.0"),
        ("localhost/x", "localhost/x:latest"),
        ("localhost:5000/x/y:tag", "localhost:5000/x/y:tag"),
        ("127.0.0.1:5000/a", "127.0.0.1:5000/a:latest"),
        ("quay.io/org/app:v1.2-rc", "quay.io/org/app:v1.2-rc"),
        (f"busybox@{D}", f"docker.io/library/busybox@{D}"),
        (f"busybox:1@{D}", f"docker.io/library/busybox:1@{D}"),
        ("my_app/some-thing__x:latest", "docker.io/my_app/some-thing__x:latest"),
    ],
)
def test_normalize(text: str, want: str) -> None:
    assert normalize(text) == want


def test_parts_and_familiar() -> None:
    ref = parse_reference("localhost:5000/x/y:tag")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("localhost:5000", "x/y", "tag", "")
    assert ref.repository == "localhost:5000/x/y"
    assert parse_reference("busybox").familiar() == "busybox:latest"
    assert parse_reference("kubelite/web:1.0").familiar() == "kubelite/web:1.0"
    assert parse_reference("localhost:5000/a:b").familiar() == "localhost:5000/a:b"


def test_host_detection_needs_dot_colon_or_localhost() -> None:
    assert parse_reference("foo/bar").domain == "docker.io"
    assert parse_reference("foo.com/bar").domain == "foo.com"
    assert parse_reference("foo:1/bar").domain == "foo:1"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        " busybox",
        "Busybox",
        "busybox:",
        "busybox:-x",
        "a//b",
        "busybox@sha256:12",
        "busybox@md5:" + "a" * 32,
        "/busybox",
        "busybox/",
        "a:b:c",
    ],
)
def test_invalid(bad: str) -> None:
    with pytest.raises(InvalidReference):
        parse_reference(bad)


def test_looks_like_id() -> None:
    assert looks_like_id("abcd") and looks_like_id(D) and looks_like_id("ab" * 32)
    assert not looks_like_id("abc") and not looks_like_id("busybox") and not looks_like_id("ab" * 33)
