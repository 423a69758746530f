"""A minimal rtnetlink client: just the link, address and route requests a pod sandbox needs.

Why not pyroute2: any `pyroute2.*` import runs the package `__init__`, which pulls in every
netlink family (measured here: ~100-130 ms cold), and even `pyroute2.iproute.linux` alone with
that `__init__` bypassed costs ~65 ms (asyncio, ndb); its message classes alone ~18 ms. The
`kubelite runtime run --rm` budget is 100 ms in total, so the sandbox path speaks rtnetlink
directly with `socket` + `struct` (imports < 1 ms, each request one round trip of ~50 us).

Assumes Linux rtnetlink (uapi `linux/rtnetlink.h`, `linux/if_link.h`, `linux/veth.h`); IPv4 only.
A socket is bound to the network namespace of the thread that created it, which is how
`netns.py` talks to a sandbox's namespace without entering it.
"""

from __future__ import annotations

import _socket  # not `socket`: its enum tables cost ~2 ms of every `run`
import errno
import os
import struct

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from collections.abc import Iterator  # `collections` is ~1.5 ms of a `run`'s start

NETLINK_ROUTE = 0

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLA_F_NESTED = 0x8000

RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_NEWROUTE = 24
RTM_DELROUTE = 25

IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_MASTER = 10
IFLA_LINKINFO = 18
IFLA_NET_NS_FD = 28
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
VETH_INFO_PEER = 1

IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_BROADCAST = 4

RTA_DST = 1
RTA_GATEWAY = 5
RT_TABLE_MAIN = 254
RTPROT_STATIC = 4
RT_SCOPE_UNIVERSE = 0
RTN_UNICAST = 1

IFF_UP = 0x1

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, proto, scope, type, flags


def _attr(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)


def _str_attr(kind: int, value: str) -> bytes:
    return _attr(kind, value.encode() + b"\0")


def _u32_attr(kind: int, value: int) -> bytes:
    return _attr(kind, struct.pack("=I", value))


def _ip_attr(kind: int, ip: str) -> bytes:
    return _attr(kind, _socket.inet_aton(ip))


