"""What a kubelet's serving certificate is, in the words both ends use: the kubelet that asks for it
(kubelet/certmanager.py) and the controller that approves the request (controller/csrapproving.py).

kube's `kubernetes.io/kubelet-serving` signer issues it from the cluster CA: subject
`O=system:nodes, CN=system:node:<node name>`, DNS and IP subject alternative names only, usages
`digital signature` and `server auth`, plus `key encipherment` for an RSA key (where the key
itself is used to encipher the TLS key exchange; an EC key never is, kubernetes#109077). Which
names it carries is the node's own view of itself, as the kubelet's certificate manager builds its
template from the node status: the node name, then each address of the Node object's
`status.addresses` (Hostname, InternalDNS and ExternalDNS as DNS names; InternalIP and ExternalIP as
IP addresses). The approver allows exactly those, so the kubelet and the approver agree by
construction: both call `serving_names`.

Pure functions over plain dicts; no cryptography here (its import costs tens of milliseconds).
"""

from __future__ import annotations

import ipaddress
from typing import Any

SIGNER = "kubernetes.io/kubelet-serving"
NODES_GROUP = "system:nodes"
NODE_PREFIX = "system:node:"
USAGES = ("digital signature", "server auth")  # an EC (or Ed25519) key
RSA_USAGES = ("digital signature", "key encipherment", "server auth")  # an RSA key
DNS_ADDRESS_TYPES = ("Hostname", "InternalDNS", "ExternalDNS")
IP_ADDRESS_TYPES = ("InternalIP", "ExternalIP")


def node_user(node_name: str) -> str:
    """The user a node's credential acts as, and its certificate's common name."""
    return NODE_PREFIX + node_name


def node_of_user(user: str) -> str:
    """The node name of a `system:node:<name>` user ("" for any other user)."""
    return user[len(NODE_PREFIX) :] if user.startswith(NODE_PREFIX) else ""


def usages_for(rsa: bool) -> list[str]:
    """The usages a kubelet asks for (kube's kubelet: key encipherment only with an RSA key)."""
    return list(RSA_USAGES if rsa else USAGES)


def serving_names(node_name: str, addresses: list[dict[str, Any]] | None) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) a node's serving certificate names: the node name, then its status
    addresses by type, in order, each once. An address of an IP type that does not parse as an IP
    is left out (it could not be one of the certificate's IP names)."""
    dns: list[str] = [node_name] if node_name else []
    ips: list[str] = []
    for a in addresses or []:
        if not isinstance(a, dict):
            continue
        kind, value = a.get("type"), str(a.get("address") or "")
        if not value:
            continue
        if kind in DNS_ADDRESS_TYPES and value not in dns:
            dns.append(value)
        elif kind in IP_ADDRESS_TYPES:
            try:
                ip = str(ipaddress.ip_address(value))
            except ValueError:
                continue
            if ip not in ips:
                ips.append(ip)
    return dns, ips


def node_serving_names(node: dict[str, Any]) -> tuple[list[str], list[str]]:
    """`serving_names` of a Node object (its name and `status.addresses`)."""
    name = str((node.get("metadata") or {}).get("name") or "")
    return serving_names(name, (node.get("status") or {}).get("addresses"))


__all__ = [
    "DNS_ADDRESS_TYPES",
    "IP_ADDRESS_TYPES",
    "NODES_GROUP",
    "NODE_PREFIX",
    "RSA_USAGES",
    "SIGNER",
    "USAGES",
    "node_of_user",
    "node_serving_names",
    "node_user",
    "serving_names",
    "usages_for",
]
