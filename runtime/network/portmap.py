"""nftables rules for published ports (`-p HOST:CONTAINER`): one table per sandbox, pure rendering.

One `ip` table per sandbox (`table_name(sandbox_id)`), replaced atomically by nft.apply_table
when the sandbox's ports change and deleted at teardown, so sandboxes never rewrite each
other's rules and a restart needs no rebuild (the kernel keeps the tables; disk keeps ports).

What the chains do and why:
- `prerouting` (priority -100, dstnat): traffic arriving from outside the node (or another pod) to a local
  address and the host port is DNATed to pod-ip:container-port.
- `output` (dstnat): the node's own processes connecting to a local address: locally generated
  packets never pass prerouting, so DNAT needs an output hook too.
- `postrouting` (srcnat): two cases that would otherwise break return traffic, masqueraded to
  the bridge address: (1) a connection to 127.0.0.1 keeps source 127.0.0.1 after DNAT, which the
  pod would answer to its own loopback; this also needs sysctl `route_localnet=1` on the bridge
  (set by the caller) or the kernel drops 127/8 routed out of a real interface; (2) a pod on the
  same bridge reaching a published port (hairpin): the reply would be bridged straight back
  with the pod's own address, bypassing conntrack; this path is routed, so it
  also needs `enable_ip_forward()` in the node's netns. Traffic from elsewhere keeps its source.
`fib daddr type local` matches any address of the node when no host IP is given (docker's
0.0.0.0), in whatever netns the rules live.
"""

from __future__ import annotations

import hashlib

from runtime.network.interface import PortMapping

FAMILY = "ip"
TABLE_PREFIX = "kubelite_pub_"


def table_name(sandbox_id: str) -> str:
    return TABLE_PREFIX + hashlib.sha256(sandbox_id.encode()).hexdigest()[:16]


def _match(port: PortMapping) -> str:
    where = f"ip daddr {port.host_ip}" if port.host_ip else "fib daddr type local"
    return f"{where} {port.protocol} dport {port.host_port}"


def render(pod_ip: str, subnet: str, ports: list[PortMapping]) -> str:
    """The body of a sandbox's table (for nft.apply_table)."""
    dnat = [f"        {_match(p)} dnat to {pod_ip}:{p.container_port}" for p in ports]
    targets = sorted({f"{p.protocol} dport {p.container_port}" for p in ports})
    snat = [
        f"        ip saddr {{ 127.0.0.0/8, {subnet} }} ip daddr {pod_ip} {t} ct status dnat masquerade"
        for t in targets
    ]
    chain = (
        "    chain {name} {{\n        type nat hook {hook} priority {prio}; policy accept;\n{rules}\n    }}"
    )
    return "\n".join(
        [
            chain.format(name="prerouting", hook="prerouting", prio="-100", rules="\n".join(dnat)),
            chain.format(name="output", hook="output", prio="-100", rules="\n".join(dnat)),
            chain.format(name="postrouting", hook="postrouting", prio="100", rules="\n".join(snat)),
        ]
    )
