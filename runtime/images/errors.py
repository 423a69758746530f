"""Typed errors of the image side of the runtime.

Every failure a user can cause (a bad name, a missing image, a corrupt blob, a hostile layer, a
registry refusal) is an `ImageError` whose message is the one line the CLI prints after
`Error: `; callers catch the base class and never parse messages.
"""

from __future__ import annotations


class ImageError(Exception):
    """Base class: str(err) is a complete one-line explanation."""


class InvalidReference(ImageError):
    pass


class ImageNotFound(ImageError):
    pass


class AmbiguousImage(ImageError):
    pass


class ImageInUse(ImageError):
    pass


class DigestMismatch(ImageError):
    """Content did not hash (or measure) to what its descriptor promised; nothing was kept."""


class UnsafeLayer(ImageError):
    """A layer entry would land outside the layer root; the whole layer is refused."""


class UnsupportedMedia(ImageError):
    pass


class RegistryError(ImageError):
    pass


class AuthError(RegistryError):
    pass


class ArchiveError(ImageError):
    pass
