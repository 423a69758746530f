"""The PersistentVolume controller's decisions, pure: which volume a claim binds to, what the two
sides look like once bound, and what phase each is in (pkg/controller/volume/persistentvolume).

A volume fits a claim when it is free (no claimRef, or a claimRef naming this claim), of the same
class and volume mode, offers every access mode the claim asks for, holds at least the requested
storage, carries the labels the claim's selector wants and, for a claim whose node was chosen
by the scheduler (WaitForFirstConsumer), is reachable from that node. Among fitting volumes a
pre-bound one wins, then the smallest (kube's findMatchingVolume). Binding writes kube's marks:
`claimRef` and `pv.kubernetes.io/bound-by-controller` on the volume, `volumeName`,
`pv.kubernetes.io/bind-completed` (and bound-by-controller when it chose the volume) on the claim.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from api.quantity import parse_quantity
from api.selectors import selector_from_label_selector
from controller.scheduler.affinityterms import NodeSelectorTerm, node_selector_term

Obj = dict[str, Any]

BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
NO_PROVISIONER = "kubernetes.io/no-provisioner"


def _d(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def meta(obj: Obj) -> Obj:
    return _d(obj.get("metadata"))


def size(value: Any) -> Any:
    try:
        return parse_quantity(value)
    except (TypeError, ValueError, ArithmeticError):
        return None


def requested(claim: Obj) -> Any:
    return size(_d(_d(_d(claim.get("spec")).get("resources")).get("requests")).get("storage"))


def capacity(pv: Obj) -> Any:
    return size(_d(_d(pv.get("spec")).get("capacity")).get("storage"))


def claim_key(claim: Obj) -> str:
    return f"{meta(claim).get('namespace')}/{meta(claim).get('name')}"


def ref_key(pv: Obj) -> str | None:
    ref = _d(pv.get("spec")).get("claimRef")
    return f"{ref.get('namespace')}/{ref.get('name')}" if isinstance(ref, dict) else None


def class_of(obj: Obj) -> str:
    return str(_d(obj.get("spec")).get("storageClassName") or "")


_PARSED_TERMS: dict[tuple[str, str], tuple[NodeSelectorTerm, ...]] = {}  # (uid, resourceVersion) -> terms


def _volume_terms(pv: Obj) -> tuple[NodeSelectorTerm, ...]:
    """The volume's required node selector terms, parsed once per version of it (a scheduling
    decision asks for every node)."""
    m = meta(pv)
    version = (str(m.get("uid") or ""), str(m.get("resourceVersion") or ""))
    found = _PARSED_TERMS.get(version) if version[1] else None
    if found is None:
        raw = _d(_d(_d(pv.get("spec")).get("nodeAffinity")).get("required")).get("nodeSelectorTerms")
        found = tuple(node_selector_term(_d(t)) for t in raw or [])
        if version[1]:
            if len(_PARSED_TERMS) > 10_000:  # volumes come and go: a bound, not a registry
                _PARSED_TERMS.clear()
            _PARSED_TERMS[version] = found
    return found


def node_fits(pv: Obj, node_name: str, labels: Mapping[str, str]) -> bool:
    """The volume's required node affinity admits this node (no affinity: every node)."""
    terms = _volume_terms(pv)
    return not terms or any(t.matches(node_name, labels) for t in terms)


def prebound_to(pv: Obj, claim: Obj) -> bool:
    ref = _d(_d(pv.get("spec")).get("claimRef"))
    return (
        bool(ref) and ref_key(pv) == claim_key(claim) and ref.get("uid") in (None, "", meta(claim).get("uid"))
    )


def fits(pv: Obj, claim: Obj, node: tuple[str, Mapping[str, str]] | None = None) -> bool:
    spec, cspec = _d(pv.get("spec")), _d(claim.get("spec"))
    if meta(pv).get("deletionTimestamp") or _d(pv.get("status")).get("phase") in ("Released", "Failed"):
        return False
    if spec.get("claimRef") and not prebound_to(pv, claim):
        return False
    if class_of(pv) != class_of(claim):
        return False
    if (spec.get("volumeMode") or "Filesystem") != (cspec.get("volumeMode") or "Filesystem"):
        return False
    if not set(cspec.get("accessModes") or []) <= set(spec.get("accessModes") or []):
        return False
    want, have = requested(claim), capacity(pv)
    if want is None or have is None or have < want:
        return False
    selector = selector_from_label_selector(cspec.get("selector")) if cspec.get("selector") else None
    if selector is not None and not selector.matches(meta(pv).get("labels") or {}):
        return False
    return node is None or node_fits(pv, node[0], node[1])


