"""The API server's settings: one immutable record built from `kubelite server`'s flags.

Durations accept Go-style strings (`40s`, `5m`, `1h30m`) as kube's flags do, or plain seconds.
Defaults match the issue: listen 127.0.0.1:6443, SQLite in the data dir, service CIDR
10.96.0.0/16, cluster CIDR 10.244.0.0/16, history kept at least five minutes.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """`40s`, `5m`, `1h30m`, `250ms` or plain seconds -> seconds; ValueError otherwise."""
    s = text.strip()
    try:
        return float(s)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError(f"invalid duration {text!r}")
    return total


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `[v6]:PORT` or `:PORT` (all addresses)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"invalid listen address {text!r}: want HOST:PORT")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 6443
    datastore: str = ""  # "" = sqlite:///<data_dir>/state.db
    service_cidr: str = "10.96.0.0/16"
    cluster_cidr: str = "10.244.0.0/16"
    controllers: bool = True
    scheduler: bool = True
    # the control loops as child processes (apiserver.loopprocess), else in the server's own
    loop_processes: bool = True
    node_monitor_grace_period: float = 40.0
    pod_eviction_timeout: float = 300.0
    compact_keep: float = 300.0
    compact_interval: float = 60.0
    # seconds between BOOKMARK events on a quiet watch: well inside what the watch ring holds at a
    # busy server's write rate (10,000 events: ~10 s at 1,000 writes/s), so that a watch that ends
    # and resumes from its last bookmark is served from the ring, not paged in from the log
    bookmark_interval: float = 5.0
    # the seats API Priority and Fairness divides among the priority levels (kube: the sum of
    # --max-requests-inflight and --max-mutating-requests-inflight, 400 + 200)
    max_requests_inflight: int = 600
    priority_and_fairness: bool = True  # False: FlowSchemas served, no request classified or held
    extra_sans: tuple[str, ...] = field(default=())
    etcd_cafile: str = ""  # TLS to etcd members, as etcd's own --cacert/--cert/--key
    etcd_certfile: str = ""
    etcd_keyfile: str = ""
    token: str = ""  # shares the CA, SA key and tokens through the datastore (bootstrap_secrets)
    lease_duration: float = 15.0  # this server's identity Lease (its place in the kubernetes endpoints)
    cluster_signing_duration: float = 365 * 24 * 3600.0  # the longest certificate the CSR signer issues
    # bench only: the node token with an X-Kubelite-Node-Name header acts as that node (hollow nodes)
    trust_node_name_header: bool = False

    @property
    def datastore_url(self) -> str:
        """The datastore URL; for etcd, the --etcd-* TLS files ride in its query (etcd_codec)."""
        url = self.datastore or f"sqlite:///{self.data_dir / 'state.db'}"
        tls = {"cacert": self.etcd_cafile, "cert": self.etcd_certfile, "key": self.etcd_keyfile}
        tls = {k: v for k, v in tls.items() if v}
        if tls and not url.startswith(("etcd://", "etcds://")):
            raise ValueError("--etcd-cafile, --etcd-certfile and --etcd-keyfile need an etcd:// datastore")
        if tls:
            url += ("&" if "?" in url else "?") + urlencode(tls)
        return url

    @property
    def service_network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.service_cidr, strict=False)

    @property
    def client_host(self) -> str:
        """The address clients on this machine dial: a wildcard listen is reached on loopback."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else ("::1" if self.host == "::" else self.host)

    @property
    def advertise_address(self) -> str:
        """The address the `kubernetes` service's endpoints name: the listen address, or for a
        wildcard listen the first non-loopback IP among the extra certificate names."""
        if self.host not in ("0.0.0.0", "::", ""):
            return self.host
        for name in self.extra_sans:
            try:
                ip = ipaddress.ip_address(name)
            except ValueError:
                continue
            if not ip.is_loopback:
                return name
        return self.client_host

    @property
    def server_url(self) -> str:
        h = self.client_host
        return f"https://[{h}]:{self.port}" if ":" in h else f"https://{h}:{self.port}"

    @property
    def kubeconfig_path(self) -> Path:
        return self.data_dir / "kubeconfig.yaml"

    @property
    def node_token_path(self) -> Path:
        return self.data_dir / "node-token"
