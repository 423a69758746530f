"""Field table of apiregistration.k8s.io/v1 APIService, in the compact notation of `types.py`
(k8s.io/kube-aggregator apis/apiregistration/v1 as of Kubernetes 1.33).

An APIService says which server answers one group/version: kubelite itself (`service` unset,
"Local") or an extension API server behind a Service. Its ServiceReference is not
admissionregistration's (no path, nothing required), so the table names it
`APIServiceServiceReference` and `NAMES` gives kube's name. caBundle is bytes, base64 on the wire.
Status conditions merge by type.
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META, condition

APIREGISTRATION = "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1"

APIREGISTRATION_TYPES: dict[str, dict[str, str]] = {
    "APIService": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "spec": "APIServiceSpec",
        "status": "APIServiceStatus",
    },
    "APIServiceSpec": {
        "service": "APIServiceServiceReference",
        "group": "string",
        "version": "string",
        "insecureSkipTLSVerify": "boolean",
        "caBundle": "string",
        "groupPriorityMinimum!": "integer",
        "versionPriority!": "integer",
    },
    "APIServiceServiceReference": {"namespace": "string", "name": "string", "port": "integer"},
    "APIServiceStatus": {"conditions": "[APIServiceCondition]@type"},
    "APIServiceCondition": condition(),
}

APIREGISTRATION_KINDS: dict[str, str] = {"APIService": "apiregistration.k8s.io/v1"}
APIREGISTRATION_LISTED_KINDS = tuple(APIREGISTRATION_KINDS)
NAMES = {"APIServiceServiceReference": "ServiceReference"}
