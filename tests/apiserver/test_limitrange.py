"""core/v1 LimitRange through a real server: kube's stored defaults and 422s, and the LimitRanger
admission on pod and claim creates (defaults filled and annotated, kube's 403 words, nothing
stored when refused), following LimitRanges as they are made and removed."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.apiserver.conftest import Server, pod, table_rows


def _limit_range(name: str, *limits: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": name},
        "spec": {"limits": list(limits)},
    }


def _pod(name: str, **resources: dict[str, str]) -> dict[str, Any]:
    body = pod(name)
    if resources:
        body["spec"]["containers"][0]["resources"] = resources  # type: ignore[index]
    return body


def test_container_items_are_defaulted_from_max_and_min(http: httpx.Client, ns: str, server: Server) -> None:
    r = http.post(
        f"/api/v1/namespaces/{ns}/limitranges",
        json=_limit_range(
            "lr", {"type": "Container", "max": {"cpu": "1", "memory": "1Gi"}, "min": {"cpu": "50m"}}
        ),
    )
    assert r.status_code == 201, r.text
    item = r.json()["spec"]["limits"][0]
    assert item["default"] == {"cpu": "1", "memory": "1Gi"}  # the max
    assert item["defaultRequest"] == {"cpu": "1", "memory": "1Gi"}  # the default limit, before the min
    rows = table_rows(server.kubectl("get", "limits", "-n", ns, check=True).stdout)
    assert rows[0] == ["NAME", "CREATED", "AT"] and rows[1][0] == "lr", rows


@pytest.mark.parametrize(
    ("item", "field", "words"),
    [
        (
            {"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}},
            "spec.limits[0].min[cpu]",
            "min value 2 is greater than max value 1",
        ),
        (
            {"type": "Container", "max": {"cpu": "1"}, "default": {"cpu": "2"}},
            "spec.limits[0].default[cpu]",
            "default value 2 is greater than max value 1",
        ),
        (
            {"type": "Container", "default": {"cpu": "1"}, "defaultRequest": {"cpu": "2"}},
            "spec.limits[0].defaultRequest[cpu]",
            "default request value 2 is greater than default limit value 1",
        ),
        (
            {"type": "Container", "maxLimitRequestRatio": {"cpu": "500m"}},
            "spec.limits[0].maxLimitRequestRatio[cpu]",
            "ratio 500m is less than 1",
        ),
        (
            {"type": "Pod", "default": {"cpu": "1"}},
            "spec.limits[0].default",
            "may not be specified when `type` is 'Pod'",
        ),
        ({"type": "container", "max": {"cpu": "1"}}, "spec.limits[0].type", 'Unsupported value: "container"'),
        (
            {"type": "PersistentVolumeClaim", "max": {"cpu": "1"}},
            "spec.limits[0].limits",
            "either minimum or maximum storage value is required",
        ),
    ],
)
def test_invalid_limit_ranges_are_422(
    http: httpx.Client, ns: str, item: dict[str, Any], field: str, words: str
) -> None:
    r = http.post(f"/api/v1/namespaces/{ns}/limitranges", json=_limit_range("bad", item))
    assert r.status_code == 422, r.text
    assert any(c["field"] == field and words in c["message"] for c in r.json()["details"]["causes"]), r.text
    assert http.get(f"/api/v1/namespaces/{ns}/limitranges/bad").status_code == 404


def test_pods_get_defaults_and_are_held_to_the_bounds(http: httpx.Client, ns: str) -> None:
    pods = f"/api/v1/namespaces/{ns}/pods"
    assert http.post(pods, json=_pod("before")).status_code == 201  # no LimitRange yet: as sent
    lr = _limit_range(
        "lr",
        {
            "type": "Container",
            "max": {"cpu": "1", "memory": "1Gi"},
            "min": {"cpu": "50m"},
            "defaultRequest": {"cpu": "100m", "memory": "64Mi"},
            "maxLimitRequestRatio": {"cpu": "10"},
        },
        {"type": "Pod", "max": {"cpu": "1500m"}},
    )
    assert http.post(f"/api/v1/namespaces/{ns}/limitranges", json=lr).status_code == 201
    r = http.post(pods, json=_pod("plain"))
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "1", "memory": "1Gi"},
        "requests": {"cpu": "100m", "memory": "64Mi"},
    }
    assert got["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c"
    )
    # a limit alone is the request too (the pod's defaulting), then held to the max
    r = http.post(pods, json=_pod("big", limits={"cpu": "3"}))
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        'pods "big" is forbidden: [maximum cpu usage per Container is 1, but limit is 3, '
        "maximum cpu usage per Pod is 1500m, but limit is 3]"
    )
    r = http.post(pods, json=_pod("tiny", requests={"cpu": "10m"}, limits={"cpu": "500m"}))
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        'pods "tiny" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, '
        "cpu max limit to request ratio per Container is 10, but provided ratio is 50.000000]"
    )
    assert r.json()["details"] == {"name": "tiny", "kind": "pods"}
    for name in ("big", "tiny"):
        assert http.get(f"{pods}/{name}").status_code == 404
    # the LimitRange removed, pods are as sent again
    assert http.delete(f"/api/v1/namespaces/{ns}/limitranges/lr").status_code == 200
    deadline = time.monotonic() + 10
    while True:
        r = http.post(pods, json=_pod("after", limits={"cpu": "3"}))
        if r.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.status_code == 201, r.text
    assert "annotations" not in r.json()["metadata"]


def test_claims_are_held_to_storage_bounds(http: httpx.Client, ns: str) -> None:
    lr = _limit_range(
        "storage", {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "10Gi"}}
    )
    assert http.post(f"/api/v1/namespaces/{ns}/limitranges", json=lr).status_code == 201

    def claim(name: str, size: str) -> httpx.Response:
        body = {
            "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
        }
        return http.post(f"/api/v1/namespaces/{ns}/persistentvolumeclaims", json=body)

    r = claim("small", "500Mi")
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        'persistentvolumeclaims "small" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, '
        "but request is 500Mi"
    )
    r = claim("large", "20Gi")
    assert (
        r.status_code == 403
        and "maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi" in r.text
    )
    assert claim("fine", "5Gi").status_code == 201
