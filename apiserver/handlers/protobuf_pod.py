"""The protobuf message tables of a whole core/v1 Pod, for the decoder in `protobuf.py`.

`kubectl debug POD --copy-to=NEW` (kubectl 1.32 and later; older ones send JSON) POSTs the
copy as `application/vnd.kubernetes.protobuf`, and the copy carries everything the API server
defaulted and admitted into the original: the service account's projected volume, tolerations,
security contexts, probes, resources, `valueFrom` env... So a Pod is read here whole: every field
of PodSpec and of each message it reaches, as k8s.io/api core/v1 generated.proto numbers them in
Kubernetes 1.33, with the full meta/v1 ObjectMeta and the apimachinery IntOrString, Quantity and
Time. These tables are most of the decoder's, so they live in a module of their own; the kinds
kubectl's generators send (and the decoding itself) are in `protobuf.py`, which merges them.

A Pod's `status` (field 3) is skipped, not decoded: the API server resets it on create (kube's
PrepareForCreate) and keeps the stored one on update, so nothing a client sends there is used.
Fields newer than 1.33 (e.g. `hostnameOverride`, `restartPolicyRules`, `fileKeyRef`, the
`podCertificate` projection, container `ulimits`) are not in the tables: a Pod that sets one is
refused (415, send JSON) rather than made without it.

A field is (json name, type, repeated[, flag]): the type is a scalar kind (`S`, `N`, `B`,
`bytes`, `map`, QUANTITIES, SKIP) or a message name. POINTER marks a Go pointer, whose zero is a
value when sent (`runAsUser: 0`, `allowPrivilegeEscalation: false`, a pointer struct sent empty
like `emptyDir: {}`); the zero of any other field means unset (Go's gogo-protobuf writes every
non-pointer field, zero or not) and is dropped, as JSON's `omitempty` drops it. KEEP marks a
field JSON writes without `omitempty` whose zero is a value kube shows (`lun: 0`, a sleep of
`seconds: 0`, an HTTP header's or a sysctl's empty `value`): its zero is kept too.
INLINE marks a Go embedded struct (`json:",inline"`): its fields are the parent's in JSON.
"""

from __future__ import annotations

POINTER = "pointer"
KEEP = "keep"
INLINE = "inline"
SKIP = "skip"  # a known field deliberately left out (its bytes are not read)
Field = tuple[str, str, bool] | tuple[str, str, bool, str]
S, N, B = "string", "int", "bool"
P = POINTER
QUANTITIES = "quantitymap"  # map<string, Quantity>: JSON {name: "quantity"}


def _lor(*rest: tuple[int, Field]) -> dict[int, Field]:
    """A message that embeds LocalObjectReference as field 1 (`name` in JSON), then `rest`."""
    return {1: ("localObjectReference", "LocalObjectReference", False, INLINE), **dict(rest)}


# the fields Container and EphemeralContainerCommon share, numbered alike
_CONTAINER: dict[int, Field] = {
    1: ("name", S, False),
    2: ("image", S, False),
    3: ("command", S, True),
    4: ("args", S, True),
    5: ("workingDir", S, False),
    6: ("ports", "ContainerPort", True),
    7: ("env", "EnvVar", True),
    8: ("resources", "ResourceRequirements", False),
    9: ("volumeMounts", "VolumeMount", True),
    10: ("livenessProbe", "Probe", False, P),
    11: ("readinessProbe", "Probe", False, P),
    12: ("lifecycle", "Lifecycle", False, P),
    13: ("terminationMessagePath", S, False),
    14: ("imagePullPolicy", S, False),
    15: ("securityContext", "SecurityContext", False, P),
    16: ("stdin", B, False),
    17: ("stdinOnce", B, False),
    18: ("tty", B, False),
    19: ("envFrom", "EnvFromSource", True),
    20: ("terminationMessagePolicy", S, False),
    21: ("volumeDevices", "VolumeDevice", True),
    22: ("startupProbe", "Probe", False, P),
    23: ("resizePolicy", "ContainerResizePolicy", True),
    24: ("restartPolicy", S, False, P),
}
# ProbeHandler's and LifecycleHandler's actions (LifecycleHandler adds `sleep`)
_ACTIONS: dict[int, Field] = {
    1: ("exec", "ExecAction", False, P),
    2: ("httpGet", "HTTPGetAction", False, P),
    3: ("tcpSocket", "TCPSocketAction", False, P),
}
# PodAffinity and PodAntiAffinity
_POD_AFFINITY: dict[int, Field] = {
    1: ("requiredDuringSchedulingIgnoredDuringExecution", "PodAffinityTerm", True),
    2: ("preferredDuringSchedulingIgnoredDuringExecution", "WeightedPodAffinityTerm", True),
}
# SeccompProfile and AppArmorProfile
_PROFILE: dict[int, Field] = {1: ("type", S, False), 2: ("localhostProfile", S, False, P)}
_KEY_SELECTOR = _lor((2, ("key", S, False)), (3, ("optional", B, False, P)))
_ENV_SOURCE = _lor((2, ("optional", B, False, P)))
_PROJECTION = _lor((2, ("items", "KeyToPath", True)), (4, ("optional", B, False, P)))
_RESOURCES: dict[int, Field] = {1: ("limits", QUANTITIES, False), 2: ("requests", QUANTITIES, False)}

