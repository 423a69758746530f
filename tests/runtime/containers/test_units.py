"""Pure decisions of the container side: spec generation, users, ids, logs, flags, errors."""

from __future__ import annotations

import pytest

from runtime.containers import ids
from runtime.containers.commands import parse_size, parse_volume
from runtime.containers.engine import create_error, parse_signal
from runtime.containers.errors import CommandNotFound, ContainerError, InvalidConfig
from runtime.containers.logs import Record, parse_record
from runtime.containers.seccomp import DEFAULT_CAPS, capability_set, default_profile
from runtime.containers.spec import BundleRequest, build_spec, merge_env, resolve_args
from runtime.containers.users import User, resolve_user
from runtime.interface import Mount

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n"
)
GROUP = "root:x:0:\nwww:x:33:\nstaff:x:50:bob,www\nbob:x:1000:\n"


def test_resolve_args_follows_kubernetes_rules() -> None:
    image = {"Entrypoint": ["/ep"], "Cmd": ["a", "b"]}
    assert resolve_args(image, None, None) == ["/ep", "a", "b"]
    assert resolve_args(image, None, ["x"]) == ["/ep", "x"]
    assert resolve_args(image, ["/cmd"], None) == ["/cmd"]  # command drops the image's CMD
    assert resolve_args(image, ["/cmd"], ["y"]) == ["/cmd", "y"]
    assert resolve_args({"Cmd": ["sh"]}, None, None) == ["sh"]
    with pytest.raises(InvalidConfig, match="no command"):
        resolve_args({}, None, None)


def test_merge_env_overrides_and_defaults() -> None:
    env = merge_env(["PATH=/bin", "A=1"], {"A": "2", "B": "x=y"}, tty=True)
    assert env == ["PATH=/bin", "A=2", "TERM=xterm", "B=x=y"]
    assert merge_env(None, {})[0].startswith("PATH=/usr/local/sbin")
    with pytest.raises(InvalidConfig):
        merge_env([], {"BAD=KEY": "v"})


def test_resolve_user_from_image_files() -> None:
    assert resolve_user("www", PASSWD, GROUP) == User(33, 33, [50], "/var/www")
    assert resolve_user("bob:staff", PASSWD, GROUP) == User(1000, 50, [], "/home/bob")
    assert resolve_user("1000", PASSWD, GROUP).gid == 1000  # a uid known to passwd takes its group
    assert resolve_user("4242:7", PASSWD, GROUP) == User(4242, 7, [], "/")
    with pytest.raises(InvalidConfig, match="unable to find user nobody"):
        resolve_user("nobody", PASSWD, GROUP)
    with pytest.raises(InvalidConfig, match="group"):
        resolve_user("bob:nogroup", PASSWD, GROUP)


def test_capability_sets() -> None:
    assert set(capability_set(False, [], [])) == set(DEFAULT_CAPS) and len(DEFAULT_CAPS) == 14
    assert "CAP_NET_RAW" not in capability_set(False, [], ["net_raw"])
    assert "CAP_NET_ADMIN" in capability_set(False, ["NET_ADMIN"], [])
    assert capability_set(False, [], ["ALL"]) == []
    assert "CAP_SYS_ADMIN" in capability_set(True, [], [])
    with pytest.raises(ValueError):
        capability_set(False, ["CAP_BOGUS"], [])


