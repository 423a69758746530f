"""The real kubectl binaries the compatibility tests drive: every version the README claims.

They are the machine image's Google Cloud CLI `kubectl` package's versioned binaries, in
$KUBECTL_DIR (default /usr/lib/google-cloud-sdk/bin); `make install` checks they are all there
(scripts/check-kubectl.sh) and says how to get what is missing.
"""

from __future__ import annotations

import os

KUBECTL_DIR = os.environ.get("KUBECTL_DIR", "/usr/lib/google-cloud-sdk/bin")
VERSIONS = tuple(f"1.{minor}" for minor in range(27, 34))


def kubectl(version: str) -> str:
    return f"{KUBECTL_DIR}/kubectl.{version}"
