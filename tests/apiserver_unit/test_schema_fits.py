"""The schema's quick check (`_fits`) never hides what the detailed walks report.

`unknown_fields` and `type_errors` first ask one bool of the whole object and walk it with
paths only when it does not fit. Here a clean, fully defaulted pod (lists, maps, nested structs,
free-form and null values) fits, and every single fault put anywhere in it (an unknown field
beside any field, a wrong JSON type in place of any value) is still reported at its path.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from apiserver.schema import _fits, kind_spec, type_errors, unknown_fields

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "p-1",
        "namespace": "default",
        "labels": {"app": "bench"},
        "annotations": {"a": "b"},
        "ownerReferences": [
            {
                "apiVersion": "v1",
                "kind": "ReplicationController",
                "name": "rc",
                "uid": "u1",
                "controller": True,
            }
        ],
    },
    "spec": {
        "nodeName": "n1",
        "terminationGracePeriodSeconds": 30,
        "securityContext": {},
        "affinity": None,
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
        "containers": [
            {
                "name": "c",
                "image": "busybox:1",
                "command": ["sleep", "3600"],
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "10m", "memory": 64}},
                "livenessProbe": {"httpGet": {"path": "/", "port": "http"}},
            }
        ],
        "volumes": [
            {
                "name": "v",
                "projected": {
                    "defaultMode": 420,
                    "sources": [{"configMap": {"name": "c", "items": [{"key": "k", "path": "p"}]}}],
                },
            }
        ],
    },
    "status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": None}],
        "containerStatuses": [
            {
                "name": "c",
                "ready": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": "2026-12-04T21:00:00Z"}},
            }
        ],
    },
}


def places(obj: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(dotted path, container, key) of every value below `obj`, as the walks name them."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            sub = f"{path}.{k}" if path else k
            yield sub, obj, k
            yield from places(v, sub)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield f"{path}[{i}]", obj, i
            yield from places(v, f"{path}[{i}]")


def test_a_clean_pod_fits_and_has_nothing_to_report() -> None:
    spec = kind_spec("Pod")
    assert spec is not None and _fits(spec)(POD)
    assert unknown_fields("Pod", POD) == [] and type_errors("Pod", POD) == []


def test_an_unknown_field_anywhere_is_still_reported() -> None:
    structs = [(p, c, k) for p, c, k in places(POD) if isinstance(c[k], dict)]
    assert len(structs) > 15
    for path, _, _ in structs:
        pod = copy.deepcopy(POD)
        target = pod
        for p, c, k in places(pod):
            if p == path:
                target = c[k]
        target["zzz"] = 1
        got = unknown_fields("Pod", pod)
        free_form = path in ("metadata.labels", "metadata.annotations") or path.startswith(
            "spec.containers[0].resources."
        )
        assert got == ([] if free_form else [f"{path}.zzz"]), path


def test_a_wrong_type_anywhere_is_still_reported() -> None:
    leaves = [p for p, c, k in places(POD) if isinstance(c[k], str)]
    assert len(leaves) > 20
    for path in leaves:
        pod = copy.deepcopy(POD)
        for p, c, k in places(pod):
            if p == path:
                c[k] = [1]  # a string's place never takes a list
        # a map's entries are named [key] by the walk, a struct's fields .name
        got = [re.sub(r"\[([^\]0-9][^\]]*)\]", r".\1", p) for p, _ in type_errors("Pod", pod)]
        assert got == [path], path
