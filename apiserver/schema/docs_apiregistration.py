"""Short descriptions of APIService and its fields, for OpenAPI and `kubectl explain` (written for
kubelite, in the style of `docs.py`)."""

from __future__ import annotations

APIREGISTRATION_DOCS: dict[str, str] = {
    "APIService": "APIService says which server answers the requests of one API group/version: this "
    "API server itself (no service: Local) or an extension API server behind a Service, to which the "
    "API server proxies them once it has authenticated and authorized them. Its name is "
    "<version>.<group>.",
    "APIService.spec": "Which group/version, where its server is and how it is trusted.",
    "APIService.status": "Whether the group/version can be served now.",
    "APIServiceSpec.service": "The Service in front of the extension API server (HTTPS on its port, 443 "
    "by default). Unset, the group/version is served by this API server itself.",
    "APIServiceSpec.group": "The API group this server hosts.",
    "APIServiceSpec.version": "The API version this server hosts, e.g. v1beta1.",
    "APIServiceSpec.insecureSkipTLSVerify": "Do not verify the extension server's certificate. "
    "Discouraged: use caBundle.",
    "APIServiceSpec.caBundle": "PEM CA bundle (base64 on the wire) that signed the extension server's "
    "serving certificate, verified for the name <service>.<namespace>.svc.",
    "APIServiceSpec.groupPriorityMinimum": "The priority the group has at least (1 to 20000, higher "
    "first): orders the groups of discovery.",
    "APIServiceSpec.versionPriority": "The order of this version within its group (1 to 1000, higher "
    "first): the first is the group's preferred version.",
    "APIServiceServiceReference.namespace": "The Service's namespace.",
    "APIServiceServiceReference.name": "The Service's name.",
    "APIServiceServiceReference.port": "The Service's port (443 by default).",
    "APIServiceStatus.conditions": "The Available condition: True (Local, or Passed: the service has "
    "endpoints and its server answered discovery), False with why not.",
}
