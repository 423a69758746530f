"""The node's DNS server as the agent runs it: serve, say so on the Node, take it back on the way out.

The server listens on the node's own address (port 53), answering from the agent's shared
informers (services, endpoints, and all pods for `<ip>.<ns>.pod` names) and forwarding the
rest to the nameservers of the node's resolv.conf. Once it listens, the Node gets the
annotation `dns.kubelite.io/serving=true`, from which the kube-dns controller lists the node
in the `kube-dns` Endpoints; a clean stop removes it first, so the service proxies stop
sending queries here (a node that dies turns NotReady and drops out of the ready addresses).
A port it cannot take is retried, without taking the agent down: the pods run regardless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from api.informer import InformerFactory
from api.protocol import ApiClient
from kubelet.dns.forward import Forwarder, read_nameservers
from kubelet.dns.server import DnsServer
from kubelet.dns.view import InformerView

log = logging.getLogger(__name__)

SERVING_ANNOTATION = "dns.kubelite.io/serving"  # read by controller/kubedns.py
MERGE_PATCH = "application/merge-patch+json"


class NodeDns:
    def __init__(
        self,
        client: ApiClient,
        informers: InformerFactory,
        node_name: str,
        host: str,
        port: int = 53,
        zone: str = "cluster.local",
        resolv_conf: str = "/etc/resolv.conf",
    ) -> None:
        self.client = client
        self.node_name = node_name
        self.view = InformerView(
            informers.informer("services"), informers.informer("endpoints"), informers.informer("pods")
        )
        upstreams = [u for u in read_nameservers(resolv_conf) if u[0] != host]  # never forward to ourselves
        self.server = DnsServer(self.view, zone, Forwarder(upstreams), host, port)
        self.bind_failures = 0

    async def _annotate(self, value: str | None) -> None:
        await self.client.patch(
            "nodes",
            self.node_name,
            {"metadata": {"annotations": {SERVING_ANNOTATION: value}}},
            content_type=MERGE_PATCH,
        )

    async def run(self, retry: float = 5.0) -> None:
        while True:  # a taken port (another resolver on the node) costs the node its DNS, not its pods
            try:
                await self.server.start()
                break
            except OSError as e:
                self.bind_failures += 1
                log.error(
                    "cluster DNS cannot listen on %s:%d (%s); retrying in %.0fs",
                    self.server.host,
                    self.server.port,
                    e,
                    retry,
                )
                self.server.close()
                await asyncio.sleep(retry)
        try:
            while True:  # the API server may still be starting: retry until the Node says we serve
                try:
                    await self._annotate("true")
                    break
                except Exception as e:
                    log.info("marking node %s as a DNS server failed (%r); retrying", self.node_name, e)
                    await asyncio.sleep(1.0)
            await asyncio.Event().wait()
        finally:
            self.server.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await self._annotate(None)
