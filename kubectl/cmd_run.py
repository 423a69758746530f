"""`kubectl run` (one pod from an image) and `kubectl expose` (a service in front of an RC, pod or
service), generating the same objects kubectl's generators do.

`run` makes a Pod labelled `run=<name>` whose container is named like the pod; what follows
`--` becomes the container's args (or its command with `--command`). `expose` copies the
target's selector (an RC's `spec.selector`, a pod's labels) and labels into a Service.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError
from kubectl.env import CommandError, Env
from kubectl.flags import FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "run": {
        "image": ("str", None, ""),
        "restart": ("str", "Always", "", "Restart policy of the pod: Always, OnFailure or Never."),
        "labels": ("str", None, "l", "Labels for the new object, as key=value pairs separated by commas."),
        "env": (
            "list",
            [],
            "",
            "Environment variable for the container (NAME=value; the flag may be repeated).",
        ),
        "port": ("str", None, "", "Port the container exposes."),
        "command": (
            "bool",
            False,
            "",
            "Take the arguments after -- as the container's command rather than its args.",
        ),
        "dry-run": ("str", "none", ""),
        "output": ("str", "", "o"),
        "image-pull-policy": ("str", None, ""),
        "annotations": ("list", [], "", "Annotation for the pod (key=value; the flag may be repeated)."),
        "stdin": ("bool", False, "i"),
        "tty": ("bool", False, "t"),
        "rm": ("bool", False, "", "Delete the pod when the attached session ends (with --attach or -i)."),
        "attach": (
            "bool",
            False,
            "",
            "Wait for the pod to start, then attach to it as `kubectl attach` would.",
        ),
        "override-type": (
            "str",
            "merge",
            "",
            "How --overrides is applied to the generated object: json, merge or strategic.",
        ),
    },
    "expose": {
        "port": ("str", None, "", "Port the service serves on; by default the one the object exposes."),
        "target-port": (
            "str",
            None,
            "",
            "Port on the pods the service sends traffic to; by default the same as --port.",
        ),
        "type": ("str", None, "", "Type of the service: ClusterIP, NodePort, LoadBalancer or ExternalName."),
        "name": ("str", None, "", "Name of the new service; by default the exposed object's."),
        "protocol": ("str", None, "", "Network protocol of the service's port (TCP, UDP or SCTP)."),
        "selector": ("str", None, "", "Label selector of the service; by default the exposed object's."),
        "labels": ("str", None, "l", "Labels for the new object, as key=value pairs separated by commas."),
        "dry-run": ("str", "none", ""),
        "output": ("str", "", "o"),
        "external-ip": ("str", None, "", "An external IP address the service also accepts traffic on."),
        "filename": ("list", [], "f"),
        "cluster-ip": ("str", None, "", "ClusterIP to ask for; 'None' makes a headless service."),
    },
}
HELP = {
    "run": Help(
        summary="Start a pod running an image",
        more="Creates one pod running IMAGE. Arguments after -- are the container's args, or its "
        "command with --command. With -i or --attach the terminal is attached to it, and --rm "
        "deletes it when that ends.",
        usage='NAME --image=image [--env="key=value"] [--port=port] [--dry-run=server|client] '
        "[--overrides=inline-json] [--command] -- [COMMAND] [args...]",
        examples="""
        # A pod running busybox
        kubectl run box --image=busybox

        # With an environment variable, labels and a port
        kubectl run web --image=nginx --env=MODE=test --labels=app=web,tier=front --port=80

        # An interactive shell, deleted on exit
        kubectl run -it --rm shell --image=busybox --restart=Never -- sh

        # A different command
        kubectl run clock --image=busybox --command -- sh -c 'while date; do sleep 5; done'

        # Only print the pod that would be created
        kubectl run web --image=nginx --dry-run=client -o yaml
        """,
    ),
    "expose": Help(
        summary="Create a service in front of the pods of an object",
        more="Creates a service whose selector is the exposed object's (a pod's labels, a "
        "controller's selector) and whose port is --port, or the port the object declares.",
        usage="(-f FILENAME | TYPE NAME) [--port=port] [--protocol=TCP|UDP|SCTP] "
        "[--target-port=number-or-name] [--name=name] [--external-ip=external-ip-of-service] "
        "[--type=type]",
        examples="""
        # A service for a replication controller, port 80 to the pods' 8000
        kubectl expose rc web --port=80 --target-port=8000

        # A NodePort service for a deployment
        kubectl expose deployment web --port=80 --type=NodePort

        # A second service for a service, under another name
        kubectl expose service web --port=443 --target-port=8443 --name=web-tls
        """,
    ),
}


def _pairs(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if part:
            k, sep, v = part.partition("=")
            if not sep:
                raise CommandError(f"error: invalid label spec: {part}")
            out[k] = v
    return out


def pod_for_run(name: str, p: Parsed) -> dict[str, Any]:
    container: dict[str, Any] = {"image": p["image"], "name": name, "resources": {}}
    if p.command:
        container["command" if p["command"] else "args"] = list(p.command)
    if p["env"]:
        container["env"] = [{"name": e.partition("=")[0], "value": e.partition("=")[2]} for e in p["env"]]
    if p["port"]:
        container["ports"] = [{"containerPort": int(p["port"])}]
    if p["image-pull-policy"]:
        container["imagePullPolicy"] = p["image-pull-policy"]
    if p["stdin"]:
        container["stdin"] = True
        container["stdinOnce"] = True
    if p["tty"]:
        container["tty"] = True
    meta: dict[str, Any] = {
        "creationTimestamp": None,
        "labels": _pairs(p["labels"]) if p["labels"] else {"run": name},
        "name": name,
    }
    if p["annotations"]:
        meta["annotations"] = _pairs(",".join(p["annotations"]))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [container], "dnsPolicy": "ClusterFirst", "restartPolicy": p["restart"]},
        "status": {},
    }


def run(env: Env, p: Parsed) -> int:
    from kubectl.creating import dry_run_mode

    if not p.args:
        raise CommandError("error: NAME is required for run")
    if not p["image"]:
        raise CommandError("error: --image is required")
    if p["restart"] not in ("Always", "OnFailure", "Never"):
        raise CommandError(f"error: invalid restart policy: {p['restart']}")
    name = p.args[0]
    if len(p.args) > 1 and not p.command:
        p.command = p.args[1:]
    dry_run_mode(p)  # a bad --dry-run is reported before the generator's own errors
    return create_generated(env, p, pod_for_run(name, p), "pods", "created", "kubectl-run")


def create_generated(env: Env, p: Parsed, obj: dict[str, Any], plural: str, what: str, manager: str) -> int:
    """Create what a generator command (`run`, `expose`) made, honouring --dry-run and -o."""
    from kubectl.creating import dry_run_mode, report

    if env.namespace_explicit:  # kubectl records -n in the object it generates
        obj["metadata"]["namespace"] = env.namespace
    mode = dry_run_mode(p)
    res = env.resource(plural)
    if mode != "client":
        obj = env.client.create(res, obj, env.namespace, dry_run=mode == "server", field_manager=manager)
    report(env, p, obj, res, what, mode)
    return 0


def expose(env: Env, p: Parsed) -> int:
    args = p.args
    if len(args) == 1 and "/" in args[0]:
        args = args[0].split("/", 1)
    if len(args) != 2:
        raise CommandError("error: You must provide one or more resources by argument or filename.")
    res = env.resource(args[0])
    if res.kind not in ("ReplicationController", "Pod", "Service"):
        raise CommandError(f"error: cannot expose a {res.kind}")
    try:
        target = env.client.get(res, args[1], env.namespace)
    except ApiError:
        raise
    meta = target.get("metadata") or {}
    spec = target.get("spec") or {}
    if res.kind == "Pod":
        selector = meta.get("labels") or {}
        ports = [pt for c in spec.get("containers") or [] for pt in c.get("ports") or []]
        default_port = ports[0].get("containerPort") if ports else None
    elif res.kind == "Service":
        selector = spec.get("selector") or {}
        default_port = ((spec.get("ports") or [{}])[0]).get("port")
    else:
        selector = (
            spec.get("selector") or ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        )
        cports = [
            pt
            for c in ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
            for pt in c.get("ports") or []
        ]
        default_port = cports[0].get("containerPort") if cports else None
    if p["selector"]:
        selector = _pairs(p["selector"])
    if not selector:
        raise CommandError(
            f"error: couldn't retrieve selectors via --selector flag or introspection: the "
            f"{res.kind} has no labels"
        )
    port = p["port"] or default_port
    if port is None:
        raise CommandError(
            "error: couldn't find port via --port flag or introspection\n"
            "See 'kubectl expose -h' for help and examples"
        )
    sport: dict[str, Any] = {"port": int(port), "protocol": p["protocol"] or "TCP"}
    target_port = p["target-port"] or port
    sport["targetPort"] = int(target_port) if str(target_port).isdigit() else target_port
    svc_spec: dict[str, Any] = {"ports": [sport], "selector": selector}
    if p["type"]:
        svc_spec["type"] = p["type"]
    if p["external-ip"]:
        svc_spec["externalIPs"] = [p["external-ip"]]
    if p["cluster-ip"]:
        svc_spec["clusterIP"] = p["cluster-ip"]
    labels = _pairs(p["labels"]) if p["labels"] else (meta.get("labels") or {})
    svc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "creationTimestamp": None,
            "name": p["name"] or args[1],
            **({"labels": labels} if labels else {}),
        },
        "spec": svc_spec,
        "status": {"loadBalancer": {}},
    }
    return create_generated(env, p, svc, "services", "exposed", "kubectl-expose")