def _ifinfo(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    return _IFINFOMSG.pack(_socket.AF_UNSPEC, 0, index, flags, change)


class Rtnl:
    """One rtnetlink socket in the namespace it was created in; requests are synchronous and acked."""

    def __init__(self, sock: _socket.socket | None = None) -> None:
        if sock is None:
            sock = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_RAW | _socket.SOCK_CLOEXEC, NETLINK_ROUTE)
            sock.bind((0, 0))
        self._sock = sock
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, kind: int, flags: int, body: bytes) -> list[bytes]:
        """Send one request with NLM_F_ACK; return the payloads of the replies (errors raise OSError)."""
        self._seq += 1
        seq = self._seq
        header = _NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, flags | NLM_F_REQUEST | NLM_F_ACK, seq, 0)
        self._sock.send(header + body)
        replies: list[bytes] = []
        while True:
            data = self._sock.recv(65536)
            for msg_type, msg_seq, payload in _messages(data):
                if msg_seq != seq:
                    continue  # a stray reply to an earlier, abandoned request
                if msg_type == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", payload)
                    if code:
                        raise OSError(-code, os.strerror(-code))
                    return replies
                if msg_type == NLMSG_DONE:
                    return replies
                replies.append(payload)

    # links

    def link_index(self, name: str) -> int:
        """The ifindex of `name`; OSError(ENODEV) when it does not exist."""
        return self.link(name)[0]

    def link(self, name: str) -> tuple[int, bytes]:
        """The ifindex and hardware address of `name` (one request); OSError(ENODEV) when it does not exist."""
        replies = self._request(RTM_GETLINK, 0, _ifinfo() + _str_attr(IFLA_IFNAME, name))
        if not replies:
            raise OSError(errno.ENODEV, f"no such link {name}")
        address = next((v for k, v in _attrs(replies[0], _IFINFOMSG.size) if k == IFLA_ADDRESS), b"")
        return int(_IFINFOMSG.unpack_from(replies[0])[2]), address

    def set_address(self, index: int, address: bytes) -> None:
        """Set the link's hardware address; the kernel then counts it as chosen (NET_ADDR_SET)."""
        self._request(RTM_NEWLINK, 0, _ifinfo(index=index) + _attr(IFLA_ADDRESS, address))

    def link_exists(self, name: str) -> bool:
        try:
            self.link_index(name)
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                return False
            raise
        return True

    def add_bridge(self, name: str, mtu: int, address: bytes = b"") -> None:
        """Create bridge `name`, up (with hardware `address` when given); EEXIST when a link of that name
        exists."""
        linkinfo = _attr(IFLA_LINKINFO | NLA_F_NESTED, _str_attr(IFLA_INFO_KIND, "bridge"))
        body = _ifinfo(flags=IFF_UP, change=IFF_UP) + _str_attr(IFLA_IFNAME, name)
        body += _u32_attr(IFLA_MTU, mtu) + (_attr(IFLA_ADDRESS, address) if address else b"") + linkinfo
        self._request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body)

    def add_veth(self, name: str, peer_name: str, peer_netns_fd: int, master_index: int, mtu: int) -> None:
        """Create veth `name` (up, enslaved to `master_index`) whose peer is born inside the netns."""
        peer = _ifinfo() + _str_attr(IFLA_IFNAME, peer_name) + _u32_attr(IFLA_MTU, mtu)
        peer += _u32_attr(IFLA_NET_NS_FD, peer_netns_fd)
        data = _attr(IFLA_INFO_DATA | NLA_F_NESTED, _attr(VETH_INFO_PEER | NLA_F_NESTED, peer))
        linkinfo = _attr(IFLA_LINKINFO | NLA_F_NESTED, _str_attr(IFLA_INFO_KIND, "veth") + data)
        body = _ifinfo(flags=IFF_UP, change=IFF_UP) + _str_attr(IFLA_IFNAME, name)
        body += _u32_attr(IFLA_MTU, mtu) + _u32_attr(IFLA_MASTER, master_index) + linkinfo
        self._request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body)

    def set_up(self, index: int) -> None:
        self._request(RTM_NEWLINK, 0, _ifinfo(index=index, flags=IFF_UP, change=IFF_UP))

    def delete_link(self, name: str) -> bool:
        """Delete link `name`; False when there was none."""
        try:
            self._request(RTM_DELLINK, 0, _ifinfo() + _str_attr(IFLA_IFNAME, name))
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENOENT):
                return False
            raise
        return True

    # addresses and routes

    def add_address(self, index: int, ip: str, prefixlen: int, broadcast: str | None = None) -> bool:
        """Add ip/prefixlen to the link; False when it is already there."""
        body = _IFADDRMSG.pack(_socket.AF_INET, prefixlen, 0, RT_SCOPE_UNIVERSE, index)
        body += _ip_attr(IFA_LOCAL, ip) + _ip_attr(IFA_ADDRESS, ip)
        if broadcast:
            body += _ip_attr(IFA_BROADCAST, broadcast)
        try:
            self._request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                return False
            raise
        return True

    def add_route(self, dst: str, dst_len: int, gateway: str, replace: bool = False) -> None:
        """A unicast route in the main table; dst "0.0.0.0"/0 is the default route."""
        body = _RTMSG.pack(
            _socket.AF_INET, dst_len, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0
        )
        if dst_len:
            body += _ip_attr(RTA_DST, dst)
        body += _ip_attr(RTA_GATEWAY, gateway)
        flags = NLM_F_CREATE | (0x100 if replace else NLM_F_EXCL)  # 0x100 = NLM_F_REPLACE
        self._request(RTM_NEWROUTE, flags, body)

    def delete_route(self, dst: str, dst_len: int) -> bool:
        """Delete the main-table route to dst/dst_len; False when there was none."""
        body = _RTMSG.pack(_socket.AF_INET, dst_len, 0, 0, RT_TABLE_MAIN, 0, RT_SCOPE_UNIVERSE, 0, 0)
        if dst_len:
            body += _ip_attr(RTA_DST, dst)
        try:
            self._request(RTM_DELROUTE, 0, body)
        except OSError as exc:
            if exc.errno == errno.ESRCH:
                return False
            raise
        return True


def _attrs(payload: bytes, offset: int) -> Iterator[tuple[int, bytes]]:
    """(type, value) of the top-level attributes from `offset` on (nested ones stay packed)."""
    while offset + 4 <= len(payload):
        length, kind = struct.unpack_from("=HH", payload, offset)
        if length < 4:
            break
        yield kind & ~NLA_F_NESTED, payload[offset + 4 : offset + length]
        offset += (length + 3) & ~3


def _messages(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, msg_type, _flags, seq, _pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size:
            break
        yield msg_type, seq, data[offset + _NLMSGHDR.size : offset + length]
        offset += (length + 3) & ~3
