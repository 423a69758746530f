"""The ConfigMaps, Secrets, claims (and their volumes), CSIDrivers of its `csi` volumes and
service-account tokens a pod uses, fetched for one sync of its worker.

The kubelet reads them before it starts a container (env, envFrom, volume files) and again at
each periodic sync (mounted files follow updates). ConfigMaps and Secrets of registered pods come
from one-object watches (`kubelet.objectwatch`, kube's default Watch strategy); the rest, and
those whose watch has not synced, are GETs, kept for a short time shared by the node's pod workers
so that a burst of pods that use one object costs one GET. A missing object is recorded as
absent: whether that is an error depends on the `optional` of each use, which the consumers decide.

Tokens for `serviceAccountToken` projections come from the TokenRequest API, bound to the pod,
and are requested again once 80% of their lifetime has passed (kubelet's rotation rule).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from api.errors import ApiError
from api.podrefs import CLAIMS, CONFIGMAPS, SECRETS, VOLUMES, references
from api.protocol import ApiClient
from kubelet.csi import CSIDRIVERS, drivers_used
from kubelet.objectwatch import WATCHED, ObjectWatches

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
    # (audience or "", expirationSeconds) -> token for the pod's serviceAccountToken projections
    tokens: dict[tuple[str, int], str] = field(default_factory=dict)

    def get(self, resource: str, name: str) -> Obj | None:
        return self.found.get((resource, name))

    def require(self, resource: str, name: str, optional: bool) -> Obj | None:
        """The object, None when it is optional and missing; ContainerConfigError otherwise."""
        obj = self.get(resource, name)
        if obj is None and not optional:
            raise ContainerConfigError(f'{KIND_WORD[resource]} "{name}" not found')
        return obj


class ObjectSource:
    """Watched copies of registered pods' ConfigMaps and Secrets (`watches`); otherwise GETs through
    the kubelet's client, remembered for `ttl` seconds across the node's pods."""

    def __init__(
        self,
        client: ApiClient,
        ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        watches: ObjectWatches | None = None,
    ) -> None:
        self.client = client
        self.watches = watches if watches is not None else ObjectWatches(client)
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[tuple[str, str, str], tuple[float, Obj | None]] = {}
        self._tokens: dict[
            tuple[str, str, int], tuple[float, str]
        ] = {}  # (pod uid, aud, ttl) -> (renew at, token)

    async def fetch(self, pod: Obj) -> PodObjects:
        namespace = (pod.get("metadata") or {}).get("namespace") or "default"
        out = PodObjects(namespace)
        for resource, names in references(pod).items():
            for name in sorted(names):
                watched, obj = (
                    await self.watches.read(resource, namespace, name)
                    if resource in WATCHED
                    else (False, None)
                )
                out.found[(resource, name)] = obj if watched else await self._get(resource, namespace, name)
        for (resource, _), claim in list(
            out.found.items()
        ):  # a bound claim's volume (kubelet's getPVCExtractPV)
            volume = (claim or {}).get("spec", {}).get("volumeName") if resource == CLAIMS else None
            if volume:
                out.found[(VOLUMES, volume)] = await self._get(VOLUMES, "", str(volume))
        pvs = [obj for (resource, _), obj in out.found.items() if resource == VOLUMES]
        for driver in sorted(drivers_used(pod, pvs)):  # what its csi volumes fail to mount with
            out.found[(CSIDRIVERS, driver)] = await self._get(CSIDRIVERS, "", driver)
        for audience, ttl in token_requests(pod):
            token = await self._token(pod, audience, ttl)
            if token is not None:
                out.tokens[(audience, ttl)] = token
        return out

    async def _token(self, pod: Obj, audience: str, ttl: int) -> str | None:
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        key, now = (str(meta.get("uid")), audience, ttl), self.clock()
        held = self._tokens.get(key)
        if held is not None and now < held[0]:
            return held[1]
        body: Obj = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "expirationSeconds": ttl,
                "boundObjectRef": {
                    "kind": "Pod",
                    "apiVersion": "v1",
                    "name": meta.get("name"),
                    "uid": meta.get("uid"),
                },
            },
        }
        if audience:
            body["spec"]["audiences"] = [audience]
        try:
            answer = await self.client.create(
                "serviceaccounts",
                body,
                meta.get("namespace") or "default",
                subresource="token",
                name=spec.get("serviceAccountName") or "default",
            )
        except ApiError as e:
            if e.code in (403, 404):  # no such account (yet): the volume waits, as kubelet's does
                return None
            raise
        token = str((answer.get("status") or {}).get("token") or "")
        granted = int((answer.get("spec") or {}).get("expirationSeconds") or ttl)
        self._tokens[key] = (now + 0.8 * granted, token)
        return token

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


def token_requests(pod: Obj) -> list[tuple[str, int]]:
    """(audience, expirationSeconds) of each serviceAccountToken projection of the pod."""
    out = []
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        for source in ((vol or {}).get("projected") or {}).get("sources") or []:
            token = (source or {}).get("serviceAccountToken")
            if isinstance(token, dict):
                out.append((str(token.get("audience") or ""), int(token.get("expirationSeconds") or 3600)))
    return out
