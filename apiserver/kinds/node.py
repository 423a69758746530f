"""Row of RuntimeClass (node.k8s.io/v1): stored, validated and immutable in its handler as
kube's registry keeps it (no defaulting, no status, no generation; a PUT of a missing class
creates it, kube's AllowCreateOnUpdate).

What a class does happens elsewhere: on a pod create the RuntimeClass admission
(`apiserver/runtimeclassadmission.py`) applies its overhead and scheduling, and on the node the
kubelet resolves the class to its handler when it makes the pod's sandbox (kubelet/podsetup.py).
kubelite makes no class at bootstrap: kube makes none either.
"""

from __future__ import annotations

from apiserver.kinds import row
from apiserver.validation.node import validate_runtime_class, validate_runtime_class_update

row(
    "runtimeclasses",
    "node.k8s.io",
    create_on_update=True,
    validate=validate_runtime_class,
    validate_update=validate_runtime_class_update,
)