SCHEMAS: dict[str, dict[int, Field]] = {
    # apimachinery: meta/v1, util/intstr, api/resource
    "ObjectMeta": {
        1: ("name", S, False),
        2: ("generateName", S, False),
        3: ("namespace", S, False),
        4: ("selfLink", S, False),
        5: ("uid", S, False),
        6: ("resourceVersion", S, False),  # a PUT of what a GET gave (kubectl certificate approve)
        7: ("generation", N, False),
        8: ("creationTimestamp", "Time", False),
        9: ("deletionTimestamp", "Time", False),
        10: ("deletionGracePeriodSeconds", N, False, P),
        11: ("labels", "map", False),
        12: ("annotations", "map", False),
        13: ("ownerReferences", "OwnerReference", True),
        14: ("finalizers", S, True),
        # kept on create as kube keeps them (its field manager starts from the object's own)
        17: ("managedFields", "ManagedFieldsEntry", True),
    },
    "OwnerReference": {
        1: ("kind", S, False),
        3: ("name", S, False),
        4: ("uid", S, False),
        5: ("apiVersion", S, False),
        6: ("controller", B, False, P),
        7: ("blockOwnerDeletion", B, False, P),
    },
    "ManagedFieldsEntry": {
        1: ("manager", S, False),
        2: ("operation", S, False),
        3: ("apiVersion", S, False),
        4: ("time", "Time", False),
        6: ("fieldsType", S, False),
        7: ("fieldsV1", "FieldsV1", False),
        8: ("subresource", S, False),
    },
    "FieldsV1": {1: ("Raw", "bytes", False)},  # JSON: the object its bytes are
    "LabelSelector": {
        1: ("matchLabels", "map", False),
        2: ("matchExpressions", "LabelSelectorRequirement", True),
    },
    "LabelSelectorRequirement": {1: ("key", S, False), 2: ("operator", S, False), 3: ("values", S, True)},
    "Time": {1: ("seconds", N, False), 2: ("nanos", N, False)},  # JSON: RFC 3339
    "IntOrString": {1: ("type", N, False), 2: ("intVal", N, False), 3: ("strVal", S, False)},
    "Quantity": {1: ("string", S, False)},  # JSON: the string
    # core/v1
    "Pod": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "PodSpec", False),
        3: ("status", SKIP, False),
    },
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "PodSpec", False)},
    "PodSpec": {
        1: ("volumes", "Volume", True),
        2: ("containers", "Container", True),
        3: ("restartPolicy", S, False),
        4: ("terminationGracePeriodSeconds", N, False, P),
        5: ("activeDeadlineSeconds", N, False, P),
        6: ("dnsPolicy", S, False),
        7: ("nodeSelector", "map", False),
        8: ("serviceAccountName", S, False),
        9: ("serviceAccount", S, False),
        10: ("nodeName", S, False),
        11: ("hostNetwork", B, False),
        12: ("hostPID", B, False),
        13: ("hostIPC", B, False),
        14: ("securityContext", "PodSecurityContext", False, P),
        15: ("imagePullSecrets", "LocalObjectReference", True),
        16: ("hostname", S, False),
        17: ("subdomain", S, False),
        18: ("affinity", "Affinity", False, P),
        19: ("schedulerName", S, False),
        20: ("initContainers", "Container", True),
        21: ("automountServiceAccountToken", B, False, P),
        22: ("tolerations", "Toleration", True),
        23: ("hostAliases", "HostAlias", True),
        24: ("priorityClassName", S, False),
        25: ("priority", N, False, P),
        26: ("dnsConfig", "PodDNSConfig", False, P),
        27: ("shareProcessNamespace", B, False, P),
        28: ("readinessGates", "PodReadinessGate", True),
        29: ("runtimeClassName", S, False, P),
        30: ("enableServiceLinks", B, False, P),
        31: ("preemptionPolicy", S, False, P),
        32: ("overhead", QUANTITIES, False),
        33: ("topologySpreadConstraints", "TopologySpreadConstraint", True),
        34: ("ephemeralContainers", "EphemeralContainer", True),
        35: ("setHostnameAsFQDN", B, False, P),
        36: ("os", "PodOS", False, P),
        37: ("hostUsers", B, False, P),
        38: ("schedulingGates", "PodSchedulingGate", True),
        39: ("resourceClaims", "PodResourceClaim", True),
        40: ("resources", "ResourceRequirements", False, P),
    },
    "Container": _CONTAINER,
    "EphemeralContainer": {
        1: ("ephemeralContainerCommon", "EphemeralContainerCommon", False, INLINE),
        2: ("targetContainerName", S, False),
    },
    "EphemeralContainerCommon": _CONTAINER,
    "ContainerPort": {
        1: ("name", S, False),
        2: ("hostPort", N, False),
        3: ("containerPort", N, False),
        4: ("protocol", S, False),
        5: ("hostIP", S, False),
    },
    "ContainerResizePolicy": {1: ("resourceName", S, False), 2: ("restartPolicy", S, False)},
    "EnvVar": {1: ("name", S, False), 2: ("value", S, False), 3: ("valueFrom", "EnvVarSource", False, P)},
    "EnvVarSource": {
        1: ("fieldRef", "ObjectFieldSelector", False, P),
        2: ("resourceFieldRef", "ResourceFieldSelector", False, P),
        3: ("configMapKeyRef", "ConfigMapKeySelector", False, P),
        4: ("secretKeyRef", "SecretKeySelector", False, P),
    },
    "ObjectFieldSelector": {1: ("apiVersion", S, False), 2: ("fieldPath", S, False)},
    "ResourceFieldSelector": {
        1: ("containerName", S, False),
        2: ("resource", S, False),
        3: ("divisor", "Quantity", False),
    },
    "ConfigMapKeySelector": _KEY_SELECTOR,
    "SecretKeySelector": _KEY_SELECTOR,
    "EnvFromSource": {
        1: ("prefix", S, False),
        2: ("configMapRef", "ConfigMapEnvSource", False, P),
        3: ("secretRef", "SecretEnvSource", False, P),
    },
    "ConfigMapEnvSource": _ENV_SOURCE,
    "SecretEnvSource": _ENV_SOURCE,
    "LocalObjectReference": {1: ("name", S, False)},
    "ResourceRequirements": {**_RESOURCES, 3: ("claims", "ResourceClaim", True)},
    "ResourceClaim": {1: ("name", S, False), 2: ("request", S, False)},
    "VolumeMount": {
        1: ("name", S, False),
        2: ("readOnly", B, False),
        3: ("mountPath", S, False),
        4: ("subPath", S, False),
        5: ("mountPropagation", S, False, P),
        6: ("subPathExpr", S, False),
        7: ("recursiveReadOnly", S, False, P),
    },
    "VolumeDevice": {1: ("name", S, False), 2: ("devicePath", S, False)},
    "Probe": {
        1: ("handler", "ProbeHandler", False, INLINE),
        2: ("initialDelaySeconds", N, False),
        3: ("timeoutSeconds", N, False),
        4: ("periodSeconds", N, False),
        5: ("successThreshold", N, False),
        6: ("failureThreshold", N, False),
        7: ("terminationGracePeriodSeconds", N, False, P),
    },
    "ProbeHandler": {**_ACTIONS, 4: ("grpc", "GRPCAction", False, P)},
    "ExecAction": {1: ("command", S, True)},
    "HTTPGetAction": {
        1: ("path", S, False),
        2: ("port", "IntOrString", False),
        3: ("host", S, False),
        4: ("scheme", S, False),
        5: ("httpHeaders", "HTTPHeader", True),
    },
    "HTTPHeader": {1: ("name", S, False), 2: ("value", S, False, KEEP)},
    "TCPSocketAction": {1: ("port", "IntOrString", False), 2: ("host", S, False)},
    "GRPCAction": {1: ("port", N, False), 2: ("service", S, False, P)},
    "Lifecycle": {
        1: ("postStart", "LifecycleHandler", False, P),
        2: ("preStop", "LifecycleHandler", False, P),
        3: ("stopSignal", S, False, P),
    },
    "LifecycleHandler": {**_ACTIONS, 4: ("sleep", "SleepAction", False, P)},
    "SleepAction": {1: ("seconds", N, False, KEEP)},
    "SecurityContext": {
        1: ("capabilities", "Capabilities", False, P),
        2: ("privileged", B, False, P),
        3: ("seLinuxOptions", "SELinuxOptions", False, P),
        4: ("runAsUser", N, False, P),
        5: ("runAsNonRoot", B, False, P),
        6: ("readOnlyRootFilesystem", B, False, P),
        7: ("allowPrivilegeEscalation", B, False, P),
        8: ("runAsGroup", N, False, P),
        9: ("procMount", S, False, P),
        10: ("windowsOptions", "WindowsSecurityContextOptions", False, P),
        11: ("seccompProfile", "SeccompProfile", False, P),
        12: ("appArmorProfile", "AppArmorProfile", False, P),
    },
    "Capabilities": {1: ("add", S, True), 2: ("drop", S, True)},
    "SELinuxOptions": {
        1: ("user", S, False),
        2: ("role", S, False),
        3: ("type", S, False),
        4: ("level", S, False),
    },
    "WindowsSecurityContextOptions": {
        1: ("gmsaCredentialSpecName", S, False, P),
        2: ("gmsaCredentialSpec", S, False, P),
        3: ("runAsUserName", S, False, P),
        4: ("hostProcess", B, False, P),
    },
    "SeccompProfile": _PROFILE,
    "AppArmorProfile": _PROFILE,
    "PodSecurityContext": {
        1: ("seLinuxOptions", "SELinuxOptions", False, P),
        2: ("runAsUser", N, False, P),
        3: ("runAsNonRoot", B, False, P),
        4: ("supplementalGroups", N, True),
        5: ("fsGroup", N, False, P),
        6: ("runAsGroup", N, False, P),
        7: ("sysctls", "Sysctl", True),
        8: ("windowsOptions", "WindowsSecurityContextOptions", False, P),
        9: ("fsGroupChangePolicy", S, False, P),
        10: ("seccompProfile", "SeccompProfile", False, P),
        11: ("appArmorProfile", "AppArmorProfile", False, P),
        12: ("supplementalGroupsPolicy", S, False, P),
        13: ("seLinuxChangePolicy", S, False, P),
    },
    "Sysctl": {1: ("name", S, False), 2: ("value", S, False, KEEP)},
    "Affinity": {
        1: ("nodeAffinity", "NodeAffinity", False, P),
        2: ("podAffinity", "PodAffinity", False, P),
        3: ("podAntiAffinity", "PodAntiAffinity", False, P),
    },
    "NodeAffinity": {
        1: ("requiredDuringSchedulingIgnoredDuringExecution", "NodeSelector", False, P),
        2: ("preferredDuringSchedulingIgnoredDuringExecution", "PreferredSchedulingTerm", True),
    },
    "NodeSelector": {1: ("nodeSelectorTerms", "NodeSelectorTerm", True)},
    "NodeSelectorTerm": {
        1: ("matchExpressions", "NodeSelectorRequirement", True),
        2: ("matchFields", "NodeSelectorRequirement", True),
    },
    "NodeSelectorRequirement": {1: ("key", S, False), 2: ("operator", S, False), 3: ("values", S, True)},
    "PreferredSchedulingTerm": {1: ("weight", N, False), 2: ("preference", "NodeSelectorTerm", False)},
    "PodAffinity": _POD_AFFINITY,
    "PodAntiAffinity": _POD_AFFINITY,
    "PodAffinityTerm": {
        1: ("labelSelector", "LabelSelector", False, P),
        2: ("namespaces", S, True),
        3: ("topologyKey", S, False),
        4: ("namespaceSelector", "LabelSelector", False, P),
        5: ("matchLabelKeys", S, True),
        6: ("mismatchLabelKeys", S, True),
    },
    "WeightedPodAffinityTerm": {1: ("weight", N, False), 2: ("podAffinityTerm", "PodAffinityTerm", False)},
    "Toleration": {
        1: ("key", S, False),
        2: ("operator", S, False),
        3: ("value", S, False),
        4: ("effect", S, False),
        5: ("tolerationSeconds", N, False, P),
    },
    "HostAlias": {1: ("ip", S, False), 2: ("hostnames", S, True)},
    "PodDNSConfig": {
        1: ("nameservers", S, True),
        2: ("searches", S, True),
        3: ("options", "PodDNSConfigOption", True),
    },
    "PodDNSConfigOption": {1: ("name", S, False), 2: ("value", S, False, P)},
    "PodReadinessGate": {1: ("conditionType", S, False)},
    "TopologySpreadConstraint": {
        1: ("maxSkew", N, False),
        2: ("topologyKey", S, False),
        3: ("whenUnsatisfiable", S, False),
        4: ("labelSelector", "LabelSelector", False, P),
        5: ("minDomains", N, False, P),
        6: ("nodeAffinityPolicy", S, False, P),
        7: ("nodeTaintsPolicy", S, False, P),
        8: ("matchLabelKeys", S, True),
    },
    "PodOS": {1: ("name", S, False)},
    "PodSchedulingGate": {1: ("name", S, False)},
    "PodResourceClaim": {
        1: ("name", S, False),
        3: ("resourceClaimName", S, False, P),
        4: ("resourceClaimTemplateName", S, False, P),
    },
    # volumes: VolumeSource is inline in Volume, one pointer per volume type
    "Volume": {1: ("name", S, False), 2: ("volumeSource", "VolumeSource", False, INLINE)},
    "VolumeSource": {
        1: ("hostPath", "HostPathVolumeSource", False, P),
        2: ("emptyDir", "EmptyDirVolumeSource", False, P),
        3: ("gcePersistentDisk", "GCEPersistentDiskVolumeSource", False, P),
        4: ("awsElasticBlockStore", "AWSElasticBlockStoreVolumeSource", False, P),
        5: ("gitRepo", "GitRepoVolumeSource", False, P),
        6: ("secret", "SecretVolumeSource", False, P),
        7: ("nfs", "NFSVolumeSource", False, P),
        8: ("iscsi", "ISCSIVolumeSource", False, P),
        9: ("glusterfs", "GlusterfsVolumeSource", False, P),
        10: ("persistentVolumeClaim", "PersistentVolumeClaimVolumeSource", False, P),
        11: ("rbd", "RBDVolumeSource", False, P),
        12: ("flexVolume", "FlexVolumeSource", False, P),
        13: ("cinder", "CinderVolumeSource", False, P),
        14: ("cephfs", "CephFSVolumeSource", False, P),
        15: ("flocker", "FlockerVolumeSource", False, P),
        16: ("downwardAPI", "DownwardAPIVolumeSource", False, P),
        17: ("fc", "FCVolumeSource", False, P),
        18: ("azureFile", "AzureFileVolumeSource", False, P),
        19: ("configMap", "ConfigMapVolumeSource", False, P),
        20: ("vsphereVolume", "VsphereVirtualDiskVolumeSource", False, P),
        21: ("quobyte", "QuobyteVolumeSource", False, P),
        22: ("azureDisk", "AzureDiskVolumeSource", False, P),
        23: ("photonPersistentDisk", "PhotonPersistentDiskVolumeSource", False, P),
        24: ("portworxVolume", "PortworxVolumeSource", False, P),
        25: ("scaleIO", "ScaleIOVolumeSource", False, P),
        26: ("projected", "ProjectedVolumeSource", False, P),
        27: ("storageos", "StorageOSVolumeSource", False, P),
        28: ("csi", "CSIVolumeSource", False, P),
        29: ("ephemeral", "EphemeralVolumeSource", False, P),
        30: ("image", "ImageVolumeSource", False, P),
    },
    "HostPathVolumeSource": {1: ("path", S, False), 2: ("type", S, False, P)},
    "EmptyDirVolumeSource": {1: ("medium", S, False), 2: ("sizeLimit", "Quantity", False, P)},
    "GCEPersistentDiskVolumeSource": {
        1: ("pdName", S, False),
        2: ("fsType", S, False),
        3: ("partition", N, False),
        4: ("readOnly", B, False),
    },
    "AWSElasticBlockStoreVolumeSource": {
        1: ("volumeID", S, False),
        2: ("fsType", S, False),
        3: ("partition", N, False),
        4: ("readOnly", B, False),
    },
    "GitRepoVolumeSource": {
        1: ("repository", S, False),
        2: ("revision", S, False),
        3: ("directory", S, False),
    },
    "SecretVolumeSource": {
        1: ("secretName", S, False),
        2: ("items", "KeyToPath", True),
        3: ("defaultMode", N, False, P),
        4: ("optional", B, False, P),
    },
    "NFSVolumeSource": {1: ("server", S, False), 2: ("path", S, False), 3: ("readOnly", B, False)},
    "ISCSIVolumeSource": {
        1: ("targetPortal", S, False),
        2: ("iqn", S, False),
        3: ("lun", N, False, KEEP),
        4: ("iscsiInterface", S, False),
        5: ("fsType", S, False),
        6: ("readOnly", B, False),
        7: ("portals", S, True),
        8: ("chapAuthDiscovery", B, False),
        10: ("secretRef", "LocalObjectReference", False, P),
        11: ("chapAuthSession", B, False),
        12: ("initiatorName", S, False, P),
    },
    "GlusterfsVolumeSource": {1: ("endpoints", S, False), 2: ("path", S, False), 3: ("readOnly", B, False)},
    "PersistentVolumeClaimVolumeSource": {1: ("claimName", S, False), 2: ("readOnly", B, False)},
    "RBDVolumeSource": {
        1: ("monitors", S, True),
        2: ("image", S, False),
        3: ("fsType", S, False),
        4: ("pool", S, False),
        5: ("user", S, False),
        6: ("keyring", S, False),
        7: ("secretRef", "LocalObjectReference", False, P),
        8: ("readOnly", B, False),
    },
    "FlexVolumeSource": {
        1: ("driver", S, False),
        2: ("fsType", S, False),
        3: ("secretRef", "LocalObjectReference", False, P),
        4: ("readOnly", B, False),
        5: ("options", "map", False),
    },
    "CinderVolumeSource": {
        1: ("volumeID", S, False),
        2: ("fsType", S, False),
        3: ("readOnly", B, False),
        4: ("secretRef", "LocalObjectReference", False, P),
    },
    "CephFSVolumeSource": {
        1: ("monitors", S, True),
        2: ("path", S, False),
        3: ("user", S, False),
        4: ("secretFile", S, False),
        5: ("secretRef", "LocalObjectReference", False, P),
        6: ("readOnly", B, False),
    },
    "FlockerVolumeSource": {1: ("datasetName", S, False), 2: ("datasetUUID", S, False)},
    "DownwardAPIVolumeSource": {1: ("items", "DownwardAPIVolumeFile", True), 2: ("defaultMode", N, False, P)},
    "DownwardAPIVolumeFile": {
        1: ("path", S, False),
        2: ("fieldRef", "ObjectFieldSelector", False, P),
        3: ("resourceFieldRef", "ResourceFieldSelector", False, P),
        4: ("mode", N, False, P),
    },
    "FCVolumeSource": {
        1: ("targetWWNs", S, True),
        2: ("lun", N, False, P),
        3: ("fsType", S, False),
        4: ("readOnly", B, False),
        5: ("wwids", S, True),
    },
    "AzureFileVolumeSource": {
        1: ("secretName", S, False),
        2: ("shareName", S, False),
        3: ("readOnly", B, False),
    },
    "ConfigMapVolumeSource": _lor(
        (2, ("items", "KeyToPath", True)),
        (3, ("defaultMode", N, False, P)),
        (4, ("optional", B, False, P)),
    ),
    "VsphereVirtualDiskVolumeSource": {
        1: ("volumePath", S, False),
        2: ("fsType", S, False),
        3: ("storagePolicyName", S, False),
        4: ("storagePolicyID", S, False),
    },
    "QuobyteVolumeSource": {
        1: ("registry", S, False),
        2: ("volume", S, False),
        3: ("readOnly", B, False),
        4: ("user", S, False),
        5: ("group", S, False),
        6: ("tenant", S, False),
    },
    "AzureDiskVolumeSource": {
        1: ("diskName", S, False),
        2: ("diskURI", S, False),
        3: ("cachingMode", S, False, P),
        4: ("fsType", S, False, P),
        5: ("readOnly", B, False, P),
        6: ("kind", S, False, P),
    },
    "PhotonPersistentDiskVolumeSource": {1: ("pdID", S, False), 2: ("fsType", S, False)},
    "PortworxVolumeSource": {1: ("volumeID", S, False), 2: ("fsType", S, False), 3: ("readOnly", B, False)},
    "ScaleIOVolumeSource": {
        1: ("gateway", S, False),
        2: ("system", S, False),
        3: ("secretRef", "LocalObjectReference", False, P),
        4: ("sslEnabled", B, False),
        5: ("protectionDomain", S, False),
        6: ("storagePool", S, False),
        7: ("storageMode", S, False),
        8: ("volumeName", S, False),
        9: ("fsType", S, False),
        10: ("readOnly", B, False),
    },
    "ProjectedVolumeSource": {1: ("sources", "VolumeProjection", True), 2: ("defaultMode", N, False, P)},
    "VolumeProjection": {
        1: ("secret", "SecretProjection", False, P),
        2: ("downwardAPI", "DownwardAPIProjection", False, P),
        3: ("configMap", "ConfigMapProjection", False, P),
        4: ("serviceAccountToken", "ServiceAccountTokenProjection", False, P),
        5: ("clusterTrustBundle", "ClusterTrustBundleProjection", False, P),
    },
    "SecretProjection": _PROJECTION,
    "ConfigMapProjection": _PROJECTION,
    "DownwardAPIProjection": {1: ("items", "DownwardAPIVolumeFile", True)},
    "ServiceAccountTokenProjection": {
        1: ("audience", S, False),
        2: ("expirationSeconds", N, False, P),
        3: ("path", S, False),
    },
    "ClusterTrustBundleProjection": {
        1: ("name", S, False, P),
        2: ("signerName", S, False, P),
        3: ("labelSelector", "LabelSelector", False, P),
        4: ("path", S, False),
        5: ("optional", B, False, P),
    },
    "KeyToPath": {1: ("key", S, False), 2: ("path", S, False), 3: ("mode", N, False, P)},
    "StorageOSVolumeSource": {
        1: ("volumeName", S, False),
        2: ("volumeNamespace", S, False),
        3: ("fsType", S, False),
        4: ("readOnly", B, False),
        5: ("secretRef", "LocalObjectReference", False, P),
    },
    "CSIVolumeSource": {
        1: ("driver", S, False),
        2: ("readOnly", B, False, P),
        3: ("fsType", S, False, P),
        4: ("volumeAttributes", "map", False),
        5: ("nodePublishSecretRef", "LocalObjectReference", False, P),
    },
    "EphemeralVolumeSource": {1: ("volumeClaimTemplate", "PersistentVolumeClaimTemplate", False, P)},
    "PersistentVolumeClaimTemplate": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "PersistentVolumeClaimSpec", False),
    },
    "PersistentVolumeClaimSpec": {
        1: ("accessModes", S, True),
        2: ("resources", "VolumeResourceRequirements", False),
        3: ("volumeName", S, False),
        4: ("selector", "LabelSelector", False, P),
        5: ("storageClassName", S, False, P),
        6: ("volumeMode", S, False, P),
        7: ("dataSource", "TypedLocalObjectReference", False, P),
        8: ("dataSourceRef", "TypedObjectReference", False, P),
        9: ("volumeAttributesClassName", S, False, P),
    },
    "VolumeResourceRequirements": _RESOURCES,
    # also an Ingress backend's `resource` (networking/v1 uses core/v1's type)
    "TypedLocalObjectReference": {1: ("apiGroup", S, False, P), 2: ("kind", S, False), 3: ("name", S, False)},
    "TypedObjectReference": {
        1: ("apiGroup", S, False, P),
        2: ("kind", S, False),
        3: ("name", S, False),
        4: ("namespace", S, False, P),
    },
    "ImageVolumeSource": {1: ("reference", S, False), 2: ("pullPolicy", S, False)},
}
