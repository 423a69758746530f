"""The controller manager: every control loop, sharing one client and one set of informers.

`run_controllers` is what `kubelite server` (in-process) and `kubelite controller-manager`
run until cancelled. With leader election only the Lease holder runs the loops; each term
builds its informers and controllers afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any

from api.aclient import AsyncClient
from api.config import ClientConfig
from api.events import EventRecorder
from api.informer import InformerFactory
from controller.base import ApiClient
from controller.clusterroleaggregation import ClusterRoleAggregationController
from controller.customkinds import CRDS
from controller.deployment import DeploymentController
from controller.endpoints import EndpointsController
from controller.endpointslice import EndpointSliceController
from controller.gc import GC_RESOURCES, GarbageCollector
from controller.ipam import NodeIpamController
from controller.kubedns import KubeDnsController, default_dns_ip
from controller.leading import run_elected
from controller.namespace import NamespaceController
from controller.nodelifecycle import LEASE_NAMESPACE, NodeLifecycleController
from controller.options import ControllerOptions, coerce, parse_duration
from controller.podgc import PodGarbageCollector
from controller.replicaset import ReplicaSetController
from controller.replication import ReplicationController
from controller.serviceaccounts import DEFAULT_SA, ROOT_CA_CONFIGMAP, ServiceAccountsController
from controller.volumes import volume_loops
from controller.workloads import workload_loops

__all__ = ["ControllerOptions", "parse_duration", "run_controllers", "run_loops"]

log = logging.getLogger(__name__)


async def run_loops(client: ApiClient, options: ControllerOptions) -> None:
    """All enabled controllers on fresh informers, until cancelled."""
    factory = InformerFactory(client)
    enabled = set(options.controllers)
    recorders: list[EventRecorder] = []

    def recorder(component: str) -> EventRecorder:
        r = EventRecorder(client, component)
        recorders.append(r)
        return r

    loops: list[Coroutine[Any, Any, None]] = []
    pods = factory.informer("pods")
    nodes = factory.informer("nodes")
    if "replication" in enabled:
        rc = ReplicationController(
            client,
            factory.informer("replicationcontrollers"),
            pods,
            recorder("replication-controller"),
            workers=options.workers,
        )
        loops.append(rc.run())
    if "replicaset" in enabled or "deployment" in enabled:
        replicasets = factory.informer("replicasets")
        if "replicaset" in enabled:
            rsc = ReplicaSetController(
                client, replicasets, pods, recorder("replicaset-controller"), workers=options.workers
            )
            loops.append(rsc.run())
        if "deployment" in enabled:
            dc = DeploymentController(
                client,
                factory.informer("deployments"),
                replicasets,
                pods,
                recorder("deployment-controller"),
                workers=options.workers,
            )
            loops.append(dc.run())
    if "endpoints" in enabled:
        ep = EndpointsController(
            client, factory.informer("services"), pods, factory.informer("endpoints"), workers=options.workers
        )
        loops.append(ep.run())
    if "endpointslice" in enabled:
        eps = EndpointSliceController(
            client,
            factory.informer("services"),
            pods,
            factory.informer("endpoints"),
            factory.informer("endpointslices"),
            workers=options.workers,
        )
        loops.append(eps.run())
    if "nodelifecycle" in enabled:
        nl = NodeLifecycleController(
            client,
            nodes,
            factory.informer("leases", LEASE_NAMESPACE),
            pods,
            recorder("node-controller"),
            options.node_monitor_grace_period,
            options.pod_eviction_timeout,
            options.node_monitor_period,
        )
        loops.append(nl.run())
    if "nodeipam" in enabled and options.allocate_node_cidrs:
        ipam = NodeIpamController(
            client, nodes, recorder("cidrAllocator"), options.cluster_cidr, options.node_cidr_mask
        )
        loops.append(ipam.run())
    if "garbagecollector" in enabled:
        gc = GarbageCollector(
            client,
            {p: factory.informer(p) for p in GC_RESOURCES},
            workers=options.workers,
            crds=factory.informer(CRDS),
        )
        loops.append(gc.run())
    if "podgc" in enabled:
        pgc = PodGarbageCollector(
            client,
            pods,
            nodes,
            options.pod_gc_quarantine,
            period=min(5.0, max(0.1, options.pod_gc_quarantine / 4)),
        )
        loops.append(pgc.run())
    if "namespace" in enabled:
        ns = NamespaceController(client, factory.informer("namespaces"))
        loops.append(ns.run())
    loops += workload_loops(client, factory, pods, nodes, enabled, recorder)
    if "clusterrole-aggregation" in enabled:
        cra = ClusterRoleAggregationController(client, factory.informer("clusterroles"))
        loops.append(cra.run())
    if "horizontalpodautoscaling" in enabled:
        from controller.hpa import HorizontalPodAutoscalerController

        hpa = HorizontalPodAutoscalerController(
            client, factory.informer("horizontalpodautoscalers"), pods, recorder("horizontal-pod-autoscaler")
        )
        loops.append(hpa.run())
    if "disruption" in enabled:
        from controller.disruption import DisruptionController
        from controller.disruption_scale import scale_finder

        owners = tuple(
            factory.informer(r)
            for r in ("replicationcontrollers", "replicasets", "deployments", "statefulsets")
        )
        dis = DisruptionController(
            client,
            factory.informer("poddisruptionbudgets"),
            pods,
            workers=options.workers,
            scale_of=scale_finder(*owners),
            owners=owners,
            recorder=recorder("controllermanager"),
        )
        loops.append(dis.run())
    if "serviceaccount" in enabled:
        sa = ServiceAccountsController(
            client,
            factory.informer("namespaces"),
            factory.informer("serviceaccounts", field_selector=f"metadata.name={DEFAULT_SA}"),
            factory.informer("configmaps", field_selector=f"metadata.name={ROOT_CA_CONFIGMAP}"),
            options.root_ca,
        )
        loops.append(sa.run())
    if "resourcequota" in enabled:
        from controller.resourcequota import ResourceQuotaController, counted_plurals

        rq = ResourceQuotaController(
            client, factory.informer("resourcequotas"), {p: factory.informer(p) for p in counted_plurals()}
        )
        loops.append(rq.run())
    if "csrapproving" in enabled:  # kubelet serving certificates, k3s-like: approved when they fit
        from controller.csrapproving import KubeletServingApprover

        approver = KubeletServingApprover(client, factory.informer("certificatesigningrequests"), nodes)
        loops.append(approver.run())
        # kubelet client certificates (TLS bootstrap and rotation), with k3s's node passwords
        from controller.clientapproving import KubeletClientApprover, NodePasswordCleaner

        loops.append(KubeletClientApprover(client, factory.informer("certificatesigningrequests")).run())
        loops.append(NodePasswordCleaner(client, nodes).run())
    if "csrsigning" in enabled and options.cluster_signing_cert_file and options.cluster_signing_key_file:
        from controller.csrsigning import CsrSigningController

        signer = CsrSigningController(
            client,
            factory.informer("certificatesigningrequests"),
            Path(options.cluster_signing_cert_file),
            Path(options.cluster_signing_key_file),
            options.cluster_signing_duration,
        )
        loops.append(signer.run())
    if "csrcleaner" in enabled:  # with or without a signer: requests for other signers age too
        from controller.csrcleaner import CsrCleaner

        loops.append(CsrCleaner(client, factory.informer("certificatesigningrequests")).run())
    loops += volume_loops(client, factory, nodes, enabled, recorder)  # those of them enabled
    if "kubedns" in enabled:
        kd = KubeDnsController(
            client,
            nodes,
            factory.informer("services"),
            factory.informer("endpoints"),
            options.cluster_dns or default_dns_ip(options.service_cidr),
        )
        loops.append(kd.run())
    await factory.run_with(*loops, *(r.run() for r in recorders))


async def run_controllers(
    config: ClientConfig, options: ControllerOptions | Mapping[str, Any] | None = None
) -> None:
    """Run the controller manager until cancelled (what `kubelite server` starts in-process).

    `options` may be the dataclass or a plain dict of its fields (durations as numbers or strings).
    """
    options = coerce(ControllerOptions, options)
    client = AsyncClient(config, max_connections=32)
    try:
        await run_elected(
            client, options.leader_elect, options.election(), lambda: run_loops(client, options)
        )
    finally:
        await client.aclose()
