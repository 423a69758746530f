"""Propagating bind mounts need a source that propagates: the mount holding it, its tags, and
containerd's words when it cannot."""

from __future__ import annotations

from runtime.containers.propagation import mount_table, propagation_refusal, source_mount
from runtime.mounts import Mount

MOUNTINFO = "\n".join(
    [
        "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw",
        "30 22 0:40 / /var/lib/kubelite rw shared:7 - tmpfs tmpfs rw",
        "31 30 0:41 / /var/lib/kubelite/slave rw master:7 - tmpfs tmpfs rw",
        "32 22 0:42 / /srv/with\\040space rw shared:9 master:3 - tmpfs tmpfs rw",
    ]
)


def test_the_table_keeps_each_mounts_tags_and_unescapes_its_point() -> None:
    assert mount_table(MOUNTINFO) == [
        ("/", ""),
        ("/var/lib/kubelite", "shared:7"),
        ("/var/lib/kubelite/slave", "master:7"),
        ("/srv/with space", "shared:9 master:3"),
    ]


def test_the_source_mount_is_the_longest_point_above_the_path() -> None:
    table = mount_table(MOUNTINFO)
    assert source_mount("/var/lib/kubelite/pods/x", table) == ("/var/lib/kubelite", "shared:7")
    assert source_mount("/var/lib/kubelite/slave", table) == ("/var/lib/kubelite/slave", "master:7")
    assert source_mount("/var/lib/kubelitex", table) == ("/", "")  # a name's prefix is not a parent
    assert source_mount("/srv/with space/d", table)[0] == "/srv/with space"


def test_each_propagation_asks_what_containerd_asks() -> None:
    table = mount_table(MOUNTINFO)

    def refusal(path: str, propagation: str) -> str | None:
        return propagation_refusal([Mount("/in", path, propagation=propagation)], table)

    assert refusal("/var/lib/kubelite/pods", "rshared") is None
    assert refusal("/var/lib/kubelite/pods", "rslave") is None
    assert refusal("/var/lib/kubelite/slave/d", "rslave") is None  # a slave may receive
    assert refusal("/var/lib/kubelite/slave/d", "rshared") == (
        'path "/var/lib/kubelite/slave/d" is mounted on "/var/lib/kubelite/slave" but it is not a shared mount'
    )
    assert refusal("/home/data", "rslave") == (
        'path "/home/data" is mounted on "/" but it is not a shared or slave mount'
    )
    assert refusal("/home/data", "rprivate") is None  # nothing asked, nothing checked
    assert propagation_refusal([Mount("/t", "", tmpfs=True, propagation="rshared")], table) is None
