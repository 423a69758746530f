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
from kubectl.flags import FlagSpec, Parsed
from kubectl.targets import pick_container, resolve_pod

FLAGS: dict[str, FlagSpec] = {
    "logs": {
        "container": ("str", None, "c"),
        "follow": ("bool", False, "f"),
        "tail": ("int", -1, ""),
        "timestamps": ("bool", False, ""),
        "previous": ("bool", False, "p"),
        "since": ("str", None, ""),
        "since-time": ("str", None, ""),
        "all-containers": ("bool", False, ""),
        "selector": ("str", None, "l"),
        "prefix": ("bool", False, ""),
        "limit-bytes": ("int", 0, ""),
    }
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
