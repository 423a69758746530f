"""`kubectl delete`: by name, file, selector or `--all`, then (by default) wait until gone.

Waiting watches each object with `fieldSelector=metadata.name=<name>` from the resourceVersion
of a fresh GET, as kubectl does, instead of polling; the GET's 404 ends it at once. Missing
objects are reported one by one (exit 1) unless `--ignore-not-found`.
"""

from __future__ import annotations

import time

from api import requests as rq
from api.errors import ApiError
from api.resources import Resource
from kubectl.env import CommandError, Env, parse_duration
from kubectl.errors import api_error_text
from kubectl.flags import FILE_FLAGS, FlagSpec, Help, Parsed
from kubectl.targets import NEED_ARGS
from kubectl.waiting import propagation_policy, wait_gone

FLAGS: dict[str, FlagSpec] = {
    "delete": {
        **FILE_FLAGS,
        "selector": ("str", None, "l"),
        "field-selector": ("str", None, ""),
        "all": ("bool", False, ""),
        "all-namespaces": ("bool", False, "A"),
        "grace-period": (
            "int",
            -1,
            "",
            "Seconds the pods get to stop; -1 keeps each object's own, 0 needs --force.",
        ),
        "now": ("bool", False, "", "Stop pods at once (the same as --grace-period=1)."),
        "force": ("bool", False, ""),
        "cascade": (
            "str",
            "background",
            "",
            "What happens to the objects this one owns: background, foreground or orphan.",
        ),
        "wait": ("bool", True, "", "Wait until the objects are gone before returning."),
        "timeout": ("str", "0s", ""),
        "ignore-not-found": ("bool", False, ""),
        "dry-run": ("str", "none", ""),
        "output": ("str", "", "o"),
    }
}
HELP = {
    "delete": Help(
        summary="Delete objects by name, by manifest or by label selector",
        more="Deletes the named objects, those of a manifest (-f), or those a selector picks. "
        "The objects they own are deleted too, in the background, unless --cascade says otherwise; "
        "pods get their grace period to stop, which --grace-period or --now shorten.\n\n"
        "Deleting a pod with --force --grace-period=0 removes it from the API at once, whether or "
        "not its containers have stopped.",
        usage="([-f FILENAME] | TYPE [(NAME | -l label | --all)])",
        examples="""
        # The objects a manifest describes
        kubectl delete -f web.yaml

        # One pod, and a pod and a service at once
        kubectl delete pod web-1
        kubectl delete pod/web-1 service/web

        # Pods and services labelled app=web
        kubectl delete pods,services -l app=web

        # A pod right away
        kubectl delete pod web-1 --now

        # Every pod of the namespace
        kubectl delete pods --all
        """,
    )
}


def _targets(env: Env, p: Parsed) -> list[tuple[Resource, str | None, str]]:
    """(resource, namespace, name) to delete."""
    if p["filename"]:
        from kubectl.manifests import load_paths, resource_of

        out = []
        for d in load_paths(p["filename"], p["recursive"]):
            res = resource_of(env, d)
            meta = d.obj.get("metadata") or {}
            out.append(
                (
                    res,
                    (meta.get("namespace") or env.namespace) if res.namespaced else None,
                    meta.get("name", ""),
                )
            )
        return out
    if not p.args:
        raise CommandError(NEED_ARGS)
    if "/" in p.args[0]:
        pairs = []
        for a in p.args:
            kind, _, name = a.partition("/")
            pairs.append((env.resource(kind), name))
        return [(r, env.namespace if r.namespaced else None, n) for r, n in pairs]
    resources = env.resources_for(p.args[0])
    names = p.args[1:]
    if names:
        if p["all"] or p["selector"]:
            raise CommandError("error: name cannot be provided when a selector is specified")
        return [(r, env.namespace if r.namespaced else None, n) for r in resources for n in names]
    if not (p["all"] or p["selector"] or p["field-selector"]):
        raise CommandError("error: resource(s) were provided, but no name was specified")
    out = []
    for r in resources:
        ns = None if p["all-namespaces"] else env.namespace
        listing = env.client.list(r, ns, label_selector=p["selector"], field_selector=p["field-selector"])
        for it in listing.get("items") or []:
            meta = it.get("metadata") or {}
            out.append((r, meta.get("namespace") if r.namespaced else None, meta.get("name", "")))
    return out


def delete(env: Env, p: Parsed) -> int:
    from kubectl.creating import deleted_line, dry_run_mode

    mode = dry_run_mode(p)
    grace = p["grace-period"]
    if p["now"]:
        if grace >= 0:
            raise CommandError("error: --now and --grace-period cannot be specified together")
        grace = 1
    if p["force"]:
        print(
            "Warning: Immediate deletion does not wait for confirmation that the running resource has been "
            "terminated. The resource may continue to run on the cluster indefinitely.",
            file=env.err,
        )
        grace = 0 if grace < 0 else grace
    propagation = propagation_policy(p["cascade"])
    targets = _targets(env, p)
    if not targets:
        if not p["filename"]:
            print(
                "No resources found"
                if p["all-namespaces"]
                else f"No resources found in {env.namespace} namespace.",
                file=env.err,
            )
        return 0
    failed = False
    deleted: list[tuple[Resource, str | None, str]] = []
    for res, ns, name in targets:
        try:
            if mode != "client":
                req = rq.delete(
                    res,
                    name,
                    ns,
                    propagation_policy=propagation,
                    grace_period_seconds=grace if grace >= 0 else None,
                    dry_run=mode == "server",
                )
                env.client.call(req)
        except ApiError as e:
            if e.code == 404 and p["ignore-not-found"]:
                continue
            print(api_error_text(e), file=env.err)
            failed = True
            continue
        env.out.write(deleted_line(res, name, p["output"], mode))
        env.out.flush()
        deleted.append((res, ns, name))
    if p["wait"] and mode == "none" and deleted:
        timeout = parse_duration(p["timeout"], "timeout") or 3600 * 24 * 7
        deadline = time.monotonic() + timeout
        for res, ns, name in deleted:
            if not wait_gone(env, res, ns, name, deadline):
                print(f"error: timed out waiting for the condition on {res.plural}/{name}", file=env.err)
                failed = True
    return 1 if failed else 0
