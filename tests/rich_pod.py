"""A Pod that sets nearly every field a core/v1 Pod has (1.33), with the zero values a Go pointer
keeps (`runAsUser: 0`, `allowPrivilegeEscalation: false`, `emptyDir: {}`, `tolerationSeconds: 0`...),
in the shape a GET answers: for the protobuf decoder's tests, and (`creatable`) the pod
`kubectl debug --copy-to` copies in the API tests.

Made on a server, it needs the PriorityClass `low` (value 0, preemptionPolicy Never) and the
RuntimeClass `runc` (overhead cpu 10m) that `prerequisites` gives.
"""

from __future__ import annotations

import copy
from typing import Any

TOKEN_VOLUME = {
    "name": "kube-api-access-x2x9z",
    "projected": {
        "defaultMode": 420,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {
                "downwardAPI": {
                    "items": [
                        {
                            "path": "namespace",
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                        }
                    ]
                }
            },
        ],
    },
}
APP: dict[str, Any] = {
    "name": "app",
    "image": "nginx:1",
    "command": ["nginx", "-g", "daemon off;"],
    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
    "env": [
        {"name": "MODE", "value": "prod"},
        {"name": "EMPTY"},
        {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
        {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}},
        {
            "name": "MEM",
            "valueFrom": {"resourceFieldRef": {"containerName": "app", "resource": "limits.memory"}},
        },
        {
            "name": "CM",
            "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode", "optional": True}},
        },
        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw", "optional": False}}},
    ],
    "envFrom": [
        {"prefix": "CFG_", "configMapRef": {"name": "settings"}},
        {"secretRef": {"name": "creds", "optional": False}},
    ],
    "resources": {
        "limits": {"cpu": "500m", "memory": "128Mi"},
        "requests": {"cpu": "100m", "memory": "64Mi"},
        "claims": [{"name": "gpu", "request": "one"}],
    },
    "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
    "volumeMounts": [
        {"name": "scratch", "mountPath": "/scratch"},
        {
            "name": "cfg",
            "mountPath": "/cfg",
            "readOnly": True,
            "recursiveReadOnly": "IfPossible",
            "subPath": "x",
        },
        {
            "name": "host",
            "mountPath": "/host",
            "mountPropagation": "HostToContainer",
            "subPathExpr": "$(POD)",
        },
        {
            "name": TOKEN_VOLUME["name"],
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
            "readOnly": True,
        },
    ],
    "volumeDevices": [{"name": "block", "devicePath": "/dev/xvda"}],
    "livenessProbe": {
        "httpGet": {
            "path": "/healthz",
            "port": "http",
            "scheme": "HTTP",
            "httpHeaders": [{"name": "X-A", "value": "1"}],
        },
        "initialDelaySeconds": 3,
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
        "terminationGracePeriodSeconds": 0,
    },
    "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 5},
    "startupProbe": {"grpc": {"port": 9090, "service": ""}, "failureThreshold": 30},
    "lifecycle": {
        "postStart": {"exec": {"command": ["sh", "-c", "echo up"]}},
        "preStop": {"sleep": {"seconds": 5}},
        "stopSignal": "SIGQUIT",
    },
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "FallbackToLogsOnError",
    "imagePullPolicy": "IfNotPresent",
    "securityContext": {
        "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
        "privileged": False,
        "runAsUser": 0,
        "runAsGroup": 0,
        "runAsNonRoot": False,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "procMount": "Default",
        "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/app.json"},
        "appArmorProfile": {"type": "RuntimeDefault"},
        "seLinuxOptions": {"level": "s0:c1,c2"},
    },
    "stdin": True,
    "tty": True,
}
RICH_POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-copy",
        "namespace": "shop",
        "uid": "0b7c6a6e-7f3e-4d41-9d36-3b4f0a1e2c11",
        "resourceVersion": "42",
        "generation": 3,
        "creationTimestamp": "2025-03-04T05:06:07Z",
        "labels": {"app": "web"},
        "annotations": {"note": "copied"},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-5d8",
                "uid": "u-1",
                "controller": False,
            }
        ],
        "finalizers": ["example.com/keep"],
        "managedFields": [
            {
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2025-03-04T05:06:07Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
            }
        ],
    },
    "spec": {
        "volumes": [
            TOKEN_VOLUME,
            {"name": "scratch", "emptyDir": {}},
            {"name": "ram", "emptyDir": {"medium": "Memory", "sizeLimit": "0"}},
            {"name": "cfg", "configMap": {"name": "settings", "defaultMode": 0, "optional": False}},
            {
                "name": "creds",
                "secret": {"secretName": "creds", "items": [{"key": "pw", "path": "pw", "mode": 256}]},
            },
            {"name": "host", "hostPath": {"path": "/var/log", "type": ""}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data", "readOnly": True}},
            {"name": "csi", "csi": {"driver": "x.csi.io", "readOnly": False, "volumeAttributes": {"a": "b"}}},
            {
                "name": "info",
                "downwardAPI": {
                    "items": [
                        {"path": "mem", "resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}
                    ]
                },
            },
            {"name": "tool", "image": {"reference": "quay.io/x/tool:1", "pullPolicy": "IfNotPresent"}},
            {"name": "share", "nfs": {"server": "nfs.local", "path": "/exports", "readOnly": True}},
            {
                "name": "lun",
                "iscsi": {
                    "targetPortal": "10.0.0.1:3260",
                    "iqn": "iqn.2001-04.com.example:storage",
                    "lun": 0,
                    "portals": ["10.0.0.2:3260"],
                    "chapAuthSession": True,
                    "secretRef": {"name": "chap"},
                    "initiatorName": "iqn.1996-04.de.suse:01:abc",
                },
            },
            {
                "name": "certs",
                "projected": {
                    "sources": [
                        {
                            "secret": {
                                "name": "tls",
                                "items": [{"key": "tls.crt", "path": "crt"}],
                                "optional": True,
                            }
                        },
                        {"serviceAccountToken": {"audience": "vault", "path": "vault-token"}},
                        {
                            "clusterTrustBundle": {
                                "signerName": "example.com/signer",
                                "labelSelector": {"matchLabels": {"ca": "root"}},
                                "optional": False,
                                "path": "ca.pem",
                            }
                        },
                    ]
                },
            },
            {
                "name": "block",
                "ephemeral": {
                    "volumeClaimTemplate": {
                        "metadata": {"labels": {"t": "1"}},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "volumeMode": "Block",
                            "storageClassName": "",
                            "selector": {"matchLabels": {"tier": "fast"}},
                            "resources": {"limits": {"storage": "2Gi"}, "requests": {"storage": "1Gi"}},
                            "volumeName": "pv-1",
                            "dataSource": {"kind": "PersistentVolumeClaim", "name": "seed"},
                            "dataSourceRef": {
                                "apiGroup": "",
                                "kind": "PersistentVolumeClaim",
                                "name": "seed",
                                "namespace": "other",
                            },
                            "volumeAttributesClassName": "gold",
                        },
                    }
                },
            },
        ],
        "initContainers": [{"name": "side", "image": "busybox:1", "restartPolicy": "Always"}],
        "containers": [
            APP,
            {
                "name": "shell",
                "image": "busybox:1",
                "args": ["sh"],
                "workingDir": "/tmp",
                "ports": [{"containerPort": 53, "hostPort": 5353, "hostIP": "127.0.0.1", "protocol": "UDP"}],
                "livenessProbe": {"exec": {"command": ["true"]}, "terminationGracePeriodSeconds": 5},
                "lifecycle": {
                    "postStart": {"tcpSocket": {"port": 53, "host": "localhost"}},
                    "preStop": {
                        "httpGet": {"path": "/quit", "port": 8080, "host": "localhost", "scheme": "HTTPS"}
                    },
                },
                "stdin": True,
                "stdinOnce": True,
                "tty": True,
            },
        ],
        "ephemeralContainers": [{"name": "look", "image": "busybox:1", "targetContainerName": "app"}],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 0,
        "activeDeadlineSeconds": 600,
        "dnsPolicy": "None",
        "dnsConfig": {
            "nameservers": ["10.0.0.10"],
            "searches": ["svc.local"],
            "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
        },
        "nodeSelector": {"disk": "ssd"},
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "automountServiceAccountToken": False,
        "hostPID": True,
        "shareProcessNamespace": False,
        "securityContext": {
            "runAsUser": 0,
            "runAsGroup": 0,
            "runAsNonRoot": False,
            "fsGroup": 0,
            "supplementalGroups": [0, 1000],
            "supplementalGroupsPolicy": "Strict",
            "fsGroupChangePolicy": "OnRootMismatch",
            "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}],
            "seccompProfile": {"type": "RuntimeDefault"},
            "seLinuxChangePolicy": "Recursive",
            "windowsOptions": {"runAsUserName": "", "hostProcess": False},
        },
        "imagePullSecrets": [{"name": "regcred"}],
        "hostname": "web",
        "subdomain": "shop",
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}],
                            "matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n9"]}],
                        }
                    ]
                },
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 10,
                        "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]},
                    }
                ],
            },
            "podAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 50,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": {"app": "db"}},
                            "topologyKey": "zone",
                        },
                    }
                ]
            },
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {
                            "matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]
                        },
                        "namespaceSelector": {},
                        "namespaces": ["shop"],
                        "topologyKey": "kubernetes.io/hostname",
                        "matchLabelKeys": ["pod-template-hash"],
                    }
                ]
            },
        },
        "schedulerName": "default-scheduler",
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {"key": "k1", "operator": "Equal", "value": "v1", "effect": "NoExecute", "tolerationSeconds": 0},
            {"operator": "Exists"},
        ],
        "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db", "db.local"]}],
        "priorityClassName": "low",
        "priority": 0,
        "readinessGates": [{"conditionType": "example.com/ready"}],
        "runtimeClassName": "runc",
        "enableServiceLinks": False,
        "preemptionPolicy": "Never",
        "overhead": {"cpu": "10m"},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "web"}},
                "minDomains": 2,
                "nodeAffinityPolicy": "Honor",
                "nodeTaintsPolicy": "Ignore",
                "matchLabelKeys": ["pod-template-hash"],
            }
        ],
        "setHostnameAsFQDN": False,
        "os": {"name": "linux"},
        "hostUsers": False,
        "schedulingGates": [{"name": "example.com/wait"}],
        "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "gpu-template"}],
        "resources": {"limits": {"cpu": "1", "memory": "256Mi"}},
    },
}


