"""UDP flows the service proxy clears from conntrack when a service's endpoints change, as kube-proxy does.

NAT is decided on a flow's first packet; conntrack then rewrites the flow's later packets the
same way until the entry expires. UDP has no close, so a client that keeps its socket (a
DNS stub resolver, a metrics agent) would keep sending to an endpoint that has gone, for as
long as it keeps talking; and a flow that began while its service had no endpoint (rejected,
never DNATed) would keep missing the DNAT once one appears. So after each new rule set is
applied: for every UDP service port, the flows DNATed to an endpoint that left are deleted,
and when a port goes from no endpoint to some, every flow to it is. TCP needs none of this:
its connections end, and a dead endpoint's ones reset. `stale_flows` decides (pure);
`conntrack_clear` runs `conntrack -D` (Debian's conntrack), where "0 entries" is exit 1.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from kubelet.proxy.rules import ServicePort

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Flow:
    """UDP flows to `ip:port` (a cluster IP, or any local address for a NodePort: ip ""), DNATed to
    `endpoint` ("" = whatever their DNAT)."""

    ip: str
    port: int
    endpoint: str = ""


def _udp(ports: Iterable[ServicePort]) -> dict[tuple[str, int, int], set[str]]:
    out: dict[tuple[str, int, int], set[str]] = {}
    for sp in ports:
        if sp.protocol == "udp":
            out.setdefault((sp.cluster_ip, sp.port, sp.node_port), set()).update(ip for ip, _ in sp.endpoints)
    return out


def stale_flows(old: Iterable[ServicePort], new: Iterable[ServicePort]) -> list[Flow]:
    before, after = _udp(old), _udp(new)
    flows: set[Flow] = set()
    for (ip, port, node_port), now in after.items():
        was = before.get((ip, port, node_port), set())
        if now and not was:
            flows.add(Flow(ip, port))
            if node_port:
                flows.add(Flow("", node_port))
        for gone in was - now:
            flows.add(Flow(ip, port, gone))
            if node_port:
                flows.add(Flow("", node_port, gone))
    for (ip, port, node_port), was in before.items():
        if (ip, port, node_port) not in after:
            flows.update(Flow(ip, port, gone) for gone in was)
    return sorted(flows)


def conntrack_argv(flow: Flow) -> list[str]:
    argv = ["conntrack", "-D", "-p", "udp"]
    if flow.ip:
        argv += ["--orig-dst", flow.ip]
    argv += ["--orig-port-dst", str(flow.port)]
    if flow.endpoint:
        argv += ["--dst-nat", flow.endpoint]
    return argv


def conntrack_clear(flows: list[Flow]) -> None:
    for flow in flows:
        try:
            r = subprocess.run(conntrack_argv(flow), capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired) as e:
            log.warning("clearing UDP conntrack entries %s failed: %r", flow, e)
            continue
        if r.returncode not in (0, 1):  # 1: no entry matched
            log.warning("conntrack %s: %s", " ".join(conntrack_argv(flow)), r.stderr.strip())
