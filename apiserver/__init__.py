"""The API server: Kubernetes v1 REST over HTTPS on a kine-style store (see apiserver.storage)."""
