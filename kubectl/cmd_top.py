"""`kubectl top nodes|pods`: resource usage from metrics.k8s.io, printed as kubectl 1.33 prints it.

Nodes: NAME, CPU(cores) in millicores, CPU(%) of the node's allocatable CPU, MEMORY(bytes) in Mi,
MEMORY(%) of allocatable memory. Pods: NAME, CPU(cores), MEMORY(bytes) (NAMESPACE first with
`-A`; POD and NAME per container with `--containers`). `-l` selects, `--sort-by=cpu|memory`
orders (largest first), `--no-headers` drops the header. No metrics for what was asked is kubectl's
`error: metrics not available yet` for nodes and `No resources found in <ns> namespace.` for pods.
"""

from __future__ import annotations

from typing import Any

from api.quantity import parse_quantity, to_milli
from kubectl.env import CommandError, Env
from kubectl.flags import FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "top": {
        "selector": ("str", "", "l"),
        "all-namespaces": ("bool", False, "A"),
        "containers": ("bool", False, "", "A line for each container of each pod."),
        "sort-by": ("str", "", "", "Sort the rows by cpu or memory."),
        "no-headers": ("bool", False, ""),
        "show-capacity": (
            "bool",
            False,
            "",
            "Percentages of the node's capacity rather than of what is allocatable.",
        ),
        "use-protocol-buffers": (
            "bool",
            True,
            "",
            "Ask the metrics API for protocol buffers (accepted, but kubelite always asks for JSON).",
        ),
        "field-selector": ("str", "", ""),
        "sum": ("bool", False, "", "Add a line with the totals."),
    }
}
HELP = {
    "top": Help(
        summary="Show CPU and memory use",
        more="CPU and memory use of nodes or pods, from the metrics API (metrics.k8s.io), which a "
        "metrics server must provide.",
        usage="[flags]",
        examples="""
        # Use of every node, then of the pods of the namespace
        kubectl top node
        kubectl top pod
        """,
        flags=(),
    ),
    "top pod": Help(
        summary="Show CPU and memory use of pods",
        more="CPU and memory use of pods, or of their containers, as the metrics API reports it; "
        "a pod that just started may have none yet.",
        aliases=("pods", "po"),
        usage="[NAME | -l label]",
        examples="""
        # Every pod of the namespace, then of all namespaces
        kubectl top pod
        kubectl top pod -A

        # One pod, container by container
        kubectl top pod web-1 --containers

        # Pods labelled app=web, heaviest memory first
        kubectl top pod -l app=web --sort-by=memory
        """,
        flags=(
            "all-namespaces",
            "containers",
            "field-selector",
            "no-headers",
            "selector",
            "sort-by",
            "sum",
            "use-protocol-buffers",
        ),
    ),
    "top node": Help(
        summary="Show CPU and memory use of nodes",
        more="CPU and memory use of nodes, and as a percentage of what they can allocate.",
        aliases=("nodes", "no"),
        usage="[NAME | -l label]",
        examples="""
        # Every node, then one
        kubectl top node
        kubectl top node node-1
        """,
        flags=("no-headers", "selector", "show-capacity", "sort-by", "use-protocol-buffers"),
    ),
}
_MI = 1024 * 1024


def _usage(usage: dict[str, Any]) -> tuple[int, int]:
    """(millicores, bytes) of a usage map."""
    return to_milli(usage.get("cpu", "0")), int(parse_quantity(usage.get("memory", "0")))


def node_rows(
    metrics: list[dict[str, Any]], nodes: dict[str, dict[str, Any]], capacity: bool
) -> list[list[str]]:
    """Rows of `top nodes` (pure): usage and its share of allocatable (or capacity)."""
    rows = []
    for m in metrics:
        name = m["metadata"]["name"]
        cpu, mem = _usage(m.get("usage") or {})
        status = (nodes.get(name) or {}).get("status") or {}
        avail = status.get("capacity" if capacity else "allocatable") or {}
        cpu_total, mem_total = to_milli(avail.get("cpu", "0")), int(parse_quantity(avail.get("memory", "0")))
        rows.append(
            [
                name,
                f"{cpu}m",
                f"{cpu * 100 // cpu_total}%" if cpu_total else "<unknown>",
                f"{mem // _MI}Mi",
                f"{mem * 100 // mem_total}%" if mem_total else "<unknown>",
            ]
        )
    return rows


