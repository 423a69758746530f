"""The process behind `kubelite up`: API servers and N agents, each agent its own "host".

Every node is a network namespace (`kl-node-<i>`) with its own address on the host bridge
`kln0` (10.250.0.0/24, made with the runtime's BridgeNetwork: a node is to the host what a pod
is to a node), so node loss and network cuts are real. The server runs in the host's
namespace and listens on all addresses; agents reach it at the bridge address. Agents are
started with `nsenter --net` (not `ip netns exec`, whose private mount namespace would hide
the pods' netns and overlay mounts from the host). A component that dies is restarted with a
back-off; SIGTERM stops the agents, tears every node down (containers, sandboxes, proxy
table, node bridge), then removes the node namespaces, host routes and the host bridge.
With `--servers N` (on `--datastore postgres`, `etcd` or a URL) N servers listen on ports
PORT..PORT+N-1, joined by a token the supervisor makes once (`server-token`): the first stores
the cluster's CA and keys in the datastore, the others fetch them; every agent is given every
server and fails over. `etcd` runs one local member under the supervisor (DATA_DIR/etcd).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtime.network import BridgeNetwork

log = logging.getLogger("kubelite.supervisor")

HOST_BRIDGE = "kln0"
NODE_SUBNET = "10.250.0.0/24"
HOST_IP = "10.250.0.1"
NETNS_PREFIX = "kl-node-"
SERVICE_CIDR = "10.96.0.0/16"


@dataclass
class ClusterOptions:
    data_dir: Path
    nodes: int
    port: int = 6443
    node_monitor_grace_period: str = "40s"
    pod_eviction_timeout: str = "5m"
    image_root: str = "/var/lib/kubelite/runtime"
    backoff_initial: float = 10.0
    lease_renew: float = 10.0  # must stay well under node_monitor_grace_period
    servers: int = 1
    datastore: str = ""  # "" (SQLite in the server's dir), "postgres", "etcd" or a datastore URL

    @property
    def server_dir(self) -> Path:
        return self.data_dir / "server"

    def server_dir_of(self, i: int) -> Path:
        return self.server_dir if i == 0 else self.data_dir / f"server-{i}"

    def server_urls(self) -> list[str]:
        return [f"https://{HOST_IP}:{self.port + i}" for i in range(self.servers)]

    @property
    def kubeconfig(self) -> Path:
        """The one to use: the server's own, or with several servers the cluster's (every server listed)."""
        return self.server_dir / "kubeconfig.yaml" if self.servers == 1 else self.data_dir / "kubeconfig.yaml"

    def node_dir(self, i: int) -> Path:
        return self.data_dir / "nodes" / node_name(i)

    @property
    def state_file(self) -> Path:
        return self.data_dir / "cluster.json"


def node_name(i: int) -> str:
    return f"node-{i}"


def netns_name(i: int) -> str:
    return f"{NETNS_PREFIX}{i}"


def host_network(opts: ClusterOptions) -> BridgeNetwork:
    from runtime.network import BridgeNetwork, NetworkConfig

    return BridgeNetwork(
        NetworkConfig(state_dir=opts.data_dir / "host-net", bridge=HOST_BRIDGE, subnet=NODE_SUBNET)
    )


def kubelite_cmd() -> list[str]:
    return [sys.executable, "-m", "kubelite.main"]


class Component:
    """A child process restarted with back-off when it dies (until `stopping`)."""

    def __init__(self, name: str, argv: list[str], log_path: Path) -> None:
        self.name, self.argv, self.log_path = name, argv, log_path
        self.proc: asyncio.subprocess.Process | None = None
        self.stopping = False
        self.restarts = 0

    async def run(self) -> None:
        delay = 1.0
        while not self.stopping:
            with open(self.log_path, "ab") as out:
                self.proc = await asyncio.create_subprocess_exec(
                    *self.argv, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL
                )
            started = asyncio.get_running_loop().time()
            code = await self.proc.wait()
            if self.stopping:
                return
            log.warning("%s exited with %s; restarting in %.0fs", self.name, code, delay)
            self.restarts += 1
            await asyncio.sleep(delay)
            ran = asyncio.get_running_loop().time() - started
            delay = 1.0 if ran > 60 else min(delay * 2, 30.0)

    async def stop(self, timeout: float = 15.0) -> None:
        self.stopping = True
        p = self.proc
        if p is None or p.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            p.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(p.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            await p.wait()


def setup_host_network(opts: ClusterOptions) -> None:
    """The host bridge and one namespace per node, each with no route beyond the node subnet."""
    from runtime.network.netns import open_socket
    from runtime.network.rtnl import Rtnl

    net = host_network(opts)
    for i in range(opts.nodes):
        if net.get(netns_name(i)) is None:
            net.setup(netns_name(i))
        with Rtnl(open_socket(netns_name(i))) as inner:
            inner.delete_route("0.0.0.0", 0)  # pods and nodes get no way out of the cluster
            # but service IPs need a route for the kernel to get as far as the proxy's DNAT (which
            # then sends the packet to a pod); without one, connect() fails with ENETUNREACH
            net_addr, prefix = SERVICE_CIDR.split("/")
            inner.add_route(net_addr, int(prefix), HOST_IP, replace=True)


def node_ip(opts: ClusterOptions, i: int) -> str:
    sn = host_network(opts).get(netns_name(i))
    return sn.ip if sn else ""


def teardown_host_network(opts: ClusterOptions) -> None:
    net = host_network(opts)
    for sn in net.list():
        net.teardown(sn.sandbox_id)
    net.delete_bridge()


async def teardown_nodes(opts: ClusterOptions, count: int) -> None:
    """Inside each node's namespace: every pod's containers and sandbox, the proxy table, the bridge."""
    from runtime.network import netns

    procs = []
    for i in range(count):
        if not netns.exists(netns_name(i)):
            continue
        argv = [
            "nsenter",
            f"--net=/run/netns/{netns_name(i)}",
            *kubelite_cmd(),
            "agent-teardown",
            "--data-dir",
            str(opts.node_dir(i)),
            "--image-root",
            opts.image_root,
        ]
        procs.append(await asyncio.create_subprocess_exec(*argv))
    for p in procs:
        await p.wait()


ETCD_CLIENT_PORT, ETCD_PEER_PORT = 2379, 2380


def ensure_postgres(opts: ClusterOptions) -> str:
    """Start the machine's PostgreSQL (scripts/ensure-postgres.sh) and this cluster's database
    (one per data dir: kept, like the data dir, across up/down)."""
    import hashlib
    import subprocess

    script = Path(__file__).resolve().parents[1] / "scripts" / "ensure-postgres.sh"
    subprocess.run(["bash", str(script)], check=True, capture_output=True)
    db = "kubelite_up_" + hashlib.sha256(str(opts.data_dir).encode()).hexdigest()[:10]
    subprocess.run(["su", "postgres", "-c", f"createdb -O kubelite {db}"], capture_output=True)  # exists: ok
    return f"postgresql://kubelite:kubelite@127.0.0.1/{db}"


def etcd_component(opts: ClusterOptions, logs: Path) -> Component:
    client, peer = f"http://127.0.0.1:{ETCD_CLIENT_PORT}", f"http://127.0.0.1:{ETCD_PEER_PORT}"
    return Component(
        "etcd",
        [
            "etcd",
            "--name",
            "kubelite",
            "--data-dir",
            str(opts.data_dir / "etcd"),
            "--listen-client-urls",
            client,
            "--advertise-client-urls",
            client,
            "--listen-peer-urls",
            peer,
            "--initial-advertise-peer-urls",
            peer,
            "--initial-cluster",
            f"kubelite={peer}",
            "--logger",
            "zap",
            "--log-level",
            "error",
        ],
        logs / "etcd.log",
    )


def server_token(opts: ClusterOptions) -> Path:
    """The servers' shared token, made once (0600) and kept with the cluster."""
    import secrets

    path = opts.data_dir / "server-token"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(24) + "\n")
    return path


