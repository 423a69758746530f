"""The field table of every kind kubelite serves, written compactly, in one place.

Each entry maps a type name (as Kubernetes names it in Go and in OpenAPI) to its fields. A field's
type is written as a small string: `string`, `integer`, `boolean`, `number`, the well-known
scalars `Time`, `MicroTime`, `Quantity`, `IntOrString`, `object` (free-form, not checked),
another type's name, `[T]` for a list and `{T}` for a map with string keys. A list may carry its
strategic-merge strategy after `@`: `[Container]@name` merges elements by their `name` (the Go
`patchMergeKey`), `[string]@set` merges a list of scalars as a set; lists without it are atomic
(a patch replaces them). A field name ending in `!` is required (OpenAPI `required`).

The types follow k8s.io/api core/v1, coordination/v1, autoscaling/v1 and apimachinery meta/v1 as
of Kubernetes 1.33, trimmed of the volume sources and features kubelite does not implement
(those are `object`: accepted and kept, but not checked field by field).
"""

from __future__ import annotations

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
CORE = "io.k8s.api.core.v1"
COORDINATION = "io.k8s.api.coordination.v1"
AUTOSCALING = "io.k8s.api.autoscaling.v1"

_TYPE_META = {"kind": "string", "apiVersion": "string"}

META_TYPES: dict[str, dict[str, str]] = {
    "ObjectMeta": {
        "name": "string", "generateName": "string", "namespace": "string", "selfLink": "string",
        "uid": "string", "resourceVersion": "string", "generation": "integer",
        "creationTimestamp": "Time", "deletionTimestamp": "Time", "deletionGracePeriodSeconds": "integer",
        "labels": "{string}", "annotations": "{string}", "ownerReferences": "[OwnerReference]@uid",
        "finalizers": "[string]@set", "managedFields": "[ManagedFieldsEntry]",
    },
    "OwnerReference": {
        "apiVersion!": "string", "kind!": "string", "name!": "string", "uid!": "string",
        "controller": "boolean", "blockOwnerDeletion": "boolean",
    },
    "ManagedFieldsEntry": {
        "manager": "string", "operation": "string", "apiVersion": "string", "time": "Time",
        "fieldsType": "string", "fieldsV1": "object", "subresource": "string",
    },
    "ListMeta": {"selfLink": "string", "resourceVersion": "string", "continue": "string",
                 "remainingItemCount": "integer"},
    "LabelSelector": {"matchLabels": "{string}", "matchExpressions": "[LabelSelectorRequirement]"},
    "LabelSelectorRequirement": {"key!": "string", "operator!": "string", "values": "[string]"},
    "Status": {**_TYPE_META, "metadata": "ListMeta", "status": "string", "message": "string",
               "reason": "string", "details": "StatusDetails", "code": "integer"},
    "StatusDetails": {"name": "string", "group": "string", "kind": "string", "uid": "string",
                      "causes": "[StatusCause]", "retryAfterSeconds": "integer"},
    "StatusCause": {"reason": "string", "message": "string", "field": "string"},
    "DeleteOptions": {**_TYPE_META, "gracePeriodSeconds": "integer", "preconditions": "Preconditions",
                      "orphanDependents": "boolean", "propagationPolicy": "string", "dryRun": "[string]",
                      "ignoreStoreReadErrorWithClusterBreakingPotential": "boolean"},
    "Preconditions": {"uid": "string", "resourceVersion": "string"},
    "Condition": {"type!": "string", "status!": "string", "observedGeneration": "integer",
                  "lastTransitionTime!": "Time", "reason!": "string", "message!": "string"},
    "WatchEvent": {"type!": "string", "object!": "object"},
}

