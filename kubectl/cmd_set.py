"""`kubectl set image TYPE/NAME CONTAINER=IMAGE ...`: change container images in place.

Works on anything with a pod template (Deployment, ReplicaSet, DaemonSet, StatefulSet, RC, Job),
a CronJob's job template, and a Pod itself. Like kubectl it reads the object, changes the images
of the named containers (`*` for all; init containers too) and sends the difference as one
strategic merge patch keyed by container name, printing `deployment.apps/web image updated`;
an object whose images already match gets no patch and no line.
"""

from __future__ import annotations

import copy
from typing import Any

from api import requests as rq
from api.resources import Resource
from kubectl.env import CommandError, Env
from kubectl.flags import FILE_FLAGS, FlagSpec, Help, Parsed

FLAGS: dict[str, FlagSpec] = {
    "set": {
        "all": ("bool", False, ""),
        "selector": ("str", None, "l"),
        **FILE_FLAGS,
        "dry-run": ("str", "none", ""),
        "output": ("str", "", "o"),
        "local": ("bool", False, "", "Change the objects of -f locally and print them, without the server."),
        "field-manager": ("str", "kubectl-set", ""),
    }
}
HELP = {
    "set": Help(
        summary="Change one aspect of application objects",
        more="Change one aspect of existing application objects.",
        usage="SUBCOMMAND",
        examples="""
        # A deployment's container image
        kubectl set image deployment/web web=nginx:1.27
        """,
        flags=(),
    ),
    "set image": Help(
        summary="Change container images of pods and workloads",
        more="Changes the image of the named containers (or * for all of them, init containers "
        "included) of pods, or of the pod template of deployments, replica sets, daemon sets, "
        "stateful sets, replication controllers, jobs and cron jobs.",
        usage="(-f FILENAME | TYPE NAME) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ... "
        "CONTAINER_NAME_N=CONTAINER_IMAGE_N",
        examples="""
        # One container of a deployment
        kubectl set image deployment/web web=nginx:1.27

        # Every container of every deployment and replication controller
        kubectl set image deployments,rc '*=busybox:1.36' --all

        # Print the changed manifest without sending it
        kubectl set image -f web.yaml web=nginx:1.27 --local -o yaml
        """,
    ),
}

Obj = dict[str, Any]


def pod_spec_path(kind: str) -> tuple[str, ...]:
    if kind == "Pod":
        return ("spec",)
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    return ("spec", "template", "spec")


def image_patch(obj: Obj, images: dict[str, str]) -> tuple[Obj, list[str]]:
    """The strategic patch setting `images` ({container or "*": image}) and the names not found."""
    path = pod_spec_path(str(obj.get("kind") or ""))
    spec: Obj = obj
    for k in path:
        spec = spec.get(k) or {}
    found: dict[str, bool] = {}  # (this module's `set` is the verb, not the builtin)
    patch_spec: Obj = {}
    for field in ("initContainers", "containers"):
        containers = spec.get(field) or []
        changed = []
        for c in containers:
            want = images.get(c.get("name", ""), images.get("*"))
            if want is None:
                continue
            found[c.get("name", "")] = True
            if c.get("image") != want:
                changed.append({"image": want, "name": c.get("name")})
        if changed:
            patch_spec[f"$setElementOrder/{field}"] = [{"name": c.get("name")} for c in containers]
            patch_spec[field] = changed
    missing = [n for n in images if n != "*" and n not in found]
    body: Obj = {}
    if patch_spec:
        node = body
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = patch_spec
    return body, missing


def _parse(args: list[str]) -> tuple[list[str], dict[str, str]]:
    targets, images = [], {}
    for a in args:
        if "=" in a:
            name, _, image = a.partition("=")
            images[name] = image
        else:
            targets.append(a)
    return targets, images


def _label(res: Resource, name: str) -> str:
    return f"{res.kind.lower()}{'.' + res.group if res.group else ''}/{name}"


def set(env: Env, p: Parsed) -> int:
    if not p.args or p.args[0] != "image":
        sub = p.args[0] if p.args else ""
        if not sub:
            from kubectl.helppage import page

            env.out.write(page(HELP, FLAGS, "set", []))
            return 0
        raise CommandError(f'error: unknown command "{sub}" for "kubectl set"')
    targets, images = _parse(p.args[1:])
    if not images:
        raise CommandError("error: at least one image update is required")
    pairs: list[tuple[Resource, str]] = []
    if p["filename"]:
        from kubectl.manifests import load_paths, resource_of

        pairs = [
            (resource_of(env, d), (d.obj.get("metadata") or {}).get("name", ""))
            for d in load_paths(p["filename"], p["recursive"])
        ]
    elif targets and "/" in targets[0]:
        for t in targets:
            kind, _, name = t.partition("/")
            pairs.append((env.resource(kind), name))
    elif targets:
        res = env.resource(targets[0])
        names = targets[1:]
        if p["all"] or p["selector"]:
            items = env.client.list(res, env.namespace, label_selector=p["selector"]).get("items") or []
            names = [(o.get("metadata") or {}).get("name", "") for o in items]
        pairs = [(res, n) for n in names]
    if not pairs:
        raise CommandError(
            "error: one or more resources must be specified as <resource> <name> or <resource>/<name>"
        )
    for res, name in pairs:
        obj = copy.deepcopy(env.client.get(res, name, env.namespace))
        obj.setdefault("kind", res.kind)
        body, missing = image_patch(obj, images)
        if missing:
            raise CommandError(f'error: unable to find container named "{missing[0]}"')
        if not body:
            continue
        if p["dry-run"] in ("none", "false"):
            env.client.patch(
                res, name, body, rq.STRATEGIC_MERGE_PATCH, env.namespace, field_manager=p["field-manager"]
            )
        env.out.write(
            f"{_label(res, name)} image updated{' (dry run)' if p['dry-run'] not in ('none', 'false') else ''}\n"
        )
    return 0
