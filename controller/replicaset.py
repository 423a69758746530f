"""The ReplicaSet controller: the replication controller's loop, for apps/v1 ReplicaSets.

A ReplicaSet differs from an RC only in what the loop reads, not in what it decides: its
resource path (`apps/v1 replicasets`), its kind in the pods' controller ownerReference, and
its selector (a metav1.LabelSelector with `matchLabels` and `matchExpressions`, required, never
defaulted from the template). Everything else (expectations, slow-start creation, deletion
ranking, adopt/release by UID, status with fullyLabeledReplicas, availableReplicas after
minReadySeconds and the ReplicaFailure condition) is `controller.replication` and
`controller.replicas`, shared as replica_set.go shares it between the two kinds.
"""

from __future__ import annotations

from api.selectors import LabelSelector, selector_from_label_selector
from controller.base import Obj
from controller.replication import ReplicationController

RS_KIND = "ReplicaSet"


class ReplicaSetController(ReplicationController):
    name = "replicaset"
    plural = "replicasets"
    kind = RS_KIND

    @staticmethod
    def selector_of(owner: Obj) -> LabelSelector | None:
        try:
            return selector_from_label_selector((owner.get("spec") or {}).get("selector"))
        except ValueError:  # an operator validation should have refused: match nothing
            return None
