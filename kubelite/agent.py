"""`kubelite agent`: a kubelet and a service proxy in one process, as a k3s agent is.

It joins with the server URL and the node token alone (`kubelet.join`: the CA is checked
against the token before the secret is sent), registers the Node, waits for its podCIDR,
puts the node bridge on it and runs, side by side: the kubelet (pods), the proxy (service
virtual IPs in nftables), the cluster DNS server (kubelet/dns, on the node address), the
routes to other nodes' pod CIDRs, and the kubelet's HTTPS server (logs, exec), with a serving
certificate of the cluster CA asked for through a CertificateSigningRequest (kubelet/certmanager.py;
`--no-server-tls-bootstrap`: self-signed). The node token only bootstraps: the agent
gets its own client certificate with it and its node password (kubelet/bootstrap.py: kube's TLS
bootstrap, k3s's `/etc/rancher/node/password` as DATA_DIR/node-password), kept in DATA_DIR/pki and
renewed before it expires. `--hollow`
runs the same kubelet code on the fake runtime (pods report Running with fake IPs, no
containers, no proxy, no DNS) and `--hollow-nodes N` runs N of them in one process, for scale
tests (Kubernetes' kubemark); those N nodes keep the node token and name themselves in a header,
sharing one pool of connections, which only a server run with `--trust-node-name-header` accepts
(benchmarks: one TLS pool per node would cost more than the nodes; a single hollow node gets its
certificate as a real one does). SIGTERM stops cleanly: the proxy's table and the routes go, the
Node stops being marked as a DNS server, the containers stay (they belong to the pods, as with
the real kubelet).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from api.config import ClientConfig
    from api.connpool import ConnectionPool

log = logging.getLogger("kubelite.agent")
# requests in flight at once for all the hollow nodes of one process. Real kubelets each have a
# connection of their own; with 64 for 500 nodes their status writes queued behind their events
# (creation -> Running p50 3.1 s, against 0.86 s with 256, for the same CPU per pod)
SHARED_CONNECTIONS = 256


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="kubelite agent", description=__doc__.splitlines()[0])
    p.add_argument(
        "--server",
        required=True,
        action="append",
        help="an API server URL, e.g. https://10.0.0.1:6443; repeat (or comma-separate) for several "
        "servers of one cluster: the agent moves to the next when its server is unreachable",
    )
    p.add_argument("--token", help="the node token (the server's DATA_DIR/node-token)")
    p.add_argument("--token-file", help="read the node token from this file")
    p.add_argument("--node-name", default=socket.gethostname().lower())
    p.add_argument(
        "--node-ip", default="", help="the node's address (default: the one that reaches the server)"
    )
    p.add_argument("--data-dir", default="/var/lib/kubelite/agent")
    p.add_argument(
        "--image-root",
        default="/var/lib/kubelite/runtime",
        help="the image store shared with `kubelite runtime` (base images live there)",
    )
    p.add_argument("--bridge", default="kl0")
    p.add_argument("--kubelet-port", type=int, default=10250)
    p.add_argument("--hollow", action="store_true", help="fake runtime: no containers (scale tests)")
    p.add_argument("--hollow-nodes", type=int, default=1, help="with --hollow: run N nodes named NAME-0..N-1")
    p.add_argument("--backoff-initial", type=float, default=10.0, help="CrashLoopBackOff first delay (s)")
    p.add_argument(
        "--stats-interval",
        type=float,
        default=float(os.environ.get("KUBELITE_STATS_INTERVAL", "15")),
        help="seconds between samples of container CPU and memory (metrics.k8s.io's resolution)",
    )
    p.add_argument("--backoff-max", type=float, default=300.0)
    p.add_argument("--lease-renew", type=float, default=10.0)
    p.add_argument(
        "--cluster-dns",
        default="10.96.0.10",
        help="the nameserver pods get (the kube-dns Service IP); '' gives them the node's resolvers",
    )
    p.add_argument("--cluster-domain", default="cluster.local")
    p.add_argument(
        "--resolv-conf",
        default="/etc/resolv.conf",
        help="the node's resolvers: for dnsPolicy Default and for names outside the cluster",
    )
    p.add_argument(
        "--serve-dns",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run a cluster DNS server on the node address, port 53 (backs the kube-dns Service)",
    )
    p.add_argument(
        "--serve-ingress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve Ingresses of the kubelite class with nginx on the node's ports 80 and 443",
    )
    p.add_argument(
        "--server-tls-bootstrap",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve a certificate of the cluster CA, asked for with a CertificateSigningRequest and "
        "renewed before it expires (kubelet's serverTLSBootstrap); --no-server-tls-bootstrap: a "
        "self-signed one, which the API server does not trust",
    )
    p.add_argument(
        "--serving-cert-wait",
        type=float,
        default=60.0,
        help="seconds to wait at start for the serving certificate before serving a self-signed one "
        "until it comes",
    )
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


def default_node_ip(server: str) -> str:
    """The local address the kernel would use to reach the server (a UDP connect sends nothing)."""
    host = urlsplit(server).hostname or "127.0.0.1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((host, 9))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def server_urls(flags: list[str]) -> list[str]:
    """`--server A --server B,C` -> [A, B, C] (order kept, duplicates dropped)."""
    return list(dict.fromkeys(u.strip().rstrip("/") for flag in flags for u in flag.split(",") if u.strip()))


def endpoint_urls(endpoints: dict[str, Any]) -> list[str]:
    """The API servers the `default/kubernetes` Endpoints list (each server adds itself), as URLs."""
    out = []
    for subset in endpoints.get("subsets") or []:
        ports = [p["port"] for p in subset.get("ports") or [] if p.get("name", "https") == "https"]
        for addr in subset.get("addresses") or []:
            ip = addr.get("ip", "")
            out += [f"https://[{ip}]:{port}" if ":" in ip else f"https://{ip}:{port}" for port in ports]
    return out


async def learn_servers(client: Any, every: float = 60.0) -> None:
    """Add the servers the cluster lists to the client's failover list, now and every minute
    (a server that joined after this agent started becomes a fallback without a restart)."""
    while True:
        try:
            eps = await client.get("endpoints", "kubernetes", "default")
            client.servers[:] = list(dict.fromkeys([*client.servers, *endpoint_urls(eps)]))
        except Exception as e:  # only a helper: it must never end the agent (asyncio.wait FIRST_EXCEPTION)
            log.debug("cannot read the kubernetes endpoints: %s", e)
        await asyncio.sleep(every)


@dataclasses.dataclass
class SharedByNodes:
    """The hollow nodes of one process: one CA fetch and one connection pool per server URL."""

    cas: dict[str, asyncio.Task[bytes]] = dataclasses.field(default_factory=dict)
    pools: dict[str, ConnectionPool] = dataclasses.field(default_factory=dict)


async def join_when_reachable(
    servers: list[str],
    token: str,
    name: str,
    timeout: float = 60.0,
    cas: dict[str, asyncio.Task[bytes]] | None = None,
    name_header: bool = False,
) -> ClientConfig:
    """Join through the first server that answers, waiting for servers that are still starting
    (connection refused) up to `timeout`; the others become the client's fallbacks. `cas` (the
    hollow nodes of one process): each server's CA fetched once for all of them, as one machine
    fetches it once; every node still checks it against the token."""
    from kubelet.join import JoinError, fetch_ca, join_config

    async def ca_of(server: str) -> bytes | None:
        if cas is None:
            return None
        fetch = cas.get(server) or cas.setdefault(
            server, asyncio.create_task(asyncio.to_thread(fetch_ca, server))
        )
        try:
            return await asyncio.shield(fetch)
        except JoinError:
            if cas.get(server) is fetch:
                del cas[server]  # the next attempt fetches again
            raise

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for i, server in enumerate(servers):
            try:
                cfg = await asyncio.to_thread(
                    join_config, server, token, name, await ca_of(server), name_header
                )
            except JoinError as e:
                if "cannot reach" not in str(e) or (
                    i == len(servers) - 1 and asyncio.get_running_loop().time() > deadline
                ):
                    raise
                continue
            return dataclasses.replace(cfg, fallback_servers=tuple(s for s in servers if s != server))
        await asyncio.sleep(0.2)  # nothing to watch before a server listens


async def run_node(
    args: argparse.Namespace, name: str, token: str, hollow: bool, shared: SharedByNodes | None = None
) -> None:
    """One node; `shared`: what the hollow nodes of one process share."""
    from api.aclient import AsyncClient
    from api.connpool import ConnectionPool
    from api.informer import InformerFactory
    from kubelet.kubelet import Kubelet, KubeletOptions
    from kubelet.node import NodeAgent, node_object, read_machine

    # the hollow nodes of one process share its connections, so they name themselves in a header
    # (a server with --trust-node-name-header); any other node gets its own client certificate
    by_header = shared is not None
    cfg = await join_when_reachable(
        server_urls(args.server),
        token,
        name,
        cas=shared.cas if shared is not None else None,
        name_header=by_header,
    )
    node_ip = args.node_ip or default_node_ip(cfg.server)
    data_dir = Path(args.data_dir) / name if hollow else Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if not by_header:  # this node's own client certificate (TLS bootstrap, node password)
        from kubelet.bootstrap import bootstrap

        cfg = await bootstrap(cfg, name, data_dir)
    pool = None
    if shared is not None:  # the nodes' credentials are headers: one process, one set of connections
        pool = shared.pools.get(cfg.server) or shared.pools.setdefault(
            cfg.server, ConnectionPool(cfg, SHARED_CONNECTIONS)
        )
    client = AsyncClient(cfg, pool=pool)
    machine = read_machine()
    runtime_version = "fake://0.1" if hollow else "runc://1.1"
    node = node_object(
        name,
        node_ip,
        machine,
        runtime_version,
        args.kubelet_port,
        {"kubelite.io/hollow": "true"} if hollow else None,
    )
    # where the local-path provisioner puts this node's volumes (controller.localpath.DIR_ANNOTATION)
    node["metadata"]["annotations"] = {"kubelite.io/local-path-dir": str(data_dir.resolve() / "storage")}
    agent = NodeAgent(client, node, lease_renew=args.lease_renew, csi_node=not hollow)
    await agent.register()
    informers = InformerFactory(client)
    tasks: list[asyncio.Task[Any]] = [asyncio.create_task(learn_servers(client), name="learn-servers")]
    if not by_header:
        from kubelet.bootstrap import rotate

        tasks.append(asyncio.create_task(rotate(client, name, data_dir), name="client-certificate"))
    cleanups: list[Any] = []
    if hollow:
        from runtime.fake import FakeRuntime

        runtime: Any = FakeRuntime()
    else:
        from kubelet.netpol.enforcer import PolicyEnforcer
        from kubelet.proxy.proxier import Proxier
        from kubelet.routes import RouteManager
        from runtime.network import BridgeNetwork, NetworkConfig
        from runtime.real import RealRuntime

        pod_cidr = await agent.wait_pod_cidr(60.0)
        if not pod_cidr:
            raise SystemExit(
                f"kubelite agent: node {name} got no podCIDR from the controller manager in 60 s"
            )
        (data_dir / "pod-cidr").write_text(pod_cidr)
        network = BridgeNetwork(
            NetworkConfig(state_dir=data_dir / "network", bridge=args.bridge, subnet=pod_cidr)
        )
        network.enable_ip_forward()
        from kubelet.stats_metrics import InstrumentedRuntime

        runtime = InstrumentedRuntime(
            RealRuntime(data_dir / "runtime", network=network, image_root=Path(args.image_root))
        )
        proxier = Proxier(informers, name, health_address=node_ip)
        routes = RouteManager(informers, network, name)
        policies = PolicyEnforcer(informers, name, args.cluster_dns)
        tasks += [
            asyncio.create_task(proxier.run(), name="proxy"),
            asyncio.create_task(routes.run(), name="routes"),
            asyncio.create_task(policies.run(), name="network-policies"),
        ]
        cleanups += [proxier.stop, routes.remove_all, policies.stop]
        if args.serve_ingress:
            from kubelet.ingress.controller import IngressController

            ingress = IngressController(client, informers, data_dir / "ingress")
            tasks.append(asyncio.create_task(ingress.run(), name="ingress"))
            cleanups.append(ingress.stop)
        if args.serve_dns:
            from kubelet.dns.nodedns import NodeDns

            node_dns = NodeDns(
                client, informers, name, node_ip, zone=args.cluster_domain, resolv_conf=args.resolv_conf
            )
            tasks.append(asyncio.create_task(node_dns.run(), name="dns"))
        with contextlib.suppress(ImportError):
            from kubelet.serving import KubeletServer

            certificates = None
            if args.server_tls_bootstrap:
                from api.kubeletcerts import node_serving_names
                from kubelet.certmanager import ServingCertManager

                certificates = ServingCertManager(
                    client,
                    name,
                    lambda: node_serving_names(agent.node),
                    data_dir / "pki",
                    cfg.ca_data or b"",
                    first_wait=args.serving_cert_wait,
                )
            server = KubeletServer(
                runtime,
                cfg,
                node_ip,
                args.kubelet_port,
                data_dir,
                node_name=name,
                stats_interval=args.stats_interval,
                api_client=client,  # token and access reviews of its callers (kube's webhook modes)
                pods=informers.informer("pods", field_selector=f"spec.nodeName={name}").list,
                certificates=certificates,
            )
            tasks.append(asyncio.create_task(server.run(), name="kubelet-server"))
    kubelet = Kubelet(
        client,
        runtime,
        agent,
        KubeletOptions(
            node_name=name,
            node_ip=node_ip,
            data_dir=data_dir,
            backoff_initial=args.backoff_initial,
            dns_servers=[args.cluster_dns] if args.cluster_dns else [],
            cluster_domain=args.cluster_domain,
            resolv_conf=args.resolv_conf,
            backoff_max=args.backoff_max,
            files_in_memory=hollow,
        ),
        informers,
    )
    try:
        tasks.append(asyncio.create_task(kubelet.run(), name="kubelet"))
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for t in done:
            t.result()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for fn in cleanups:
            with contextlib.suppress(Exception):
                fn()
        await client.aclose()


async def run(args: argparse.Namespace, token: str) -> None:
    names = (
        [f"{args.node_name}-{i}" for i in range(args.hollow_nodes)]
        if args.hollow and args.hollow_nodes > 1
        else [args.node_name]
    )
    shared = SharedByNodes() if len(names) > 1 else None
    main = asyncio.gather(*(run_node(args, n, token, args.hollow, shared) for n in names))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await main
    finally:
        for pool in shared.pools.values() if shared is not None else ():
            pool.close()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from kubelet.bootstrap import BootstrapRefused
    from kubelet.join import JoinError

    token = args.token or (Path(args.token_file).read_text().strip() if args.token_file else "")
    if not token:
        print("kubelite agent: a node token is needed (--token or --token-file)", file=sys.stderr)
        return 2
    try:
        import uvloop

        if args.hollow and args.hollow_nodes > 1:
            from api.gctuning import tune_for_caches

            tune_for_caches()  # a hundred kubelets' informer caches
        uvloop.run(run(args, token))
    except (JoinError, BootstrapRefused) as e:
        print(f"kubelite agent: {e}", file=sys.stderr)
        return 1
    return 0


def teardown(argv: list[str]) -> int:
    """`kubelite agent-teardown`: remove every pod's containers and sandbox, the proxy table and the
    node bridge of an agent's data dir (run in the node's network namespace; used by `kubelite down`)."""
    p = argparse.ArgumentParser(prog="kubelite agent-teardown")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--image-root", default="/var/lib/kubelite/runtime")
    p.add_argument("--bridge", default="kl0")
    args = p.parse_args(argv)
    from kubelet.proxy.proxier import nft_remove
    from runtime.network import BridgeNetwork, NetworkConfig
    from runtime.real import RealRuntime

    data_dir = Path(args.data_dir)
    cidr_file = data_dir / "pod-cidr"
    subnet = cidr_file.read_text().strip() if cidr_file.exists() else "10.244.0.0/24"
    network = BridgeNetwork(NetworkConfig(state_dir=data_dir / "network", bridge=args.bridge, subnet=subnet))
    runtime = RealRuntime(data_dir / "runtime", network=network, image_root=Path(args.image_root))

    async def clean() -> None:
        containers = await runtime.list_containers()
        await asyncio.gather(*(runtime.stop_container(c.id, 0) for c in containers if c.state == "running"))
        for c in containers:
            await runtime.remove_container(c.id)
        for s in await runtime.list_sandboxes():
            await runtime.remove_sandbox(s.id)

    asyncio.run(clean())
    from kubelet.ingress.nginx import kill_leftover

    kill_leftover(data_dir / "ingress")  # the nginx of an agent that died
    nft_remove()
    network.delete_bridge()
    return 0
