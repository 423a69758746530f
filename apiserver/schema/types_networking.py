"""Field tables of discovery.k8s.io/v1 EndpointSlice and networking.k8s.io/v1 Ingress,
IngressClass and NetworkPolicy, in the compact notation of `types.py` (k8s.io/api discovery/v1
and networking/v1 as of Kubernetes 1.33).

Kept apart so that service discovery, ingress and network policy are one small table. The
discovery package's `EndpointPort` is spelt `DiscoveryEndpointPort` here because type names are
global in the table and core/v1 already has an `EndpointPort` (whose port is required; this
one's is optional).
"""

from __future__ import annotations

from apiserver.schema.types import TYPE_META

DISCOVERY = "io.k8s.api.discovery.v1"
NETWORKING = "io.k8s.api.networking.v1"

DISCOVERY_TYPES: dict[str, dict[str, str]] = {
    "EndpointSlice": {
        **TYPE_META,
        "metadata": "ObjectMeta",
        "addressType!": "string",
        "endpoints!": "[Endpoint]",
        "ports": "[DiscoveryEndpointPort]",
    },
    "Endpoint": {
        "addresses!": "[string]@set",
        "conditions": "EndpointConditions",
        "hostname": "string",
        "targetRef": "ObjectReference",
        "deprecatedTopology": "{string}",
        "nodeName": "string",
        "zone": "string",
        "hints": "EndpointHints",
    },
    "EndpointConditions": {"ready": "boolean", "serving": "boolean", "terminating": "boolean"},
    "EndpointHints": {"forZones": "[ForZone]", "forNodes": "[ForNode]"},
    "ForZone": {"name!": "string"},
    "ForNode": {"name!": "string"},
    "DiscoveryEndpointPort": {
        "name": "string",
        "protocol": "string",
        "port": "integer",
        "appProtocol": "string",
    },
}

NETWORKING_TYPES: dict[str, dict[str, str]] = {
    "Ingress": {**TYPE_META, "metadata": "ObjectMeta", "spec": "IngressSpec", "status": "IngressStatus"},
    "IngressSpec": {
        "ingressClassName": "string",
        "defaultBackend": "IngressBackend",
        "tls": "[IngressTLS]",
        "rules": "[IngressRule]",
    },
    "IngressBackend": {"service": "IngressServiceBackend", "resource": "TypedLocalObjectReference"},
    "IngressServiceBackend": {"name!": "string", "port": "ServiceBackendPort"},
    "ServiceBackendPort": {"name": "string", "number": "integer"},
    "IngressTLS": {"hosts": "[string]", "secretName": "string"},
    "IngressRule": {"host": "string", "http": "HTTPIngressRuleValue"},
    "HTTPIngressRuleValue": {"paths!": "[HTTPIngressPath]"},
    "HTTPIngressPath": {"path": "string", "pathType!": "string", "backend!": "IngressBackend"},
    "IngressStatus": {"loadBalancer": "IngressLoadBalancerStatus"},
    "IngressLoadBalancerStatus": {"ingress": "[IngressLoadBalancerIngress]"},
    "IngressLoadBalancerIngress": {"ip": "string", "hostname": "string", "ports": "[IngressPortStatus]"},
    "IngressPortStatus": {"port!": "integer", "protocol!": "string", "error": "string"},
    "IngressClass": {**TYPE_META, "metadata": "ObjectMeta", "spec": "IngressClassSpec"},
    "IngressClassSpec": {"controller": "string", "parameters": "IngressClassParametersReference"},
    "IngressClassParametersReference": {
        "apiGroup": "string",
        "kind!": "string",
        "name!": "string",
        "scope": "string",
        "namespace": "string",
    },
    # no status: kube 1.28 removed the alpha one
    "NetworkPolicy": {**TYPE_META, "metadata": "ObjectMeta", "spec": "NetworkPolicySpec"},
    "NetworkPolicySpec": {
        "podSelector!": "LabelSelector",  # required in 1.33's OpenAPI (optional from 1.34)
        "ingress": "[NetworkPolicyIngressRule]",
        "egress": "[NetworkPolicyEgressRule]",
        "policyTypes": "[string]",
    },
    "NetworkPolicyIngressRule": {"ports": "[NetworkPolicyPort]", "from": "[NetworkPolicyPeer]"},
    "NetworkPolicyEgressRule": {"ports": "[NetworkPolicyPort]", "to": "[NetworkPolicyPeer]"},
    "NetworkPolicyPort": {"protocol": "string", "port": "IntOrString", "endPort": "integer"},
    "NetworkPolicyPeer": {
        "podSelector": "LabelSelector",
        "namespaceSelector": "LabelSelector",
        "ipBlock": "IPBlock",
    },
    "IPBlock": {"cidr!": "string", "except": "[string]"},
}

NETWORKING_KINDS: dict[str, str] = {
    "EndpointSlice": "discovery.k8s.io/v1",
    "Ingress": "networking.k8s.io/v1",
    "IngressClass": "networking.k8s.io/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
}
NETWORKING_LISTED_KINDS = tuple(NETWORKING_KINDS)
