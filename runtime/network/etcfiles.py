"""The /etc/hosts, /etc/resolv.conf and /etc/hostname a sandbox's containers bind-mount.

Content is built by pure functions; `write_etc_files` writes them atomically (temp + rename)
into a directory the caller owns (e.g. the sandbox's state dir). Like docker, when no DNS
servers are given the host's resolv.conf nameservers are used, minus loopback ones, which
would point at the pod's own loopback inside its netns.
"""

from __future__ import annotations

import os

from runtime.network import ipv4

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from runtime.containers.rootfs import StrPath

# str paths, and names checked without `re`: pathlib and re cost ~10 ms each of a `run`
HOST_RESOLV_CONF = "/etc/resolv.conf"
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_LABEL = _ALNUM | frozenset("-")

_STATIC_HOSTS = """\
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
"""


def _check_hostname(name: str) -> None:
    if not name or len(name) > 253 or not all(map(_rfc1123_label, name.split("."))):
        raise ValueError(f"invalid hostname {name!r}: want RFC 1123 labels of [A-Za-z0-9-]")


def _rfc1123_label(label: str) -> bool:
    """[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"""
    return 0 < len(label) <= 63 and label[0] in _ALNUM and label[-1] in _ALNUM and _LABEL.issuperset(label)


def _check_ip(ip: str, what: str) -> None:
    try:
        if ipv4.parse_address(ip) is None:  # plain IPv4 without `ipaddress` (~4 ms of a `run`)
            import ipaddress

            ipaddress.ip_address(ip)
    except ValueError:
        raise ValueError(f"invalid {what} {ip!r}: not an IP address") from None


def hosts_content(hostname: str, ip: str, extra_hosts: Mapping[str, str] | None = None) -> str:
    """extra_hosts maps a host name to its address (k8s hostAliases, docker --add-host)."""
    _check_hostname(hostname)
    lines = [_STATIC_HOSTS]
    if ip:
        _check_ip(ip, "pod address")
        lines.append(f"{ip}\t{hostname}\n")
    for name, address in (extra_hosts or {}).items():
        _check_hostname(name)
        _check_ip(address, f"address for {name}")
        lines.append(f"{address}\t{name}\n")
    return "".join(lines)


def host_nameservers(text: str) -> list[str]:
    """Nameservers of a resolv.conf usable from inside a netns (loopback ones dropped)."""
    servers = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            plain = ipv4.parse_address(parts[1])
            if plain is not None:  # IPv4's loopback is 127.0.0.0/8
                if plain >> 24 != 127:
                    servers.append(parts[1])
                continue
            import ipaddress

            try:
                if not ipaddress.ip_address(parts[1]).is_loopback:
                    servers.append(parts[1])
            except ValueError:
                continue
    return servers


def resolv_content(dns_servers: Sequence[str], searches: Sequence[str], options: Sequence[str] = ()) -> str:
    for server in dns_servers:
        _check_ip(server, "DNS server")
    for domain in searches:
        _check_hostname(domain)
    lines = [f"nameserver {server}\n" for server in dns_servers]
    if searches:
        lines.append("search " + " ".join(searches) + "\n")
    if options:
        lines.append("options " + " ".join(options) + "\n")
    return "".join(lines)


def _write(path: str, content: str) -> None:
    head, name = os.path.split(path)
    tmp = os.path.join(head, f".{name}.tmp")
    with open(tmp, "w") as f:
        f.write(content)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_etc_files(
    dir: StrPath,
    hostname: str,
    ip: str,
    extra_hosts: Mapping[str, str] | None = None,
    dns_servers: Sequence[str] = (),
    searches: Sequence[str] = (),
    options: Sequence[str] = (),
) -> dict[str, str]:
    """Write hosts, resolv.conf and hostname into `dir`; returns {container path: host file}.

    ip "" (none/host mode) leaves the pod line out. Bad input raises ValueError before any write.
    """
    hosts = hosts_content(hostname, ip, extra_hosts)
    if not dns_servers and not searches:
        try:
            with open(HOST_RESOLV_CONF) as f:
                dns_servers = host_nameservers(f.read())
        except OSError:
            dns_servers = []
    resolv = resolv_content(dns_servers, searches, options)
    target = os.fspath(dir)
    os.makedirs(target, exist_ok=True)
    files = {
        "/etc/hosts": f"{target}/hosts",
        "/etc/resolv.conf": f"{target}/resolv.conf",
        "/etc/hostname": f"{target}/hostname",
    }
    _write(files["/etc/hosts"], hosts)
    _write(files["/etc/resolv.conf"], resolv)
    _write(files["/etc/hostname"], hostname + "\n")
    return files
