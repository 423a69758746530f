"""The ingress controller built into each agent: Ingresses of the `kubelite` class served by a
real nginx on the node's ports 80 and 443 (see `routes` for the decisions, `nginxconf` for the
file, `nginx` for the process, `controller` for the loop)."""
