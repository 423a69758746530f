"""The Warning kube answers every request to a deprecated custom resource version with."""

from __future__ import annotations

import asyncio
from typing import Any

from apiserver.crd.model import deprecation_warning
from apiserver.handlers.http import with_warning


def spec(*versions: dict[str, Any]) -> dict[str, Any]:
    return {
        "group": "snapshot.storage.k8s.io",
        "names": {"kind": "VolumeSnapshot"},
        "versions": list(versions),
    }


V1 = {"name": "v1", "served": True}


def test_the_crds_own_words_first() -> None:
    # the snapshot controller's CRDs say it themselves
    said = "snapshot.storage.k8s.io/v1beta1 VolumeSnapshot is deprecated; use snapshot.storage.k8s.io/v1 VolumeSnapshot"
    v1beta1 = {"name": "v1beta1", "served": True, "deprecated": True, "deprecationWarning": said}
    assert deprecation_warning(spec(V1, v1beta1), v1beta1) == said
    assert deprecation_warning(spec(V1, v1beta1), V1) == ""


def test_kubes_default_names_the_newest_served_version_not_deprecated() -> None:
    v1beta1 = {"name": "v1beta1", "served": True, "deprecated": True}
    v1beta2 = {"name": "v1beta2", "served": True}
    v2 = {"name": "v2", "served": False}
    assert (
        deprecation_warning(spec(v1beta1, v1beta2, V1, v2), v1beta1)
        == "snapshot.storage.k8s.io/v1beta1 VolumeSnapshot is deprecated; use snapshot.storage.k8s.io/v1 VolumeSnapshot"
    )
    v1 = {"name": "v1", "served": True, "deprecated": True}
    assert (
        deprecation_warning(spec(v1, v1beta2), v1)
        == "snapshot.storage.k8s.io/v1 VolumeSnapshot is deprecated"
    )


def test_the_warning_rides_on_the_response_start() -> None:
    sent: list[dict[str, Any]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    warned = with_warning(send, 'x/v1 K is "old"')
    asyncio.run(warned({"type": "http.response.start", "status": 200, "headers": [(b"a", b"b")]}))
    asyncio.run(warned({"type": "http.response.body", "body": b"{}"}))
    assert sent[0]["headers"] == [(b"a", b"b"), (b"warning", b'299 - "x/v1 K is \\"old\\""')]
    assert sent[1] == {"type": "http.response.body", "body": b"{}"}
