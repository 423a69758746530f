"""The pods/eviction subresource: a pod deleted only if its PodDisruptionBudget allows it, as
kube-apiserver's EvictionREST does (pkg/registry/core/pod/storage/eviction.go).

`kubectl drain`, the cluster autoscaler and node upgrades evict instead of deleting so that a
budget's `minAvailable`/`maxUnavailable` holds while they work. The disruption controller
keeps each budget's status (how many disruptions it allows now); an eviction spends one of
them with a compare-and-swap write of that status (noting the pod in `status.disruptedPods`,
so the controller does not count it healthy while it goes), then deletes the pod with the
Eviction's deleteOptions. A budget that allows none, or whose status lags its spec, answers
429 in kube's words: the caller retries later.

Pods that no budget protects are deleted at once: a pod already being deleted, one that has
ended (Succeeded/Failed) or not started (Pending), a pod no budget's selector matches, and an
unready pod when its budget allows unhealthy evictions (`AlwaysAllow`, or `IfHealthyBudget`
with the budget met). More than one matching budget is refused (500), as kube does.

A client's Eviction is admitted first, as kube's handler does before EvictionREST acts: the
webhooks and ValidatingAdmissionPolicies matching pods/eviction (CREATE, kind policy/v1 Eviction)
see it, a mutating one may change it (its deleteOptions), and a refusal deletes nothing.

The decisions are pure functions over wire dicts (`matching_budgets`, `can_ignore_budget`,
`unready_evictable`, `decrement`); `evict` does the reads and writes through the registry.
"""

from __future__ import annotations

from typing import Any

from api import jsonutil
from api.conditions import is_ready
from api.errors import ApiError, bad_request, forbidden, internal
from api.jsonutil import as_object
from api.resources import Resource, by_plural
from api.selectors import selector_from_label_selector
from apiserver import lifecycle, subadmission
from apiserver.webhooks import Requester

Obj = dict[str, Any]

MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."
MORE_THAN_ONE = (
    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
)
MAX_DISRUPTED_PODS = 2000  # kube's MaxDisruptedPodSize
EVICTION_API_VERSIONS = ("policy/v1", "policy/v1beta1")
DISRUPTION_ALLOWED = "DisruptionAllowed"
SYNC_FAILED = "SyncFailed"

POD_DISRUPTION_BUDGETS = by_plural("policy", "poddisruptionbudgets")
PODS = by_plural("", "pods")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def too_many_requests(cause: str, retry_after: int = 0) -> ApiError:
    details: Obj = {"causes": [{"reason": "DisruptionBudget", "message": cause}]}
    if retry_after:
        details["retryAfterSeconds"] = retry_after
    return ApiError(429, "TooManyRequests", MESSAGE, details)


# --- the decisions ---------------------------------------------------------------------------


def can_ignore_budget(pod: Obj) -> bool:
    """canIgnorePDB: a pod being deleted, ended or not yet running is deleted without a budget."""
    if as_object(pod.get("metadata")).get("deletionTimestamp"):
        return True
    return as_object(pod.get("status")).get("phase") in ("Succeeded", "Failed", "Pending")


def matching_budgets(pdbs: list[Obj], pod: Obj) -> list[Obj]:
    """The budgets of the pod's namespace whose selector matches its labels; a missing or empty
    selector matches nothing here (kube: "it should match nothing, not everything")."""
    meta = as_object(pod.get("metadata"))
    labels = meta.get("labels") or {}
    out = []
    for pdb in pdbs:
        if as_object(pdb.get("metadata")).get("namespace") != meta.get("namespace"):
            continue
        sel = as_object(pdb.get("spec")).get("selector")
        try:
            parsed = selector_from_label_selector(sel) if isinstance(sel, dict) else None
        except (ValueError, AttributeError, TypeError):
            continue
        if parsed is None or not parsed.requirements or not parsed.matches(labels):
            continue
        out.append(pdb)
    return out


def unready_evictable(pod: Obj, pdb: Obj) -> bool:
    """An unready pod does not count as healthy: its eviction spends nothing when the budget's
    unhealthyPodEvictionPolicy is AlwaysAllow, or (IfHealthyBudget, the default) it is met."""
    if is_ready(pod):
        return False
    if as_object(pdb.get("spec")).get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
        return True
    status = as_object(pdb.get("status"))
    desired = _int(status.get("desiredHealthy"))
    return _int(status.get("currentHealthy")) >= desired and desired > 0


