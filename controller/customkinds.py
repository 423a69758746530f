"""The custom resources the cluster serves, read from its CustomResourceDefinitions.

kube's controllers find custom kinds by discovery; here the CRD objects say the same: an
Established CRD serves its accepted names, read here in its storage version when that one is
served (else the first served one: the API server converts). The namespace controller
empties a namespace of them; the garbage collector follows them as owners and dependents.
"""

from __future__ import annotations

from collections.abc import Iterable

from api.resources import Resource
from controller.base import Obj

CRDS = "customresourcedefinitions"


def custom_resources(crds: Iterable[Obj], namespaced_only: bool = False) -> list[Resource]:
    """One Resource per Established CRD with a served version (cluster-scoped ones unless
    `namespaced_only`), in its storage version if served."""
    out = []
    for crd in crds:
        spec, status = crd.get("spec") or {}, crd.get("status") or {}
        established = any(
            c.get("type") == "Established" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        names = status.get("acceptedNames") or {}
        served = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served")]
        version = next((v.get("name") for v in served if v.get("storage")), None) or next(
            (v.get("name") for v in served), None
        )
        namespaced = spec.get("scope") == "Namespaced"
        if not (established and names.get("plural") and version) or (namespaced_only and not namespaced):
            continue
        out.append(
            Resource(
                names["plural"],
                names.get("singular") or names["plural"],
                names.get("kind", ""),
                namespaced,
                group=spec.get("group", ""),
                version=version,
            )
        )
    return out
