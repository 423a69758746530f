"""The node's DNS server as the agent runs it: answers from the agent's informers, marks the Node while
it serves, unmarks it on the way out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import dns.asyncquery
import dns.message
import dns.rcode

from api.informer import InformerFactory
from kubelet.dns.nodedns import SERVING_ANNOTATION, NodeDns
from tests.controller.fakeapi import FakeApi
from tests.polling import until


def test_node_dns_serves_marks_and_unmarks(tmp_path: Path) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\nnameserver 192.0.2.53\n")

    async def go() -> None:
        api = FakeApi()
        await api.create("nodes", {"metadata": {"name": "n1"}})
        await api.create(
            "services",
            {
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"clusterIP": "10.96.0.20", "ports": [{"port": 80}]},
            },
        )
        factory = InformerFactory(api)
        node_dns = NodeDns(api, factory, "n1", "127.0.0.1", port=0, resolv_conf=str(resolv))
        # the node's own address is never an upstream (it would forward to itself)
        assert node_dns.server.forwarder.upstreams == [("192.0.2.53", 53)]
        factory.start()
        task = asyncio.create_task(node_dns.run())

        def annotation() -> str | None:
            node = api.objects[("nodes", "", "n1")]
            return (node["metadata"].get("annotations") or {}).get(SERVING_ANNOTATION)

        await until(lambda: annotation() == "true", 10, "the node marked as serving")
        await factory.wait_for_sync()
        q = dns.message.make_query("web.default.svc.cluster.local.", "A")
        r = await dns.asyncquery.udp(q, "127.0.0.1", port=node_dns.server.port, timeout=3)
        assert r.rcode() == dns.rcode.NOERROR and r.answer[0][0].to_text() == "10.96.0.20"
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert annotation() is None
        await factory.stop()

    asyncio.run(go())


def test_a_taken_port_is_retried_without_marking_the_node() -> None:
    import socket

    async def go() -> None:
        api = FakeApi()
        await api.create("nodes", {"metadata": {"name": "n1"}})
        factory = InformerFactory(api)
        # a port free for TCP too (the server binds both): a TCP socket elsewhere on the machine
        # holding the number the kernel gave the UDP socket kept it from ever serving
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        taken.bind(("127.0.0.1", port))
        probe.close()
        node_dns = NodeDns(api, factory, "n1", "127.0.0.1", port=port, resolv_conf="/nonexistent")
        task = asyncio.create_task(node_dns.run(retry=0.05))

        def annotation() -> str | None:
            return (api.objects[("nodes", "", "n1")]["metadata"].get("annotations") or {}).get(
                SERVING_ANNOTATION
            )

        await until(lambda: node_dns.bind_failures >= 2, 10, "a second try at the taken port")
        assert not task.done() and annotation() is None  # still trying, the agent lives on
        taken.close()
        await until(lambda: annotation() == "true", 10, "serving once the port is free")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(go())
