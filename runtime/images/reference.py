"""Image references parsed and normalised the way Docker does it.

`busybox` means `docker.io/library/busybox:latest`; a first path component holding `.` or `:`,
or equal to `localhost`, is a registry host (`localhost:5000/x/y:tag`); `name@sha256:<hex>`
pins a manifest digest. Pure functions only: the store, the registry client and the CLI all
agree on one spelling of a name because they all go through `parse_reference`.
"""

from __future__ import annotations

from runtime.datarecord import record
from runtime.images.errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAINS = {"index.docker.io", "registry-1.docker.io"}
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"

# docker's grammar (distribution/reference), checked with str methods rather than `re`: `re`
# imports enum, ~10 ms of every `kubelite runtime run` (a 100 ms budget)
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ALNUM = _LOWER | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdef")
_LABEL = _ALNUM | frozenset("-")


def _component(text: str) -> bool:
    """[a-z0-9]+ runs joined by one `.`, one `_`, `__` or any number of `-`."""
    i, n = 0, len(text)
    while True:
        start = i
        while i < n and text[i] in _LOWER:
            i += 1
        if i == start:
            return False  # empty, or starting or ending with a separator, or a character outside both
        if i == n:
            return True
        start = i
        while i < n and text[i] in "._-":
            i += 1
        separator = text[start:i]
        if separator not in (".", "_", "__") and separator.strip("-"):
            return False


def _tag(text: str) -> bool:
    """[\\w][\\w.-]{0,127} (`\\w` as re reads it in a str pattern: alphanumeric or `_`)."""
    return 0 < len(text) <= 128 and all(c.isalnum() or c in "_.-" for c in text) and text[0] not in ".-"


def valid_digest(text: str) -> bool:
    """sha256:[a-f0-9]{64}"""
    return len(text) == 71 and text.startswith("sha256:") and _HEX.issuperset(text[7:])


def _port(text: str) -> bool:
    return bool(text) and _DIGITS.issuperset(text)


def _domain(text: str) -> bool:
    """`host[:port]` (dot-separated labels of letters, digits and `-`, the first not starting or
    ending with `-`) or `[ipv6][:port]`."""
    if text.startswith("["):
        addr, bracket, rest = text[1:].partition("]")
        return (
            bool(bracket and addr)
            and frozenset("0123456789abcdefABCDEF:").issuperset(addr)
            and (not rest or (rest[0] == ":" and _port(rest[1:])))
        )
    host, colon, port = text.partition(":")
    if colon and not _port(port):
        return False
    first, *labels = host.split(".")
    if not first or first[0] == "-" or first[-1] == "-":
        return False
    return all(label and _LABEL.issuperset(label) for label in (first, *labels))


@record(frozen=True)
class Reference:
    """A parsed image reference: registry, repository, tag and/or digest."""

    domain: str  # registry host[:port], e.g. docker.io, localhost:5000
    path: str  # repository path inside the registry, e.g. library/busybox
    tag: str = ""  # "" when only a digest pins the reference
    digest: str = ""  # "sha256:<hex>" or ""

    @property
    def repository(self) -> str:
        """`docker.io/library/busybox`: the name without tag or digest."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        s = self.repository
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    def familiar_repository(self) -> str:
        """`busybox` for docker.io/library/busybox, `kubelite/web` for docker.io/kubelite/web."""
        if self.domain != DEFAULT_DOMAIN:
            return self.repository
        if self.path.startswith(OFFICIAL_PREFIX) and "/" not in self.path[len(OFFICIAL_PREFIX) :]:
            return self.path[len(OFFICIAL_PREFIX) :]
        return self.path

    def familiar(self) -> str:
        """The short spelling docker prints and `docker save` writes into RepoTags."""
        s = self.familiar_repository()
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.domain, self.path, tag, "")

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.domain, self.path, "", digest)


def is_registry_host(component: str) -> bool:
    """Docker's rule: a first component is a host if it has a `.` or a `:`, or is `localhost`."""
    return "." in component or ":" in component or component == "localhost"


def parse_reference(text: str, default_tag: bool = True) -> Reference:
    """Parse and normalise `text`; adds `:latest` when there is neither tag nor digest (if `default_tag`)."""
    original = text
    if not text or text != text.strip():
        raise InvalidReference(f"invalid reference format: {original!r}")
    digest = ""
    if "@" in text:
        text, digest = text.split("@", 1)
        if not valid_digest(digest):
            raise InvalidReference(f"invalid digest in reference {original!r}: {digest!r}")
    name, tag = text, ""
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _tag(tag):
            raise InvalidReference(f"invalid tag in reference {original!r}: {tag!r}")
    first, sep, rest = name.partition("/")
    if sep and is_registry_host(first):
        domain, path = first, rest
        if not _domain(domain):
            raise InvalidReference(f"invalid registry host in reference {original!r}: {domain!r}")
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain in LEGACY_DOMAINS:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_PREFIX + path
    if not path:
        raise InvalidReference(f"invalid reference format: {original!r}")
    for component in path.split("/"):
        if not _component(component):
            if component.lower() != component:
                raise InvalidReference(
                    f"invalid reference format: repository name must be lowercase: {original!r}"
                )
            raise InvalidReference(f"invalid reference format: {original!r}")
    if len(domain) + 1 + len(path) > 255:
        raise InvalidReference(f"repository name too long: {original!r}")
    if not tag and not digest and default_tag:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest)


def normalize(text: str) -> str:
    """The normalised string form: `busybox` -> `docker.io/library/busybox:latest`."""
    return str(parse_reference(text))


def looks_like_id(text: str) -> bool:
    """`sha256:<hex>` or a bare hex prefix of at least 4 characters (an image id or its prefix)."""
    hexpart = text[7:] if text.startswith("sha256:") else text
    return 4 <= len(hexpart) <= 64 and all(c in "0123456789abcdef" for c in hexpart)
