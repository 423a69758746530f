"""The ingress controller loop of one node: Ingresses of the classes it serves -> nginx.

Level-triggered like the service proxy: informer handlers only mark the state dirty; one loop
rebuilds the whole configuration from the caches (Ingresses, IngressClasses, Services,
EndpointSlices), installs it when it changed and reloads nginx. TLS Secrets are read one by one
(a node may GET a Secret an Ingress names, never list them: apiserver.nodegraph) and read again
every `secret_refresh` seconds, so a renewed certificate is served without an Ingress change.

An Ingress is served when its class (`spec.ingressClassName`, or the old
`kubernetes.io/ingress.class` annotation) is an IngressClass whose `spec.controller` is
`CONTROLLER` (the `kubelite` class the server makes at bootstrap). Its
`status.loadBalancer.ingress` is set to the InternalIPs of the nodes running this controller
(every non-hollow node); each agent computes the same list, so they agree.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import textwrap
import time
from pathlib import Path
from typing import Any

from api.errors import ApiError
from api.informer import InformerFactory
from api.protocol import ApiClient
from kubelet.ingress import nginxconf, routes
from kubelet.ingress.nginx import Nginx

log = logging.getLogger(__name__)
Obj = dict[str, Any]
CONTROLLER = (
    "kubelite.io/ingress-nginx"  # the default IngressClass's spec.controller (apiserver.kinds.networking)
)
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
TLS_TYPE = "kubernetes.io/tls"
HOLLOW_LABEL = "kubelite.io/hollow"


def served_classes(classes: list[Obj]) -> set[str]:
    return {c["metadata"]["name"] for c in classes if (c.get("spec") or {}).get("controller") == CONTROLLER}


def is_served(ing: Obj, classes: set[str]) -> bool:
    name = (ing.get("spec") or {}).get("ingressClassName") or (
        (ing.get("metadata") or {}).get("annotations") or {}
    ).get(CLASS_ANNOTATION)
    return bool(name) and name in classes


def load_balancer(nodes: list[Obj]) -> list[Obj]:
    """status.loadBalancer.ingress: every serving node's InternalIP, in order."""
    ips = set()
    for node in nodes:
        if ((node.get("metadata") or {}).get("labels") or {}).get(HOLLOW_LABEL) == "true":
            continue
        for addr in (node.get("status") or {}).get("addresses") or []:
            if addr.get("type") == "InternalIP" and addr.get("address"):
                ips.add(addr["address"])
    return [{"ip": ip} for ip in sorted(ips)]


def pem_of(secret: Obj) -> bytes | None:
    """certificate then key, as nginx reads them from one file; None for a Secret unfit for TLS."""
    data = secret.get("data") or {}
    if secret.get("type") != TLS_TYPE or not data.get("tls.crt") or not data.get("tls.key"):
        return None
    try:
        crt, key = base64.b64decode(data["tls.crt"]), base64.b64decode(data["tls.key"])
    except ValueError:
        return None
    return crt.rstrip(b"\n") + b"\n" + key.rstrip(b"\n") + b"\n"


