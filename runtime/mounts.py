"""`Mount`, the one type of the runtime seam that `kubelite runtime run` needs.

It lives apart from runtime/interface.py (which re-exports it, so it is the same class) because
that module also builds six more dataclasses and two Protocols: ~2-3 ms of every CLI start. A
`record`, not a dataclass (runtime/datarecord.py says why); `dataclasses.asdict` of a ContainerConfig
leaves its Mounts as objects, so serialise those with `runtime.datarecord.asdict`.
"""

from __future__ import annotations

from runtime.datarecord import record


@record
class Mount:
    """A bind mount of a host path into a container, or a fresh tmpfs."""

    container_path: str
    host_path: str
    read_only: bool = False
    tmpfs: bool = False  # a fresh tmpfs instead of a bind (emptyDir medium: Memory)
    propagation: str = "rprivate"  # rslave: host mounts appear inside; rshared: both ways
    recursive_read_only: bool = False  # read-only submounts too (runc's rro, mount_setattr)
