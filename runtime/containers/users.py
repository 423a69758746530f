"""`--user` resolution against the image's own /etc/passwd and /etc/group, as Docker does it.

`user` is "", "uid", "uid:gid", "name", "name:group" (names looked up inside the container's
rootfs, never on the host). Pure functions over file contents so they unit-test without a rootfs.
"""

from __future__ import annotations

from runtime.containers.errors import InvalidConfig
from runtime.datarecord import field, record


@record
class User:
    """The uid, gids and home a container process runs as."""

    uid: int = 0
    gid: int = 0
    additional_gids: list[int] = field(default_factory=list)
    home: str = "/"


def _table(text: str) -> list[list[str]]:
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def resolve_user(spec: str, passwd: str, group: str) -> User:
    """Turn a `--user` spec into ids; InvalidConfig for a name the image does not know."""
    name, _, grp = (spec or "").partition(":")
    users = _table(passwd)
    groups = _table(group)
    user = User()
    entry: list[str] | None = None
    if name:
        if name.isdigit():
            user.uid = int(name)
            entry = next((u for u in users if len(u) > 3 and u[2] == name), None)
        else:
            entry = next((u for u in users if u[0] == name and len(u) > 3), None)
            if entry is None:
                raise InvalidConfig(f"unable to find user {name}: no matching entries in passwd file")
            user.uid = int(entry[2])
        if entry is not None:
            user.gid = int(entry[3]) if entry[3].isdigit() else 0
            if len(entry) > 5 and entry[5]:
                user.home = entry[5]
    if grp:
        if grp.isdigit():
            user.gid = int(grp)
        else:
            g = next((g for g in groups if g[0] == grp and len(g) > 2), None)
            if g is None:
                raise InvalidConfig(f"unable to find group {grp}: no matching entries in group file")
            user.gid = int(g[2])
    elif entry is not None:
        member_of = {
            int(g[2]) for g in groups if len(g) > 3 and entry[0] in g[3].split(",") and g[2].isdigit()
        }
        user.additional_gids = sorted(member_of - {user.gid})
    return user


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def resolve_in_rootfs(spec: str, rootfs: str) -> User:
    """`rootfs` is a str path: pathlib costs ~10 ms of a `run` (engine.py)."""
    if not spec or spec in ("0", "root", "0:0"):
        return User(home="/root")
    return resolve_user(spec, _read(f"{rootfs}/etc/passwd"), _read(f"{rootfs}/etc/group"))