CORE_TYPES: dict[str, dict[str, str]] = {
    # --- Namespace
    "Namespace": {**_TYPE_META, "metadata": "ObjectMeta", "spec": "NamespaceSpec", "status": "NamespaceStatus"},
    "NamespaceSpec": {"finalizers": "[string]"},
    "NamespaceStatus": {"phase": "string", "conditions": "[NamespaceCondition]@type"},
    "NamespaceCondition": {"type!": "string", "status!": "string", "lastTransitionTime": "Time",
                           "reason": "string", "message": "string"},
    # --- Pod
    "Pod": {**_TYPE_META, "metadata": "ObjectMeta", "spec": "PodSpec", "status": "PodStatus"},
    "PodSpec": {
        "volumes": "[Volume]@name", "initContainers": "[Container]@name", "containers!": "[Container]@name",
        "ephemeralContainers": "[EphemeralContainer]@name", "restartPolicy": "string",
        "terminationGracePeriodSeconds": "integer", "activeDeadlineSeconds": "integer",
        "dnsPolicy": "string", "nodeSelector": "{string}", "serviceAccountName": "string",
        "serviceAccount": "string", "automountServiceAccountToken": "boolean", "nodeName": "string",
        "hostNetwork": "boolean", "hostPID": "boolean", "hostIPC": "boolean",
        "shareProcessNamespace": "boolean", "securityContext": "PodSecurityContext",
        "imagePullSecrets": "[LocalObjectReference]@name", "hostname": "string", "subdomain": "string",
        "affinity": "object", "schedulerName": "string", "tolerations": "[Toleration]",
        "hostAliases": "[HostAlias]@ip", "priorityClassName": "string", "priority": "integer",
        "dnsConfig": "PodDNSConfig", "readinessGates": "[PodReadinessGate]", "runtimeClassName": "string",
        "enableServiceLinks": "boolean", "preemptionPolicy": "string", "overhead": "{Quantity}",
        "topologySpreadConstraints": "[object]", "setHostnameAsFQDN": "boolean", "os": "PodOS",
        "hostUsers": "boolean", "schedulingGates": "[PodSchedulingGate]@name",
        "resourceClaims": "[object]", "resources": "ResourceRequirements",
    },
    "Container": {
        "name!": "string", "image": "string", "command": "[string]", "args": "[string]",
        "workingDir": "string", "ports": "[ContainerPort]@containerPort", "envFrom": "[EnvFromSource]",
        "env": "[EnvVar]@name", "resources": "ResourceRequirements", "resizePolicy": "[object]",
        "restartPolicy": "string", "volumeMounts": "[VolumeMount]@mountPath",
        "volumeDevices": "[VolumeDevice]@devicePath", "livenessProbe": "Probe", "readinessProbe": "Probe",
        "startupProbe": "Probe", "lifecycle": "Lifecycle", "terminationMessagePath": "string",
        "terminationMessagePolicy": "string", "imagePullPolicy": "string",
        "securityContext": "SecurityContext", "stdin": "boolean", "stdinOnce": "boolean", "tty": "boolean",
    },
    "ContainerPort": {"name": "string", "hostPort": "integer", "containerPort!": "integer",
                      "protocol": "string", "hostIP": "string"},
    "EnvVar": {"name!": "string", "value": "string", "valueFrom": "EnvVarSource"},
    "EnvVarSource": {"fieldRef": "ObjectFieldSelector", "resourceFieldRef": "ResourceFieldSelector",
                     "configMapKeyRef": "ConfigMapKeySelector", "secretKeyRef": "SecretKeySelector"},
    "ObjectFieldSelector": {"apiVersion": "string", "fieldPath!": "string"},
    "ResourceFieldSelector": {"containerName": "string", "resource!": "string", "divisor": "Quantity"},
    "ConfigMapKeySelector": {"name": "string", "key!": "string", "optional": "boolean"},
    "SecretKeySelector": {"name": "string", "key!": "string", "optional": "boolean"},
    "EnvFromSource": {"prefix": "string", "configMapRef": "ConfigMapEnvSource", "secretRef": "SecretEnvSource"},
    "ConfigMapEnvSource": {"name": "string", "optional": "boolean"},
    "SecretEnvSource": {"name": "string", "optional": "boolean"},
    "ResourceRequirements": {"limits": "{Quantity}", "requests": "{Quantity}", "claims": "[object]"},
    "VolumeMount": {"name!": "string", "readOnly": "boolean", "recursiveReadOnly": "string",
                    "mountPath!": "string", "subPath": "string", "mountPropagation": "string",
                    "subPathExpr": "string"},
    "VolumeDevice": {"name!": "string", "devicePath!": "string"},
    "Probe": {"exec": "ExecAction", "httpGet": "HTTPGetAction", "tcpSocket": "TCPSocketAction",
              "grpc": "GRPCAction", "initialDelaySeconds": "integer", "timeoutSeconds": "integer",
              "periodSeconds": "integer", "successThreshold": "integer", "failureThreshold": "integer",
              "terminationGracePeriodSeconds": "integer"},
    "ExecAction": {"command": "[string]"},
    "HTTPGetAction": {"path": "string", "port!": "IntOrString", "host": "string", "scheme": "string",
                      "httpHeaders": "[HTTPHeader]"},
    "HTTPHeader": {"name!": "string", "value!": "string"},
    "TCPSocketAction": {"port!": "IntOrString", "host": "string"},
    "GRPCAction": {"port!": "integer", "service": "string"},
    "SleepAction": {"seconds!": "integer"},
    "Lifecycle": {"postStart": "LifecycleHandler", "preStop": "LifecycleHandler", "stopSignal": "string"},
    "LifecycleHandler": {"exec": "ExecAction", "httpGet": "HTTPGetAction", "tcpSocket": "TCPSocketAction",
                         "sleep": "SleepAction"},
    "SecurityContext": {
        "capabilities": "Capabilities", "privileged": "boolean", "seLinuxOptions": "object",
        "windowsOptions": "object", "runAsUser": "integer", "runAsGroup": "integer",
        "runAsNonRoot": "boolean", "readOnlyRootFilesystem": "boolean",
        "allowPrivilegeEscalation": "boolean", "procMount": "string", "seccompProfile": "object",
        "appArmorProfile": "object",
    },
    "Capabilities": {"add": "[string]", "drop": "[string]"},
    "PodSecurityContext": {
        "seLinuxOptions": "object", "windowsOptions": "object", "runAsUser": "integer",
        "runAsGroup": "integer", "runAsNonRoot": "boolean", "supplementalGroups": "[integer]",
        "supplementalGroupsPolicy": "string", "fsGroup": "integer", "sysctls": "[Sysctl]",
        "fsGroupChangePolicy": "string", "seccompProfile": "object", "appArmorProfile": "object",
        "seLinuxChangePolicy": "string",
    },
    "Sysctl": {"name!": "string", "value!": "string"},
    "EphemeralContainer": {},  # filled below: a Container plus targetContainerName
    "Volume": {
        "name!": "string", "hostPath": "HostPathVolumeSource", "emptyDir": "EmptyDirVolumeSource",
        "secret": "SecretVolumeSource", "configMap": "ConfigMapVolumeSource", "persistentVolumeClaim": "PersistentVolumeClaimVolumeSource",
        "downwardAPI": "DownwardAPIVolumeSource", "projected": "ProjectedVolumeSource", "nfs": "object", "ephemeral": "object",
        "image": "object", "csi": "object", "iscsi": "object", "local": "object",
    },
    "HostPathVolumeSource": {"path!": "string", "type": "string"},
    "EmptyDirVolumeSource": {"medium": "string", "sizeLimit": "Quantity"},
    "Toleration": {"key": "string", "operator": "string", "value": "string", "effect": "string",
                   "tolerationSeconds": "integer"},
    "HostAlias": {"ip!": "string", "hostnames": "[string]"},
    "PodDNSConfig": {"nameservers": "[string]", "searches": "[string]", "options": "[PodDNSConfigOption]"},
    "PodDNSConfigOption": {"name": "string", "value": "string"},
    "PodReadinessGate": {"conditionType!": "string"},
    "PodOS": {"name!": "string"},
    "PodSchedulingGate": {"name!": "string"},
    "LocalObjectReference": {"name": "string"},
    "PodStatus": {
        "observedGeneration": "integer", "phase": "string", "conditions": "[PodCondition]@type",
        "message": "string", "reason": "string", "nominatedNodeName": "string", "hostIP": "string",
        "hostIPs": "[HostIP]@ip", "podIP": "string", "podIPs": "[PodIP]@ip", "startTime": "Time",
        "initContainerStatuses": "[ContainerStatus]", "containerStatuses": "[ContainerStatus]",
        "qosClass": "string", "ephemeralContainerStatuses": "[ContainerStatus]", "resize": "string",
        "resourceClaimStatuses": "[object]",
    },
    "PodCondition": {"type!": "string", "observedGeneration": "integer", "status!": "string",
                     "lastProbeTime": "Time", "lastTransitionTime": "Time", "reason": "string",
                     "message": "string"},
    "PodIP": {"ip!": "string"},
    "HostIP": {"ip!": "string"},
    "ContainerStatus": {
        "name!": "string", "state": "ContainerState", "lastState": "ContainerState", "ready!": "boolean",
        "restartCount!": "integer", "image!": "string", "imageID!": "string", "containerID": "string",
        "started": "boolean", "allocatedResources": "{Quantity}", "resources": "ResourceRequirements",
        "volumeMounts": "[object]", "user": "object", "allocatedResourcesStatus": "[object]",
        "stopSignal": "string",
    },
    "ContainerState": {"waiting": "ContainerStateWaiting", "running": "ContainerStateRunning",
                       "terminated": "ContainerStateTerminated"},
    "ContainerStateWaiting": {"reason": "string", "message": "string"},
    "ContainerStateRunning": {"startedAt": "Time"},
    "ContainerStateTerminated": {"exitCode!": "integer", "signal": "integer", "reason": "string",
                                 "message": "string", "startedAt": "Time", "finishedAt": "Time",
                                 "containerID": "string"},
    "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
    "Binding": {**_TYPE_META, "metadata": "ObjectMeta", "target!": "ObjectReference"},
    "ObjectReference": {"kind": "string", "namespace": "string", "name": "string", "uid": "string",
                        "apiVersion": "string", "resourceVersion": "string", "fieldPath": "string"},
    # --- ReplicationController
    "ReplicationController": {**_TYPE_META, "metadata": "ObjectMeta", "spec": "ReplicationControllerSpec",
                              "status": "ReplicationControllerStatus"},
    "ReplicationControllerSpec": {"replicas": "integer", "minReadySeconds": "integer",
                                  "selector": "{string}", "template": "PodTemplateSpec"},
    "ReplicationControllerStatus": {
        "replicas!": "integer", "fullyLabeledReplicas": "integer", "readyReplicas": "integer",
        "availableReplicas": "integer", "observedGeneration": "integer",
        "conditions": "[ReplicationControllerCondition]@type",
    },
    "ReplicationControllerCondition": {"type!": "string", "status!": "string", "lastTransitionTime": "Time",
                                       "reason": "string", "message": "string"},
    # --- Service
    "Service": {**_TYPE_META, "metadata": "ObjectMeta", "spec": "ServiceSpec", "status": "ServiceStatus"},
    "ServiceSpec": {
        "ports": "[ServicePort]@port", "selector": "{string}", "clusterIP": "string",
        "clusterIPs": "[string]", "type": "string", "externalIPs": "[string]",
        "sessionAffinity": "string", "loadBalancerIP": "string", "loadBalancerSourceRanges": "[string]",
        "externalName": "string", "externalTrafficPolicy": "string", "healthCheckNodePort": "integer",
        "publishNotReadyAddresses": "boolean", "sessionAffinityConfig": "object",
        "ipFamilies": "[string]", "ipFamilyPolicy": "string", "allocateLoadBalancerNodePorts": "boolean",
        "loadBalancerClass": "string", "internalTrafficPolicy": "string", "trafficDistribution": "string",
    },
    "ServicePort": {"name": "string", "protocol": "string", "appProtocol": "string", "port!": "integer",
                    "targetPort": "IntOrString", "nodePort": "integer"},
    "ServiceStatus": {"loadBalancer": "LoadBalancerStatus", "conditions": "[Condition]@type"},
    "LoadBalancerStatus": {"ingress": "[LoadBalancerIngress]"},
    "LoadBalancerIngress": {"ip": "string", "hostname": "string", "ipMode": "string", "ports": "[object]"},
    # --- Endpoints
    "Endpoints": {**_TYPE_META, "metadata": "ObjectMeta", "subsets": "[EndpointSubset]"},
    "EndpointSubset": {"addresses": "[EndpointAddress]", "notReadyAddresses": "[EndpointAddress]",
                       "ports": "[EndpointPort]"},
    "EndpointAddress": {"ip!": "string", "hostname": "string", "nodeName": "string",
                        "targetRef": "ObjectReference"},
    "EndpointPort": {"name": "string", "port!": "integer", "protocol": "string", "appProtocol": "string"},
    # --- Node
    "Node": {**_TYPE_META, "metadata": "ObjectMeta", "spec": "NodeSpec", "status": "NodeStatus"},
    "NodeSpec": {"podCIDR": "string", "podCIDRs": "[string]@set", "providerID": "string",
                 "unschedulable": "boolean", "taints": "[Taint]", "configSource": "object",
                 "externalID": "string"},
    "Taint": {"key!": "string", "value": "string", "effect!": "string", "timeAdded": "Time"},
    "NodeStatus": {
        "capacity": "{Quantity}", "allocatable": "{Quantity}", "phase": "string",
        "conditions": "[NodeCondition]@type", "addresses": "[NodeAddress]@type",
        "daemonEndpoints": "NodeDaemonEndpoints", "nodeInfo": "NodeSystemInfo",
        "images": "[ContainerImage]", "volumesInUse": "[string]", "volumesAttached": "[object]",
        "config": "object", "runtimeHandlers": "[object]", "features": "object",
    },
    "NodeCondition": {"type!": "string", "status!": "string", "lastHeartbeatTime": "Time",
                      "lastTransitionTime": "Time", "reason": "string", "message": "string"},
    "NodeAddress": {"type!": "string", "address!": "string"},
    "NodeDaemonEndpoints": {"kubeletEndpoint": "DaemonEndpoint"},
    "DaemonEndpoint": {"Port!": "integer"},
    "NodeSystemInfo": {
        "machineID!": "string", "systemUUID!": "string", "bootID!": "string", "kernelVersion!": "string",
        "osImage!": "string", "containerRuntimeVersion!": "string", "kubeletVersion!": "string",
        "kubeProxyVersion!": "string", "operatingSystem!": "string", "architecture!": "string",
        "swap": "object",
    },
    "ContainerImage": {"names": "[string]", "sizeBytes": "integer"},
    # --- Event
    "Event": {
        **_TYPE_META, "metadata": "ObjectMeta", "involvedObject!": "ObjectReference", "reason": "string",
        "message": "string", "source": "EventSource", "firstTimestamp": "Time", "lastTimestamp": "Time",
        "count": "integer", "type": "string", "eventTime": "MicroTime", "series": "EventSeries",
        "action": "string", "related": "ObjectReference", "reportingComponent": "string",
        "reportingInstance": "string",
    },
    "EventSource": {"component": "string", "host": "string"},
    "EventSeries": {"count": "integer", "lastObservedTime": "MicroTime"},
}
CORE_TYPES["EphemeralContainer"] = {**CORE_TYPES["Container"], "targetContainerName": "string"}

