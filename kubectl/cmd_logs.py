"""`kubectl logs POD|TYPE/NAME [-c C] [-f] [--tail] [--timestamps] [--previous] [--since]`.

Gets the pod first (as kubectl does) to pick the container: `-c`, else the
`kubectl.kubernetes.io/default-container` annotation, else the first one, saying so on stderr
when there was a choice. The log is copied to stdout as bytes as it arrives; `-f` streams
until the server closes the connection.
"""

from __future__ import annotations

import sys

from api import requests as rq
from kubectl.env import Env, parse_duration
from kubectl.flags import FlagSpec, Help, Parsed
from kubectl.targets import pick_container, resolve_pod

FLAGS: dict[str, FlagSpec] = {
    "logs": {
        "container": ("str", None, "c"),
        "follow": ("bool", False, "f", "Keep streaming the log as the container writes it."),
        "tail": ("int", -1, "", "Only this many lines from the end of the log; -1 prints the whole log."),
        "timestamps": ("bool", False, "", "Start each line with the time it was written (RFC3339)."),
        "previous": (
            "bool",
            False,
            "p",
            "Print the log of the container's previous instance, the one that exited.",
        ),
        "since": ("str", None, "", "Only lines newer than this duration (e.g. 10s, 5m, 1h)."),
        "since-time": ("str", None, "", "Only lines written after this time (RFC3339)."),
        "all-containers": ("bool", False, "", "Print the logs of every container of the pod."),
        "selector": ("str", None, "l", "Label selector choosing the pods whose logs to print."),
        "prefix": ("bool", False, "", "Start each line with the pod and container it came from."),
        "limit-bytes": ("int", 0, "", "Stop after this many bytes; 0 means no limit."),
    }
}
HELP = {
    "logs": Help(
        summary="Print what a container of a pod logged",
        more="Prints what a container of the pod wrote to its standard output and error. "
        "A pod with several containers needs -c, or --all-containers, unless it names a default "
        "one; TYPE/NAME picks a pod of that workload.",
        usage="[-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]",
        examples="""
        # The log of a pod's only container
        kubectl logs web-1

        # One container of the pod, and all of them
        kubectl logs web-1 -c sidecar
        kubectl logs web-1 --all-containers

        # Keep following the last 20 lines
        kubectl logs -f --tail=20 web-1

        # What the container printed before its last restart
        kubectl logs -p web-1

        # The last hour, from a pod of a deployment
        kubectl logs --since=1h deployment/web
        """,
    )
}


def logs(env: Env, p: Parsed) -> int:
    if p["selector"]:
        pods = env.client.list("pods", env.namespace, label_selector=p["selector"]).get("items") or []
        if not pods:
            print(f"No resources found in {env.namespace} namespace.", file=env.err)
            return 0
    else:
        pods = [resolve_pod(env, p.args)]
        if len(p.args) > 1:
            p.flags["container"] = p.flags["container"] or p.args[1]
    since = int(parse_duration(p["since"], "since")) if p["since"] else None
    tail = p["tail"] if p["tail"] >= 0 else (10 if p["selector"] else None)
    out = getattr(env.out, "buffer", None)
    for pod in pods:
        name = pod["metadata"]["name"]
        if p["all-containers"]:
            containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        else:
            containers = [pick_container(env, pod, p["container"])]
        for container in containers:
            req = rq.log(
                name,
                env.namespace,
                container,
                follow=p["follow"],
                tail_lines=tail,
                timestamps=p["timestamps"],
                previous=p["previous"],
                since_seconds=since,
            )
            if p["since-time"]:
                req.query["sinceTime"] = p["since-time"]
            if p["limit-bytes"]:
                req.query["limitBytes"] = str(p["limit-bytes"])
            prefix = f"[pod/{name}/{container}] ".encode() if p["prefix"] else b""
            for line in env.client.stream(req):
                if out is not None:
                    out.write(prefix + line)
                    if p["follow"]:
                        out.flush()
                else:
                    env.out.write((prefix + line).decode(errors="replace"))
    if out is not None:
        out.flush()
    sys.stdout.flush()
    return 0
