"""The default seccomp profile and capability sets: Docker's security defaults, as data.

A denylist (default allow) is enough for what kubelite promises: the syscalls that let a
container reach the host kernel's global state (module loading, kexec, mounts, keyrings, ptrace,
reboot, swap, clock setting, new user namespaces) fail with EPERM; clone3 fails with ENOSYS so
libc falls back to clone, whose flags the profile can inspect. `--privileged` drops the profile.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the CLI's start-up path
if TYPE_CHECKING:
    from typing import Any


EPERM = 1
ENOSYS = 38
CLONE_NEWUSER = 0x10000000

# Docker's default capability set (14), the one `CapEff: 00000000a80425fb` shows.
DEFAULT_CAPS = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

# Capability numbers from linux/capability.h, for `--privileged` and for validating --cap-add.
ALL_CAPS = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)

BLOCKED_SYSCALLS = (
    "acct",
    "add_key",
    "bpf",
    "clock_adjtime",
    "clock_settime",
    "create_module",
    "delete_module",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "get_kernel_syms",
    "init_module",
    "ioperm",
    "iopl",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mount",
    "move_mount",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pivot_root",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "query_module",
    "quotactl",
    "reboot",
    "request_key",
    "setns",
    "settimeofday",
    "stime",
    "swapoff",
    "swapon",
    "sysfs",
    "_sysctl",
    "umount",
    "umount2",
    "uselib",
    "userfaultfd",
    "ustat",
    "vm86",
    "vm86old",
)


def cap_name(name: str) -> str:
    """`net_admin` / `NET_ADMIN` / `CAP_NET_ADMIN` -> `CAP_NET_ADMIN`; ValueError if unknown."""
    upper = name.strip().upper()
    full = upper if upper.startswith("CAP_") else f"CAP_{upper}"
    if full != "CAP_ALL" and full not in ALL_CAPS:
        raise ValueError(f"unknown capability {name!r}")
    return full


def bounding_caps() -> list[str]:
    """The capabilities this process may hand on (the sandbox may lack some, e.g. CAP_SYS_RESOURCE)."""
    try:
        with open("/proc/self/status") as f:
            line = next(ln for ln in f if ln.startswith("CapBnd:"))
        mask = int(line.split()[1], 16)
    except (OSError, StopIteration, ValueError):
        return list(ALL_CAPS)
    return [c for i, c in enumerate(ALL_CAPS) if mask >> i & 1]


def capability_set(privileged: bool, add: list[str], drop: list[str]) -> list[str]:
    """Docker's rules: start from the default set (or all for --privileged), add, then drop; `ALL` works."""
    allowed = bounding_caps()
    caps = set(allowed) if privileged else set(DEFAULT_CAPS)
    for name in map(cap_name, add):
        caps |= set(allowed) if name == "CAP_ALL" else {name}
    for name in map(cap_name, drop):
        caps = set() if name == "CAP_ALL" else caps - {name}
    return [c for c in ALL_CAPS if c in caps and c in allowed]


def default_profile() -> dict[str, Any]:
    def masked_newuser(name: str) -> dict[str, Any]:
        return {
            "names": [name],
            "action": "SCMP_ACT_ERRNO",
            "errnoRet": EPERM,
            "args": [
                {"index": 0, "value": CLONE_NEWUSER, "valueTwo": CLONE_NEWUSER, "op": "SCMP_CMP_MASKED_EQ"}
            ],
        }

    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": list(BLOCKED_SYSCALLS), "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS},
            masked_newuser("unshare"),
            masked_newuser("clone"),
        ],
    }
