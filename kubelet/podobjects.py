"""The ConfigMaps and Secrets a pod uses, fetched for one sync of its worker.

The kubelet reads them from the API server before it starts a container (env, envFrom, volume
files) and again at each periodic sync (mounted files follow updates). A short cache shared by
the node's pod workers keeps a burst of pods that use one ConfigMap to one GET; it is far below
the sync period, so an update reaches the files within one period, as with kube's default
TTL-cache strategy. A missing object is recorded as absent: whether that is an error depends on
the `optional` of each use, which the consumers decide.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from api.errors import ApiError
from api.podrefs import CLAIMS, CONFIGMAPS, SECRETS, VOLUMES, references

Obj = dict[str, Any]
KIND_WORD = {CONFIGMAPS: "configmap", SECRETS: "secret"}  # as kubelet's messages name them
KIND_NAME = {CONFIGMAPS: "ConfigMap", SECRETS: "Secret"}


class ContainerConfigError(Exception):
    """A container whose config cannot be made (CreateContainerConfigError): the message is kubelet's."""


@dataclass
class PodObjects:
    """What was fetched: (resource, name) -> object, or None when it does not exist."""

    namespace: str
    found: dict[tuple[str, str], Obj | None] = field(default_factory=dict)

    def get(self, resource: str, name: str) -> Obj | None:
        return self.found.get((resource, name))

    def require(self, resource: str, name: str, optional: bool) -> Obj | None:
        """The object, None when it is optional and missing; ContainerConfigError otherwise."""
        obj = self.get(resource, name)
        if obj is None and not optional:
            raise ContainerConfigError(f'{KIND_WORD[resource]} "{name}" not found')
        return obj


class ObjectSource:
    """GETs through the kubelet's client, remembered for `ttl` seconds across the node's pods."""

    def __init__(self, client: Any, ttl: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[tuple[str, str, str], tuple[float, Obj | None]] = {}

    async def fetch(self, pod: Obj) -> PodObjects:
        namespace = (pod.get("metadata") or {}).get("namespace") or "default"
        out = PodObjects(namespace)
        for resource, names in references(pod).items():
            for name in sorted(names):
                out.found[(resource, name)] = await self._get(resource, namespace, name)
        for (resource, _), claim in list(out.found.items()):  # a bound claim's volume (kubelet's getPVCExtractPV)
            volume = (claim or {}).get("spec", {}).get("volumeName") if resource == CLAIMS else None
            if volume:
                out.found[(VOLUMES, volume)] = await self._get(VOLUMES, "", str(volume))
        return out

    async def _get(self, resource: str, namespace: str, name: str) -> Obj | None:
        key, now = (resource, namespace, name), self.clock()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        try:
            obj: Obj | None = dict(await self.client.get(resource, name, namespace))
        except ApiError as e:
            if e.code != 404:
                raise
            obj = None
        self._cache[key] = (now, obj)
        if len(self._cache) > 4096:  # forget the oldest: a node's working set is far smaller
            for k in sorted(self._cache, key=lambda k: self._cache[k][0])[:1024]:
                del self._cache[k]
        return obj
