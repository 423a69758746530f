"""Node maintenance: `cordon`, `uncordon` and `drain` (kubectl's pkg/cmd/drain).

All three name nodes the same way (`NODE...`, `node/NODE`, or `-l SELECTOR`), and every node is
fetched before anything changes, so a missing one fails the command at once as kubectl's builder
does. Cordoning is one strategic-merge patch of `spec.unschedulable` per node that needs it
(`node/n1 cordoned`, `node/n1 already cordoned`); `drain` cordons, then hands each node to
`kubectl.drain` (which pods may go, evicting them through pods/eviction, waiting until they are
gone) and reports per node as kubectl does: `node/n1 drained`, or the error, the nodes left
pending and, last, every error again one per line (exit 1).
"""

from __future__ import annotations

from typing import Any

from api import requests as rq
from api.errors import ApiError
from kubectl.creating import dry_run_mode, dry_run_suffix
from kubectl.env import CommandError, Env
from kubectl.flags import FlagSpec, Help, Parsed, UsageError

_NODE_FLAGS: FlagSpec = {"selector": ("str", None, "l"), "dry-run": ("str", "none", "")}
FLAGS: dict[str, FlagSpec] = {
    "cordon": dict(_NODE_FLAGS),
    "uncordon": dict(_NODE_FLAGS),
    "drain": {
        **_NODE_FLAGS,
        "force": ("bool", False, "", "Also delete pods that no controller would make again."),
        "ignore-daemonsets": ("bool", False, "", "Leave DaemonSet pods where they are instead of stopping."),
        "delete-emptydir-data": (
            "bool",
            False,
            "",
            "Also remove pods with emptyDir volumes (their data is lost).",
        ),
        "grace-period": ("int", -1, "", "Seconds each pod gets to stop; negative: the pod's own setting."),
        "timeout": ("str", "0s", "", "How long to keep trying before giving up; 0s: no limit."),
        "pod-selector": ("str", "", "", "Only the pods this label selector picks."),
        "disable-eviction": (
            "bool",
            False,
            "",
            "Delete the pods instead of evicting them, ignoring PodDisruptionBudgets.",
        ),
        "skip-wait-for-delete-timeout": (
            "int",
            0,
            "",
            "Do not wait for a pod whose deletion began more than this many seconds ago.",
        ),
        "chunk-size": ("int", 500, "", "Accepted for kubectl's sake; lists are read whole."),
    },
}
HELP = {
    "cordon": Help(
        summary="Mark node as unschedulable",
        more="New pods are no longer scheduled on the node; those running there stay.",
        usage="NODE",
        examples="""
        # Keep new pods off node-1
        kubectl cordon node-1
        """,
    ),
    "uncordon": Help(
        summary="Mark node as schedulable",
        usage="NODE",
        examples="""
        # Let pods be scheduled on node-1 again
        kubectl uncordon node-1
        """,
    ),
    "drain": Help(
        summary="Drain node in preparation for maintenance",
        more="Cordons the node, then evicts its pods through the Eviction API, which respects "
        "PodDisruptionBudgets: a refused eviction is tried again every 5 seconds until --timeout. "
        "DaemonSet pods, pods with emptyDir data and pods no controller manages stop the drain "
        "unless the matching flag allows them; mirror pods are left alone.",
        usage="NODE",
        examples="""
        # Empty node-1, leaving its DaemonSet pods
        kubectl drain node-1 --ignore-daemonsets

        # Give up after five minutes
        kubectl drain node-1 --ignore-daemonsets --timeout=5m
        """,
    ),
}


def _check_args(p: Parsed, verb: str) -> None:
    see = f"See 'kubectl {verb} -h' for help and examples"
    if not p.args and "selector" not in p.seen:
        raise CommandError(f"error: USAGE: {verb} NODE [flags]\n{see}")
    if p.args and p["selector"]:
        raise CommandError(f"error: cannot specify both a node name and a --selector option\n{see}")


def _nodes(env: Env, p: Parsed) -> list[dict[str, Any]]:
    """The nodes named (all fetched first: one missing fails the command before any change)."""
    if not p.args:
        return list(env.client.list("nodes", label_selector=p["selector"]).get("items") or [])
    nodes = []
    for arg in p.args:
        kind, sep, name = arg.partition("/")
        if sep:
            res = env.resource(kind)
            if res.kind != "Node":
                env.client.get(res, name, env.namespace if res.namespaced else None)
                raise CommandError(
                    f'error: expected resource of type node, got "{res.group}/{res.version}, '
                    f'Resource={res.plural}"'
                )
        nodes.append(env.client.get("nodes", name if sep else arg))
    return nodes


def set_unschedulable(env: Env, nodes: list[dict[str, Any]], desired: bool, mode: str) -> None:
    """Cordon (or uncordon) each node that needs it, printing kubectl's line for every node."""
    verb = "cordon" if desired else "uncordon"
    suffix = dry_run_suffix(mode)
    for node in nodes:
        name = node["metadata"]["name"]
        if bool((node.get("spec") or {}).get("unschedulable")) == desired:
            env.out.write(f"node/{name} already {verb}ed{suffix}\n")
            continue
        if mode != "client":
            patch = {"spec": {"unschedulable": True if desired else None}}
            try:
                env.client.patch("nodes", name, patch, rq.STRATEGIC_MERGE_PATCH, dry_run=mode == "server")
            except ApiError as e:
                print(f'error: unable to {verb} node "{name}": {e.message}', file=env.err)
                continue
        env.out.write(f"node/{name} {verb}ed{suffix}\n")


def _dry_run(p: Parsed) -> str:
    try:
        return dry_run_mode(p)
    except UsageError as e:  # without cobra's usage hint here
        raise CommandError(f"error: {e}") from None


def _cordon_verb(env: Env, p: Parsed, desired: bool) -> int:
    _check_args(p, "cordon" if desired else "uncordon")
    mode = _dry_run(p)
    set_unschedulable(env, _nodes(env, p), desired, mode)
    return 0


def cordon(env: Env, p: Parsed) -> int:
    return _cordon_verb(env, p, True)


def uncordon(env: Env, p: Parsed) -> int:
    return _cordon_verb(env, p, False)


def drain(env: Env, p: Parsed) -> int:
    from kubectl import drain as draining

    _check_args(p, "drain")
    mode = _dry_run(p)
    opts = draining.Options.from_flags(p, mode)
    nodes = _nodes(env, p)
    set_unschedulable(env, nodes, True, mode)
    fatal: list[str] = []
    pending: list[str] = []
    for node in nodes:
        name = node["metadata"]["name"]
        errors = draining.drain_node(env, name, opts)
        if not errors:
            env.out.write(f"node/{name} drained{dry_run_suffix(mode)}\n")
            continue
        print(
            f'error: unable to drain node "{name}" due to error: {draining.joined(errors)}, continuing command...',
            file=env.err,
        )
        fatal += errors
        pending.append(name)
    if not pending:
        return 0
    print("There are pending nodes to be drained:", file=env.err)
    for name in pending:
        print(f" {name}", file=env.err)
    for message in fatal:
        print(message, file=env.err)
    return 1