def best_volume(
    claim: Obj, volumes: Iterable[Obj], node: tuple[str, Mapping[str, str]] | None = None
) -> Obj | None:
    """The volume this claim should bind to: pre-bound first, then the smallest that fits."""
    fitting = [pv for pv in volumes if fits(pv, claim, node)]
    if not fitting:
        return None
    return min(fitting, key=lambda pv: (not prebound_to(pv, claim), capacity(pv), meta(pv).get("name") or ""))


def bound_volume(pv: Obj, claim: Obj) -> Obj:
    """The volume with its claimRef set to this claim (marked bound-by-controller unless pre-bound)."""
    out = copy.deepcopy(pv)
    if not prebound_to(pv, claim):
        out["metadata"].setdefault("annotations", {})[BOUND_BY_CONTROLLER] = "yes"
    out["spec"]["claimRef"] = claim_ref(claim)
    return out


def claim_ref(claim: Obj) -> Obj:
    """A volume's `spec.claimRef` naming this claim (an ObjectReference with its uid and version)."""
    m = meta(claim)
    return {
        "kind": "PersistentVolumeClaim",
        "namespace": m.get("namespace"),
        "name": m.get("name"),
        "uid": m.get("uid"),
        "apiVersion": "v1",
        "resourceVersion": m.get("resourceVersion"),
    }


def bound_claim(claim: Obj, pv: Obj) -> Obj:
    """The claim naming this volume, with kube's bind-completed (and bound-by-controller) marks."""
    out = copy.deepcopy(claim)
    annotations = out["metadata"].setdefault("annotations", {})
    if not _d(claim.get("spec")).get("volumeName"):
        annotations[BOUND_BY_CONTROLLER] = "yes"
    annotations[BIND_COMPLETED] = "yes"
    out["spec"]["volumeName"] = meta(pv).get("name")
    return out


def claim_status(claim: Obj, pv: Obj | None) -> Obj:
    """What the claim's status should say: Bound with the volume's modes and capacity, Lost when
    its volume is gone, Pending otherwise."""
    status = dict(_d(claim.get("status")))
    name = _d(claim.get("spec")).get("volumeName")
    if name and pv is None:
        # a claim that was bound has lost its volume; one its author pointed at a volume waits for it
        return {
            **status,
            "phase": "Lost" if (meta(claim).get("annotations") or {}).get(BIND_COMPLETED) else "Pending",
        }
    if (
        name
        and pv is not None
        and prebound_to(pv, claim)
        and _d(pv.get("spec")).get("claimRef", {}).get("uid")
    ):
        spec = _d(pv.get("spec"))
        return {
            **status,
            "phase": "Bound",
            "accessModes": list(spec.get("accessModes") or []),
            "capacity": dict(_d(spec.get("capacity"))),
        }
    return {**status, "phase": "Pending"}


def volume_phase(pv: Obj, claim: Obj | None) -> str:
    """Available (free), Bound (its claim names it), Released (its claim is gone), else as it is."""
    ref = _d(_d(pv.get("spec")).get("claimRef"))
    current = str(_d(pv.get("status")).get("phase") or "Pending")
    if not ref:
        return "Available"
    if claim is None or (ref.get("uid") and ref.get("uid") != meta(claim).get("uid")):
        if not ref.get("uid"):
            return "Available"  # pre-bound by its author to a claim not made yet
        return "Failed" if current == "Failed" else "Released"
    if _d(claim.get("spec")).get("volumeName") == meta(pv).get("name"):
        return "Bound"
    return current if current in ("Bound", "Available") else "Available"


def wants_provisioning(claim: Obj, sc: Obj | None) -> bool:
    """An unbound claim of a class with a real provisioner, and no volume fits it."""
    return sc is not None and bool(sc.get("provisioner")) and sc.get("provisioner") != NO_PROVISIONER


def waits_for_consumer(claim: Obj, sc: Obj | None) -> bool:
    return (
        sc is not None
        and sc.get("volumeBindingMode") == "WaitForFirstConsumer"
        and not (meta(claim).get("annotations") or {}).get(SELECTED_NODE)
    )
