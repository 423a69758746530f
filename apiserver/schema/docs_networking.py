"""Short descriptions of EndpointSlice, Ingress, IngressClass and NetworkPolicy and their main
fields, for OpenAPI and `kubectl explain` (written for kubelite, in the style of `docs.py`)."""

from __future__ import annotations

NETWORKING_DOCS: dict[str, str] = {
    "EndpointSlice": "EndpointSlice holds up to 100 endpoints of a service that share one set of ports; the "
    "label kubernetes.io/service-name names the service.",
    "EndpointSlice.addressType": "The kind of address every endpoint carries: IPv4, IPv6 or FQDN. Cannot be "
    "changed.",
    "EndpointSlice.endpoints": "The endpoints of the slice, at most 1000.",
    "EndpointSlice.ports": "The ports every endpoint of the slice serves; a port's name matches the service port's.",
    "Endpoint": "One backend of a service: its addresses and conditions.",
    "Endpoint.addresses": "The endpoint's addresses, of the slice's addressType; proxies use the first.",
    "Endpoint.conditions": "Whether the endpoint is ready, serving and terminating.",
    "Endpoint.nodeName": "The node the endpoint runs on.",
    "EndpointConditions.ready": "The endpoint should get new traffic. Unset is read as ready; a terminating "
    "endpoint is never ready.",
    "EndpointConditions.serving": "The endpoint passes its readiness checks, terminating or not.",
    "EndpointConditions.terminating": "The endpoint is going away (its pod is being deleted).",
    "Ingress": "Ingress routes HTTP and HTTPS requests from outside the cluster to services, by host and path.",
    "Ingress.spec": "Which hosts and paths go to which backend, and the TLS certificates to serve.",
    "Ingress.status": "Where the ingress is served: the load balancer's addresses.",
    "IngressSpec.ingressClassName": "The IngressClass whose controller serves this Ingress; the default class is "
    "filled in when left empty.",
    "IngressSpec.defaultBackend": "Where requests no rule matches go; without it they get a 404.",
    "IngressSpec.tls": "Certificates to serve: each entry names a kubernetes.io/tls Secret and the hosts it covers.",
    "IngressSpec.rules": "Host rules, each with its paths; a rule without a host matches any host.",
    "IngressRule.host": "A DNS name, or a wildcard `*.example.com` matching exactly one more label. Not an IP.",
    "HTTPIngressPath.path": "The request path to match; must start with '/' for Exact and Prefix.",
    "HTTPIngressPath.pathType": "Exact matches the path exactly; Prefix matches it element by element ('/a' "
    "matches '/a/b' but not '/ab'); ImplementationSpecific is left to the class.",
    "HTTPIngressPath.backend": "The service (or resource) that gets the matching requests.",
    "IngressBackend.service": "A service of the Ingress's namespace and one of its ports, by name or number.",
    "IngressBackend.resource": "Another object of the Ingress's namespace serving the requests; excludes service.",
    "IngressTLS.hosts": "The hosts the certificate serves; empty means the Ingress's hosts.",
    "IngressTLS.secretName": "A Secret of type kubernetes.io/tls in the Ingress's namespace.",
    "IngressClass": "IngressClass names a kind of ingress and the controller that serves it; the annotation "
    "ingressclass.kubernetes.io/is-default-class marks the default.",
    "IngressClassSpec.controller": "The controller serving Ingresses of this class, a domain-prefixed path. "
    "Cannot be changed.",
    "IngressClassSpec.parameters": "An object with settings for the controller.",
    "NetworkPolicy": "NetworkPolicy says which traffic the pods it selects may receive and send; a pod that "
    "some policy selects for a direction accepts, in that direction, only what one of them allows.",
    "NetworkPolicy.spec": "The pods the policy applies to and the traffic it allows them.",
    "NetworkPolicySpec.podSelector": "The pods of the policy's namespace it applies to; an empty selector "
    "selects them all.",
    "NetworkPolicySpec.ingress": "Incoming traffic allowed to the selected pods, a rule per kind of traffic; "
    "traffic matching any rule of any policy is allowed. No rules: no incoming traffic is allowed.",
    "NetworkPolicySpec.egress": "Outgoing traffic allowed from the selected pods, rule by rule as for ingress. "
    "No rules: no outgoing traffic is allowed (when the policy covers Egress).",
    "NetworkPolicySpec.policyTypes": "The directions the policy isolates: Ingress, Egress or both. Left empty, "
    "Ingress, and Egress too when there are egress rules; an egress-only policy must say [Egress].",
    "NetworkPolicyIngressRule.ports": "The destination ports the rule allows; empty allows every port.",
    "NetworkPolicyIngressRule.from": "The sources the rule allows; empty allows every source.",
    "NetworkPolicyEgressRule.ports": "The destination ports the rule allows; empty allows every port.",
    "NetworkPolicyEgressRule.to": "The destinations the rule allows; empty allows every destination.",
    "NetworkPolicyPort.protocol": "TCP, UDP or SCTP; TCP when left out.",
    "NetworkPolicyPort.port": "A port number, or the name of a container port of the pods; none matches "
    "every port.",
    "NetworkPolicyPort.endPort": "With a numeric port, the last port of the range port..endPort allowed.",
    "NetworkPolicyPeer.podSelector": "Pods of the policy's namespace, or of the namespaces namespaceSelector "
    "picks when it is set too; empty selects all.",
    "NetworkPolicyPeer.namespaceSelector": "Namespaces whose pods (all, or those podSelector picks) are "
    "allowed; empty selects every namespace.",
    "NetworkPolicyPeer.ipBlock": "A range of IP addresses; cannot be set with the selectors.",
    "IPBlock.cidr": "The range, as a CIDR such as 192.168.1.0/24 or 2001:db8::/64.",
    "IPBlock.except": "Ranges inside cidr that are left out.",
}
