"""Cluster DNS: the node's DNS server (records, view, server, forward) and each pod's DNS files (podconfig).

The server runs in every agent beside the service proxy, as kube-proxy's sibling: it reads
Services, Endpoints and Pods through the agent's informers and answers the Kubernetes DNS
schema (kubernetes/dns docs/specification.md); the `kube-dns` Service's Endpoints list the
nodes whose server listens (controller/kubedns.py).
"""
