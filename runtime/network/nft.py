"""A thin typed wrapper over the `nft` binary: whole tables replaced in one atomic transaction.

Why the binary and not netlink: nft's ruleset language is what people read and debug, and one
`nft -f -` run costs ~3-5 ms here. `apply_table` sends `table F N; delete table F N; table F N
{ BODY }` as ONE transaction: the first line makes the delete valid whether or not the table
exists, and the kernel swaps old for new atomically (a packet sees either the old rules or
the new, never none). Tables live in the network namespace of the calling process.
Used by port publishing (portmap.py) and by the kubelet's service proxy.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass

from runtime.network.interface import NetworkError

FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
NFT = "nft"


class NftError(NetworkError):
    """nft refused a transaction; the message carries its stderr."""


@dataclass(frozen=True)
class Table:
    family: str
    name: str


def _check(family: str, name: str) -> None:
    if family not in FAMILIES:
        raise NftError(f"invalid nft family {family!r}: want one of {', '.join(FAMILIES)}")
    if not _NAME.match(name):
        raise NftError(f"invalid nft table name {name!r}: want a letter then up to 63 of [A-Za-z0-9_-]")


def run(script: str) -> str:
    """Run an nft script as one transaction (`nft -f -`); NftError with nft's message on failure."""
    try:
        proc = subprocess.run([NFT, "-f", "-"], input=script, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise NftError("nft is not installed (Debian package nftables)") from None
    if proc.returncode != 0:
        raise NftError(f"nft failed: {proc.stderr.strip() or f'exit {proc.returncode}'}")
    return proc.stdout


def table_script(family: str, name: str, body: str) -> str:
    """The replace-whole-table transaction (pure; exposed for tests and dry runs)."""
    _check(family, name)
    return f"table {family} {name}\ndelete table {family} {name}\ntable {family} {name} {{\n{body}\n}}\n"


def apply_table(family: str, name: str, body: str) -> None:
    """Replace table `family name` with one whose contents are `body`, atomically; creates it if absent."""
    run(table_script(family, name, body))


def delete_table(family: str, name: str) -> None:
    """Delete the table if it exists (idempotent, and one transaction like apply_table)."""
    _check(family, name)
    run(f"table {family} {name}\ndelete table {family} {name}\n")


def list_tables() -> list[Table]:
    """Every table in the caller's network namespace."""
    try:
        proc = subprocess.run([NFT, "list", "tables"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise NftError("nft is not installed (Debian package nftables)") from None
    if proc.returncode != 0:
        raise NftError(f"nft list tables failed: {proc.stderr.strip()}")
    tables = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "table":
            tables.append(Table(parts[1], parts[2]))
    return tables


def set_elements(family: str, table: str) -> dict[str, dict[str, int]]:
    """What each set of `table` holds: element -> seconds left (0 for one without a timeout)."""
    try:
        proc = subprocess.run(
            [NFT, "-j", "list", "sets", family], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise NftError("nft is not installed (Debian package nftables)") from None
    if proc.returncode != 0:
        raise NftError(f"nft list sets failed: {proc.stderr.strip()}")
    out: dict[str, dict[str, int]] = {}
    for item in json.loads(proc.stdout or "{}").get("nftables") or []:
        s = item.get("set")
        if not s or s.get("table") != table:
            continue
        held = out.setdefault(s["name"], {})
        for e in s.get("elem") or []:
            if isinstance(e, dict) and isinstance(e.get("elem"), dict):
                held[str(e["elem"].get("val"))] = int(e["elem"].get("expires") or 0)
            else:
                held[str(e)] = 0
    return out


def table_exists(family: str, name: str) -> bool:
    return Table(family, name) in list_tables()
