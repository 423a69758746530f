"""VolumeBinding: a pod goes only where its PersistentVolumeClaims can be had (kube's
VolumeBinding plugin, pkg/scheduler/framework/plugins/volumebinding).

Before the nodes are filtered, `pod_volumes` looks the pod's claims up once (PreFilter): a
missing claim, or an unbound claim of an Immediate class (the binder's to bind, not ours) makes
the pod unschedulable everywhere, with kube's words. Per node, `filter` then asks that every
bound claim's volume admits the node (its required node affinity: a local-path volume lives on
one node) and that every unbound WaitForFirstConsumer claim can be satisfied there: a free
volume fits it on that node, or its class has a provisioner to make one. A claim whose node was
already chosen (`volume.kubernetes.io/selected-node`, a provisioning under way) keeps it.

After the node is picked the scheduler's shell writes `volume.kubernetes.io/selected-node` on
each such claim before it binds the pod (PreBind); the binder or the provisioner then gives the
claim a volume on that node, and the kubelet waits for the claim to be Bound before it mounts.
Unlike kube, the shell does not hold the pod's Binding until the claims are bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from controller import volume_decisions as vd
from controller.scheduler.nodeinfo import NodeInfo, PodInfo

Obj = dict[str, Any]

SELECTED_NODE = "volume.kubernetes.io/selected-node"  # vd.SELECTED_NODE (vd is half-imported here)
NODE_CONFLICT = "node(s) had volume node affinity conflict"
BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
unresolvable = True  # kube's VolumeBinding: removing pods frees no volume


@dataclass
class PodVolumes:
    """What the pod's claims ask of a node, computed once per scheduling attempt."""

    error: str = ""  # unschedulable on every node (PreFilter)
    bound: list[Obj] = field(default_factory=list)  # volumes of bound claims
    delayed: list[tuple[Obj, Obj | None]] = field(default_factory=list)  # (unbound WFFC claim, its class)
    free: list[Obj] = field(default_factory=list)  # volumes a delayed claim may bind to


def claim_names(pod: Obj) -> list[str]:
    out = []
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        name = ((vol or {}).get("persistentVolumeClaim") or {}).get("claimName")
        if name:
            out.append(str(name))
    return out


def pod_volumes(
    pod: Obj,
    claim: Callable[[str], Obj | None],
    volume: Callable[[str], Obj | None],
    storage_class: Callable[[str], Obj | None],
    volumes: Callable[[], list[Obj]],
) -> PodVolumes:
    """PreFilter over the caches (`claim` takes `<ns>/<name>`)."""
    out = PodVolumes()
    ns = (pod.get("metadata") or {}).get("namespace") or "default"
    for name in claim_names(pod):
        pvc = claim(f"{ns}/{name}")
        if pvc is None:
            out.error = f'persistentvolumeclaim "{name}" not found'
            return out
        if (pvc.get("metadata") or {}).get("deletionTimestamp"):
            out.error = f'persistentvolumeclaim "{name}" is being deleted'
            return out
        bound_to = (pvc.get("spec") or {}).get("volumeName")
        if bound_to:
            pv = volume(str(bound_to))
            if pv is not None:
                out.bound.append(pv)
            continue
        sc = storage_class(vd.class_of(pvc)) if vd.class_of(pvc) else None
        if sc is None or sc.get("volumeBindingMode") != "WaitForFirstConsumer":
            out.error = UNBOUND_IMMEDIATE
            return out
        out.delayed.append((pvc, sc))
    if out.delayed:
        out.free = [
            pv
            for pv in volumes()
            if not (pv.get("spec") or {}).get("claimRef")
            or any(vd.prebound_to(pv, c) for c, _ in out.delayed)
        ]
    return out


def fits_node(vols: PodVolumes, name: str, labels: dict[str, str]) -> tuple[str, ...]:
    for pv in vols.bound:
        if not vd.node_fits(pv, name, labels):
            return (NODE_CONFLICT,)
    for pvc, sc in vols.delayed:
        chosen = ((pvc.get("metadata") or {}).get("annotations") or {}).get(vd.SELECTED_NODE)
        if chosen and chosen != name:
            return (BIND_CONFLICT,)
        if vd.best_volume(pvc, vols.free, (name, labels)) is None and not vd.wants_provisioning(pvc, sc):
            return (BIND_CONFLICT,)
    return ()


def skip(pod: PodInfo) -> bool:
    """PreFilter's Skip: a pod without claims to bind."""
    return not isinstance(pod.volumes, PodVolumes)


def filter(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    vols = pod.volumes
    if not isinstance(vols, PodVolumes):
        return ()
    return fits_node(vols, node.name, node.labels)


def to_select(vols: Any, node: str) -> list[Obj]:
    """The claims to annotate with the chosen node before the pod is bound (PreBind)."""
    if not isinstance(vols, PodVolumes):
        return []
    return [
        pvc
        for pvc, _ in vols.delayed
        if ((pvc.get("metadata") or {}).get("annotations") or {}).get(vd.SELECTED_NODE) != node
    ]