def denied_message(pdb: Obj) -> str:
    """The cause of a 429 for a budget allowing no disruption (disruptionDeniedMessage)."""
    name = as_object(pdb.get("metadata")).get("name", "")
    status = as_object(pdb.get("status"))
    condition = next(
        (
            c
            for c in status.get("conditions") or []
            if isinstance(c, dict) and c.get("type") == DISRUPTION_ALLOWED
        ),
        None,
    )
    refused = condition is not None and condition.get("status") == "False" and bool(condition.get("message"))
    current, desired = _int(status.get("currentHealthy")), _int(status.get("desiredHealthy"))
    if refused and condition is not None and condition.get("reason") == SYNC_FAILED:
        return (
            f"The disruption budget {name} does not allow evicting pods currently because it failed sync: "
            f"{condition.get('message')}"
        )
    if current <= desired:
        return f"The disruption budget {name} needs {desired} healthy pods and has {current} currently"
    if refused and condition is not None:
        return (
            f"The disruption budget {name} does not allow evicting pods currently "
            f"({condition.get('reason', '')}): {condition.get('message')}"
        )
    return f"The disruption budget {name} does not allow evicting pods currently"


def decrement(pdb: Obj, pod_name: str, now: str) -> Obj:
    """checkAndDecrement: the budget with one disruption spent on `pod_name`, or the refusal."""
    meta, status = as_object(pdb.get("metadata")), as_object(pdb.get("status"))
    name = meta.get("name", "")
    if _int(status.get("observedGeneration")) < _int(meta.get("generation")):
        raise too_many_requests(f"The disruption budget {name} is still being processed by the server.", 10)
    allowed = _int(status.get("disruptionsAllowed"))
    if allowed < 0:
        raise forbidden(
            f'poddisruptionbudgets.policy "{name}" is forbidden: pdb disruptions allowed is negative'
        )
    if len(as_object(status.get("disruptedPods"))) > MAX_DISRUPTED_PODS:
        raise forbidden(
            f'poddisruptionbudgets.policy "{name}" is forbidden: DisruptedPods map too big - too many evictions '
            "not confirmed by PDB controller"
        )
    if allowed == 0:
        raise too_many_requests(denied_message(pdb))
    status = dict(status)
    status["disruptionsAllowed"] = allowed - 1
    if allowed - 1 == 0:
        status["conditions"] = _insufficient_pods(status.get("conditions"), now, _int(meta.get("generation")))
    status["disruptedPods"] = {**as_object(status.get("disruptedPods")), pod_name: now}
    return {**pdb, "status": status}


def _insufficient_pods(conditions: Any, now: str, generation: int) -> list[Obj]:
    """pdbhelper.UpdateDisruptionAllowedCondition once none is left: DisruptionAllowed False,
    InsufficientPods (the transition time kept when it was False already)."""
    out = [dict(c) for c in conditions or [] if isinstance(c, dict)]
    for c in out:
        if c.get("type") == DISRUPTION_ALLOWED:
            if c.get("status") != "False":
                c["lastTransitionTime"] = now
            c.update(status="False", reason="InsufficientPods", message="", observedGeneration=generation)
            return out
    out.append(
        {
            "type": DISRUPTION_ALLOWED,
            "status": "False",
            "observedGeneration": generation,
            "lastTransitionTime": now,
            "reason": "InsufficientPods",
            "message": "",
        }
    )
    return out


def _disruption_target(pod: Obj, now: str) -> Obj:
    """The pod with condition DisruptionTarget True (EvictionByEvictionAPI), as kube marks it."""
    status = dict(as_object(pod.get("status")))
    conditions = [dict(c) for c in status.get("conditions") or [] if isinstance(c, dict)]
    wanted = {"status": "True", "reason": "EvictionByEvictionAPI", "message": "Eviction API: evicting"}
    for c in conditions:
        if c.get("type") == "DisruptionTarget":
            if c.get("status") != "True":
                c["lastTransitionTime"] = now
            c.update(wanted)
            break
    else:
        conditions.append(
            {"type": "DisruptionTarget", **wanted, "lastProbeTime": None, "lastTransitionTime": now}
        )
    status["conditions"] = conditions
    return {**pod, "status": status}


