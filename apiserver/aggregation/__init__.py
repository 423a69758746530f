"""API aggregation, as kube-aggregator does it in front of kube-apiserver.

An APIService (apiregistration.k8s.io/v1) names who serves one group/version: this server
(`Local`) or an extension API server behind a Service (metrics-server, prometheus-adapter,
KEDA's external.metrics.k8s.io ...). For the latter, requests under `/apis/<group>/<version>`
are authenticated and authorized here as any request, then relayed over HTTPS to a ready
endpoint of the Service with the front-proxy client certificate and the caller's identity in
`X-Remote-*` headers (the requestheader contract the extension server reads from the
`kube-system/extension-apiserver-authentication` ConfigMap).

Pure decisions, unit-tested: `apiservices` (what an APIService says, priorities and order, the
Local objects this server registers, the Available condition), `availability` (kube's reasons),
`discovery` (the merged discovery documents), `requestinfo` (the RBAC question of a relayed
request, the identity headers). Their shells: `served` (the mirrored APIServices: the one dict a
request consults), `controller` (availability checks and the Local registrations), `proxy` (the
relay), `frontproxy` (the front-proxy CA, client certificate and the ConfigMap). Nothing here is
imported on a request path unless an APIService names a Service.
"""
