"""Options of the controller manager and the scheduler, and the duration syntax of their flags.

`kubelite server`, `kubelite controller-manager` and `kubelite scheduler` all build these;
durations are seconds (`4`, `0.5`) or Go-style (`4s`, `500ms`, `5m`, `1h30m`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from api.leaderelection import LeaderElectionConfig

_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str | float | int) -> float:
    """Seconds from `4`, `4s`, `1.5m`, `1h30m`, `250ms`; ValueError on anything else."""
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"invalid duration {text!r}: negative")
        return float(text)
    s = text.strip()
    try:
        v = float(s)
    except ValueError:
        pass
    else:
        if v < 0:
            raise ValueError(f"invalid duration {text!r}: negative")
        return v
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError(f"invalid duration {text!r}: use seconds (4) or units like 4s, 500ms, 5m, 1h30m")
    return total


def default_identity() -> str:
    return f"{socket.gethostname()}_{os.getpid()}_{os.urandom(4).hex()}"


@dataclass
class LeaderOptions:
    """The Lease a controller-manager or scheduler process must hold to work (kube's --leader-elect-*)."""

    leader_elect: bool = True
    identity: str = field(default_factory=default_identity)
    lease_name: str = ""
    lease_namespace: str = "kube-system"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def election(self) -> LeaderElectionConfig:
        return LeaderElectionConfig(
            self.lease_name,
            self.identity,
            self.lease_namespace,
            self.lease_duration,
            self.renew_deadline,
            self.retry_period,
        )


@dataclass
class ControllerOptions(LeaderOptions):
    lease_name: str = "kube-controller-manager"
    node_monitor_grace_period: float = 40.0
    pod_eviction_timeout: float = 300.0
    node_monitor_period: float | None = None  # default: min(5 s, grace / 4)
    cluster_cidr: str = "10.244.0.0/16"
    node_cidr_mask: int = 24
    allocate_node_cidrs: bool = True
    pod_gc_quarantine: float = 40.0  # seconds a pod's node must be missing before the pod goes
    workers: int = 4
    controllers: tuple[str, ...] = (
        "replication",
        "replicaset",
        "deployment",
        "endpoints",
        "endpointslice",
        "nodelifecycle",
        "nodeipam",
        "garbagecollector",
        "podgc",
        "namespace",
        "kubedns",
        "daemonset",
        "statefulset",
        "job",
        "cronjob",
        "serviceaccount",
        "persistentvolume-binder",
        "local-path-provisioner",
        "pvc-protection",
        "pv-protection",
        "clusterrole-aggregation",
        "horizontalpodautoscaling",
        "disruption",
        "csrapproving",
        "csrsigning",
        "csrcleaner",
        "resourcequota",
    )
    # the CA that signs approved CertificateSigningRequests of kube's signers ("": no signer runs)
    cluster_signing_cert_file: str = ""
    cluster_signing_key_file: str = ""
    cluster_signing_duration: float = 365 * 24 * 3600.0  # the longest certificate it issues
    root_ca: str = ""  # the cluster CA (PEM) published in every namespace's kube-root-ca.crt ConfigMap
    cluster_dns: str = (
        ""  # the kube-dns Service's ClusterIP (kubelets' --cluster-dns); "": the service range's 10th
    )
    service_cidr: str = "10.96.0.0/16"


@dataclass
class SchedulerOptions(LeaderOptions):
    lease_name: str = "kube-scheduler"
    max_in_flight_binds: int = 32
    initial_backoff: float = 1.0
    max_backoff: float = 10.0


T = TypeVar("T", ControllerOptions, SchedulerOptions)


def coerce(cls: type[T], options: T | Mapping[str, Any] | None) -> T:
    """Options from a dataclass, or from the plain dict `kubelite server` passes (unknown keys ignored).

    Given a `data_dir`, the identity is stable across restarts of that server, so a restarted
    server takes its own Lease back at once instead of waiting for it to expire.
    """
    if isinstance(options, cls):
        return options
    d: dict[str, Any] = dict(options) if isinstance(options, Mapping) else {}
    names = {f.name for f in dataclasses.fields(cls)}
    kw = {k: v for k, v in d.items() if k in names}
    for k in (
        "node_monitor_grace_period",
        "pod_eviction_timeout",
        "lease_duration",
        "renew_deadline",
        "retry_period",
    ):
        if k in kw and kw[k] is not None and k in names:
            kw[k] = parse_duration(kw[k])
    if "identity" not in kw and d.get("data_dir"):
        digest = hashlib.sha256(str(d["data_dir"]).encode()).hexdigest()[:8]
        kw["identity"] = f"{socket.gethostname()}_{digest}"
    return cls(**kw)
