"""Validation of RuntimeClass (node.k8s.io/v1) as kube-apiserver words it
(pkg/apis/node/validation: ValidateRuntimeClass, ValidateRuntimeClassUpdate).

The name is a DNS-1123 subdomain (the row's name rule); `handler` a DNS-1123 label, required
(an empty one fails the label check, as in kube) and immutable; `overhead.podFixed` checked as a
container's limits (causes on `overhead.limits[<resource>]`, kube's path); `scheduling`'s
nodeSelector as labels and its tolerations as a pod's. The pod-side rules share `pod.py`'s.
"""

from __future__ import annotations

from typing import Any

from api import names
from api.errors import Cause
from api.jsonutil import as_object
from apiserver.validation.meta import immutable, validate_labels
from apiserver.validation.pod import validate_overhead, validate_tolerations

Obj = dict[str, Any]


def validate_runtime_class(obj: Obj) -> list[Cause]:
    handler = obj.get("handler")
    causes = names.check("handler", handler if isinstance(handler, str) else "", names.is_dns1123_label)
    overhead = obj.get("overhead")
    if isinstance(overhead, dict):
        causes += validate_overhead(as_object(overhead.get("podFixed")), "overhead")
    scheduling = obj.get("scheduling")
    if isinstance(scheduling, dict):
        causes += validate_labels(scheduling.get("nodeSelector"), "scheduling.nodeSelector")
        causes += validate_tolerations(scheduling.get("tolerations"), "scheduling.tolerations")
    return causes


def validate_runtime_class_update(new: Obj, old: Obj) -> list[Cause]:
    return immutable("handler", new.get("handler"), old.get("handler"))
