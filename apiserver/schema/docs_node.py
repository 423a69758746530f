"""Short descriptions of RuntimeClass and its fields, for OpenAPI and `kubectl explain` (written
for kubelite, in the style of `docs.py`)."""

from __future__ import annotations

NODE_DOCS: dict[str, str] = {
    "RuntimeClass": "RuntimeClass names a container runtime configuration; a pod naming it in "
    "spec.runtimeClassName is run by that handler, with the class's overhead and scheduling.",
    "RuntimeClass.handler": "The runtime handler of the nodes that runs the pods of this class: a "
    "lowercase DNS label. kubelite's nodes have one, runc. Cannot be changed.",
    "RuntimeClass.overhead": "What running a pod of this class costs beyond its containers' requests; "
    "set as the pod's spec.overhead when the pod is created.",
    "RuntimeClass.scheduling": "Where pods of this class may run: merged into each pod when it is created.",
    "Overhead.podFixed": "The fixed resources a pod of this class uses besides its containers.",
    "Scheduling.nodeSelector": "Labels the node must have; merged into the pod's nodeSelector (a pod "
    "asking a different value for a key is refused).",
    "Scheduling.tolerations": "Tolerations added to the pod's own.",
}