def server_component(opts: ClusterOptions, i: int, datastore: str, logs: Path) -> Component:
    shared = ["--datastore", datastore, "--token-file", str(server_token(opts))] if datastore else []
    name = "server" if i == 0 else f"server-{i}"
    return Component(
        name,
        [
            *kubelite_cmd(),
            "server",
            "--data-dir",
            str(opts.server_dir_of(i)),
            "--listen",
            f"0.0.0.0:{opts.port + i}",
            "--tls-san",
            HOST_IP,
            "--tls-san",
            "127.0.0.1",
            *shared,
            "--node-monitor-grace-period",
            opts.node_monitor_grace_period,
            "--pod-eviction-timeout",
            opts.pod_eviction_timeout,
        ],
        logs / f"{name}.log",
    )


def write_cluster_kubeconfig(opts: ClusterOptions) -> None:
    """The first server's kubeconfig with every server in its `kubelite.io/servers` extension:
    our kubectl and clients fail over among them; the real kubectl uses the first."""
    import yaml

    from api.config import SERVERS_EXTENSION

    doc = yaml.safe_load((opts.server_dir / "kubeconfig.yaml").read_text())
    for entry in doc.get("clusters") or []:
        entry["cluster"]["server"] = opts.server_urls()[0]
        entry["cluster"]["extensions"] = [
            {"name": SERVERS_EXTENSION, "extension": {"servers": opts.server_urls()}}
        ]
    tmp = opts.kubeconfig.with_name(opts.kubeconfig.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(yaml.safe_dump(doc, sort_keys=False))
    os.replace(tmp, opts.kubeconfig)


async def supervise(opts: ClusterOptions) -> int:
    opts.data_dir.mkdir(parents=True, exist_ok=True)
    logs = opts.data_dir / "logs"
    logs.mkdir(exist_ok=True)
    opts.state_file.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "nodes": opts.nodes,
                "port": opts.port,
                "image_root": opts.image_root,
                "servers": opts.servers,
            }
        )
    )
    await asyncio.to_thread(setup_host_network, opts)
    backing: list[Component] = []  # the datastore's own processes, stopped last
    datastore = opts.datastore
    if datastore == "postgres":
        datastore = await asyncio.to_thread(ensure_postgres, opts)
    elif datastore == "etcd":
        backing.append(etcd_component(opts, logs))
        datastore = f"etcd://127.0.0.1:{ETCD_CLIENT_PORT}"
    tasks = [asyncio.create_task(c.run()) for c in backing]
    servers = [server_component(opts, i, datastore, logs) for i in range(opts.servers)]
    components = list(servers)
    tasks.append(asyncio.create_task(servers[0].run()))
    token_file = opts.server_dir / "node-token"
    while not (token_file.exists() and (opts.server_dir / "kubeconfig.yaml").exists()):
        await asyncio.sleep(0.1)  # the server writes them once it serves; nothing to watch before that
    tasks += [asyncio.create_task(s.run()) for s in servers[1:]]  # they fetch what the first one stored
    if opts.servers > 1:
        write_cluster_kubeconfig(opts)
    for i in range(opts.nodes):
        agent = Component(
            node_name(i),
            [
                "nsenter",
                f"--net=/run/netns/{netns_name(i)}",
                *kubelite_cmd(),
                "agent",
                "--server",
                ",".join(opts.server_urls()),
                "--token-file",
                str(token_file),
                "--node-name",
                node_name(i),
                "--node-ip",
                node_ip(opts, i),
                "--data-dir",
                str(opts.node_dir(i)),
                "--image-root",
                opts.image_root,
                "--backoff-initial",
                str(opts.backoff_initial),
                "--lease-renew",
                str(opts.lease_renew),
            ],
            logs / f"{node_name(i)}.log",
        )
        components.append(agent)
        tasks.append(asyncio.create_task(agent.run()))
    routes = asyncio.create_task(host_routes(opts))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping the cluster")
    routes.cancel()
    await asyncio.gather(*(c.stop() for c in components[len(servers) :]))
    await teardown_nodes(opts, opts.nodes)
    await asyncio.gather(*(s.stop() for s in servers))
    await asyncio.gather(*(c.stop() for c in backing))
    await asyncio.gather(*tasks, routes, return_exceptions=True)
    await asyncio.to_thread(teardown_host_network, opts)
    opts.state_file.unlink(missing_ok=True)
    return 0


async def host_routes(opts: ClusterOptions) -> None:
    """Routes on the host to every node's pod CIDR, so the host reaches pods as the nodes do."""
    from api.aclient import AsyncClient
    from api.config import from_kubeconfig
    from api.informer import InformerFactory
    from kubelet.routes import RouteManager
    from runtime.network import host

    class HostRoutes:
        def add_route(self, cidr: str, via: str) -> None:
            host.add_route(cidr, via)

        def remove_route(self, cidr: str) -> None:
            host.remove_route(cidr)

    kubeconfig = opts.server_dir / "kubeconfig.yaml"
    while not kubeconfig.exists():
        await asyncio.sleep(0.1)
    cfg = from_kubeconfig([kubeconfig])
    cfg.fallback_servers = tuple(opts.server_urls()[1:])
    client = AsyncClient(cfg)
    informers = InformerFactory(client)
    routes = RouteManager(informers, HostRoutes(), node_name="")
    informers.start()
    try:
        await routes.run()
    finally:
        routes.remove_all()
        await informers.stop()
        await client.aclose()