class IngressController:
    def __init__(
        self,
        client: ApiClient,
        informers: InformerFactory,
        state_dir: Path,
        nginx: Nginx | None = None,
        min_interval: float = 0.1,
        secret_refresh: float = 30.0,
        http_port: int = nginxconf.HTTP_PORT,
        https_port: int = nginxconf.HTTPS_PORT,
    ) -> None:
        self.client = client
        self.ingresses = informers.informer("ingresses")
        self.classes = informers.informer("ingressclasses")
        self.services = informers.informer("services")
        self.slices = informers.informer("endpointslices")
        self.nodes = informers.informer("nodes")
        self.nginx = nginx or Nginx(state_dir)
        self.min_interval = min_interval
        self.secret_refresh = secret_refresh
        self.ports = (http_port, https_port)
        self._dirty = asyncio.Event()
        self._secrets: dict[str, tuple[bytes | None, float]] = {}  # "ns/name" -> (pem, fetched at)
        self.applies = 0
        for inf in (self.ingresses, self.classes, self.services, self.slices, self.nodes):
            inf.add_handlers(self._mark, lambda old, new: self._mark(), self._mark)

    def _mark(self, _obj: Any = None) -> None:
        self._dirty.set()

    def served(self) -> list[Obj]:
        classes = served_classes(self.classes.list())
        return [i for i in self.ingresses.list() if is_served(i, classes)]

    async def _certs(self, ingresses: list[Obj]) -> dict[str, bytes]:
        """ "ns/name" -> PEM of every usable TLS Secret the served Ingresses name."""
        out: dict[str, bytes] = {}
        now = time.monotonic()
        for ing in ingresses:
            ns = ing["metadata"].get("namespace") or "default"
            for tls in (ing.get("spec") or {}).get("tls") or []:
                name = tls.get("secretName")
                if not name:
                    continue
                key = f"{ns}/{name}"
                pem, at = self._secrets.get(key, (None, -1e9))
                if now - at > self.secret_refresh:
                    try:
                        pem = pem_of(await self.client.get("secrets", name, ns))
                    except ApiError as e:
                        log.info("ingress %s/%s: TLS secret %s: %s", ns, ing["metadata"]["name"], key, e)
                        pem = None
                    self._secrets[key] = (pem, now)
                if pem is not None:
                    out[key] = pem
        return out

    async def sync_once(self) -> bool:
        served = self.served()
        certs = await self._certs(served)
        servers, upstreams = routes.build(served, self.services.list(), self.slices.list(), certs)
        conf = nginxconf.render(servers, upstreams, http_port=self.ports[0], https_port=self.ports[1])
        files = {nginxconf.cert_file(k): v for k, v in certs.items()}
        changed = await asyncio.to_thread(self.nginx.install, conf, files)
        if changed:
            self.nginx.reload()
            self.applies += 1
            endpoints = "; ".join(
                f"{u.name}={','.join(f'{ip}:{p}' for ip, p in u.servers)}" for u in upstreams
            )
            # the timeline to read a proxy error against (which endpoints nginx had, and since when)
            log.info("ingress: nginx reloaded; upstreams %s", textwrap.shorten(endpoints, 1000) or "none")
        await self._write_status(served)
        return changed

    async def _write_status(self, served: list[Obj]) -> None:
        want = load_balancer(self.nodes.list())
        for ing in served:
            if ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress") == want:
                continue
            body = {**ing, "status": {"loadBalancer": {"ingress": want}}}
            try:
                await self.client.update(
                    "ingresses", body, ing["metadata"]["namespace"], subresource="status"
                )
            except ApiError as e:
                if e.code not in (404, 409):
                    raise
                self._dirty.set()  # a newer one is on its way: the next round writes it

    async def run(self) -> None:
        for inf in (self.ingresses, self.classes, self.services, self.slices, self.nodes):
            await inf.synced.wait()
        while True:  # nginx starts on a file it accepts
            try:
                await self.sync_once()
                break
            except Exception:
                log.exception("the first ingress configuration failed; retrying")
                await asyncio.sleep(1.0)
        supervisor = asyncio.create_task(self.nginx.supervise(), name="ingress-nginx")
        refresher = asyncio.create_task(self._refresh(), name="ingress-secrets")
        try:
            while True:
                await self._dirty.wait()
                self._dirty.clear()
                try:
                    await self.sync_once()
                except Exception:
                    log.exception("programming the ingress proxy failed; retrying")
                    await asyncio.sleep(1.0)
                    self._dirty.set()
                await asyncio.sleep(self.min_interval)
        finally:
            refresher.cancel()
            supervisor.cancel()
            await asyncio.gather(refresher, supervisor, return_exceptions=True)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self.secret_refresh)
            self._dirty.set()

    def stop(self) -> None:
        self.nginx.stop()