def pod_rows(metrics: list[dict[str, Any]], containers: bool, all_namespaces: bool) -> list[list[str]]:
    """Rows of `top pods` (pure): per pod, or per container with `--containers`."""
    rows = []
    for m in metrics:
        meta = m["metadata"]
        lead = [meta.get("namespace", "")] if all_namespaces else []
        if containers:
            for c in m.get("containers") or []:
                cpu, mem = _usage(c.get("usage") or {})
                rows.append([*lead, meta["name"], c.get("name", ""), f"{cpu}m", f"{mem // _MI}Mi"])
        else:
            cpu = sum(_usage(c.get("usage") or {})[0] for c in m.get("containers") or [])
            mem = sum(_usage(c.get("usage") or {})[1] for c in m.get("containers") or [])
            rows.append([*lead, meta["name"], f"{cpu}m", f"{mem // _MI}Mi"])
    return rows


def _sort(rows: list[list[str]], sort_by: str, cpu_col: int, mem_col: int) -> list[list[str]]:
    if sort_by == "cpu":
        return sorted(rows, key=lambda r: -int(r[cpu_col][:-1]))
    if sort_by == "memory":
        return sorted(rows, key=lambda r: -int(r[mem_col][:-2]))
    if sort_by:
        raise CommandError(f"error: --sort-by accepts only cpu or memory, got {sort_by!r}")
    return rows


def top(env: Env, p: Parsed) -> int:
    from kubectl.tables import format_rows

    what = p.args[0] if p.args else ""
    if what in ("node", "nodes", "no"):
        res = env.resource("nodes.metrics.k8s.io")
        metrics = env.client.list(res, None, label_selector=p["selector"] or None)["items"]
        if p.args[1:]:
            metrics = [m for m in metrics if m["metadata"]["name"] in p.args[1:]]
        if not metrics:
            raise CommandError("error: metrics not available yet")
        nodes = {n["metadata"]["name"]: n for n in env.client.list("nodes")["items"]}
        rows = _sort(sorted(node_rows(metrics, nodes, p["show-capacity"])), p["sort-by"], 1, 3)
        header = ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    elif what in ("pod", "pods", "po"):
        res = env.resource("pods.metrics.k8s.io")
        ns = None if p["all-namespaces"] else env.namespace
        metrics = env.client.list(res, ns, label_selector=p["selector"] or None)["items"]
        if p.args[1:]:
            metrics = [m for m in metrics if m["metadata"]["name"] in p.args[1:]]
            if not metrics:
                raise CommandError(
                    f"error: Metrics not available for pod {env.namespace}/{p.args[1]}, age: unknown"
                )
        if not metrics:
            env.out.write(
                "No resources found\n" if ns is None else f"No resources found in {ns} namespace.\n"
            )
            return 0
        metrics.sort(key=lambda m: (m["metadata"].get("namespace", ""), m["metadata"]["name"]))
        lead = ["NAMESPACE"] if ns is None else []
        shift = len(lead) + (1 if p["containers"] else 0)
        rows = _sort(pod_rows(metrics, p["containers"], ns is None), p["sort-by"], shift + 1, shift + 2)
        header = [*lead, *(["POD", "NAME"] if p["containers"] else ["NAME"]), "CPU(cores)", "MEMORY(bytes)"]
    else:
        raise CommandError(
            'error: unknown command "top" argument; use `kubectl top node` or `kubectl top pod`'
        )
    # kubectl's printer ends every cell with a tab: the last column is padded too
    env.out.write(format_rows([[*r, ""] for r in (rows if p["no-headers"] else [header, *rows])]))
    return 0
