"""Short descriptions of EndpointSlice, Ingress and IngressClass and their main fields, for OpenAPI
and `kubectl explain` (written for kubelite, in the style of `docs.py`)."""

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
}
