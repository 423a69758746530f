"""Row of policy/v1 PodDisruptionBudget: kube's strategy (pkg/registry/policy/poddisruptionbudget).

- Status is written only through /status (by the disruption controller and the eviction
  subresource) and starts as the zero status v1 serialises: the four counts are plain int32s Go
  always writes, so a new budget reads `disruptionsAllowed: 0` until the controller has seen it.
- Generation starts at 1 and counts spec changes; the eviction subresource refuses to spend a
  budget whose status.observedGeneration lags it (the controller has not caught up yet).
- Validation is `apiserver.validation.policy`, in kube's words.
"""

from __future__ import annotations

from apiserver.kinds import Obj, row
from apiserver.validation.policy import validate_pdb, validate_pdb_status


def zero_status() -> Obj:
    return {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}


def _reset_status(obj: Obj) -> None:
    obj["status"] = zero_status()


row(
    "poddisruptionbudgets",
    "policy",
    status_separate=True,
    generation=True,
    prepare_create=_reset_status,
    validate=validate_pdb,
    validate_status=validate_pdb_status,
)
