"""What an APIService says, and the order and conditions kube-aggregator gives them (pure).

- `parse(obj)` -> `APIServiceInfo`: group, version, the Service (port 443 by default) or None for
  Local, how the extension server is trusted, priorities, and whether Available is True.
- `PRIORITIES` and `local_apiservice(group, version)`: the Local APIServices this server registers
  for what it serves itself, with kube-apiserver's priorities (apiVersionPriorities; metrics.k8s.io
  as metrics-server registers it), labelled `kube-aggregator.kubernetes.io/automanaged: onstart`,
  and custom resources' with kube's crdregistration priorities and `automanaged: "true"`.
- `version_key` and `sorted_by_group_and_version`: kube's SortedByGroupAndVersion (groups by
  groupPriorityMinimum, highest first, then the APIService name; versions within a group by
  versionPriority, then kube-aware version order: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > foo).
- `set_condition(status, condition)`: kube's SetAPIServiceCondition (the transition time moves
  only when the status does); `local_condition(now)` is what a Local APIService always has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apiserver.validation.apiregistration import ca_bundle_bytes

Obj = dict[str, Any]
GROUP = "apiregistration.k8s.io"
API_VERSION = "apiregistration.k8s.io/v1"
AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"
AVAILABLE = "Available"
DEFAULT_PORT = 443

# kube-apiserver's apiVersionPriorities (1.33) for the groups kubelite serves: (group, version)
PRIORITIES: dict[tuple[str, str], tuple[int, int]] = {
    ("", "v1"): (18000, 1),
    ("apps", "v1"): (17800, 15),
    ("events.k8s.io", "v1"): (17750, 15),
    ("authentication.k8s.io", "v1"): (17700, 15),
    ("authentication.k8s.io", "v1beta1"): (17700, 9),
    ("authorization.k8s.io", "v1"): (17600, 15),
    ("autoscaling", "v2"): (17500, 30),
    ("autoscaling", "v1"): (17500, 15),
    ("batch", "v1"): (17400, 15),
    ("certificates.k8s.io", "v1"): (17300, 15),
    ("networking.k8s.io", "v1"): (17200, 15),
    ("policy", "v1"): (17100, 15),
    ("rbac.authorization.k8s.io", "v1"): (17000, 15),
    ("storage.k8s.io", "v1"): (16800, 15),
    ("apiextensions.k8s.io", "v1"): (16700, 15),
    ("admissionregistration.k8s.io", "v1"): (16700, 15),
    ("scheduling.k8s.io", "v1"): (16600, 15),
    ("coordination.k8s.io", "v1"): (16500, 15),
    ("node.k8s.io", "v1"): (16300, 15),
    ("discovery.k8s.io", "v1"): (16200, 15),
    ("metrics.k8s.io", "v1beta1"): (100, 100),  # served here until metrics-server's APIService takes it
}
CRD_PRIORITIES = (1000, 100)  # kube's crdregistration: custom groups low, versions in kube-aware order
_KUBE_VERSION = re.compile(r"^v([0-9]+)(?:(alpha|beta)([0-9]+))?$")


@dataclass(frozen=True)
class ServiceRef:
    namespace: str
    name: str
    port: int = DEFAULT_PORT


@dataclass(frozen=True)
class APIServiceInfo:
    name: str
    group: str
    version: str
    service: ServiceRef | None
    ca_bundle: bytes = b""
    insecure: bool = False
    group_priority: int = 0
    version_priority: int = 0
    available: bool = False

    @property
    def server_name(self) -> str:
        """The TLS name the extension server's certificate must carry: <service>.<namespace>.svc."""
        return f"{self.service.name}.{self.service.namespace}.svc" if self.service else ""


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def condition(obj: Obj, kind: str = AVAILABLE) -> Obj | None:
    conditions = (obj.get("status") or {}).get("conditions") if isinstance(obj.get("status"), dict) else None
    for c in conditions if isinstance(conditions, list) else []:
        if isinstance(c, dict) and c.get("type") == kind:
            return c
    return None


def parse(obj: Obj) -> APIServiceInfo:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    svc = spec.get("service")
    service = (
        ServiceRef(
            str(svc.get("namespace") or ""), str(svc.get("name") or ""), _int(svc.get("port"), DEFAULT_PORT)
        )
        if isinstance(svc, dict)
        else None
    )
    available = condition(obj)
    return APIServiceInfo(
        name=str((obj.get("metadata") or {}).get("name") or ""),
        group=str(spec.get("group") or ""),
        version=str(spec.get("version") or ""),
        service=service,
        ca_bundle=ca_bundle_bytes(spec.get("caBundle")),
        insecure=spec.get("insecureSkipTLSVerify") is True,
        group_priority=_int(spec.get("groupPriorityMinimum")),
        version_priority=_int(spec.get("versionPriority")),
        available=available is not None and available.get("status") == "True",
    )


def name_of(group: str, version: str) -> str:
    return f"{version}.{group}"


def local_apiservice(group: str, version: str, custom: bool = False) -> Obj | None:
    """The Local APIService this server registers for a group/version it serves; None for one
    without a known priority (kube registers none then, lest it shadow a later one for good)."""
    priorities = CRD_PRIORITIES if custom else PRIORITIES.get((group, version))
    if priorities is None:
        return None
    return {
        "apiVersion": API_VERSION,
        "kind": "APIService",
        "metadata": {
            "name": name_of(group, version),
            "labels": {AUTOMANAGED: "true" if custom else "onstart"},
        },
        "spec": {
            **({"group": group} if group else {}),  # omitted when empty, as kube writes the core one
            "version": version,
            "groupPriorityMinimum": priorities[0],
            "versionPriority": priorities[1],
        },
    }


def version_key(version: str) -> tuple[int, int, int, int, str]:
    """Sort key of kube's CompareKubeAwareVersionStrings: ascending order is kube's preference."""
    m = _KUBE_VERSION.match(version)
    if m is None:
        return (1, 0, 0, 0, version)
    stage = {"": 3, "beta": 2, "alpha": 1}[m.group(2) or ""]
    return (0, -stage, -int(m.group(1)), -int(m.group(3) or 0), "")


def sorted_by_group_and_version(infos: list[APIServiceInfo]) -> list[list[APIServiceInfo]]:
    """The APIServices grouped by group, groups and versions in kube's discovery order."""
    groups: dict[str, list[APIServiceInfo]] = {}
    for info in sorted(infos, key=lambda i: (-i.group_priority, i.name)):
        groups.setdefault(info.group, []).append(info)
    return [sorted(g, key=lambda i: (-i.version_priority, version_key(i.version))) for g in groups.values()]


def available_condition(status: str, reason: str, message: str, now: str) -> Obj:
    """The Available condition saying `status` for `reason`, as of `now`."""
    return {
        "type": AVAILABLE,
        "status": status,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def local_condition(now: str) -> Obj:
    return available_condition("True", "Local", "Local APIServices are always available", now)


def set_condition(status: Any, new: Obj) -> Obj:
    """The status with `new` set as kube sets a condition: added when missing, else its reason and
    message replaced, and its status and transition time only when the status changed."""
    status = dict(status) if isinstance(status, dict) else {}
    conditions = [dict(c) for c in status.get("conditions") or [] if isinstance(c, dict)]
    for c in conditions:
        if c.get("type") == new["type"]:
            if c.get("status") != new["status"]:
                c["status"], c["lastTransitionTime"] = new["status"], new["lastTransitionTime"]
            c["reason"], c["message"] = new.get("reason", ""), new.get("message", "")
            break
    else:
        conditions.append(dict(new))
    status["conditions"] = conditions
    return status
