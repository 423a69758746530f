"""A small cluster in informer caches (no API server): the objects the DNS tests answer from."""

from __future__ import annotations

from typing import Any

from api.informer import Informer, key_of
from kubelet.dns.view import InformerView


def svc(
    name: str,
    ns: str = "default",
    cluster_ip: str = "10.96.0.20",
    ports: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"clusterIP": cluster_ip, "ports": ports or [{"port": 80, "protocol": "TCP"}], **spec},
    }


def eps(
    name: str,
    ns: str = "default",
    addresses: list[dict[str, Any]] | None = None,
    not_ready: list[dict[str, Any]] | None = None,
    ports: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    subset: dict[str, Any] = {
        "addresses": addresses or [],
        "ports": ports or [{"port": 8080, "protocol": "TCP"}],
    }
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    return {"kind": "Endpoints", "metadata": {"name": name, "namespace": ns}, "subsets": [subset]}


def pod(name: str, ns: str, ip: str) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": "1"},
        "status": {"podIP": ip},
    }


def cluster() -> tuple[InformerView, dict[str, Informer]]:
    """web (ClusterIP, named ports), db (headless, StatefulSet-style hostnames), ext (ExternalName), a pod."""
    informers = {r: Informer(None, r) for r in ("services", "endpoints", "pods")}  # type: ignore[arg-type]
    view = InformerView(informers["services"], informers["endpoints"], informers["pods"])
    objs = [
        svc(
            "web",
            ports=[
                {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"port": 9000, "protocol": "TCP"},
            ],
        ),
        eps(
            "web", addresses=[{"ip": "10.244.0.5"}], ports=[{"name": "http", "port": 8080, "protocol": "TCP"}]
        ),
        svc("db", cluster_ip="None", ports=[{"name": "pg", "port": 5432, "protocol": "TCP"}]),
        eps(
            "db",
            addresses=[
                {"ip": "10.244.0.7", "hostname": "db-0"},
                {"ip": "10.244.1.8", "hostname": "db-1"},
                {"ip": "10.244.1.9"},
            ],
            not_ready=[{"ip": "10.244.0.99", "hostname": "db-2"}],
            ports=[{"name": "pg", "port": 5432, "protocol": "TCP"}],
        ),
        svc("ext", cluster_ip="", type="ExternalName", externalName="example.org"),
        svc("empty", cluster_ip="None", ns="other"),
    ]
    for o in objs:
        inf = informers["services" if o["kind"] == "Service" else "endpoints"]
        inf._apply("ADDED", key_of(o), o)
    p = pod("client", "default", "10.244.0.12")
    informers["pods"]._apply("ADDED", key_of(p), p)
    return view, informers
