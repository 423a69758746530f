"""A pod's affinity and topologySpreadConstraints are checked on the way in (kube's 422 words),
so that a term the scheduler cannot read never reaches it, and the parts it does not act on are
refused by name."""

from __future__ import annotations

from typing import Any

from apiserver.validation.pod import validate_pod_spec

C = [{"name": "c", "image": "busybox"}]
TERM = {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}


def causes(**spec: Any) -> dict[str, str]:
    """The causes about placement (the spec is not defaulted: the others are not the point here)."""
    return {
        c["field"]: c["message"]
        for c in validate_pod_spec({"containers": C, **spec})
        if c["field"].startswith(("spec.affinity", "spec.topologySpreadConstraints"))
    }


def test_a_well_formed_placement_passes() -> None:
    assert (
        causes(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                        ]
                    },
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 10,
                            "preference": {"matchExpressions": [{"key": "ssd", "operator": "Exists"}]},
                        }
                    ],
                },
                "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [TERM]},
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 100, "podAffinityTerm": TERM}
                    ]
                },
            },
            topologySpreadConstraints=[
                {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "minDomains": 2},
                {
                    "maxSkew": 2,
                    "topologyKey": "zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "nodeAffinityPolicy": "Honor",
                },
            ],
        )
        == {}
    )


def test_pod_affinity_terms_in_kube_words() -> None:
    bad_selector = {"matchExpressions": [{"key": "app", "operator": "Near", "values": ["x"]}]}
    got = causes(
        affinity={
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": bad_selector}]
            },
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 0, "podAffinityTerm": {**TERM, "matchLabelKeys": ["pod-template-hash"]}}
                ]
            },
        }
    )
    req = "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
    pref = "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
    assert got == {
        f"{req}.labelSelector.matchExpressions[0].operator": 'Invalid value: "Near": not a valid selector operator',
        f"{req}.topologyKey": "Required value: can not be empty",
        f"{pref}.weight": "Invalid value: 0: must be in the range 1-100",
        f"{pref}.podAffinityTerm.matchLabelKeys": "Forbidden: is not supported: kubelite's scheduler does not act on it",
    }


def test_node_affinity_in_kube_words() -> None:
    got = causes(
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []},
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 101,
                        "preference": {"matchExpressions": [{"key": "k", "operator": "Gt", "values": []}]},
                    }
                ],
            }
        }
    )
    p = "spec.affinity.nodeAffinity"
    assert got == {
        f"{p}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms": (
            "Required value: must have at least one node selector term"
        ),
        f"{p}.preferredDuringSchedulingIgnoredDuringExecution[0].weight": "Invalid value: 101: must be in the range 1-100",
        f"{p}.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values": (
            "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"
        ),
    }


def test_spread_constraints_in_kube_words() -> None:
    got = causes(
        topologySpreadConstraints=[
            {"maxSkew": 0, "topologyKey": "", "whenUnsatisfiable": "Sometimes"},
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway", "minDomains": 2},
            {
                "maxSkew": 1,
                "topologyKey": "zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "nodeTaintsPolicy": "Honor",
            },
            {"maxSkew": "1", "topologyKey": "rack"},
        ]
    )
    s = "spec.topologySpreadConstraints"
    assert got[f"{s}[0].maxSkew"] == "Invalid value: 0: must be greater than zero"
    assert got[f"{s}[0].topologyKey"] == "Required value: can not be empty"
    assert got[f"{s}[0].whenUnsatisfiable"].startswith('Unsupported value: "Sometimes"')
    assert got[f"{s}[1].minDomains"] == (
        "Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule"
    )
    assert got[f"{s}[2].{{topologyKey, whenUnsatisfiable}}"].startswith("Duplicate value")
    assert got[f"{s}[2].nodeTaintsPolicy"].startswith("Forbidden: only Ignore is supported")
    assert got[f"{s}[3].maxSkew"] == 'Invalid value: "1": must be greater than zero'
    assert got[f"{s}[3].whenUnsatisfiable"] == "Required value"


def test_a_pods_preemption_policy_is_one_kube_knows() -> None:
    got = {
        c["field"]: c["message"]
        for c in validate_pod_spec({"containers": C, "preemptionPolicy": "Sometimes"})
    }
    assert got["spec.preemptionPolicy"].startswith('Unsupported value: "Sometimes"')
    assert "spec.preemptionPolicy" not in {
        c["field"] for c in validate_pod_spec({"containers": C, "preemptionPolicy": "Never"})
    }


def test_a_field_requirement_names_the_node_by_metadata_name_only() -> None:
    """kube's node field selector: metadata.name, In or NotIn one name (the scheduler matches nodes
    by nothing else, so another field would have matched every node)."""
    term = {
        "matchFields": [
            {"key": "metadata.uid", "operator": "NotIn", "values": ["x"]},
            {"key": "metadata.name", "operator": "In", "values": ["a", "b"]},
            {"key": "metadata.name", "operator": "Exists"},
        ]
    }
    required = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
    got = causes(affinity={"nodeAffinity": required})
    at = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields"
    assert got == {
        f"{at}[0].key": 'Unsupported value: "metadata.uid": supported values: "metadata.name"',
        f"{at}[1].values": "Required value: must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
        f"{at}[2].operator": 'Invalid value: "Exists": not a valid selector operator',
    }
