"""Make a container's image present before it starts, as the kubelet's image manager does.

`imagePullPolicy` decides whether to ask the runtime to pull: Never never does, IfNotPresent
only when the image is missing, Always every time. A pull is the runtime's (CRI PullImage): it
asks the registry for the manifest's digest and fetches only what changed, so under Always an
unchanged image costs one manifest request and the "Successfully pulled" event is the truth,
worded as the kubelet words it (durations as Go prints them, truncated to milliseconds, and the
image's size). Failures raise `PullError` with the reason the container status shows
(ErrImagePull, ErrImageNeverPull); the caller owns the back-off between attempts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from api.events import NORMAL, WARNING
from api.humanize import go_duration
from runtime.interface import ImageInfo

EventFn = Callable[[dict[str, Any], str, str, str], None]  # (pod, type, reason, message)


class ImageRuntime(Protocol):
    async def pull_image(self, ref: str, auth: tuple[str, str] | None = None) -> ImageInfo: ...

    async def image_status(self, ref: str) -> ImageInfo | None: ...


class PullError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def should_pull(policy: str, present: bool) -> bool:
    if policy == "Never":
        return False
    return policy == "Always" or not present


def pull_credentials(image: str, secrets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(user, password) pairs the pod's imagePullSecrets hold for the image's registry, in their
    order (kubelet's keyring: each is tried, then an anonymous pull)."""
    import base64
    import json

    from runtime.images.auth import credentials_from
    from runtime.images.reference import parse_reference

    registry = parse_reference(image).domain
    out: list[tuple[str, str]] = []
    for secret in secrets:
        data = secret.get("data") or {}
        for key, wrap in ((".dockerconfigjson", False), (".dockercfg", True)):
            if key not in data:
                continue
            try:
                doc = json.loads(base64.b64decode(data[key]))
            except ValueError:
                continue
            found = credentials_from({"auths": doc} if wrap else doc, registry)
            if found and found not in out:
                out.append(found)
    return out


async def ensure_image(
    runtime: ImageRuntime,
    pod: dict[str, Any],
    container: dict[str, Any],
    record: EventFn,
    clock: Callable[[], float],
    pull_secrets: list[dict[str, Any]] | None = None,
) -> ImageInfo:
    """The image, present or pulled."""
    image = container["image"]
    policy = container.get("imagePullPolicy") or "IfNotPresent"
    present = None if policy == "Always" else await runtime.image_status(image)
    if not should_pull(policy, policy == "Always" or present is not None):
        if present is None:
            message = f'Container image "{image}" is not present with pull policy of Never'
            record(pod, WARNING, "ErrImageNeverPull", message)
            raise PullError("ErrImageNeverPull", message)
        record(pod, NORMAL, "Pulled", f'Container image "{image}" already present on machine')
        return present
    record(pod, NORMAL, "Pulling", f'Pulling image "{image}"')
    started = clock()
    try:
        info = await _pull(runtime, image, pull_credentials(image, pull_secrets or []))
    except Exception as e:
        record(pod, WARNING, "Failed", f'Failed to pull image "{image}": {e}')
        record(pod, WARNING, "Failed", "Error: ErrImagePull")
        raise PullError("ErrImagePull", str(e)) from e
    took = go_duration(clock() - started)  # no queue of pulls here: the wait is the pull
    record(
        pod,
        NORMAL,
        "Pulled",
        f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
        f"Image size: {info.size} bytes.",
    )
    return info


async def _pull(runtime: ImageRuntime, image: str, credentials: list[tuple[str, str]]) -> ImageInfo:
    """Each pull secret's credentials in turn, then none; the first failure is the one reported."""
    first: Exception | None = None
    for auth in [*credentials, None]:
        try:
            return await runtime.pull_image(image, auth)
        except Exception as e:
            first = first or e
    assert first is not None
    raise first
