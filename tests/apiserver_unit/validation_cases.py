"""The base objects, the cause builders and the runner the validation tests share.

Each test_validation_* module holds the rules of some kinds as cases: a base object of a kind
(`BASE`), a mutation, and the exact causes of the 422 Status kube-apiserver answers with
(built here in kube's words: `inv`, `req`, `dup`, `unsupported`, `forbidden`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from api import names
from api.errors import invalid
from api.resources import by_plural
from apiserver.logic import apply_defaults, validate

Obj = dict[str, Any]
Causes = list[dict[str, str]]
Case = tuple[str, str, Callable[[Obj], object], Causes]  # id, plural, mutation, causes (none: valid)
LABEL = names.DNS1123_LABEL_MSG
SUBDOMAIN = names.DNS1123_SUBDOMAIN_MSG
DNS1035 = names.DNS1035_LABEL_MSG
PORTS = names.PORT_RANGE_MSG


def manifest(
    kind: str, name: str, namespace: str | None = "default", api_version: str = "v1", **body: Any
) -> Obj:
    """A fresh object of `kind` (namespaced unless `namespace` is None) with the given top-level fields."""
    metadata = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def pod() -> Obj:
    return manifest("Pod", "web", spec={"containers": [{"name": "web", "image": "busybox:1.36"}]})


def rc() -> Obj:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "busybox"}]},
    }
    return manifest("ReplicationController", "web", spec={"replicas": 2, "template": template})


def svc() -> Obj:
    return manifest("Service", "web", spec={"selector": {"app": "web"}, "ports": [{"port": 80}]})


BASE: dict[str, Callable[[], Obj]] = {
    "pods": pod,
    "replicationcontrollers": rc,
    "services": svc,
    "namespaces": lambda: manifest("Namespace", "team-a", None),
    "nodes": lambda: manifest("Node", "node-1", None),
    "endpoints": lambda: manifest(
        "Endpoints", "web", subsets=[{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]
    ),
    "events": lambda: manifest(
        "Event",
        "e.1",
        involvedObject={"kind": "Pod", "name": "web", "namespace": "default"},
        reason="Started",
        type="Normal",
    ),
    "leases": lambda: manifest(
        "Lease",
        "node-1",
        "kube-node-lease",
        "coordination.k8s.io/v1",
        spec={"holderIdentity": "node-1", "leaseDurationSeconds": 40},
    ),
}


def status(plural: str, obj: Obj, old: Obj | None = None) -> Obj | None:
    r = by_plural("coordination.k8s.io" if plural == "leases" else "", plural)
    assert r is not None
    apply_defaults(r, obj)
    causes = validate(r, obj, old)
    if not causes:
        return None
    return invalid(r.kind, (obj.get("metadata") or {}).get("name", ""), causes, r.group).status


def inv(field: str, value: str, detail: str) -> dict[str, str]:
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {value}: {detail}", "field": field}


def req(field: str, detail: str = "") -> dict[str, str]:
    return {
        "reason": "FieldValueRequired",
        "message": "Required value" + (f": {detail}" if detail else ""),
        "field": field,
    }


def dup(field: str, value: str) -> dict[str, str]:
    return {"reason": "FieldValueDuplicate", "message": f"Duplicate value: {value}", "field": field}


def unsupported(field: str, value: str, options: str) -> dict[str, str]:
    return {
        "reason": "FieldValueNotSupported",
        "message": f"Unsupported value: {value}: supported values: {options}",
        "field": field,
    }


def forbidden(field: str, detail: str) -> dict[str, str]:
    return {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": field}


def setp(path: str, value: Any) -> Callable[[Obj], None]:
    """A mutation setting a dotted path (`spec.containers.0.name`); None deletes."""

    def run(obj: Obj) -> None:
        keys = path.split(".")
        node: Any = obj
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is None:
            node.pop(last, None)
        else:
            node[last] = value

    return run


def stored(plural: str) -> Obj:
    """`plural`'s base object as the store holds it: defaulted, with a uid and creation time."""
    obj = BASE[plural]()
    r = by_plural("", plural)
    assert r is not None
    apply_defaults(r, obj)
    obj["metadata"].update(uid="u-1", creationTimestamp="2026-01-01T00:00:00Z")
    return obj


def rules(cases: list[Case]) -> pytest.MarkDecorator:
    """Parametrizes `test_rule` of a module over its cases, named by their ids."""
    return pytest.mark.parametrize(
        ("plural", "mutate", "causes"), [c[1:] for c in cases], ids=[c[0] for c in cases]
    )


def check_rule(plural: str, mutate: Callable[[Obj], object], causes: Causes) -> None:
    """The base object of `plural`, mutated, is refused with exactly `causes` (or valid without)."""
    obj = BASE[plural]()
    mutate(obj)
    got = status(plural, obj)
    if not causes:
        assert got is None
        return
    assert got is not None
    assert (got["code"], got["reason"], got["status"], got["kind"]) == (422, "Invalid", "Failure", "Status")
    assert got["details"]["causes"] == causes
    assert got["details"]["kind"] == obj["kind"]
