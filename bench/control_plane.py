"""Control plane throughput: 100 hollow nodes, a replication controller scaled 0 -> 3000.

Everything real except the containers: the API server (SQLite, durable), the controller
manager and scheduler in-process, and hollow kubelets (the real kubelet code on the fake
runtime) that report pods Running. Prints pods/s from the scale-up to the last pod Running
(observed by a watch), p50/p99 of each pod's creation -> Running, and the server's RSS.
Target: >= 500 pods/s end to end.

`--datastore postgres` runs the server on the machine's PostgreSQL (scripts/ensure-postgres.sh)
in a fresh schema of its own, dropped afterwards; `--datastore etcd` on a 3-member etcd cluster
on loopback (tests/storage/etcd_cluster.py), so the same run can be set beside SQLite's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.client import Client
from api.config import from_kubeconfig
from api.jsonutil import parse_time
from bench._cluster import child_pids, control_loops, cpu_seconds, hollow_nodes, peak_rss_mib, rss_mib, server
from bench._requests import metrics_text, request_counts, request_mix, settle, store_counts
from bench._stats import machine_speed_ms, percentile, summary_ms, table
from bench._watchlag import WatchLag

IDLE_SECONDS = 10.0
CORES = len(os.sched_getaffinity(0))  # what this process may run on: the machine, or its cgroup's share


def ready_nodes(c: Client) -> int:
    return sum(
        1
        for n in c.list("nodes")["items"]
        if any(x["type"] == "Ready" and x["status"] == "True" for x in n["status"].get("conditions") or [])
    )


@contextlib.contextmanager
def datastore(kind: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(what the table calls it, the server's --datastore flags) for sqlite | postgres | etcd."""
    if kind == "sqlite":
        yield "SQLite (synchronous=FULL)", ()
    elif kind == "etcd":
        from tests.storage.etcd_cluster import etcd_cluster

        with etcd_cluster(3) as cluster:
            yield "etcd 3.4, 3 members", ("--datastore", cluster.datastore_url())
    else:
        from sqlalchemy import create_engine, text

        # the storage tests' PostgreSQL and schema naming, so their orphan clean-up covers ours too
        from tests.storage.conftest import PG_URL, SCHEMA_PREFIX, _drop_orphan_schemas

        subprocess.run(
            ["bash", str(Path(__file__).resolve().parent.parent / "scripts/ensure-postgres.sh")], check=True
        )
        eng = create_engine(
            PG_URL.replace("postgresql://", "postgresql+psycopg2://", 1), isolation_level="AUTOCOMMIT"
        )
        _drop_orphan_schemas(eng)
        schema = f"{SCHEMA_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with eng.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar()).split()[0]
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in PG_URL else "?"
        try:
            yield f"PostgreSQL {version}", ("--datastore", f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
        finally:
            with eng.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument(
        "--workload",
        choices=("rc", "deployment"),
        default="rc",
        help="deployment: a Deployment's scale-up and rolling update beside the RC path (bench/_workloads.py)",
    )
    ap.add_argument(
        "--deployment-first", action="store_true", help="with --workload deployment: run it before the RC"
    )
    ap.add_argument("--timeout", type=float, default=600, help="seconds to wait for every pod to run")
    ap.add_argument(
        "--agents",
        type=int,
        default=1,
        help="hollow agent processes sharing the nodes, started one after another once the previous "
        "one's nodes are Ready (hundreds of nodes joining at once time out on a loaded machine)",
    )
    ap.add_argument("--datastore", choices=("sqlite", "postgres", "etcd"), default="sqlite")
    ap.add_argument(
        "--split",
        action="store_true",
        help="the controller manager and scheduler as processes of their own (over HTTPS), not in the server",
    )
    ap.add_argument(
        "--in-process-loops",
        action="store_true",
        help="the controller manager and scheduler in the server's own process (the default: its child processes)",
    )
    ap.add_argument(
        "--no-priority-and-fairness",
        action="store_true",
        help="the server without API Priority and Fairness (--enable-priority-and-fairness=false): its cost",
    )
    args = ap.parse_args()
    # the default cluster CIDR (a /16) holds 256 nodes' /24s: a bigger cluster is given a bigger one
    extra: tuple[str, ...] = ("--cluster-cidr", "10.240.0.0/12") if args.nodes > 250 else ()
    if args.no_priority_and_fairness:
        extra += ("--enable-priority-and-fairness", "false")
    # where the server runs its control loops: none (--split), its own process, or child processes
    loop_flags: tuple[str, ...] = ("--no-controllers", "--no-scheduler") if args.split else ()
    if args.in_process_loops:
        loop_flags = ("--in-process-loops",)
    with (
        datastore(args.datastore) as (store_name, store_flags),
        server(*extra, *store_flags, *loop_flags) as (data, srv),
        contextlib.ExitStack() as stack,
    ):
        loops = stack.enter_context(control_loops(data, *extra)) if args.split else []
        c = Client(from_kubeconfig([data / "kubeconfig.yaml"]))
        agents, ready_wanted = [], 0
        for i in range(args.agents):
            count = args.nodes // args.agents + (1 if i < args.nodes % args.agents else 0)
            name = "hollow" if args.agents == 1 else f"hollow{i}"
            agents.append(stack.enter_context(hollow_nodes(data, count, name)))
            ready_wanted += count
            deadline = time.monotonic() + max(120, count * 0.6)  # hundreds of nodes register slowly
            restarts = 0
            while ready_nodes(c) < ready_wanted:
                if time.monotonic() > deadline:
                    sys.exit(f"only {ready_nodes(c)} of {ready_wanted} hollow nodes became Ready")
                if agents[-1].poll() is not None and restarts < 3:
                    # its nodes' joins timed out against a busy server (the agent gives up): again
                    restarts += 1
                    print(
                        f"agent {name} exited ({agents[-1].returncode}); starting it again", file=sys.stderr
                    )
                    agents[-1] = stack.enter_context(hollow_nodes(data, count, name))
                time.sleep(0.5)

        def agents_cpu() -> float:
            return sum(cpu_seconds(a.pid) for a in agents)

        if args.workload == "deployment":
            from bench._workloads import side_by_side

            side_by_side(c, args.pods, args.deployment_first)
            return
        rss_before = rss_mib(srv.pid)
        speed_before = machine_speed_ms()
        rc = {
            "apiVersion": "v1",
            "kind": "ReplicationController",
            "metadata": {"name": "scale"},
            "spec": {
                "replicas": 0,
                "selector": {"app": "scale"},
                "template": {
                    "metadata": {"labels": {"app": "scale"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]},
                },
            },
        }
        c.create("replicationcontrollers", rc, "default")
        rv = c.list("pods", "default")["metadata"]["resourceVersion"]
        rv_start = int(rv)
        print("scaling up", file=sys.stderr, flush=True)
        lag = WatchLag(lambda: Client(from_kubeconfig([data / "kubeconfig.yaml"])))
        lag.start()

        # the loops' processes: --split's, or the server's own children (its default)
        loop_pids = [p.pid for p in loops] or child_pids(srv.pid)

        def cpu_now() -> tuple[float, float, float, float, float]:
            """CPU seconds so far: API server, control loops, hollow agents, this client, and the
            API server's event loop (its main thread: one core at most, whatever the machine has)."""
            loops_cpu = sum(cpu_seconds(pid) for pid in loop_pids)
            return (
                cpu_seconds(srv.pid),
                loops_cpu,
                agents_cpu(),
                time.process_time(),
                cpu_seconds(srv.pid, srv.pid),
            )

        def cpu_since(start: tuple[float, ...]) -> list[float]:
            return [now - then for now, then in zip(cpu_now(), start, strict=True)]

        text0 = metrics_text(c)
        requests0, store0 = request_counts(text0), store_counts(text0)
        cpu0 = cpu_now()
        t0 = time.monotonic()
        c.patch("replicationcontrollers", "scale", {"spec": {"replicas": args.pods}}, namespace="default")
        running: dict[str, float] = {}
        created: dict[str, str] = {}
        while len(running) < args.pods and time.monotonic() - t0 < args.timeout:
            for ev in c.watch("pods", "default", resource_version=rv, timeout_seconds=30):
                obj = ev["object"]
                if ev["type"] == "ERROR":  # e.g. 410 Gone after a long stall: list again, resume there
                    print(f"watch error: {obj.get('message')}; listing again", file=sys.stderr, flush=True)
                    listed = c.list("pods", "default")
                    rv = listed["metadata"]["resourceVersion"]
                    for pod in listed["items"]:
                        created[pod["metadata"]["name"]] = pod["metadata"]["creationTimestamp"]
                        if (pod.get("status") or {}).get("phase") == "Running":
                            running.setdefault(pod["metadata"]["name"], time.time())
                    break
                if ev["type"] == "BOOKMARK":
                    rv = obj["metadata"]["resourceVersion"]
                    continue
                rv = obj["metadata"]["resourceVersion"]
                name = obj["metadata"]["name"]
                created[name] = obj["metadata"]["creationTimestamp"]
                if (obj.get("status") or {}).get("phase") == "Running" and name not in running:
                    running[name] = time.time()
                if len(running) >= args.pods:
                    break
        elapsed = time.monotonic() - t0
        cpu = cpu_since(cpu0)
        requests = request_mix(requests0, request_counts(metrics_text(c)), len(running))
        lags = lag.stop()
        # what the pods cost once their kubelets' last events are written too
        tail = settle(c)
        cpu_settled = cpu_since(cpu0)
        text_settled = metrics_text(c)
        requests_settled = request_mix(requests0, request_counts(text_settled), len(running))
        store_writes, store_txns = (
            now - then for now, then in zip(store_counts(text_settled), store0, strict=True)
        )
        # what the cluster costs at rest with every pod running (relists, leases): paid per second, not per pod
        print("at rest", file=sys.stderr, flush=True)
        idle0, idle_t0 = cpu_now(), time.monotonic()
        time.sleep(IDLE_SECONDS)
        used, span = cpu_since(idle0), time.monotonic() - idle_t0
        idle = [x / span for x in used[:3]]  # not this client
        per_pod = [x * 1000 / max(1, len(running)) for x in cpu_settled]
        speed_after = machine_speed_ms()
        for watcher, gaps in lag.gaps.items():
            worst = sorted(gaps, key=lambda g: -g[1])[:5]
            print(
                f"{watcher}: {len(gaps)} watches made again; the longest waits for their first event: "
                + ", ".join(f"{g * 1000:.0f} ms at t+{at - t0:.0f} s" for at, g in worst),
                file=sys.stderr,
            )
        # the lag probe's own ConfigMaps are not the pods' writes
        writes = int(c.list("namespaces")["metadata"]["resourceVersion"]) - rv_start - lag.created
        lat = [running[n] - parse_time(created[n]).timestamp() for n in running]
        print(
            f"control plane on {store_name}: {args.nodes} hollow nodes ({args.agents} agent processes), "
            f"RC 0 -> {args.pods} pods"
            + (", controller manager and scheduler in processes of their own" if args.split else "")
        )
        print(
            table(
                [
                    ["pods Running", f"{len(running)} / {args.pods}", ""],
                    ["end to end", f"{len(running) / elapsed:.0f} pods/s", "target >= 500 pods/s"],
                    [
                        "creation -> Running",
                        summary_ms(lat) if lat else "-",
                        "(creationTimestamp has 1 s resolution)",
                    ],
                    [
                        "store writes",
                        f"{writes} ({writes / max(1, len(running)):.1f} per pod)",
                        "create, binding, status, events, RC status, leases; settled: "
                        f"{store_writes} write requests in {store_txns} transactions "
                        f"({store_writes / max(1, store_txns):.1f} per transaction)",
                    ],
                    ["requests per pod", requests, "apiserver_request_total over the run, per pod Running"],
                    [
                        "CPU per pod",
                        " / ".join(f"{c * 1000 / max(1, len(running)):.2f} ms" for c in cpu[:4]),
                        "API server / controller manager + scheduler ("
                        + (
                            "--split processes"
                            if args.split
                            else "in the server"
                            if not loop_pids
                            else "its child processes"
                        )
                        + ") / hollow agent / this client (CPU time: less noisy than pods/s on a shared machine)",
                    ],
                    [
                        "... writes settled",
                        " / ".join(f"{ms:.2f} ms" for ms in per_pod[:4]),
                        f"the same, {tail:.1f} s later, once no write but a lease's came for 1 s: {requests_settled}",
                    ],
                    [
                        "CPU ceiling",
                        f"{CORES} cores / {sum(per_pod[:4]):.2f} ms = {CORES * 1000 / sum(per_pod[:4]):.0f} pods/s; "
                        f"API server event loop 1 / {per_pod[4]:.2f} ms = {1000 / per_pod[4]:.0f} pods/s",
                        "the most this machine could do at these settled costs, every core busy; the API server's "
                        "event loop is one thread (its store's commit thread is in the first figure)"
                        + (
                            ""
                            if args.datastore == "sqlite"
                            else f"; {store_name}'s own processes not counted"
                        ),
                    ],
                    [
                        "at rest",
                        " / ".join(f"{x * 100:.1f}%" for x in idle),
                        f"CPU of a core over {IDLE_SECONDS:.0f} s once settled, every pod running: API server / "
                        "controller manager + scheduler / hollow agents (leases, each node's relist every second)",
                    ],
                    [
                        "machine speed",
                        f"{speed_before:.0f} ms before, {speed_after:.0f} ms after",
                        "a fixed pure-Python loop (sum of 10^7 ints) in this interpreter, best of 3: CPU figures scale with it",
                    ],
                    [
                        "API server RSS",
                        f"{rss_before:.0f} MiB -> {rss_mib(srv.pid):.0f} MiB (peak {peak_rss_mib(srv.pid):.0f} MiB)",
                        "target: peak <= 1.5 GiB",
                    ],
                    [
                        "control loops RSS",
                        " + ".join(f"{peak_rss_mib(pid):.0f}" for pid in loop_pids) + " MiB peak"
                        if loop_pids
                        else "-",
                        "the controller manager's and the scheduler's processes (informer caches of every pod)",
                    ],
                    *(
                        [
                            f"watch lag, {watcher}",
                            f"p50 {percentile(ls, 50) * 1000:.0f} ms, p99 {percentile(ls, 99) * 1000:.0f} ms, "
                            f"max {max(ls) * 1000:.0f} ms ({len(ls)} ConfigMaps; {lag.missing(watcher)} never "
                            f"seen, {lag.errors} errors)"
                            if ls
                            else "-",
                            "create returned -> seen; target p99 <= 1 s. "
                            + (
                                "One long watch, as an informer's"
                                if watcher == "informer"
                                else "A watch made again every 5 s (each new request's wait counts)"
                            ),
                        ]
                        for watcher, ls in lags.items()
                    ),
                ],
                ["what", "figure", "note"],
            )
        )


if __name__ == "__main__":
    main()
