"""Short descriptions of the served kinds and their main fields, for OpenAPI and `kubectl explain`.

Written for kubelite (not copied from the Kubernetes API reference); a field without an entry
is documented by its type alone. Keys are a type name, or `Type.field`.
"""

from __future__ import annotations

DOCS: dict[str, str] = {
    # kinds
    "Namespace": "Namespace gives names within it a scope; deleting it deletes everything in it.",
    "Pod": "Pod is a group of containers that share a network namespace and volumes, scheduled onto one node "
    "together.",
    "ReplicationController": "ReplicationController keeps a given number of copies of a pod template running.",
    "PodTemplate": "PodTemplate stores a pod template (the metadata and spec of pods) for others to use.",
    "PodTemplate.template": "The template: the metadata and spec of the pods made from it.",
    "Service": "Service gives a stable virtual IP and DNS name to the pods its selector picks, and balances "
    "traffic between them.",
    "Endpoints": "Endpoints lists the addresses and ports of the ready (and not ready) pods behind a service.",
    "Node": "Node is a worker machine that runs pods; its kubelet keeps the status up to date.",
    "Event": "Event is a report of something that happened to an object, shown by `kubectl describe`.",
    "Lease": "Lease is a time-bounded claim, used for node heartbeats and leader election.",
    "Binding": "Binding assigns a pod to a node; the scheduler posts it to pods/<name>/binding.",
    "Scale": "Scale is the replica count of a scalable resource, read and written through its scale subresource.",
    "ObjectMeta": "Standard metadata every persisted object has.",
    "PodSpec": "The desired state of a pod: its containers, volumes, restart policy and scheduling constraints.",
    "PodStatus": "The observed state of a pod, written by its kubelet. May lag behind the actual state.",
    "Container": "A single application container of a pod.",
    "ContainerPort": "A network port a container listens on.",
    "ServiceSpec": "The desired behaviour of a service.",
    "ServicePort": "One port a service exposes and where it forwards traffic.",
    "ReplicationControllerSpec": "The desired state of a replication controller.",
    "ReplicationControllerStatus": "The most recently observed state of a replication controller.",
    "NodeSpec": "How a node is configured for scheduling and pod networking.",
    "NodeStatus": "The most recently observed state of a node.",
    "Probe": "A check the kubelet runs against a container to decide whether it is alive, ready or started.",
    "Volume": "A named volume the containers of a pod may mount. Exactly one source may be set.",
    "VolumeMount": "Where a volume is mounted inside a container.",
    "EnvVar": "An environment variable set in a container.",
    "ResourceRequirements": "Compute resources a container asks for (requests) and may not exceed (limits).",
    # fields
    "ObjectMeta.name": "Unique within a namespace (or the cluster, for cluster-scoped kinds). Cannot be updated.",
    "ObjectMeta.generateName": "A prefix the server completes with a random suffix when name is not given.",
    "ObjectMeta.namespace": "The namespace of the object; empty for cluster-scoped kinds. Cannot be updated.",
    "ObjectMeta.uid": "Unique in time and space, set by the server on creation. Read-only.",
    "ObjectMeta.resourceVersion": "The version of the object, for optimistic concurrency and watches. Opaque to "
    "clients; an update carrying a stale value fails with 409 Conflict.",
    "ObjectMeta.generation": "A sequence number the server bumps on every change of the desired state.",
    "ObjectMeta.creationTimestamp": "When the object was created, in RFC 3339 form, UTC. Read-only.",
    "ObjectMeta.deletionTimestamp": "When graceful deletion of the object was requested. Read-only.",
    "ObjectMeta.labels": "Key/value pairs used to select and organize objects.",
    "ObjectMeta.annotations": "Unstructured key/value data for tools; stored and returned unchanged.",
    "ObjectMeta.ownerReferences": "Objects this object depends on; when all owners are gone it is garbage "
    "collected.",
    "ObjectMeta.finalizers": "Keys that must be removed before the object is deleted from storage.",
    "Pod.spec": "The desired behaviour of the pod.",
    "Pod.status": "The most recently observed status of the pod. Read-only.",
    "PodSpec.containers": "The containers of the pod. At least one; names must be unique. Cannot be updated "
    "except for their images.",
    "PodSpec.initContainers": "Containers run to completion, in order, before the app containers start.",
    "PodSpec.volumes": "Volumes the containers of the pod may mount.",
    "PodSpec.restartPolicy": "When containers are restarted: Always (default), OnFailure or Never.",
    "PodSpec.terminationGracePeriodSeconds": "Seconds between the stop signal and the kill on deletion "
    "(default 30).",
    "PodSpec.nodeName": "The node the pod is bound to; set by the scheduler through a Binding.",
    "PodSpec.nodeSelector": "Labels a node must carry for the pod to be scheduled there.",
    "PodSpec.dnsPolicy": "How the pod's DNS is set up: ClusterFirst (default), Default, "
    "ClusterFirstWithHostNet or None.",
    "PodSpec.hostNetwork": "Run the pod in the node's network namespace.",
    "PodSpec.tolerations": "Taints of nodes this pod tolerates.",
    "PodStatus.phase": "Pending, Running, Succeeded, Failed or Unknown.",
    "PodStatus.podIP": "The IP address of the pod, once its sandbox exists.",
    "PodStatus.conditions": "PodScheduled, Initialized, ContainersReady and Ready, each True or False.",
    "PodStatus.containerStatuses": "One entry per app container: its state, readiness and restarts.",
    "Container.name": "A DNS-1123 label, unique within the pod. Cannot be updated.",
    "Container.image": "The image to run, e.g. busybox:1.36.",
    "Container.command": "The entrypoint; replaces the image's ENTRYPOINT when set.",
    "Container.args": "Arguments to the entrypoint; replace the image's CMD when set.",
    "Container.ports": "Ports the container exposes; informational, and named targets for services.",
    "Container.env": "Environment variables set in the container.",
    "Container.imagePullPolicy": "Always, Never or IfNotPresent. Defaults to Always for the latest tag or no "
    "tag, IfNotPresent otherwise.",
    "Container.livenessProbe": "Restart the container when this check keeps failing.",
    "Container.readinessProbe": "Take the pod out of service endpoints while this check fails.",
    "Container.resources": "Compute resources the container requests and may not exceed.",
    "ContainerPort.containerPort": "The port number, 1-65535.",
    "ContainerPort.protocol": "TCP (default), UDP or SCTP.",
    "ReplicationController.spec": "The desired behaviour of the replication controller.",
    "ReplicationControllerSpec.replicas": "How many copies of the template to run (default 1).",
    "ReplicationControllerSpec.selector": "Labels of the pods counted as replicas; defaults to the template's "
    "labels, which it must match.",
    "ReplicationControllerSpec.template": "The pod created for each missing replica.",
    "Service.spec": "The desired behaviour of the service.",
    "ServiceSpec.type": "ClusterIP (default), NodePort, LoadBalancer or ExternalName.",
    "ServiceSpec.clusterIP": "The virtual IP, allocated from the service CIDR unless given; None makes the "
    "service headless. Cannot be changed once set.",
    "ServiceSpec.selector": "Traffic goes to the ready pods carrying these labels.",
    "ServiceSpec.ports": "The ports the service exposes.",
    "ServicePort.port": "The port the service listens on.",
    "ServicePort.targetPort": "The pod port (number or container port name) traffic goes to; defaults to port.",
    "ServicePort.nodePort": "The port on every node for NodePort and LoadBalancer services, 30000-32767.",
    "Node.spec": "How the node is configured.",
    "Node.status": "The most recently observed status of the node, reported by its kubelet.",
    "NodeSpec.podCIDR": "The range pod IPs of this node are allocated from.",
    "NodeSpec.unschedulable": "When true, no new pods are scheduled here (kubectl cordon).",
    "LeaseSpec.holderIdentity": "Who holds the lease.",
    "LeaseSpec.leaseDurationSeconds": "How long the holder may go without renewing before others may take it.",
    "LeaseSpec.renewTime": "When the holder last renewed the lease.",
}

