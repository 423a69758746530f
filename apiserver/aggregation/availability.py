"""The Available condition of a service-backed APIService, as kube-aggregator's
AvailableConditionController decides it (pure; `controller` reads the objects and probes).

In order, each failure ending the check with status False:
- the Service is missing: `ServiceNotFound`;
- for a ClusterIP Service (the default type): no port with the APIService's number,
  `ServicePortError`; no Endpoints object, `EndpointsNotFound`; no subset with addresses and a port
  of that port's name, `MissingEndpoints`;
- the extension server does not answer `GET /apis/<group>/<version>` with 2xx within 5 s:
  `FailedDiscoveryCheck`, the message naming the URL and why (`failing or missing response from
  https://10.0.0.5:8443/apis/metrics.k8s.io/v1beta1: ...`).
All passed: True, `Passed`, "all checks passed". The messages are kube's.
"""

from __future__ import annotations

from typing import Any

from apiserver.aggregation.apiservices import ServiceRef, available_condition

Obj = dict[str, Any]


def _false(reason: str, message: str, now: str) -> Obj:
    return available_condition("False", reason, message, now)


def passed(now: str) -> Obj:
    return available_condition("True", "Passed", "all checks passed", now)


def precheck(ref: ServiceRef, service: Obj | None, endpoints: Obj | None, now: str) -> Obj | None:
    """The False condition the Service and its Endpoints already decide, None when the extension
    server must be asked."""
    where = f'service/{ref.name} in "{ref.namespace}"'
    if service is None:
        return _false("ServiceNotFound", f"{where} is not present", now)
    spec = service.get("spec") or {}
    if (spec.get("type") or "ClusterIP") != "ClusterIP":
        return None
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict) and p.get("port") == ref.port]
    if not ports:
        return _false("ServicePortError", f"{where} is not listening on port {ref.port}", now)
    port_name = str(ports[0].get("name") or "")
    if endpoints is None:
        return _false("EndpointsNotFound", f"cannot find endpoints for {where}", now)
    for subset in endpoints.get("subsets") or []:
        if subset.get("addresses") and any(
            (p.get("name") or "") == port_name for p in subset.get("ports") or [] if isinstance(p, dict)
        ):
            return None
    return _false(
        "MissingEndpoints", f'endpoints for {where} have no addresses with port name "{port_name}"', now
    )


def discovery_url(authority: str, group: str, version: str) -> str:
    path = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    return f"https://{authority}{path}"


def failed_discovery(message: str, now: str) -> Obj:
    return _false("FailedDiscoveryCheck", message, now)


def no_response(url: str, why: str) -> str:
    return f"failing or missing response from {url}: {why}"


def bad_status(url: str, code: int) -> str:
    return f"bad status from {url}: {code}"


def same(a: Obj | None, b: Obj) -> bool:
    """Whether a stored condition already says what `b` says (its transition time aside)."""
    return a is not None and all(a.get(k) == b.get(k) for k in ("status", "reason", "message"))