def check_kind(body: Any) -> Obj:
    """The body, or 400 when it is not an Eviction of policy/v1 or v1beta1 (kube's decoding)."""
    if not isinstance(body, dict):
        raise bad_request("Eviction must be an object")
    kind, version = body.get("kind"), body.get("apiVersion")
    if kind not in (None, "", "Eviction") or version not in (None, "", *EVICTION_API_VERSIONS):
        raise bad_request(f'{kind} in version "{version}" cannot be handled as a Eviction')
    return body


def check_eviction(body: Any, name: str) -> Obj:
    """The Eviction's deleteOptions (`{}` when none), or 400 for a body that is not its Eviction."""
    body = check_kind(body)
    if as_object(body.get("metadata")).get("name") != name:
        raise bad_request("name in URL does not match name in Eviction object")
    options = body.get("deleteOptions")
    if options is not None and not isinstance(options, dict):
        raise bad_request("Eviction.deleteOptions must be an object")
    return dict(options or {})


# --- the request -----------------------------------------------------------------------------


async def evict(
    registry: Any, namespace: str, name: str, body: Any, dry_run: bool = False, by: Requester | None = None
) -> None:
    """Evict pod `namespace/name` as the Eviction `body` asks, or raise the refusal; `by`: the
    client, whose Eviction is admitted first (`apiserver.subadmission`)."""
    assert PODS is not None and POD_DISRUPTION_BUDGETS is not None
    body = check_kind(body)
    body = await subadmission.admit_create(
        registry, by, PODS, "eviction", namespace, name, body, dry_run, lambda e: check_eviction(e, name)
    )
    options = check_eviction(body, name)
    dry_run = dry_run or "All" in (options.get("dryRun") or [])
    pod = (await registry.get(PODS, namespace, name)).obj
    if not can_ignore_budget(pod):
        _, kvs = await registry.list(POD_DISRUPTION_BUDGETS, namespace)
        pdbs = matching_budgets([kv.obj for kv in kvs], pod)
        if len(pdbs) > 1:
            raise _more_than_one()
        if pdbs:
            if unready_evictable(pod, pdbs[0]):
                pin = as_object(pod.get("metadata")).get("resourceVersion")
                preconditions = as_object(options.get("preconditions"))
                if pin and not preconditions.get("resourceVersion"):  # the pod as it was judged
                    options["preconditions"] = {**preconditions, "resourceVersion": pin}
            else:
                await _spend(registry, POD_DISRUPTION_BUDGETS, pdbs[0], name, dry_run)
    await _delete(registry, PODS, namespace, name, options, dry_run)


def _more_than_one() -> ApiError:
    e = internal(MORE_THAN_ONE)
    e.details = {"causes": [{"message": MORE_THAN_ONE}]}
    return e


async def _spend(registry: Any, res: Resource, pdb: Obj, pod_name: str, dry_run: bool) -> None:
    """One disruption of the budget spent on the pod: a compare-and-swap of its status, re-read and
    re-judged on conflict (the registry's update loop)."""
    meta = as_object(pdb.get("metadata"))
    now = jsonutil.now_str()
    await registry.update(
        res,
        meta.get("namespace"),
        meta.get("name", ""),
        lambda cur, kv: (decrement(cur, pod_name, now), None),
        subresource="status",
        dry_run=dry_run,
    )


async def _delete(
    registry: Any, res: Resource, namespace: str, name: str, options: Obj, dry_run: bool
) -> None:
    if not dry_run:
        now = jsonutil.now_str()

        def mark(cur: Obj, kv: Any) -> tuple[Obj, None]:
            lifecycle.check_preconditions(res, name, cur, options.get("preconditions"))
            return _disruption_target(cur, now), None

        kv, _ = await registry.update(res, namespace, name, mark, subresource="status")
        if as_object(options.get("preconditions")).get("resourceVersion"):  # the pod changed: its new version
            options["preconditions"] = {
                **options["preconditions"],
                "resourceVersion": as_object(kv.obj.get("metadata")).get("resourceVersion"),
            }
    await registry.delete(res, namespace, name, options, dry_run=dry_run)