# the workload kinds keep their descriptions beside their types
from apiserver.schema.docs_apps import WORKLOAD_DOCS  # noqa: E402

DOCS.update(WORKLOAD_DOCS)
from apiserver.schema.docs_networking import NETWORKING_DOCS  # noqa: E402

DOCS.update(NETWORKING_DOCS)
from apiserver.schema.docs_scheduling import SCHEDULING_DOCS  # noqa: E402

DOCS.update(SCHEDULING_DOCS)
from apiserver.schema.docs_flowcontrol import FLOWCONTROL_DOCS  # noqa: E402

DOCS.update(FLOWCONTROL_DOCS)
from apiserver.schema.docs_node import NODE_DOCS  # noqa: E402

DOCS.update(NODE_DOCS)
from apiserver.schema.docs_admission import ADMISSION_DOCS  # noqa: E402

DOCS.update(ADMISSION_DOCS)
from apiserver.schema.docs_apiregistration import APIREGISTRATION_DOCS  # noqa: E402

DOCS.update(APIREGISTRATION_DOCS)

# autoscaling/v1's HPA (the v2 objects in v1's shape; see api.hpav1)
DOCS.update(
    {
        "AutoscalingV1HorizontalPodAutoscaler": "HorizontalPodAutoscaler in autoscaling/v1: scales a workload "
        "on its pods' CPU utilisation. The same objects as autoscaling/v2; what v1 cannot express (other "
        "metrics, behavior, conditions) is kept in autoscaling.alpha.kubernetes.io/* annotations.",
        "AutoscalingV1HorizontalPodAutoscalerSpec.scaleTargetRef": "The workload to scale, through its "
        "scale subresource (a Deployment, ReplicaSet, StatefulSet or ReplicationController).",
        "AutoscalingV1HorizontalPodAutoscalerSpec.minReplicas": "The fewest replicas to scale down to; "
        "defaults to 1.",
        "AutoscalingV1HorizontalPodAutoscalerSpec.maxReplicas": "The most replicas to scale up to; at "
        "least minReplicas.",
        "AutoscalingV1HorizontalPodAutoscalerSpec.targetCPUUtilizationPercentage": "The average CPU "
        "utilisation of the pods to aim at, as a percentage of their CPU requests; without it (and without "
        "other metrics) 80.",
        "AutoscalingV1HorizontalPodAutoscalerStatus.currentCPUUtilizationPercentage": "The pods' last "
        "measured average CPU utilisation, as a percentage of their requests.",
        "AutoscalingV1HorizontalPodAutoscalerStatus.currentReplicas": "The replicas the workload had when "
        "last measured.",
        "AutoscalingV1HorizontalPodAutoscalerStatus.desiredReplicas": "The replicas the autoscaler last "
        "computed.",
    }
)
