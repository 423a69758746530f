"""api.qos: kube's QoS rule, shared by the API server, the kubelet and kubectl describe."""

from __future__ import annotations

from typing import Any

import pytest

from api.qos import qos_class


def res(requests: dict[str, Any] | None = None, limits: dict[str, Any] | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {}
    if requests is not None:
        r["requests"] = requests
    if limits is not None:
        r["limits"] = limits
    return {"name": "c", "resources": r}


BOTH = {"cpu": "1", "memory": "1Gi"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"containers": [{"name": "c"}]}, "BestEffort"),
        ({"containers": []}, "BestEffort"),
        # only cpu and memory count, and only positive amounts
        ({"containers": [res({"ephemeral-storage": "1Gi"}, {"nvidia.com/gpu": "1"})]}, "BestEffort"),
        ({"containers": [res({"cpu": "0"}, {"memory": "0"})]}, "BestEffort"),
        ({"containers": [res(BOTH, BOTH)]}, "Guaranteed"),
        # quantities compare as numbers, not strings
        ({"containers": [res({"cpu": "1000m", "memory": "1024Mi"}, BOTH)]}, "Guaranteed"),
        ({"containers": [res({"cpu": "500m", "memory": "1Gi"}, BOTH)]}, "Burstable"),
        ({"containers": [res({"cpu": "100m"})]}, "Burstable"),
        # a limit of only one of the two is not Guaranteed
        ({"containers": [res({"cpu": "1"}, {"cpu": "1"})]}, "Burstable"),
        # one container without resources next to a Guaranteed one
        ({"containers": [res(BOTH, BOTH), {"name": "d"}]}, "Burstable"),
        # init containers count as app containers do
        ({"containers": [res(BOTH, BOTH)], "initContainers": [{"name": "i"}]}, "Burstable"),
        ({"containers": [res(BOTH, BOTH)], "initContainers": [res(BOTH, BOTH)]}, "Guaranteed"),
        ({"containers": [{"name": "c"}], "initContainers": [res({"memory": "1Mi"})]}, "Burstable"),
        # limits without requests: the API server defaults requests to them before anyone asks
        ({"containers": [res(None, BOTH)]}, "Burstable"),
        # an unparsable quantity counts as not set (validation refuses it elsewhere)
        ({"containers": [res({"cpu": "lots"})]}, "BestEffort"),
    ],
)
def test_qos_class(spec: dict[str, Any], expected: str) -> None:
    assert qos_class(spec) == expected
