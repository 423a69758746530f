"""The custom kinds read from CRDs: Established ones only, in their storage version, cluster-scoped
ones left out when only namespaced kinds are asked for (the namespace controller's case)."""

from __future__ import annotations

from typing import Any

from controller.customkinds import custom_resources


def crd(plural: str, scope: str, established: bool = True) -> dict[str, Any]:
    return {
        "spec": {
            "group": "example.com",
            "scope": scope,
            "versions": [
                {"name": "v1beta1", "served": True, "storage": False},
                {"name": "v1", "served": True, "storage": True},
            ],
        },
        "status": {
            "acceptedNames": {"plural": plural, "singular": plural[:-1], "kind": plural.title()[:-1]},
            "conditions": [{"type": "Established", "status": "True" if established else "False"}],
        },
    }


def test_established_kinds_in_their_storage_version() -> None:
    crds = [
        crd("widgets", "Namespaced"),
        crd("clusters", "Cluster"),
        crd("drafts", "Namespaced", established=False),
    ]
    got = custom_resources(crds)
    assert [(r.plural, r.kind, r.namespaced, r.api_version) for r in got] == [
        ("widgets", "Widget", True, "example.com/v1"),
        ("clusters", "Cluster", False, "example.com/v1"),
    ]
    assert [r.plural for r in custom_resources(crds, namespaced_only=True)] == ["widgets"]
    # a storage version no longer served is not read: a served one is (the server converts)
    old = crd("gadgets", "Namespaced")
    old["spec"]["versions"] = [
        {"name": "v2", "served": True},
        {"name": "v1", "served": False, "storage": True},
    ]
    assert [r.api_version for r in custom_resources([old])] == ["example.com/v2"]
    old["spec"]["versions"][0]["served"] = False  # nothing served: no kind to read
    assert custom_resources([old]) == []
