"""`kubectl autoscale (TYPE NAME | TYPE/NAME) --max=N [--min=N] [--cpu-percent=P] [--name=HPA]`.

Builds the autoscaling/v2 HorizontalPodAutoscaler kubectl's autoscale.go builds: named after the
target (or `--name`), `scaleTargetRef` from the target as read from the server (it must exist and
have a scale subresource), `minReplicas` only when `--min` is given, a cpu Utilization metric only
with `--cpu-percent` (the server defaults to 80%). Created through `kubectl create`'s path, so
`--dry-run` and `-o` behave as for `create -f`; the answer is `horizontalpodautoscaler.autoscaling/x
autoscaled`.
"""

from __future__ import annotations

from typing import Any

from kubectl.env import CommandError, Env
from kubectl.flags import WRITE_FLAGS, FlagSpec, Help, Parsed
from kubectl.targets import NEED_ARGS

FLAGS: dict[str, FlagSpec] = {
    "autoscale": {
        "max": ("int", -1, "", "The most pods the autoscaler may run (required)."),
        "min": ("int", -1, "", "The fewest pods the autoscaler may run; -1 leaves the server's default."),
        "cpu-percent": (
            "int",
            -1,
            "",
            "Average CPU use, as a percent of the requested CPU, to scale toward; -1 leaves the default.",
        ),
        "name": ("str", "", "", "Name of the autoscaler; by default the target's."),
        **WRITE_FLAGS,
    }
}
HELP = {
    "autoscale": Help(
        summary="Scale a workload automatically with its CPU use",
        more="Creates a HorizontalPodAutoscaler that keeps the target's replica count between "
        "--min and --max, aiming at --cpu-percent average CPU use.",
        usage="(-f FILENAME | TYPE NAME | TYPE/NAME) [--min=MINPODS] --max=MAXPODS [--cpu-percent=CPU]",
        examples="""
        # Between 2 and 10 pods of a deployment, at the default CPU target
        kubectl autoscale deployment web --min=2 --max=10

        # Up to 5 pods of a replication controller, aiming at 80% CPU
        kubectl autoscale rc frontend --max=5 --cpu-percent=80
        """,
    )
}
_SCALABLE = ("deployments", "replicasets", "replicationcontrollers", "statefulsets")


def hpa_object(name: str, target: dict[str, Any], low: int, high: int, cpu_percent: int) -> dict[str, Any]:
    """The HPA for this target (pure)."""
    spec: dict[str, Any] = {
        "scaleTargetRef": {
            "apiVersion": target.get("apiVersion", ""),
            "kind": target.get("kind", ""),
            "name": (target.get("metadata") or {}).get("name", ""),
        },
        "maxReplicas": high,
    }
    if low >= 0:
        spec["minReplicas"] = low
    if cpu_percent >= 0:
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": cpu_percent},
                },
            }
        ]
    return {
        "kind": "HorizontalPodAutoscaler",
        "apiVersion": "autoscaling/v2",
        "metadata": {"name": name, "creationTimestamp": None},
        "spec": spec,
        "status": {"currentMetrics": None, "desiredReplicas": 0},
    }


def _target(env: Env, args: list[str]) -> tuple[Any, str]:
    if len(args) == 1 and "/" in args[0]:
        kind, _, name = args[0].partition("/")
        return env.resource(kind), name
    if len(args) == 2:
        return env.resource(args[0]), args[1]
    raise CommandError(NEED_ARGS)


def autoscale(env: Env, p: Parsed) -> int:
    from kubectl.creating import dry_run_mode, report

    if p["max"] < 1:
        raise CommandError("error: --max=MAXPODS is required and must be at least 1, max: " + str(p["max"]))
    if p["max"] < p["min"]:
        raise CommandError(
            f"error: --max=MAXPODS must be larger or equal to --min=MINPODS, max: {p['max']}, min: {p['min']}"
        )
    res, name = _target(env, p.args)
    if res.plural not in _SCALABLE:
        raise CommandError(f"error: cannot autoscale a {res.kind}: {res.kind} is not scalable")
    target = env.client.get(res, name, env.namespace)
    target.setdefault("apiVersion", res.api_version)
    target.setdefault("kind", res.kind)
    obj = hpa_object(p["name"] or name, target, p["min"], p["max"], p["cpu-percent"])
    mode = dry_run_mode(p)
    hpa_res = env.resource("horizontalpodautoscalers.autoscaling")
    if mode == "client":
        report(env, p, obj, hpa_res, "autoscaled", mode)
        return 0
    obj["metadata"].pop("creationTimestamp")
    obj.pop("status")
    out = env.client.create(
        hpa_res,
        obj,
        env.namespace,
        dry_run=mode == "server",
        field_manager=p["field-manager"] or "kubectl-autoscale",
        field_validation="Strict",
    )
    report(env, p, out, hpa_res, "autoscaled", mode)
    return 0
