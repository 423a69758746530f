"""The pod proxy `kubelite server` hands to `serve()`: `PodProxy(state)` becomes `State.pod_proxy`.

A thin adapter so `apiserver.serve` needs no knowledge of the kubelet proxy's credentials:
the proxy itself (checks, client certificate, log and exec forwarding) is `apiserver.kubeletproxy`.
"""

from __future__ import annotations

from typing import Any

from apiserver.kubeletproxy import KubeletProxy


class PodProxy(KubeletProxy):
    """KubeletProxy over the server's registry, with its client certificate in DATA_DIR/tls."""

    def __init__(self, state: Any) -> None:
        tls = state.config.data_dir / "tls"
        super().__init__(state.registry, tls, tls / "ca.crt", tls / "ca.key")
