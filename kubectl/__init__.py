"""kubectl: the command-line client. It talks to any Kubernetes-compatible API through `api`'s client."""
