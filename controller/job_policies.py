"""A Job's policies: `spec.podFailurePolicy` (what a failed pod means) and `spec.successPolicy`.

As Kubernetes' pod_failure_policy.go: rules are tried in order on a pod in phase Failed; a rule
matches on `onExitCodes` (a container, or any container when `containerName` is unset, that
terminated with a non-zero code In / NotIn the values) or on `onPodConditions` (a condition of
that type and status on the pod). Its action says what the failure does: FailJob fails the Job
at once (FailureTarget, reason PodFailurePolicy, a message naming the pod, container, code and
rule), Ignore does not count it against backoffLimit, Count counts it as any failure would.
No match, or no policy, is Count. An Indexed Job's successPolicy may declare it succeeded before
every index has (`success_policy_match`).
"""

from __future__ import annotations

from controller import job_pods as jp
from controller.base import Obj, meta

COUNT, IGNORE, FAIL_JOB, FAIL_INDEX = "Count", "Ignore", "FailJob", "FailIndex"


def _exit_code_match(pod: Obj, rule: Obj) -> tuple[str, int] | None:
    req = rule.get("onExitCodes") or {}
    values = {int(v) for v in req.get("values") or []}
    name = req.get("containerName")
    st = pod.get("status") or {}
    for cs in [*(st.get("initContainerStatuses") or []), *(st.get("containerStatuses") or [])]:
        if name and cs.get("name") != name:
            continue
        term = (cs.get("state") or {}).get("terminated") or {}
        code = term.get("exitCode")
        if code is None or int(code) == 0:
            continue  # successful containers never match
        hit = int(code) in values if req.get("operator") == "In" else int(code) not in values
        if hit:
            return str(cs.get("name")), int(code)
    return None


def _condition_match(pod: Obj, rule: Obj) -> str | None:
    for want in rule.get("onPodConditions") or []:
        for c in (pod.get("status") or {}).get("conditions") or []:
            if c.get("type") == want.get("type") and c.get("status") == (want.get("status") or "True"):
                return str(c.get("type"))
    return None


def judge(job: Obj, pod: Obj) -> tuple[str, str]:
    """(action, message) for a failed pod: Count unless a rule says otherwise."""
    policy = (job.get("spec") or {}).get("podFailurePolicy") or {}
    where = f"{meta(pod).get('namespace')}/{meta(pod).get('name')}"
    for i, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action") or COUNT
        if rule.get("onExitCodes"):
            hit = _exit_code_match(pod, rule)
            if hit is not None:
                return action, (
                    f"Container {hit[0]} for pod {where} failed with exit code {hit[1]} "
                    f"matching {action} rule at index {i}"
                )
        elif rule.get("onPodConditions"):
            cond = _condition_match(pod, rule)
            if cond is not None:
                return action, f"Pod {where} has condition {cond} matching {action} rule at index {i}"
    return COUNT, ""


def success_policy_match(spec: Obj, done: set[int]) -> str | None:
    """An Indexed Job's `successPolicy`: the first rule its succeeded indexes satisfy, as kube words it.

    A rule with `succeededIndexes` wants them all succeeded, or `succeededCount` of them when
    that is set too; a rule with only `succeededCount` wants that many indexes succeeded.
    """
    for i, rule in enumerate((spec.get("successPolicy") or {}).get("rules") or []):
        count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            wanted = jp.parse_indexes(rule["succeededIndexes"])
            hits = len(wanted & done)
            ok = hits >= int(count) if count is not None else bool(wanted) and hits == len(wanted)
        else:
            ok = count is not None and len(done) >= int(count)
        if ok:
            return f"Matched rules at index {i}"
    return None