COORDINATION_TYPES: dict[str, dict[str, str]] = {
    "Lease": {**_TYPE_META, "metadata": "ObjectMeta", "spec": "LeaseSpec"},
    "LeaseSpec": {"holderIdentity": "string", "leaseDurationSeconds": "integer", "acquireTime": "MicroTime",
                  "renewTime": "MicroTime", "leaseTransitions": "integer", "strategy": "string",
                  "preferredHolder": "string"},
}

AUTOSCALING_TYPES: dict[str, dict[str, str]] = {
    "Scale": {**_TYPE_META, "metadata": "ObjectMeta", "spec": "ScaleSpec", "status": "ScaleStatus"},
    "ScaleSpec": {"replicas": "integer"},
    "ScaleStatus": {"replicas!": "integer", "selector": "string"},
}

# The top-level kinds (with their apiVersion) and the List kind of each storable one.
KINDS: dict[str, str] = {
    "Namespace": "v1", "Pod": "v1", "ReplicationController": "v1", "Service": "v1", "Endpoints": "v1",
    "Node": "v1", "Event": "v1", "Binding": "v1", "Lease": "coordination.k8s.io/v1",
    "Scale": "autoscaling/v1", "Status": "v1", "DeleteOptions": "v1",
}
LISTED_KINDS = ("Namespace", "Pod", "ReplicationController", "Service", "Endpoints", "Node", "Event", "Lease")
