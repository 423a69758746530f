"""Each pod's /etc/resolv.conf and /etc/hosts, decided as the kubelet decides them.

resolv.conf by `spec.dnsPolicy` (pkg/kubelet/network/dns): `ClusterFirst` (the default)
gives the cluster DNS, the search path `<ns>.svc.<zone> svc.<zone> <zone>` followed by the
node's own searches, and `options ndots:5`; a hostNetwork pod with `ClusterFirst`, or any
pod when the kubelet has no cluster DNS, gets the node's resolv.conf as with `Default`;
`ClusterFirstWithHostNet` gives the cluster DNS even on the host network; `None` starts empty.
Then `spec.dnsConfig` is appended: nameservers and searches without duplicates, options
merged by name (the pod's value wins); at most 3 nameservers and 32 searches (2048
characters) are kept, as the kubelet does. /etc/hosts is kubelet-managed: localhost lines,
the pod's IP with `<hostname>.<subdomain>.<ns>.svc.<zone>` and `<hostname>` (hostname =
`spec.hostname` or the pod name, up to 63 characters), then `spec.hostAliases`; a
hostNetwork pod gets the node's hosts file plus its aliases. The files live in the pod's
directory and are bind-mounted over what the sandbox provides; they are rewritten only
when their content changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelet.podfiles import DISK, PodFiles
from runtime.interface import Mount

CLUSTER_DOMAIN = "cluster.local"
HOST_RESOLV_CONF = "/etc/resolv.conf"
HOST_HOSTS = "/etc/hosts"
MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
MAX_SEARCH_CHARS = 2048
CLUSTER_OPTIONS = ("ndots:5",)

_HOSTS_HEADER = """# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
"""


@dataclass(frozen=True)
class ResolvConf:
    nameservers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def render(self) -> str:
        lines = [f"nameserver {ns}" for ns in self.nameservers]
        if self.searches:
            lines.append("search " + " ".join(self.searches))
        if self.options:
            lines.append("options " + " ".join(self.options))
        return "".join(line + "\n" for line in lines)


def parse_resolv_conf(text: str) -> ResolvConf:
    """nameserver, search (the last `search` or `domain` line wins, as in glibc) and options lines."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(parts) < 2:
            continue
        if parts[0] == "nameserver":
            servers.append(parts[1])
        elif parts[0] in ("search", "domain"):
            searches = [s.rstrip(".") for s in parts[1:]]
        elif parts[0] == "options":
            options += parts[1:]
    return ResolvConf(tuple(servers), tuple(searches), tuple(options))


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def _merge_options(base: tuple[str, ...], pod_options: list[dict[str, Any]]) -> tuple[str, ...]:
    """Options keyed by name; the pod's dnsConfig replaces a base option of the same name."""
    merged: dict[str, str] = {}
    for text in base:
        merged[text.split(":", 1)[0]] = text
    for opt in pod_options:
        name = str(opt.get("name") or "")
        if name:
            value = opt.get("value")
            merged[name] = f"{name}:{value}" if value not in (None, "") else name
    return tuple(merged.values())


def _trim_searches(searches: tuple[str, ...]) -> tuple[str, ...]:
    kept: list[str] = []
    for s in searches[:MAX_SEARCHES]:
        if len(" ".join([*kept, s])) > MAX_SEARCH_CHARS:
            break
        kept.append(s)
    return tuple(kept)


