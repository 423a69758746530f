"""Manifests the e2e tests build in Python (rather than YAML text) to vary one field at a time."""

from __future__ import annotations

from typing import Any


def deployment(name: str, replicas: int, container: dict[str, Any]) -> dict[str, Any]:
    """A Deployment in `default` of one container, its pods labelled app=NAME, stopped within 1 s."""
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"terminationGracePeriodSeconds": 1, "containers": [container]},
            },
        },
    }


def pod(name: str, containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    """A Pod in `default` of these containers and spec fields, stopped within 1 s."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": containers, **spec},
    }