def test_build_spec_security_and_resources() -> None:
    req = BundleRequest(
        args=["sh"],
        env=["PATH=/bin"],
        rootfs="/r",
        cgroups_path="/kubepods/podu/c",
        netns="/run/netns/x",
        memory_limit=64 << 20,
        cpu_quota_millis=500,
        cpu_shares=256,
        pids_limit=50,
        mounts=[Mount("/data", "/host", read_only=True), Mount("/tmp", "", tmpfs=True)],
        etc_files={"/etc/hosts": "/sb/hosts"},
        hostname="h",
    )
    spec = build_spec(req)
    linux = spec["linux"]
    assert linux["cgroupsPath"] == "/kubepods/podu/c"
    assert linux["resources"]["memory"] == {"limit": 64 << 20}
    assert linux["resources"]["cpu"] == {"quota": 50000, "period": 100000, "shares": 256}
    assert linux["resources"]["pids"] == {"limit": 50}
    assert {"type": "network", "path": "/run/netns/x"} in linux["namespaces"]
    assert "/proc/kcore" in linux["maskedPaths"] and "/proc/sys" in linux["readonlyPaths"]
    assert linux["seccomp"] == default_profile()
    proc = spec["process"]
    assert proc["noNewPrivileges"] is True and len(proc["capabilities"]["effective"]) == 14
    assert {r["type"]: r["hard"] for r in proc["rlimits"]}["RLIMIT_NOFILE"] <= 20000
    dests = {m["destination"]: m for m in spec["mounts"]}
    assert "ro" in dests["/data"]["options"] and dests["/tmp"]["type"] == "tmpfs"
    assert dests["/etc/hosts"]["source"] == "/sb/hosts" and "ro" in dests["/sys"]["options"]
    assert spec["hostname"] == "h" and spec["root"]["path"] == "/r"
    host = build_spec(
        BundleRequest(args=["sh"], env=[], rootfs="/r", cgroups_path="/k/c", netns="host", privileged=True)
    )
    assert all(ns["type"] != "network" for ns in host["linux"]["namespaces"])
    assert "seccomp" not in host["linux"] and host["process"]["noNewPrivileges"] is False
    fresh = build_spec(BundleRequest(args=["sh"], env=[], rootfs="/r", cgroups_path="/k/c"))
    assert {"type": "network"} in fresh["linux"]["namespaces"]
    assert {"type": "pid"} in fresh["linux"]["namespaces"]
    # an ephemeral container joins its target's process namespace by the target's /proc path
    joined = build_spec(
        BundleRequest(args=["sh"], env=[], rootfs="/r", cgroups_path="/k/c", pid_path="/proc/42/ns/pid")
    )
    assert [ns for ns in joined["linux"]["namespaces"] if ns["type"] == "pid"] == [
        {"type": "pid", "path": "/proc/42/ns/pid"}
    ]
    with pytest.raises(InvalidConfig, match="6MB"):
        build_spec(BundleRequest(args=["sh"], env=[], rootfs="/r", cgroups_path="/k/c", memory_limit=1024))
    with pytest.raises(InvalidConfig, match="absolute"):
        build_spec(
            BundleRequest(args=["sh"], env=[], rootfs="/r", cgroups_path="/k/c", mounts=[Mount("rel", "/h")])
        )


def test_seccomp_profile_blocks_the_dangerous_calls() -> None:
    profile = default_profile()
    blocked = {
        n
        for rule in profile["syscalls"]
        if rule["action"] == "SCMP_ACT_ERRNO" and "args" not in rule
        for n in rule["names"]
    }
    for name in (
        "kexec_load",
        "init_module",
        "finit_module",
        "delete_module",
        "mount",
        "umount2",
        "keyctl",
        "add_key",
        "request_key",
        "ptrace",
        "reboot",
        "swapon",
        "swapoff",
        "pivot_root",
    ):
        assert name in blocked
    unshare = next(r for r in profile["syscalls"] if r["names"] == ["unshare"])
    assert unshare["args"][0]["value"] == 0x10000000 and unshare["errnoRet"] == 1


def test_ids_and_names() -> None:
    cid = ids.new_id()
    assert len(cid) == 64 and ids.is_hex_prefix(cid) and ids.short_id(cid) == cid[:12]
    name = ids.generate_name(set())
    assert ids.valid_name(name) and "_" in name
    assert not ids.valid_name("-bad") and not ids.valid_name("a/b")
    assert ids.valid_name("a" * 128) and not ids.valid_name("a" * 129) and not ids.valid_name("")
    assert not ids.is_hex_prefix("abcg") and not ids.is_hex_prefix("ABC") and not ids.is_hex_prefix("a" * 65)


def test_cri_log_lines() -> None:
    ts = b"2026-11-29T07:47:42.775766070+00:00"
    assert parse_record(ts + b" stdout F out-line") == Record(ts, b"stdout", False, b"out-line")
    assert parse_record(ts + b" stderr P part") == Record(ts, b"stderr", True, b"part")
    assert parse_record(b"garbage") is None


def test_flag_parsing() -> None:
    assert parse_size("64m") == 64 << 20 and parse_size("1g") == 1 << 30 and parse_size("512") == 512
    assert parse_size("16MB") == 16 << 20
    with pytest.raises(InvalidConfig):
        parse_size("lots")
    assert parse_volume("/a:/b:ro") == Mount("/b", "/a", read_only=True)
    assert parse_volume("/scratch") == Mount("/scratch", "", tmpfs=True)
    with pytest.raises(InvalidConfig):
        parse_volume("/a:/b:rx")
    assert parse_signal("TERM") == 15 and parse_signal("SIGKILL") == 9 and parse_signal("1") == 1
    with pytest.raises(ContainerError):
        parse_signal("SIGNOPE")


def test_runc_errors_become_docker_exit_codes() -> None:
    err = create_error(
        'time="x" level=error msg="runc create failed: unable to start container process: '
        'exec: \\"nope\\": executable file not found in $PATH"'
    )
    assert isinstance(err, CommandNotFound) and err.exit_code == 127 and '"nope"' in str(err)
    other = create_error("something else broke")
    assert type(other) is ContainerError and other.exit_code == 125
