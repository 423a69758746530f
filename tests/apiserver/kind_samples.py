"""A minimal valid object of every kind whose bare `{"metadata": ...}` the API server rejects.

Used by tests that create, update and delete an object of each served kind generically
(tests/apiserver/test_python_client_informers.py): `sample(resource, name, namespace)` is the
body to create, with the name (and namespace) asked for, or the kind's own name where its
validation fixes one (a CustomResourceDefinition is `<plural>.<group>`, an APIService
`<version>.<group>`). A kind missing here is created with metadata alone; when the server refuses
that, the test says which kind needs a row here.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api.resources import Resource

Body = dict[str, Any]
POD_SPEC: Body = {"containers": [{"name": "c", "image": "busybox:1"}]}


def _template(labels: dict[str, str]) -> Body:
    return {"metadata": {"labels": labels}, "spec": POD_SPEC}


def _selector_workload(name: str, _ns: str) -> Body:
    labels = {"sample": name}
    return {"spec": {"selector": {"matchLabels": labels}, "template": _template(labels)}}


def _job(name: str, _ns: str) -> Body:
    return {"spec": {"template": {"spec": {**POD_SPEC, "restartPolicy": "Never"}}}}


def _csr(name: str, _ns: str) -> Body:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    pem = csr.public_bytes(serialization.Encoding.PEM)
    return {
        "spec": {
            "request": base64.b64encode(pem).decode(),
            "signerName": "example.com/signer",
            "usages": ["digital signature"],
        }
    }


def _event_core(name: str, ns: str) -> Body:
    return {
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": ns},
        "reason": "Sample",
        "message": "a sample",
        "type": "Normal",
    }


def _event_v1(name: str, ns: str) -> Body:
    return {
        "eventTime": "2024-01-01T00:00:00.000000Z",
        "reportingController": "example.com/sample",
        "reportingInstance": "sample-1",
        "action": "Sample",
        "reason": "Sample",
        "type": "Normal",
        "regarding": {"kind": "Pod", "name": "p", "namespace": ns},
    }


def _hpa(version: str) -> Callable[[str, str], Body]:
    def make(name: str, _ns: str) -> Body:
        spec: Body = {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
            "maxReplicas": 2,
        }
        return {"spec": spec}

    return make


def _crd(name: str, _ns: str) -> Body:
    plural = name.replace("-", "")
    return {
        "metadata": {"name": f"{plural}.samples.example.com"},
        "spec": {
            "group": "samples.example.com",
            "names": {"plural": plural, "singular": plural, "kind": "Sample", "listKind": "SampleList"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


def _apiservice(name: str, _ns: str) -> Body:
    group = f"{name}.samples.example.com"
    return {
        "metadata": {"name": f"v1.{group}"},
        "spec": {"group": group, "version": "v1", "groupPriorityMinimum": 100, "versionPriority": 10},
    }


def _vap(name: str, _ns: str) -> Body:
    return {
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["apps"],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["deployments"],
                    }
                ]
            },
            "validations": [{"expression": "object.spec.replicas <= 50"}],
        }
    }


def _static(body: Body) -> Callable[[str, str], Body]:
    return lambda _name, _ns: body


SAMPLES: dict[tuple[str, str], Callable[[str, str], Body]] = {
    ("v1", "Pod"): _static({"spec": POD_SPEC}),
    ("v1", "ReplicationController"): lambda name, _ns: {
        "spec": {"replicas": 0, "selector": {"sample": name}, "template": _template({"sample": name})}
    },
    ("v1", "Service"): _static({"spec": {"ports": [{"port": 80}]}}),
    ("v1", "PodTemplate"): _static({"template": {"spec": POD_SPEC}}),
    ("v1", "Event"): _event_core,
    ("v1", "PersistentVolumeClaim"): _static(
        {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    ),
    ("v1", "PersistentVolume"): _static(
        {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "capacity": {"storage": "1Gi"},
                "hostPath": {"path": "/tmp/pv"},
            }
        }
    ),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): _static(
        {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}}
    ),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): _static(
        {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}}
    ),
    ("events.k8s.io/v1", "Event"): _event_v1,
    ("apps/v1", "ControllerRevision"): _static({"data": {"spec": {}}, "revision": 1}),
    ("apps/v1", "DaemonSet"): _selector_workload,
    ("apps/v1", "Deployment"): _selector_workload,
    ("apps/v1", "ReplicaSet"): _selector_workload,
    ("apps/v1", "StatefulSet"): lambda name, ns: {
        "spec": {**_selector_workload(name, ns)["spec"], "serviceName": "s"}
    },
    ("batch/v1", "Job"): _job,
    ("batch/v1", "CronJob"): lambda name, ns: {
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": _job(name, ns)}
    },
    ("storage.k8s.io/v1", "StorageClass"): _static({"provisioner": "example.com/sample"}),
    ("storage.k8s.io/v1", "CSIDriver"): _static(
        {"spec": {"attachRequired": False, "podInfoOnMount": False, "storageCapacity": False}}
    ),
    ("storage.k8s.io/v1", "VolumeAttachment"): _static(
        {
            "spec": {
                "attacher": "sample.example.com",
                "nodeName": "n",
                "source": {"persistentVolumeName": "pv"},
            }
        }
    ),
    ("storage.k8s.io/v1", "CSINode"): _static({"spec": {"drivers": []}}),  # the client's model requires spec
    ("storage.k8s.io/v1", "CSIStorageCapacity"): _static({"storageClassName": "standard"}),
    # a level of its own for the sample schema, so the bootstrap configuration is left alone
    ("flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfiguration"): _static(
        {
            "spec": {
                "type": "Limited",
                "limited": {"nominalConcurrencyShares": 1, "limitResponse": {"type": "Reject"}},
            }
        }
    ),
    ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"): _static(
        {
            "spec": {
                "priorityLevelConfiguration": {"name": "sample-level"},
                "matchingPrecedence": 9000,
                "rules": [
                    {
                        "subjects": [{"kind": "User", "user": {"name": "nobody-sample"}}],
                        "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/sample"]}],
                    }
                ],
            }
        }
    ),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"): _csr,
    ("node.k8s.io/v1", "RuntimeClass"): _static({"handler": "runc"}),
    ("discovery.k8s.io/v1", "EndpointSlice"): _static({"addressType": "IPv4", "endpoints": []}),
    ("networking.k8s.io/v1", "IngressClass"): _static({"spec": {"controller": "example.com/sample"}}),
    ("networking.k8s.io/v1", "Ingress"): _static(
        {"spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 80}}}}}
    ),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"): _vap,
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"): lambda name, _ns: {
        "spec": {"policyName": f"{name}-absent", "validationActions": ["Deny"]}
    },
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): _crd,
    ("apiregistration.k8s.io/v1", "APIService"): _apiservice,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): _hpa("v2"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"): _hpa("v1"),
}


def sample(res: Resource, name: str, namespace: str, labels: dict[str, str]) -> Body:
    """The body to create an object of `res` named `name` (or the name its kind requires) in
    `namespace` (for a namespaced kind), carrying `labels`."""
    make = SAMPLES.get((res.api_version, res.kind))
    body: Body = make(name, namespace) if make else {}
    meta: Body = {"name": name, **body.get("metadata", {}), "labels": labels}
    if res.namespaced:
        meta["namespace"] = namespace
    return {"apiVersion": res.api_version, "kind": res.kind, **body, "metadata": meta}
