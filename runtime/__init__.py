"""The container runtime: images, OCI bundles run by runc under conmon, pod network sandboxes.

It imports nothing else of kubelite's: the kubelet drives it through the `Runtime` Protocol, users
through the daemonless docker-style CLI `kubelite runtime`."""
