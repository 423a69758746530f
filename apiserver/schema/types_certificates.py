"""Field table of certificates.k8s.io/v1 CertificateSigningRequest, in the compact notation of
`types.py` (k8s.io/api certificates/v1 as of Kubernetes 1.33).

A group of its own, as kube keeps it. `request` and `certificate` are Go `[]byte`: base64 text
on the wire, decoded and checked by the kind's validation (apiserver/kinds/certificates.py).
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META

CERTIFICATES = "io.k8s.api.certificates.v1"

CERTIFICATES_TYPES: dict[str, dict[str, str]] = {
    "CertificateSigningRequest": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec!": "CertificateSigningRequestSpec",
        "status": "CertificateSigningRequestStatus",
    },
    "CertificateSigningRequestSpec": {
        "request!": "string",
        "signerName!": "string",
        "expirationSeconds": "integer",
        "usages": "[string]",
        "username": "string",
        "uid": "string",
        "groups": "[string]",
        "extra": "{[string]}",
    },
    "CertificateSigningRequestStatus": {
        "conditions": "[CertificateSigningRequestCondition]",
        "certificate": "string",
    },
    "CertificateSigningRequestCondition": {
        "type!": "string",
        "status!": "string",
        "reason": "string",
        "message": "string",
        "lastUpdateTime": "Time",
        "lastTransitionTime": "Time",
    },
}

CERTIFICATES_KINDS: dict[str, str] = {"CertificateSigningRequest": "certificates.k8s.io/v1"}
CERTIFICATES_LISTED_KINDS = tuple(CERTIFICATES_KINDS)
