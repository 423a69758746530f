"""Adopting and releasing pods by selector, for the controllers of DaemonSets, StatefulSets and Jobs.

As Kubernetes' ControllerRefManager: an orphan pod (no controller ownerReference) that matches
the owner's selector is adopted, by adding the owner's controller reference, once a fresh read
shows the very same owner (same UID, not being deleted); a pod the owner controls that no
longer matches is released. Pods controlled by anything else are never touched. Patches carry
the pod's resourceVersion, so a pod changed meanwhile is left for the next sync. An owner that
tracks its pods by finalizer (a Job) names it: adoption adds it and release takes it off.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from api.errors import ApiError
from api.selectors import LabelSelector, selector_from_label_selector
from controller import history
from controller import replicas as rs
from controller.base import ApiClient, Obj, controller_ref, meta


async def claim_pods(
    client: ApiClient, resource: str, owner: Obj, pods: list[Obj], finalizers: Sequence[str] = ()
) -> list[Obj]:
    """The pods `owner` controls after adopting matching orphans and releasing non-matching ones."""
    uid = meta(owner).get("uid")
    selector = owner_selector(owner)
    if selector is None:  # match nothing: keep only what is ours already
        return [p for p in pods if (controller_ref(p) or {}).get("uid") == uid]
    owned, adopt, release = rs.claim_objects(owner, pods, selector)
    decided = {id(p) for p in owned} | {
        id(p) for p in release
    }  # by identity: a dict compare per pair was O(n^2)
    owned += [
        p for p in pods if (controller_ref(p) or {}).get("uid") == uid and id(p) not in decided
    ]  # finished pods that stopped matching stay ours (kube leaves them)
    if adopt and await _still_there(client, resource, owner):
        for p in adopt:
            refs = [*(meta(p).get("ownerReferences") or []), history.owner_ref(owner)]
            adopted = await _patch(client, p, refs, _finalizers(p, add=finalizers))
            if adopted is not None:
                owned.append(adopted)
    for p in release:
        await _patch(
            client,
            p,
            [r for r in meta(p).get("ownerReferences") or [] if r.get("uid") != uid] or None,
            _finalizers(p, drop=finalizers),
        )
    return owned


def owner_selector(owner: Obj) -> LabelSelector | None:
    """The owner's spec.selector, or None where it selects nothing (absent, empty or invalid)."""
    try:
        selector = selector_from_label_selector((owner.get("spec") or {}).get("selector"))
    except ValueError:
        return None
    return None if selector is None or selector.empty() else selector


def owners_matching(pod: Obj, owners: Iterable[Obj]) -> list[Obj]:
    """The owners that may adopt the orphan `pod`: those whose selector matches its labels."""
    labels = meta(pod).get("labels") or {}
    return [o for o in owners if (sel := owner_selector(o)) is not None and sel.matches(labels)]


async def _still_there(client: ApiClient, resource: str, owner: Obj) -> bool:
    try:
        fresh = await client.get(resource, meta(owner)["name"], meta(owner).get("namespace"))
    except ApiError as e:
        if e.code == 404:
            return False
        raise
    return meta(fresh).get("uid") == meta(owner).get("uid") and not meta(fresh).get("deletionTimestamp")


def _finalizers(pod: Obj, add: Sequence[str] = (), drop: Sequence[str] = ()) -> list[str] | None:
    """The pod's finalizers with `add` appended and `drop` removed; None when nothing changes."""
    have = list(meta(pod).get("finalizers") or [])
    want = [f for f in have if f not in drop] + [f for f in add if f not in have]
    return None if want == have else want


async def _patch(
    client: ApiClient, pod: Obj, refs: list[Obj] | None, finalizers: list[str] | None = None
) -> Obj | None:
    md: Obj = {"ownerReferences": refs, "resourceVersion": meta(pod).get("resourceVersion")}
    if finalizers is not None:  # a merge patch replaces the list: the whole new list goes out
        md["finalizers"] = finalizers or None
    body = {"metadata": md}
    try:
        return dict(await client.patch("pods", meta(pod)["name"], body, namespace=meta(pod).get("namespace")))
    except ApiError as e:
        if e.code in (404, 409):
            return None
        raise
