"""api.quota: what objects use of a quota's resources, as kube's evaluators count it."""

from __future__ import annotations

from decimal import Decimal

from api.quota import missing_compute, quota_counts, supported, usage, written


def _pod(phase: str = "Pending", **resources: dict[str, str]) -> dict[str, object]:
    return {
        "spec": {
            "containers": [{"name": "b", "resources": resources}, {"name": "a", "resources": resources}],
            "initContainers": [{"name": "init", "resources": {"requests": {"cpu": "3"}}}],
        },
        "status": {"phase": phase},
    }


def test_pod_usage_sums_containers_and_takes_the_larger_init() -> None:
    got = usage(
        "pods", "", _pod(requests={"cpu": "500m", "memory": "1Gi"}), ["pods", "requests.cpu", "memory"]
    )
    assert got == {"pods": Decimal(1), "requests.cpu": Decimal(3), "memory": Decimal(2 * 2**30)}


def test_a_pods_overhead_counts_for_requests_and_for_limits_that_are_set() -> None:
    """kube's PodRequests add a RuntimeClass's overhead; PodLimits add it to non-zero limits only."""
    pod = _pod(requests={"cpu": "500m"}, limits={"cpu": "1"})
    pod["spec"]["overhead"] = {"cpu": "250m", "memory": "120Mi"}  # type: ignore[index]
    got = usage("pods", "", pod, ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"])
    assert got == {
        "requests.cpu": Decimal("3.25"),  # max(2 x 500m, the init's 3) + 250m
        "requests.memory": Decimal(120 * 2**20),  # no container asks memory: the overhead alone
        "limits.cpu": Decimal("2.25"),
        "limits.memory": Decimal(0),  # no memory limit: unbounded, nothing added
    }


def test_a_finished_pod_uses_nothing_but_still_counts_as_an_object() -> None:
    done = _pod("Succeeded", requests={"cpu": "1"})
    assert usage("pods", "", done, ["pods", "requests.cpu", "count/pods"]) == {
        "pods": Decimal(0),
        "requests.cpu": Decimal(0),
        "count/pods": Decimal(1),
    }


def test_other_kinds_and_counts() -> None:
    svc = {"spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 81, "nodePort": 30001}]}}
    assert usage("services", "", svc, ["services", "services.nodeports", "services.loadbalancers"]) == {
        "services": Decimal(1),
        "services.nodeports": Decimal(1),
        "services.loadbalancers": Decimal(0),
    }
    claim = {"spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "2Gi"}}}}
    names = [
        "requests.storage",
        "fast.storageclass.storage.k8s.io/persistentvolumeclaims",
        "slow.storageclass.storage.k8s.io/requests.storage",
    ]
    assert usage("persistentvolumeclaims", "", claim, names) == {
        "requests.storage": Decimal(2 * 2**30),
        "fast.storageclass.storage.k8s.io/persistentvolumeclaims": Decimal(1),
    }
    assert usage("deployments", "apps", {}, ["count/deployments.apps", "pods"]) == {
        "count/deployments.apps": Decimal(1)
    }
    assert (
        supported("count/jobs.batch")
        and not supported("count/widgets.example.com")
        and not supported("bananas")
    )


def test_must_specify_names_cpu_and_memory_for_every_container_sorted() -> None:
    pod = {
        "spec": {
            "containers": [{"name": "z"}, {"name": "a", "resources": {"limits": {"cpu": "1"}}}],
            "initContainers": [{"name": "i"}],
        }
    }
    assert missing_compute(
        pod, ["limits.cpu", "requests.memory", "requests.storage", "limits.ephemeral-storage"]
    ) == [
        "limits.cpu for: i,z",
        "requests.memory for: a,i,z",
    ]


def test_scopes_and_written_quantities() -> None:
    best_effort = {"spec": {"containers": [{"name": "c"}]}}
    assert quota_counts({"scopes": ["BestEffort", "NotTerminating"]}, "pods", "", best_effort)
    assert not quota_counts({"scopes": ["Terminating"]}, "pods", "", best_effort)
    assert not quota_counts({"scopes": ["BestEffort"]}, "services", "", {})  # a scoped quota counts pods only
    assert quota_counts({}, "services", "", {})


def test_scope_selector_on_priority_class_and_cross_namespace_affinity() -> None:
    high = {"spec": {"priorityClassName": "high", "containers": [{"name": "c"}]}}
    none = {"spec": {"containers": [{"name": "c"}]}}

    def selector(op: str, *values: str, scope: str = "PriorityClass") -> dict[str, object]:
        req: dict[str, object] = {"scopeName": scope, "operator": op}
        if values:
            req["values"] = list(values)
        return {"scopeSelector": {"matchExpressions": [req]}}

    assert quota_counts(selector("In", "high", "medium"), "pods", "", high)
    assert not quota_counts(selector("In", "high"), "pods", "", none)
    assert quota_counts(selector("NotIn", "low"), "pods", "", high) and quota_counts(
        selector("NotIn", "low"), "pods", "", none
    )
    assert quota_counts(selector("Exists"), "pods", "", high) and not quota_counts(
        selector("Exists"), "pods", "", none
    )
    assert quota_counts(selector("DoesNotExist"), "pods", "", none)
    assert quota_counts({"scopes": ["PriorityClass"]}, "pods", "", high)  # a listed scope: Exists
    far = {
        "spec": {
            "containers": [{"name": "c"}],
            "affinity": {
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"topologyKey": "k", "namespaceSelector": {}}
                    ]
                }
            },
        }
    }
    near = {
        "spec": {
            "containers": [{"name": "c"}],
            "affinity": {
                "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "k"}]}
            },
        }
    }
    crossing = selector("Exists", scope="CrossNamespacePodAffinity")
    assert quota_counts(crossing, "pods", "", far) and not quota_counts(crossing, "pods", "", near)
    assert written(Decimal("0.5")) == "500m" and written(Decimal(2 * 2**30), "1Gi") == "2Gi"