def pod_resolv_conf(
    pod: dict[str, Any], cluster_dns: list[str], host: ResolvConf, cluster_domain: str = CLUSTER_DOMAIN
) -> ResolvConf:
    spec = pod.get("spec") or {}
    ns = (pod.get("metadata") or {}).get("namespace") or "default"
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    host_network = bool(spec.get("hostNetwork"))
    if policy == "None":
        base = ResolvConf()
    elif (
        policy == "ClusterFirstWithHostNet" or (policy == "ClusterFirst" and not host_network)
    ) and cluster_dns:
        zone = cluster_domain.strip(".")
        base = ResolvConf(
            tuple(cluster_dns),
            _unique([f"{ns}.svc.{zone}", f"svc.{zone}", zone, *host.searches]),
            CLUSTER_OPTIONS,
        )
    else:  # Default, ClusterFirst on the host network, or no cluster DNS configured
        base = host
    extra = spec.get("dnsConfig") or {}
    if extra:
        base = ResolvConf(
            _unique([*base.nameservers, *(extra.get("nameservers") or [])]),
            _unique([*base.searches, *(extra.get("searches") or [])]),
            _merge_options(base.options, list(extra.get("options") or [])),
        )
    return ResolvConf(base.nameservers[:MAX_NAMESERVERS], _trim_searches(base.searches), base.options)


def pod_hostname(pod: dict[str, Any], cluster_domain: str = CLUSTER_DOMAIN) -> tuple[str, str]:
    """(hostname, domain): `spec.hostname` or the pod name cut to 63 characters, and
    `<subdomain>.<ns>.svc.<zone>` when `spec.subdomain` is set ("" otherwise)."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    hostname = str(spec.get("hostname") or meta.get("name") or "")[:63].rstrip("-.")
    sub = spec.get("subdomain")
    domain = f"{sub}.{meta.get('namespace') or 'default'}.svc.{cluster_domain.strip('.')}" if sub else ""
    return hostname, domain


def hosts_file(
    pod: dict[str, Any], pod_ip: str, host_hosts: str = "", cluster_domain: str = CLUSTER_DOMAIN
) -> str:
    spec = pod.get("spec") or {}
    if spec.get("hostNetwork"):
        out = "# Kubernetes-managed hosts file (host network).\n" + host_hosts
        if out and not out.endswith("\n"):
            out += "\n"
    else:
        out = _HOSTS_HEADER
        if pod_ip:
            hostname, domain = pod_hostname(pod, cluster_domain)
            out += f"{pod_ip}\t{hostname}.{domain}\t{hostname}\n" if domain else f"{pod_ip}\t{hostname}\n"
    aliases = [a for a in spec.get("hostAliases") or [] if a.get("ip") and a.get("hostnames")]
    if aliases:
        out += "\n# Entries added by HostAliases.\n"
        out += "".join(f"{a['ip']}\t" + "\t".join(a["hostnames"]) + "\n" for a in aliases)
    return out


@dataclass
class PodDNS:
    """The kubelet's DNS settings (`--cluster-dns`, `--cluster-domain`, `--resolv-conf`)."""

    cluster_dns: list[str] = field(default_factory=list)
    cluster_domain: str = CLUSTER_DOMAIN
    resolv_conf: str = HOST_RESOLV_CONF

    def etc_mounts(
        self, pod: dict[str, Any], pod_ip: str, data_dir: Path, files: PodFiles = DISK
    ) -> list[Mount]:
        """Write the pod's resolv.conf and hosts (when changed); the mounts that show them to a container."""
        host = parse_resolv_conf(_read(self.resolv_conf))
        resolv = pod_resolv_conf(pod, self.cluster_dns, host, self.cluster_domain).render()
        hosts = hosts_file(
            pod,
            pod_ip,
            _read(HOST_HOSTS) if (pod.get("spec") or {}).get("hostNetwork") else "",
            self.cluster_domain,
        )
        uid = pod["metadata"]["uid"]
        return [
            Mount(
                container_path="/etc/resolv.conf",
                host_path=str(files.etc_file(data_dir, uid, "resolv.conf", resolv)),
            ),
            Mount(
                container_path="/etc/hosts", host_path=str(files.etc_file(data_dir, uid, "etc-hosts", hosts))
            ),
        ]


_read_cache: dict[str, tuple[tuple[int, int], str]] = {}


def _read(path: str) -> str:
    """The node file's text, re-read only when its mtime or size moved (a stat per pod, not a read)."""
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size)
        cached = _read_cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        text = Path(path).read_text()
    except OSError:
        return ""
    _read_cache[path] = (stamp, text)
    return text
