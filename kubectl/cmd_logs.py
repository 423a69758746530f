"""`kubectl logs POD|TYPE/NAME [-c C] [-f] [--tail] [--timestamps] [--previous] [--since]`.

Gets the pod first (as kubectl does) to pick the container: `-c`, else the
`kubectl.kubernetes.io/default-container` annotation, else the first one, saying so on stderr
when there was a choice. The log is copied to stdout as bytes as it arrives; `-f` streams
until the server closes the connection.
"""

from __future__ import annotations

import sys
from typing import Any

from api import requests as rq
from kubectl.env import CommandError, Env, parse_duration
from kubectl.flags import FlagSpec, Parsed

FLAGS: dict[str, FlagSpec] = {"logs": {
    "container": ("str", None, "c"), "follow": ("bool", False, "f"), "tail": ("int", -1, ""),
    "timestamps": ("bool", False, ""), "previous": ("bool", False, "p"), "since": ("str", None, ""),
    "since-time": ("str", None, ""), "all-containers": ("bool", False, ""), "selector": ("str", None, "l"),
    "prefix": ("bool", False, ""), "limit-bytes": ("int", 0, ""),
}}
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


def pick_container(env: Env, pod: dict[str, Any], wanted: str | None) -> str:
    """The container to use, announcing the default as kubectl does."""
    spec = pod.get("spec") or {}
    names = [c.get("name", "") for c in spec.get("containers") or []]
    if wanted:
        return wanted
    if not names:
        raise CommandError(f"error: pod {pod['metadata']['name']} does not have a container")
    annotated = ((pod.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER)
    if annotated in names:
        return str(annotated)
    if len(names) > 1:
        print(f'Defaulted container "{names[0]}" out of: {", ".join(names)}', file=env.err)
    return names[0]


def resolve_pod(env: Env, args: list[str]) -> dict[str, Any]:
    """`POD`, `pod/POD`, or `rc/NAME` (the RC's first pod, by its selector)."""
    if not args:
        raise CommandError("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
                           "POD or TYPE/NAME is a required argument for the logs command\n"
                           "See 'kubectl logs -h' for help and examples")
    kind, sep, name = args[0].partition("/")
    if not sep:
        return dict(env.client.get("pods", args[0], env.namespace))
    res = env.resource(kind)
    if res.kind == "Pod":
        return dict(env.client.get("pods", name, env.namespace))
    obj = env.client.get(res, name, env.namespace)
    selector = (obj.get("spec") or {}).get("selector") or {}
    sel = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    pods = env.client.list("pods", env.namespace, label_selector=sel).get("items") or []
    if not pods:
        raise CommandError("error: timed out waiting for the condition")
    pods.sort(key=lambda p: (p.get("metadata") or {}).get("creationTimestamp") or "")
    if len(pods) > 1:
        print(f"Found {len(pods)} pods, using pod/{pods[0]['metadata']['name']}", file=env.err)
    return dict(pods[0])


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
            req = rq.log(name, env.namespace, container, follow=p["follow"], tail_lines=tail,
                         timestamps=p["timestamps"], previous=p["previous"], since_seconds=since)
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
