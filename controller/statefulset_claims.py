"""A StatefulSet's volumeClaimTemplates: one PersistentVolumeClaim per template and ordinal.

As Kubernetes' stateful_set_utils.go: the claim of template `data` for pod `web-2` is named
`data-web-2`, carries the template's labels plus the set's `selector.matchLabels`, and is
created (if missing) before the pod; the pod gets a volume named after the template that
refers to that claim, replacing a template volume of the same name. Claims outlive their pods,
so a pod recreated under the same name finds its data again. With
`persistentVolumeClaimRetentionPolicy.whenDeleted: Delete` the claims are owned by the set
(the garbage collector deletes them with it); the default Retain leaves them alone.

A server that does not serve PersistentVolumeClaims gets an emptyDir of the same name instead
(the pod's data lives as long as the pod), and the controller records a Warning saying so.
"""

from __future__ import annotations

import copy

from api.errors import ApiError
from controller.base import ApiClient, Obj, meta


def claim_name(template: Obj, sts: Obj, ordinal: int) -> str:
    return f"{meta(template).get('name')}-{meta(sts).get('name')}-{ordinal}"


def claims_for(sts: Obj, ordinal: int) -> list[Obj]:
    spec = sts.get("spec") or {}
    select = ((spec.get("selector") or {}).get("matchLabels")) or {}
    delete_with_set = (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted") == "Delete"
    out = []
    for t in spec.get("volumeClaimTemplates") or []:
        md: Obj = {
            "name": claim_name(t, sts, ordinal),
            "namespace": meta(sts).get("namespace"),
            "labels": {**(meta(t).get("labels") or {}), **select},
        }
        if meta(t).get("annotations"):
            md["annotations"] = dict(meta(t)["annotations"])
        if delete_with_set:
            m = meta(sts)
            md["ownerReferences"] = [
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": m.get("name"),
                    "uid": m.get("uid"),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]
        out.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": md,
                "spec": copy.deepcopy(t.get("spec") or {}),
            }
        )
    return out


def with_claim_volumes(pod_spec: Obj, sts: Obj, ordinal: int, served: bool) -> Obj:
    """The pod spec with one volume per claim template (the claim, or an emptyDir when not served)."""
    templates = (sts.get("spec") or {}).get("volumeClaimTemplates") or []
    if not templates:
        return pod_spec
    names = {meta(t).get("name") for t in templates}
    volumes = [v for v in pod_spec.get("volumes") or [] if v.get("name") not in names]
    for t in templates:
        source = (
            {"persistentVolumeClaim": {"claimName": claim_name(t, sts, ordinal)}}
            if served
            else {"emptyDir": {}}
        )
        volumes.append({"name": meta(t).get("name"), **source})
    return dict(pod_spec, volumes=volumes)


async def ensure_claims(client: ApiClient, sts: Obj, ordinal: int) -> list[str]:
    """Create the ordinal's missing claims; the names of those created (an error stops the pod)."""
    created = []
    ns = meta(sts).get("namespace")
    for claim in claims_for(sts, ordinal):
        name = claim["metadata"]["name"]
        try:
            existing = await client.get("persistentvolumeclaims", name, ns)
        except ApiError as e:
            if e.code != 404:
                raise
        else:
            if meta(existing).get("deletionTimestamp"):
                raise RuntimeError(f"pvc {name} is being deleted")
            continue
        try:
            await client.create("persistentvolumeclaims", claim, ns)
            created.append(name)
        except ApiError as e:
            if e.code != 409:
                raise
    return created