def creatable(name: str) -> dict[str, Any]:
    """RICH_POD as a client creates it: no system metadata, no ephemeral containers (they come
    only through the subresource), no service account token volume (admission adds its own, the
    token automounted), without the one field kubelite refuses because its scheduler would
    not act on it, and without the image volume (kube 1.33's default gates drop its source and
    then refuse the volume)."""
    pod = copy.deepcopy(RICH_POD)
    pod["metadata"] = {"name": name, "labels": {"app": "web"}, "annotations": {"note": "copied"}}
    spec = pod["spec"]
    del spec["ephemeralContainers"], spec["serviceAccount"], spec["automountServiceAccountToken"]
    spec["volumes"].remove(TOKEN_VOLUME)
    spec["volumes"] = [v for v in spec["volumes"] if "image" not in v]
    for c in spec["containers"]:
        c["volumeMounts"] = [m for m in c.get("volumeMounts", []) if m["name"] != TOKEN_VOLUME["name"]]
    del spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0][
        "matchLabelKeys"
    ]
    return pod


def prerequisites() -> list[dict[str, Any]]:
    """The cluster-scoped objects `creatable`'s pod names."""
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "low"},
            "value": 0,
            "preemptionPolicy": "Never",
        },
        {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": "runc"},
            "handler": "runc",
            "overhead": {"podFixed": {"cpu": "10m"}},
        },
    ]
