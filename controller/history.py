"""ControllerRevisions: the recorded pod templates of a DaemonSet or StatefulSet.

Each distinct template gets one immutable ControllerRevision named `<owner>-<hash>`, holding
the template as a strategic patch (`{"spec":{"template":{..., "$patch":"replace"}}}`, what
`kubectl rollout undo` applies back) and a `revision` number; a rollback to an older template
reuses its revision and renumbers it as the newest, as Kubernetes' controller_history does, and
an orphaned revision of the same template (its owner deleted with `--cascade=orphan`) is adopted.
Pods carry the label `controller-revision-hash`: the hash for a DaemonSet's pods, the revision's
name for a StatefulSet's. A hash collision with a different template bumps the owner's
`status.collisionCount`, which is mixed into the next hash.

The pure part builds, compares and prunes revisions; `ensure_revision` is the thin I/O shell.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from api import jsonutil
from api.errors import ApiError
from controller.base import ApiClient, Obj, controller_ref, controller_reference, meta

HASH_LABEL = "controller-revision-hash"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's rand.SafeEncodeString alphabet: no vowels, no 0/1/3
DEFAULT_HISTORY_LIMIT = 10


def template_patch(owner: Obj) -> Obj:
    """The revision's data: the owner's pod template as a replacing strategic patch."""
    tmpl = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
    tmpl["$patch"] = "replace"
    return {"spec": {"template": tmpl}}


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def revision_hash(data: Obj, collision_count: int = 0) -> str:
    raw = jsonutil.dumps(data)
    if collision_count:
        raw += collision_count.to_bytes(4, "little")
    return "".join(_SAFE[ord(ch) % len(_SAFE)] for ch in str(fnv32a(raw)))


def owner_ref(owner: Obj) -> Obj:
    return controller_reference(owner, owner.get("apiVersion", "apps/v1"), owner.get("kind"))


def new_revision(owner: Obj, revision: int, collision_count: int = 0) -> Obj:
    data = template_patch(owner)
    h = revision_hash(data, collision_count)
    m = meta(owner)
    labels = dict(
        (((owner.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
    )
    labels[HASH_LABEL] = h
    md: Obj = {
        "name": f"{m.get('name', '')[:223]}-{h}",
        "namespace": m.get("namespace"),
        "labels": labels,
        "ownerReferences": [owner_ref(owner)],
    }
    if m.get("annotations"):  # kubernetes.io/change-cause shows in `kubectl rollout history`
        md["annotations"] = dict(m["annotations"])
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": md,
        "data": data,
        "revision": revision,
    }


def owned(owner: Obj, revisions: Iterable[Obj]) -> list[Obj]:
    """The owner's revisions (controller ref by UID), oldest revision number first."""
    uid = meta(owner).get("uid")
    mine = [r for r in revisions if (controller_ref(r) or {}).get("uid") == uid]
    return sorted(mine, key=lambda r: (int(r.get("revision") or 0), meta(r).get("name", "")))


def equal(revisions: Iterable[Obj], data: Obj) -> list[Obj]:
    raw = jsonutil.dumps(data)
    return [r for r in revisions if jsonutil.dumps(r.get("data") or {}) == raw]


def next_number(revisions: Sequence[Obj]) -> int:
    return max((int(r.get("revision") or 0) for r in revisions), default=0) + 1


def to_prune(revisions: Sequence[Obj], in_use: set[str], limit: int | None) -> list[Obj]:
    """Oldest revisions beyond `revisionHistoryLimit` that no pod and no status names."""
    lim = DEFAULT_HISTORY_LIMIT if limit is None else max(0, int(limit))
    spare = [r for r in revisions if meta(r).get("name") not in in_use]
    return spare[: max(0, len(spare) - lim)]


async def ensure_revision(client: ApiClient, owner: Obj, revisions: list[Obj]) -> tuple[Obj, list[Obj], int]:
    """The revision of the owner's current template, created or renumbered as the newest.

    Returns (update revision, all revisions after the change, collisionCount to record).
    """
    ns = meta(owner).get("namespace")
    data = template_patch(owner)
    collision = int((owner.get("status") or {}).get("collisionCount") or 0)
    same = equal(revisions, data)
    latest = revisions[-1] if revisions else None
    if same:
        found = same[-1]
        if latest is not None and meta(found).get("name") != meta(latest).get("name"):
            # a rollback to an older template: it becomes the newest revision again
            body = dict(found, revision=next_number(revisions))
            found = await client.update("controllerrevisions", body, ns)
            revisions = [r for r in revisions if meta(r).get("name") != meta(found).get("name")] + [found]
        return found, revisions, collision
    number = next_number(revisions)
    while True:
        rev = new_revision(owner, number, collision)
        try:
            created = await client.create("controllerrevisions", rev, ns)
            return created, [*revisions, created], collision
        except ApiError as e:
            if e.code != 409:
                raise
            existing = await client.get("controllerrevisions", rev["metadata"]["name"], ns)
            same_data = jsonutil.dumps(existing.get("data") or {}) == jsonutil.dumps(data)
            ref = controller_ref(existing)
            if same_data and ref is None:  # orphaned by an earlier owner of this name: adopt it, as kube does
                body = {
                    "metadata": {
                        "ownerReferences": [*(meta(existing).get("ownerReferences") or []), owner_ref(owner)],
                        "resourceVersion": meta(existing).get("resourceVersion"),
                    },
                    "revision": number,
                }
                existing = await client.patch(
                    "controllerrevisions", meta(existing)["name"], body, namespace=ns
                )
                ref = controller_ref(existing)
            if same_data and (ref or {}).get("uid") == meta(owner).get("uid"):
                return existing, [*revisions, existing], collision
            collision += 1  # same name, other template: mix the count into the hash and retry


async def prune(client: ApiClient, revisions: Sequence[Obj], in_use: set[str], limit: int | None) -> None:
    for r in to_prune(revisions, in_use, limit):
        try:
            await client.delete("controllerrevisions", meta(r)["name"], meta(r).get("namespace"))
        except ApiError as e:
            if e.code != 404:
                raise


def pod_revision(pod: Obj) -> str:
    return str((meta(pod).get("labels") or {}).get(HASH_LABEL, ""))


def with_label(labels: dict[str, Any] | None, value: str) -> dict[str, Any]:
    out = dict(labels or {})
    out[HASH_LABEL] = value
    return out
