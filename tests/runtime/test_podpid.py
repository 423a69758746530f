"""The decisions behind a sandbox's pause process and its cgroup, without starting one: its
command line, how /proc is read, how its cgroup is made and removed (on a directory tree that
stands in for /sys/fs/cgroup). The real process is tested in containers/test_pod_pid.py."""

from __future__ import annotations

from pathlib import Path

from runtime import cgroupdirs, podpid


def bin_path(name: str) -> str:
    return f"/bin/{name}"


def test_the_pause_is_pid_1_of_a_namespace_of_its_own_in_the_sandboxs_namespaces() -> None:
    pause = ["/bin/unshare", "--pid", "--fork", "--kill-child", "/bin/catatonit", "-P"]
    assert podpid.launch_argv("/run/netns/x", "/sb/ipc", bin_path) == [
        "/bin/nsenter",
        "--net=/run/netns/x",
        "--ipc=/sb/ipc",
        *pause,
    ]
    assert podpid.launch_argv("", "/sb/ipc", bin_path) == ["/bin/nsenter", "--ipc=/sb/ipc", *pause]
    assert podpid.launch_argv("", "", bin_path) == pause  # host network and IPC: the node's


def test_proc_stat_and_status_are_read_past_an_odd_command_name() -> None:
    fields = " ".join(["S", "1", *["0"] * 17, "424242", "0"])
    assert podpid.parse_stat(f"77 (we) ird (name) {fields}".encode()) == ("S", 424242)
    status = "Name:\tcatatonit\nNSpid:\t31337\t1\nNSpgid:\t0\n"
    assert podpid.ns_pids(status) == [31337, 1]
    assert podpid.ns_pids("Name:\tx\n") == []


def test_a_recorded_pause_is_running_only_while_the_same_process_lives(tmp_path: Path) -> None:
    assert podpid.recorded(str(tmp_path)) is None and podpid.running(str(tmp_path)) == 0
    with open("/proc/self/stat", "rb") as f:
        _, start = podpid.parse_stat(f.read())
    import os

    me = podpid.Pause(os.getpid(), start, os.getppid(), 0)
    podpid._save(str(tmp_path), me)
    assert podpid.recorded(str(tmp_path)) == me
    assert podpid.running(str(tmp_path)) == os.getpid()
    assert podpid.ns_path(str(tmp_path)) == f"/proc/{os.getpid()}/ns/pid"
    podpid._save(str(tmp_path), podpid.Pause(os.getpid(), start + 1, 0, 0))  # the pid, reused since
    assert podpid.running(str(tmp_path)) == 0


def cgroup_root(tmp_path: Path, v1: bool = True) -> Path:
    """A stand-in for /sys/fs/cgroup: hybrid (memory, cpuset, unified, cpu,cpuacct symlinked as
    cpu) or cgroup2 alone; the cpuset's root has CPUs and memory nodes, as the kernel's has."""
    root = tmp_path / "cgroup"
    root.mkdir()
    if not v1:
        (root / "cgroup.controllers").write_text("memory pids\n")
        return root
    for h in ("memory", "cpuset", "unified", "cpu,cpuacct"):
        (root / h).mkdir()
    (root / "cpu").symlink_to(root / "cpu,cpuacct")
    (root / "cpuset" / "cpuset.cpus").write_text("0-1\n")
    (root / "cpuset" / "cpuset.mems").write_text("0\n")
    return root


def test_a_process_joins_the_pods_cgroup_in_every_hierarchy(tmp_path: Path) -> None:
    root = cgroup_root(tmp_path)
    assert [h.name for h in cgroupdirs.hierarchies(root)] == ["cpu,cpuacct", "cpuset", "memory", "unified"]
    # a cpuset directory without CPUs (a new one: the kernel makes its files empty) gets its parent's
    (root / "cpuset" / "kubepods").mkdir()
    for name in cgroupdirs.CPUSET_FILES:
        (root / "cpuset" / "kubepods" / name).write_text("")
    cgroupdirs.join("/kubepods/pod1/pause", [41, 42], root)
    for h in cgroupdirs.hierarchies(root):
        assert (h / "kubepods/pod1/pause/cgroup.procs").read_text() == "42"  # each pid written in turn
    assert (root / "cpuset/kubepods/cpuset.cpus").read_text() == "0-1\n"  # its parent's
    cgroupdirs.remove("/kubepods/pod1", root)  # not empty (files here, members in the kernel): kept
    assert (root / "memory/kubepods/pod1").is_dir()


def test_cgroup2_alone_is_one_hierarchy(tmp_path: Path) -> None:
    root = cgroup_root(tmp_path, v1=False)
    assert cgroupdirs.hierarchies(root) == [root]
    (root / "kubepods" / "pod1").mkdir(parents=True)
    cgroupdirs.remove("/kubepods/pod1", root)
    assert not (root / "kubepods" / "pod1").exists()
    assert cgroupdirs.hierarchies(tmp_path / "none") == []
